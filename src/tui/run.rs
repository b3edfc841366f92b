//! The terminal loop: puts the terminal in raw mode on the alternate
//! screen, starts the live driver, turns keys into Actions and Controls,
//! draws frames at 30 fps (and at once when a key's effect arrives), and
//! restores the terminal however the dashboard ends.

use super::app::{Action, App};
use super::input::Input;
use super::keys::{self, Key};
use super::view;
use crate::engine::MakeEngine;
use crate::live::{self, LiveHandle, RunSetup, Speed};
use crate::spec::Lab;
use crossterm::event::Event;
use ratatui::DefaultTerminal;
use std::io::IsTerminal;
use std::time::Duration;

/// Time between frames: 30 fps.
pub const FRAME: Duration = Duration::from_nanos(33_333_333);

/// What the dashboard needs to start.
pub struct Options {
    /// Builds the engine the lab runs on.
    pub make: MakeEngine,
    /// The lab to run.
    pub lab: Lab,
    /// Its seed.
    pub seed: u64,
    /// Starting speed.
    pub speed: Speed,
    /// Draw without colour.
    pub monochrome: bool,
    /// Popups hold the world still while open.
    pub popups_pause: bool,
    /// Start in guided mode: pause at each lesson step's moment.
    pub guided: bool,
}

/// True when `NO_COLOR` asks for no colour (set and not empty).
pub fn no_color_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Runs the dashboard until the user quits; an error is one line for the
/// user, printed after the terminal is restored.
pub fn run(options: Options) -> Result<(), String> {
    run_with(options, RunSetup::default())
}

/// [`run`], recording the run and replaying one as `setup` says; where
/// the run file went is printed once the terminal is restored.
pub fn run_with(options: Options, setup: RunSetup) -> Result<(), String> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(
            "the dashboard needs a terminal (standard input and output must be a TTY); \
             for a report without one, run: lblab run <LAB>"
                .into(),
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let handle = live::spawn_run(
        options.make,
        options.lab,
        options.seed,
        options.speed,
        false,
        setup,
    );
    if options.guided {
        let _ = handle.controls.send(crate::live::Control::Guide(true));
    }
    let mut terminal =
        ratatui::try_init().map_err(|e| format!("cannot set up the terminal: {e}"))?;
    mouse_capture(true);
    let result = runtime.block_on(event_loop(
        &mut terminal,
        handle,
        options.monochrome,
        options.popups_pause,
    ));
    mouse_capture(false);
    ratatui::restore();
    match result? {
        Some(Ok(path)) => eprintln!(
            "lblab: run recorded to {} (replay it: lblab replay {})",
            path.display(),
            path.display()
        ),
        Some(Err(why)) => eprintln!("lblab: the run was not recorded: {why}"),
        None => {}
    }
    Ok(())
}

/// Turns the terminal's mouse reporting on or off. A panic while it is on
/// turns it off first, so the shell does not receive mouse codes.
fn mouse_capture(on: bool) {
    use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
    if on {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = crossterm::execute!(std::io::stdout(), DisableMouseCapture);
            previous(info);
        }));
        let _ = crossterm::execute!(std::io::stdout(), EnableMouseCapture);
    } else {
        let _ = crossterm::execute!(std::io::stdout(), DisableMouseCapture);
    }
}

/// Applies `action` to the app and sends the controls it asks for;
/// returns how many went out.
fn send_controls(app: &mut App, handle: &LiveHandle, action: Action) -> u64 {
    tracing::info!(?action, "action");
    let mut sent = 0;
    for control in app.update(action) {
        tracing::info!(?control, "control");
        if handle.controls.send(control).is_ok() {
            sent += 1;
        }
    }
    sent
}

/// Takes the driver's newest frame if there is one; true if it changed.
fn take_new_frame(app: &mut App, handle: &mut LiveHandle) -> Result<bool, String> {
    match handle.frames.has_changed() {
        Ok(true) => {
            app.set_frame(handle.frames.borrow_and_update().clone());
            Ok(true)
        }
        Ok(false) => Ok(false),
        // The driver thread is gone (it panicked): stop drawing.
        Err(_) => Err("the simulation stopped unexpectedly".into()),
    }
}

/// Most input events handled between two frames: a key storm still lets
/// the screen be drawn, while a burst of a few thousand keys takes only a
/// handful of frames.
const EVENTS_PER_FRAME: usize = 256;

/// What the loop tracks between events.
struct LoopState {
    app: App,
    /// Controls sent so far: a frame whose `applied` reaches this shows
    /// the effect of every key pressed.
    sent: u64,
    /// A control went out whose effect no frame shows yet.
    awaiting: bool,
    /// The screen needs drawing.
    dirty: bool,
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    mut handle: LiveHandle,
    monochrome: bool,
    popups_pause: bool,
) -> Result<Option<Result<std::path::PathBuf, String>>, String> {
    let mut app = App::new(handle.frames.borrow_and_update().clone(), monochrome);
    app.popups_pause = popups_pause;
    let mut input = Input::new().map_err(|e| format!("cannot read the terminal: {e}"))?;
    let mut ticker = tokio::time::interval(FRAME);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut terminate = Signals::new()?;
    let mut state = LoopState {
        app,
        sent: 0,
        awaiting: false,
        dirty: true,
    };
    loop {
        if state.dirty {
            terminal
                .draw(|f| view::draw(f, &state.app))
                .map_err(|e| format!("cannot draw: {e}"))?;
            state.dirty = false;
        }
        tokio::select! {
            _ = ticker.tick() => state.dirty |= take_new_frame(&mut state.app, &mut handle)?,
            changed = handle.frames.changed(), if state.awaiting => {
                if changed.is_err() {
                    return Err("the simulation stopped unexpectedly".into());
                }
                let frame = handle.frames.borrow_and_update().clone();
                if frame.applied >= state.sent {
                    state.awaiting = false;
                    state.dirty = true;
                }
                state.app.set_frame(frame);
            }
            // `fill` returns at once while decoded events wait, so the loop
            // never waits on the terminal with input unhandled; the events
            // beyond this frame's share are handled after the next draw.
            open = input.fill() => {
                if !open.map_err(|e| format!("cannot read the terminal: {e}"))? {
                    break;
                }
                for _ in 0..EVENTS_PER_FRAME {
                    let Some(event) = input.next() else { break };
                    handle_event(terminal, &handle, &mut state, event)?;
                    if state.app.quit {
                        break;
                    }
                }
            }
            _ = terminate.recv() => break,
        }
        if state.app.quit {
            break;
        }
    }
    Ok(handle.shutdown())
}

