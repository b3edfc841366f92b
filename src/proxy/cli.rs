//! `lblab proxy --config FILE`: load, start, then wait for signals.
//! SIGHUP reloads the file (a bad one is refused and the old configuration
//! kept); SIGTERM or SIGINT drains and exits 0; a second one during the
//! drain closes at once.

use super::config::load_file;
use super::engine::ProxyEngine;
use super::server::Proxy;
use crate::engine::{Engine, MakeEngine};
use crate::live::Speed;
use crate::sim::World;
use crate::spec::Lab;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::signal::unix::{SignalKind, signal};

/// How long after the drain starts another SIGTERM or SIGINT counts as a
/// second signal (one that closes at once).
const SECOND_SIGNAL_AFTER: Duration = Duration::from_millis(500);

/// The options of `lblab proxy`.
#[derive(clap::Args, Debug)]
pub struct ProxyArgs {
    /// The configuration: lblab's own (.ron) or the source design's
    /// config.json (.json).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Threads carrying connections, each with its own event loop and
    /// listener (default: one per core). Health checks, metrics and
    /// signals run on one more.
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<u16>,
    /// Write the log to this file instead of standard error.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// The least severe log level written.
    #[arg(long, value_enum, default_value_t = LogLevel::Info)]
    pub log_level: LogLevel,
    /// Serve Prometheus metrics at http://ADDR/metrics.
    #[arg(long, value_name = "ADDR")]
    pub admin: Option<std::net::SocketAddr>,
    /// Show the live dashboard on this proxy (the log goes to --log, or
    /// nowhere, so it does not draw over the screen).
    #[arg(long)]
    pub dashboard: bool,
    /// With --dashboard: first start an HTTP demo backend on every
    /// configured (loopback) address, so killing one from the dashboard
    /// kills it for real.
    #[arg(long, requires = "dashboard")]
    pub demo: bool,
    /// Check the configuration, print what it says, and exit.
    #[arg(long)]
    pub check: bool,
}

/// The most connection threads `--threads` takes.
const MAX_THREADS: u16 = 512;

/// `--threads`, with an error that says what is allowed.
fn parse_threads(text: &str) -> Result<u16, String> {
    match text.trim().parse::<u16>() {
        Ok(n) if (1..=MAX_THREADS).contains(&n) => Ok(n),
        _ => Err(format!(
            "expected a whole number of threads from 1 to {MAX_THREADS}, found \"{text}\""
        )),
    }
}

/// Log levels, from the fewest lines to the most.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogLevel {
    /// Failures only.
    Error,
    /// Failures, backends going down, failed connects.
    Warn,
    /// Also refusals, backends coming up, reloads.
    Info,
    /// Also every proxied connection.
    Debug,
}

impl From<LogLevel> for tracing::Level {
    fn from(l: LogLevel) -> tracing::Level {
        match l {
            LogLevel::Error => tracing::Level::ERROR,
            LogLevel::Warn => tracing::Level::WARN,
            LogLevel::Info => tracing::Level::INFO,
            LogLevel::Debug => tracing::Level::DEBUG,
        }
    }
}

/// Runs `lblab proxy`; the exit code says how it ended.
pub fn run_cli(args: ProxyArgs) -> ExitCode {
    let config = match load_file(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    if args.check {
        println!(
            "{}: ok: listen {}, {} backends, {}",
            args.config.display(),
            config.listen,
            config.backends.len(),
            config.algorithm
        );
        return ExitCode::SUCCESS;
    }
    if args.dashboard {
        return match dashboard(&args, config) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("lblab proxy: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let _guard = match start_log(&args) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("lblab proxy: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Connections run on the proxy's own worker threads; this runtime
    // only waits for signals and runs health checks and metrics.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lblab proxy: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lblab proxy: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ProxyArgs, config: super::config::ProxyConfig) -> Result<(), String> {
    let drain = config.drain_timeout;
    let mut hangup = signal(SignalKind::hangup()).map_err(|e| e.to_string())?;
    let mut terminate = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let proxy = Proxy::start_with_workers(config, workers(&args))
        .await
        .map_err(|e| e.to_string())?;
    // Scripts and tests wait for this line to know the port.
    println!("lblab proxy listening on {}", proxy.local_addr());
    if let Some(admin) = args.admin {
        let bound = proxy.serve_admin(admin).await.map_err(|e| e.to_string())?;
        println!("lblab proxy metrics on http://{bound}/metrics");
    }
    let _ = std::io::stdout().flush();
    loop {
        tokio::select! {
            _ = hangup.recv() => reload(&proxy, &args).await,
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }
    let draining = Instant::now();
    let shutdown = proxy.shutdown(drain);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            report = &mut shutdown => {
                if report.cut > 0 {
                    eprintln!("lblab proxy: {} connections cut after the drain timeout", report.cut);
                }
                return Ok(());
            }
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        // A supervisor may send SIGTERM and SIGINT to a whole process
        // group at once: only a signal that comes later is a second one.
        if draining.elapsed() >= SECOND_SIGNAL_AFTER {
            return Err("second signal: closed without draining".into());
        }
    }
}

/// The dashboard on a running proxy.
fn dashboard(args: &ProxyArgs, config: super::config::ProxyConfig) -> Result<(), String> {
    let _guard = match &args.log {
        Some(_) => start_log(args)?,
        None => None,
    };
    let threads = workers(args);
    let name = format!("proxy {}", args.config.display());
    let engine = ProxyEngine::start(config.clone(), &name, threads, args.demo)?;
    let lab = engine.lab();
    let first = Mutex::new(Some(engine));
    let make: MakeEngine = Arc::new(move |lab: &Lab, seed: u64| -> Box<dyn Engine> {
        let taken = first.lock().ok().and_then(|mut f| f.take());
        match taken {
            Some(engine) => Box::new(engine),
            // The driver never rebuilds a real-time engine (no restart, no
            // lab loading), so this is a last resort that cannot panic.
            None => match ProxyEngine::start(config.clone(), &lab.name, threads, false) {
                Ok(engine) => Box::new(engine),
                Err(_) => World::engine(lab, seed),
            },
        }
    });
    crate::tui::run::run(crate::tui::run::Options {
        make,
        lab,
        seed: 0,
        speed: Speed::Factor(1.0),
        monochrome: crate::tui::run::no_color_requested(),
        // A real proxy's world cannot be held: its clients keep coming.
        popups_pause: false,
        guided: false,
    })
}

/// Re-reads the configuration file; a bad one leaves the running one.
async fn reload(proxy: &Proxy, args: &ProxyArgs) {
    // Reading the file resolves host names, which blocks: not on a worker.
    let path = args.config.clone();
    let loaded = tokio::task::spawn_blocking(move || load_file(&path)).await;
    let result = match loaded {
        Ok(Ok(config)) => proxy.reload(config).map_err(|e| e.to_string()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(format!("reading the configuration failed: {e}")),
    };
    if let Err(e) = result {
        tracing::error!(error = %e, "reload refused; the running configuration stays");
    }
}

/// Logs to the file asked for, or to standard error.
fn start_log(
    args: &ProxyArgs,
) -> Result<Option<tracing_appender::non_blocking::WorkerGuard>, String> {
    let level = tracing::Level::from(args.log_level);
    match &args.log {
        Some(path) => crate::logging::to_file(path, level).map(Some),
        None => crate::logging::to_stderr(level).map(|()| None),
    }
}

/// Worker threads: `--threads`, or one per core.
fn workers(args: &ProxyArgs) -> usize {
    args.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, usize::from),
        usize::from,
    )
}
