//! The dashboard in a real terminal: `lblab` started on a pseudo-terminal,
//! fed keys through its master side the way a terminal emulator would, and
//! watched until it exits and gives the terminal back.
#![cfg(unix)]

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long a debug build may take to draw its first frame.
const START_UP: Duration = Duration::from_secs(30);

/// A pseudo-terminal pair: the test holds the master (the emulator's side)
/// and keeps the slave open so that its modes can be read after the
/// dashboard exits.
struct Pty {
    master: File,
    slave: File,
}

impl Pty {
    /// Opens a `cols`×`rows` pseudo-terminal.
    fn open(cols: u16, rows: u16) -> Pty {
        let mut master = -1;
        let mut slave = -1;
        let size = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two fds into the integers it is given and
        // only reads the window size; no name buffer is passed.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                &size,
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both fds were just opened and nothing else owns them.
        unsafe {
            Pty {
                master: File::from_raw_fd(master),
                slave: File::from_raw_fd(slave),
            }
        }
    }

    /// The slave's current modes.
    fn termios(&self) -> libc::termios {
        // SAFETY: termios is plain data; tcgetattr fills it on success.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: the fd is open for the life of `self`.
        let rc = unsafe { libc::tcgetattr(self.slave.as_raw_fd(), &mut t) };
        assert_eq!(rc, 0, "tcgetattr: {}", std::io::Error::last_os_error());
        t
    }

    /// True while the terminal is in raw mode (no line editing, no echo).
    fn raw(&self) -> bool {
        self.termios().c_lflag & (libc::ICANON | libc::ECHO) == 0
    }
}

/// Everything the dashboard wrote, collected by a thread that keeps the
/// master drained (a full pty buffer would block the dashboard's draws).
struct Screen {
    bytes: Arc<Mutex<Vec<u8>>>,
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
}

impl Screen {
    fn start(master: &File) -> Screen {
        let mut master = master.try_clone().expect("clone the master");
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (out, done) = (bytes.clone(), stop.clone());
        let reader = thread::spawn(move || {
            let mut buf = [0u8; 64 * 1024];
            while !done.load(Ordering::Relaxed) {
                // Poll with a timeout so that the thread notices `stop`
                // even when the dashboard writes nothing more.
                let mut fds = libc::pollfd {
                    fd: master.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one valid pollfd for the duration of the call.
                let n = unsafe { libc::poll(&mut fds, 1, 20) };
                if n <= 0 {
                    continue;
                }
                match master.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => out
                        .lock()
                        .expect("screen lock")
                        .extend_from_slice(&buf[..n]),
                }
            }
        });
        Screen {
            bytes,
            stop,
            reader: Some(reader),
        }
    }

    fn contains(&self, needle: &[u8]) -> bool {
        let bytes = self.bytes.lock().expect("screen lock");
        bytes.windows(needle.len()).any(|w| w == needle)
    }

    /// Stops the reader and returns everything it collected.
    fn finish(mut self) -> Vec<u8> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        std::mem::take(&mut *self.bytes.lock().expect("screen lock"))
    }
}

/// The dashboard process; killed by its pid if the test ends without
/// having reaped it (a failed assertion, a timeout).
struct Dashboard {
    child: Child,
    reaped: bool,
}

impl Dashboard {
    /// Starts `lblab` with `args` on the pty's slave as its controlling
    /// terminal, like a shell would.
    fn start(pty: &Pty, args: &[&str]) -> Dashboard {
        let stdio = || Stdio::from(pty.slave.try_clone().expect("clone the slave"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lblab"));
        cmd.args(args)
            .env("TERM", "xterm-256color")
            .env_remove("NO_COLOR")
            .stdin(stdio())
            .stdout(stdio())
            .stderr(stdio());
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                // A new session whose controlling terminal is the pty, so
                // the dashboard sees the terminal a shell would give it.
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Dashboard {
            child: cmd.spawn().expect("start lblab"),
            reaped: false,
        }
    }

    /// The exit status, if the dashboard exits before `deadline`.
    fn wait_until(&mut self, deadline: Instant) -> Option<ExitStatus> {
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                self.reaped = true;
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    fn running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        if !self.reaped {
            // Child::kill sends SIGKILL to this child's pid only.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits until the dashboard has drawn its first frame in raw mode.
fn wait_for_first_frame(pty: &Pty, screen: &Screen, dashboard: &mut Dashboard) {
    let deadline = Instant::now() + START_UP;
    while !(screen.contains(b"\x1b[?1049h") && screen.contains(b"servers") && pty.raw()) {
        assert!(dashboard.running(), "the dashboard exited before drawing");
        assert!(Instant::now() < deadline, "no frame within {START_UP:?}");
        thread::sleep(Duration::from_millis(10));
    }
}

/// Starts the dashboard on the default lab, writes `burst` in one write
/// and then `q`, and checks that it exits 0 within a second of the last
/// byte and gives the terminal back.
fn burst_then_q(burst: &[u8]) {
    let pty = Pty::open(120, 40);
    let screen = Screen::start(&pty.master);
    let mut dashboard = Dashboard::start(&pty, &[]);
    wait_for_first_frame(&pty, &screen, &mut dashboard);

    let mut master = &pty.master;
    master.write_all(burst).expect("write the burst");
    master.write_all(b"q").expect("write q");
    // Timed from the last byte, so a slow start-up does not count.
    let last_byte = Instant::now();
    let status = dashboard.wait_until(last_byte + Duration::from_secs(1));
    let waited = last_byte.elapsed();
    let out = screen.finish();
    let status = status.unwrap_or_else(|| {
        panic!(
            "still running {waited:?} after the last key; it wrote {} bytes",
            out.len()
        )
    });
    assert!(status.success(), "exit status {status}");
    // The terminal is given back: the alternate screen left after it was
    // entered, and line editing and echo on again.
    let entered = out
        .windows(8)
        .position(|w| w == b"\x1b[?1049h")
        .expect("entered the alternate screen");
    assert!(
        out[entered..].windows(8).any(|w| w == b"\x1b[?1049l"),
        "never left the alternate screen"
    );
    assert!(!pty.raw(), "the terminal is still in raw mode");
}

#[test]
fn a_burst_of_5000_keys_then_q_quits_within_a_second() {
    // More than any single read takes (crossterm's 1 KiB, the kernel's
    // 4 KiB line buffer): it passes only if the dashboard reads on until
    // the terminal has nothing left before it waits again.
    burst_then_q(&[b'j'; 5000]);
}

#[test]
fn a_burst_of_arrow_keys_split_across_reads_then_q_quits() {
    // 6 000 bytes of Down: reads end inside escape sequences, which wait
    // for their other half instead of stalling or ending the burst (the
    // decoder's own tests check they make the same keys).
    burst_then_q(&b"\x1b[B".repeat(2000));
}
