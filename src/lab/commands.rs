//! Checks of commands where they come in sequence (a lab's timeline, a
//! command script): each passes the bounds every command gets from any
//! source (`spec::limits`), falls within the lab, and names servers that
//! exist at that moment.

use super::locate::{Path, Seg};
use super::validate::Problem;
use crate::spec::limits::{self, MAX_DURATION, MAX_SERVERS, Refusal};
use crate::spec::{Command, Dur, Lab, TimedCommand, format_duration};

/// Every timeline entry passes the checks a command gets from any source
/// (`spec::limits`), falls within the lab, and names servers that exist
/// at that moment: in the lab, or added by an earlier `AddServer`.
pub(crate) fn check_timeline(lab: &Lab) -> Result<(), Problem> {
    let known: Vec<String> = lab.servers.expand().into_iter().map(|s| s.name).collect();
    let mut pool = Pool { known };
    let mut entries: Vec<(usize, &TimedCommand)> = lab.timeline.iter().enumerate().collect();
    entries.sort_by_key(|(_, e)| e.at());
    for (i, entry) in entries {
        let at = [Seg::Field("timeline"), Seg::Item(i)];
        let located = |c: CommandProblem| Problem {
            path: Path(at.to_vec()),
            message: c.message,
            needle: c.needle,
        };
        check_entry_time(entry.at(), lab.duration).map_err(located)?;
        pool.check(entry.command()).map_err(located)?;
    }
    Ok(())
}

/// A problem with one command of a timeline or a script: what is wrong,
/// and text to point at within the entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CommandProblem {
    /// What is wrong.
    pub message: String,
    /// Text within the entry to point at (a field name, a quoted name).
    pub needle: Option<String>,
}

impl From<Refusal> for CommandProblem {
    fn from(r: Refusal) -> Self {
        CommandProblem {
            message: r.message,
            needle: r.field.map(|f| format!("{f}:")),
        }
    }
}

/// An entry's time: within the lab, and within any lab at all.
pub(crate) fn check_entry_time(at: Dur, duration: Option<Dur>) -> Result<(), CommandProblem> {
    let late = |message: String| CommandProblem {
        message,
        needle: None,
    };
    if at.get() > MAX_DURATION {
        return Err(late(format!(
            "at {} is past the longest a lab may last ({})",
            format_duration(at.get()),
            format_duration(MAX_DURATION)
        )));
    }
    if let Some(d) = duration
        && at > d
    {
        return Err(late(format!(
            "at {} is after the lab ends ({})",
            format_duration(at.get()),
            format_duration(d.get())
        )));
    }
    Ok(())
}

/// The servers a sequence of commands sees, in the order they apply.
pub(crate) struct Pool {
    /// Names of the servers in the pool now.
    pub known: Vec<String>,
}

impl Pool {
    /// Checks `cmd` against the limits and the pool as it is, then lets it
    /// change the pool (`AddServer`, `RemoveServer`).
    pub(crate) fn check(&mut self, cmd: &Command) -> Result<(), CommandProblem> {
        limits::check_command(cmd)?;
        match cmd {
            Command::AddServer(spec) => {
                let quoted = format!("\"{}\"", spec.name);
                if self.known.contains(&spec.name) {
                    return Err(CommandProblem {
                        message: format!("a server is already named {quoted}"),
                        needle: Some(quoted),
                    });
                }
                if self.known.len() >= MAX_SERVERS as usize {
                    return Err(CommandProblem {
                        message: format!("the pool already has the most servers, {MAX_SERVERS}"),
                        needle: None,
                    });
                }
                self.known.push(spec.name.clone());
            }
            _ => {
                if let Some(name) = cmd.server_name() {
                    let Some(i) = self.known.iter().position(|k| k == name) else {
                        let mut names = self.known.clone();
                        names.truncate(12);
                        return Err(CommandProblem {
                            message: format!(
                                "no server is named \"{name}\"; the lab's servers are {}",
                                names.join(", ")
                            ),
                            needle: Some(format!("\"{name}\"")),
                        });
                    };
                    if matches!(cmd, Command::RemoveServer(_)) {
                        self.known.remove(i);
                    }
                }
            }
        }
        Ok(())
    }
}