/// Applies one terminal event to the app.
fn handle_event(
    terminal: &mut DefaultTerminal,
    handle: &LiveHandle,
    state: &mut LoopState,
    event: Event,
) -> Result<(), String> {
    match event {
        Event::Key(key) => {
            tracing::debug!(?key, "key");
            if Key::from_event(&key) == Some(Key::Ctrl('z')) {
                suspend(terminal)?;
                state.dirty = true;
                return Ok(());
            }
            if let Some(action) = keys::action_for_event(&state.app.overlay, &key) {
                let n = send_controls(&mut state.app, handle, action);
                state.sent += n;
                state.awaiting |= n > 0;
                state.dirty = true;
            }
        }
        Event::Mouse(m) => {
            let size = terminal
                .size()
                .map_err(|e| format!("cannot read the terminal's size: {e}"))?;
            let screen = ratatui::layout::Rect::new(0, 0, size.width, size.height);
            let areas = view::layout::layout(screen, &state.app);
            let mut sent = 0;
            for control in state.app.mouse(m, screen, &areas) {
                tracing::info!(?control, "control");
                if handle.controls.send(control).is_ok() {
                    sent += 1;
                }
            }
            state.sent += sent;
            state.awaiting |= sent > 0;
            state.dirty = true;
        }
        Event::Resize(_, _) => {
            terminal
                .autoresize()
                .map_err(|e| format!("cannot resize: {e}"))?;
            state.dirty = true;
        }
        _ => {}
    }
    Ok(())
}

/// Ctrl-Z: give the terminal back, stop like any job, and take the screen
/// again on `fg`.
fn suspend(terminal: &mut DefaultTerminal) -> Result<(), String> {
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    ratatui::restore();
    // The shell gets the cursor back too (restore leaves it hidden).
    let _ = terminal.show_cursor();
    #[cfg(unix)]
    // SAFETY: raise only sends a signal to this process; SIGTSTP's default
    // action stops it until SIGCONT, after which raise returns.
    unsafe {
        libc::raise(libc::SIGTSTP);
    }
    crossterm::terminal::enable_raw_mode().map_err(|e| format!("cannot resume: {e}"))?;
    crossterm::execute!(
        std::io::stdout(),
        crossterm::terminal::EnterAlternateScreen,
        crossterm::event::EnableMouseCapture
    )
    .map_err(|e| format!("cannot resume: {e}"))?;
    terminal
        .clear()
        .map_err(|e| format!("cannot resume: {e}"))?;
    Ok(())
}

/// SIGTERM, SIGINT and SIGHUP end the dashboard cleanly.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Signals, String> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let listen = |k| signal(k).map_err(|e| format!("cannot listen for signals: {e}"));
            Ok(Signals {
                term: listen(SignalKind::terminate())?,
                int: listen(SignalKind::interrupt())?,
                hup: listen(SignalKind::hangup())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
            _ = self.hup.recv() => {}
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await
    }
}

/// `lblab replay`: a recorded run played in the dashboard.
#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// The run file (written by a dashboard session or `lblab run
    /// --record`).
    #[arg(value_name = "RUN")]
    pub run: std::path::PathBuf,
    /// Replay a run file from another lblab version, or whose lab has
    /// changed since, with a warning instead of refusing it.
    #[arg(long)]
    pub force: bool,
    /// Starting speed: simulated seconds per wall second, 0.1 to 1000, or
    /// "max".
    #[arg(long, default_value = "1", value_parser = Speed::parse)]
    pub speed: Speed,
    /// Record this session (with any branch a key makes) to FILE instead
    /// of a new file in the runs directory.
    #[arg(long, value_name = "FILE")]
    pub record: Option<std::path::PathBuf>,
}

/// Plays the run file `args` names in the dashboard, on engines `make`
/// builds.
pub fn replay(args: ReplayArgs, make: MakeEngine) -> Result<(), String> {
    let checked = crate::run_file::cli::load_for_cli(&args.run, args.force)?;
    let name = args.run.file_name().map_or_else(
        || args.run.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let seed = checked.run.seed;
    let record_to = crate::run_file::cli::record_path(args.record, &checked.lab.name, seed);
    let options = Options {
        make,
        lab: checked.lab,
        seed,
        speed: args.speed,
        monochrome: no_color_requested(),
        popups_pause: true,
        guided: false,
    };
    let setup = RunSetup {
        record_to,
        replay: Some(live::Replay {
            name,
            run: checked.run,
        }),
    };
    run_with(options, setup)
}
