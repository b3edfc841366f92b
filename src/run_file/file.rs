//! Reading a run file: parse errors with file:line:col as lab files get
//! them, and the checks that make a replay the run it claims to be (the
//! lblab version, the lab's hash), which `--force` turns into warnings.

use super::{LabSource, RunFile, VERSION, lab_hash};
use crate::lab::LabError;
use crate::lab::load::MAX_NESTING;
use crate::lab::locate::{Seg, locate, locate_item};
use crate::spec::limits::{MAX_DURATION, check_command};
use crate::spec::{Lab, TimedCommand, format_duration};
use std::path::Path;

/// What a run file refuses with: an error at file:line:col, worded as a
/// lab file's.
pub type RunFileError = LabError;

/// The largest run file accepted: an inline lab (at most 1 MiB) and a few
/// hundred thousand commands.
pub const MAX_RUN_BYTES: usize = 16 << 20;

/// A run file that passed its checks, with the lab it names.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The run.
    pub run: RunFile,
    /// Its lab, resolved (the built-in of that name, or the inline lab).
    pub lab: Lab,
    /// What `force` let through (another version, another lab hash).
    pub warnings: Vec<String>,
}

/// Reads and checks the run file at `path`; with `force`, a version or
/// lab hash that differs is a warning instead of an error.
pub fn load(path: &Path, force: bool) -> Result<Checked, RunFileError> {
    let origin = path.display().to_string();
    let bytes =
        std::fs::read(path).map_err(|e| LabError::whole(&origin, format!("cannot read: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| LabError::whole(&origin, "a run file is text (UTF-8); this is not".into()))?;
    load_str(&text, &origin, force)
}

/// [`load`] on text; `origin` names it in errors.
pub fn load_str(text: &str, origin: &str, force: bool) -> Result<Checked, RunFileError> {
    if text.len() > MAX_RUN_BYTES {
        return Err(LabError::whole(
            origin,
            format!(
                "run file is {} bytes, more than the limit of {MAX_RUN_BYTES} bytes (16 MiB)",
                text.len()
            ),
        ));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let options = ron::Options::default().with_recursion_limit(MAX_NESTING);
    let run: RunFile = options.from_str(text).map_err(|e| {
        let (offset, message) = crate::lab::ron_error::describe(text, &e, MAX_NESTING, "run file");
        LabError::at(origin, text, offset, message)
    })?;
    let at_field = |field: &str, message: String| {
        LabError::at(origin, text, locate(text, &[Seg::Field(field)]), message)
    };
    let mut warnings = Vec::new();
    let mut refuse_unless_forced = |field: &str, message: String| {
        if force {
            warnings.push(format!("{message} (replayed anyway: --force)"));
            Ok(())
        } else {
            Err(at_field(
                field,
                format!("{message}; give --force to replay it anyway"),
            ))
        }
    };
    if run.lblab != VERSION {
        refuse_unless_forced(
            "lblab",
            format!(
                "recorded by lblab {}, and this is lblab {VERSION}: the simulation may differ, so the replay may not be the same run",
                run.lblab
            ),
        )?;
    }
    let lab = match &run.lab {
        LabSource::Builtin(name) => crate::lab::builtin(name).map_err(|_| {
            at_field(
                "lab",
                format!(
                    "no built-in lab is called \"{name}\" in this lblab; built-in labs: {}",
                    crate::lab::BUILTIN
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?,
        LabSource::Inline(lab) => {
            // The lab passes the checks a lab file gets; its own text is
            // its canonical form, so the message names the field.
            let canonical = ron::to_string(lab.as_ref())
                .map_err(|e| at_field("lab", format!("the lab cannot be written out: {e}")))?;
            crate::lab::load_str(&canonical, "lab")
                .map_err(|e| at_field("lab", format!("the run's lab is not valid: {e}")))?
        }
    };
    let now = lab_hash(&lab);
    if now != run.lab_hash {
        let what = match &run.lab {
            LabSource::Builtin(name) => {
                format!("the built-in lab \"{name}\" has changed since the run was recorded")
            }
            LabSource::Inline(_) => "the lab in the file was edited after recording".to_string(),
        };
        refuse_unless_forced(
            "lab_hash",
            format!("{what} (recorded hash {}, now {now})", run.lab_hash),
        )?;
    }
    check_list(text, origin, "script", &run.script, false)?;
    check_list(text, origin, "commands", &run.commands, true)?;
    if let Some(len) = run.length
        && len.get() > MAX_DURATION
    {
        return Err(at_field(
            "length",
            format!(
                "the length {} is past the longest a run may last ({})",
                format_duration(len.get()),
                format_duration(MAX_DURATION)
            ),
        ));
    }
    Ok(Checked { run, lab, warnings })
}

/// Each command's values within their bounds, its time within any run,
/// and (for `ordered` lists, applied as they come) times that never go
/// back.
fn check_list(
    text: &str,
    origin: &str,
    field: &str,
    list: &[TimedCommand],
    ordered: bool,
) -> Result<(), LabError> {
    let mut last = None;
    for (i, entry) in list.iter().enumerate() {
        let problem = if entry.at().get() > MAX_DURATION {
            Some(format!(
                "at {} is past the longest a run may last ({})",
                format_duration(entry.at().get()),
                format_duration(MAX_DURATION)
            ))
        } else if let Err(r) = check_command(entry.command()) {
            Some(match r.field {
                Some(f) => format!("{f}: {}", r.message),
                None => r.message,
            })
        } else if ordered && last.is_some_and(|l| entry.at() < l) {
            Some(format!(
                "at {} is before the command above it: commands are listed in the order they took effect",
                format_duration(entry.at().get())
            ))
        } else {
            None
        };
        if let Some(message) = problem {
            let path = [Seg::Field(field), Seg::Item(i)];
            let offset = locate_item(text, &path).unwrap_or_else(|| locate(text, &path));
            return Err(LabError::at(
                origin,
                text,
                offset,
                format!("{field} entry {}: {message}", i + 1),
            ));
        }
        last = Some(entry.at());
    }
    Ok(())
}
