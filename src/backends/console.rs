//! The keyboard side of `lblab backends`: a backend's number toggles it,
//! `q` quits. Commands are read only from a terminal we own, so that the
//! same command runs unattended in scripts and in the background.

use super::DemoBackend;
use std::io::{BufRead, IsTerminal};
use tokio::sync::mpsc;

/// One line typed at the console.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Input {
    /// Kill or revive the backend at this index.
    Toggle(usize),
    /// Close everything and exit.
    Quit,
    /// Nothing typed.
    Blank,
    /// Anything else: show what is understood.
    Unknown,
}

impl Input {
    /// Reads a line for a pool of `count` backends numbered from 1.
    pub(crate) fn parse(line: &str, count: usize) -> Input {
        let line = line.trim();
        match line {
            "" => Input::Blank,
            "q" | "quit" | "exit" => Input::Quit,
            _ => match line.parse::<usize>() {
                Ok(n) if (1..=count).contains(&n) => Input::Toggle(n - 1),
                _ => Input::Unknown,
            },
        }
    }
}

/// Lines typed at the terminal, or None when stdin is not an interactive
/// terminal in the foreground (then only a signal stops the backends).
pub(crate) fn stdin_lines() -> Option<mpsc::Receiver<String>> {
    if !std::io::stdin().is_terminal() || !in_foreground() {
        return None;
    }
    let (tx, rx) = mpsc::channel(16);
    // A plain thread, not spawn_blocking: a read blocked on the terminal
    // must not hold the runtime's shutdown; the process exit ends it.
    let reader = std::thread::Builder::new()
        .name("backends-stdin".into())
        .spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                if tx.blocking_send(line).is_err() {
                    break;
                }
            }
        });
    reader.ok().map(|_| rx)
}

/// Whether this process owns the terminal: a background job that reads it
/// is stopped by SIGTTIN, which would stop its backends too.
#[cfg(unix)]
fn in_foreground() -> bool {
    // SAFETY: both calls only read process state and take no pointers.
    unsafe { libc::tcgetpgrp(libc::STDIN_FILENO) == libc::getpgrp() }
}

#[cfg(not(unix))]
fn in_foreground() -> bool {
    true
}

/// The help line for a pool of `count` backends.
pub(crate) fn help(count: usize) -> String {
    if count == 1 {
        "type 1 and Enter to kill or revive web-1, q to quit".to_string()
    } else {
        format!("type a backend number (1-{count}) and Enter to kill or revive it, q to quit")
    }
}

/// Kills a live backend or revives a dead one, and says which.
pub(crate) async fn toggle(backend: &DemoBackend) {
    let name = backend.name();
    if backend.is_alive() {
        backend.kill();
        println!("{name} killed (connections to {} refused)", backend.addr());
    } else {
        match backend.revive().await {
            Ok(()) => println!("{name} revived on {}", backend.addr()),
            Err(e) => eprintln!("{name} stays down: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_range_toggle_from_one() {
        assert_eq!(Input::parse("1", 3), Input::Toggle(0));
        assert_eq!(Input::parse(" 3 \n", 3), Input::Toggle(2));
    }

    #[test]
    fn numbers_out_of_range_and_words_are_unknown() {
        for line in ["0", "4", "-1", "one", "1 2"] {
            assert_eq!(Input::parse(line, 3), Input::Unknown, "{line:?}");
        }
    }

    #[test]
    fn q_quits_and_a_blank_line_does_nothing() {
        assert_eq!(Input::parse("q", 3), Input::Quit);
        assert_eq!(Input::parse("  ", 3), Input::Blank);
    }
}
