//! Reading a lab from text or a file, with limits that make hostile input
//! fail cleanly and errors that point at the line and column.

use super::error::LabError;
use super::locate::{Seg, locate, locate_item};
use super::{commands, ron_error, validate};
use crate::spec::Lab;
use crate::spec::TimedCommand;
use crate::spec::script::MAX_SCRIPT_BYTES;
use serde::de::DeserializeOwned;
use std::io::Read;
use std::path::Path;

/// The largest lab accepted, in bytes. Real labs are a few kilobytes; the
/// limit keeps a wrong file (a log, a binary) from being read whole.
pub const MAX_LAB_BYTES: usize = 1 << 20;

/// How deeply RON values may nest. Real labs nest under ten levels; the
/// limit keeps `((((...` from exhausting the stack.
pub const MAX_NESTING: usize = 64;

/// Parses and validates a lab written in RON. `origin` names the text in
/// errors: a path, `<builtin NAME>`, or whatever the caller chooses.
pub fn load_str(text: &str, origin: &str) -> Result<Lab, LabError> {
    let (text, lab): (&str, Lab) = parse(text, origin)?;
    validate::check(&lab).map_err(|p| {
        let offset = point_at(text, &p.path.0, p.needle.as_deref());
        LabError::at(origin, text, offset, format!("{}: {}", p.path, p.message))
    })?;
    Ok(lab)
}

/// Where an error about `path` points: the list item or field it names,
/// then `needle` within it when given.
fn point_at(text: &str, path: &[Seg<'_>], needle: Option<&str>) -> usize {
    let mut offset = match path.last() {
        Some(Seg::Item(_)) => locate_item(text, path).unwrap_or_else(|| locate(text, path)),
        _ => locate(text, path),
    };
    if let Some(k) = needle.and_then(|n| text[offset..].find(n)) {
        offset += k;
    }
    offset
}

/// Parses RON text into `T` within the size and nesting limits; returns the
/// text as parsed (without a byte-order mark) and the value.
pub(crate) fn parse<'t, T: DeserializeOwned>(
    text: &'t str,
    origin: &str,
) -> Result<(&'t str, T), LabError> {
    parse_as(text, origin, Kind::Lab)
}

/// [`parse`], with messages that call the text a `kind`.
pub(crate) fn parse_as<'t, T: DeserializeOwned>(
    text: &'t str,
    origin: &str,
    kind: Kind,
) -> Result<(&'t str, T), LabError> {
    check_size(text.len(), origin, kind)?;
    // Editors hide a byte-order mark, so columns are counted without it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let options = ron::Options::default().with_recursion_limit(MAX_NESTING);
    let value: T = options.from_str(text).map_err(|e| {
        let (offset, message) = ron_error::describe(text, &e, MAX_NESTING, kind.noun());
        LabError::at(origin, text, offset, message)
    })?;
    Ok((text, value))
}

/// Parses a command script for `lab`: a RON list of timed commands,
/// `[At("10s", KillServer("srv-1")), At("20s", StopFlood)]`. Each entry
/// passes the checks a timeline entry gets (values in range, times within
/// the lab, servers that exist at that moment, counting the lab's own
/// timeline), so a script is refused before anything runs.
pub fn load_commands_str(
    text: &str,
    origin: &str,
    lab: &Lab,
) -> Result<Vec<TimedCommand>, LabError> {
    let (text, commands): (&str, Vec<TimedCommand>) = parse_as(text, origin, Kind::Script)?;
    let mut all: Vec<(Option<usize>, &TimedCommand)> = lab
        .timeline
        .iter()
        .map(|e| (None, e))
        .chain(commands.iter().enumerate().map(|(i, e)| (Some(i), e)))
        .collect();
    // Timeline entries go first at equal times, as they apply first.
    all.sort_by_key(|(i, e)| (e.at(), i.is_some()));
    let known = lab.servers.expand().into_iter().map(|s| s.name).collect();
    let mut pool = commands::Pool { known };
    for (i, entry) in all {
        let checked = commands::check_entry_time(entry.at(), lab.duration)
            .and_then(|()| pool.check(entry.command()));
        match (checked, i) {
            (Ok(()), _) => {}
            // The lab's own timeline was checked when the lab was read.
            (Err(_), None) => {}
            (Err(p), Some(i)) => {
                let offset = point_at(text, &[Seg::Item(i)], p.needle.as_deref());
                return Err(LabError::at(
                    origin,
                    text,
                    offset,
                    format!("command {} of the script: {}", i + 1, p.message),
                ));
            }
        }
    }
    Ok(commands)
}

/// Reads, parses and checks the command script at `path` for `lab`.
pub fn load_commands(path: &Path, lab: &Lab) -> Result<Vec<TimedCommand>, LabError> {
    let origin = path.display().to_string();
    let text = read_text_as(path, &origin, Kind::Script)?;
    beside(path, || load_commands_str(&text, &origin, lab))
}

/// What a text is, for messages about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A lab file.
    Lab,
    /// A command script.
    Script,
    /// A `lblab proxy` configuration.
    Config,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Lab => "lab",
            Kind::Script => "script",
            Kind::Config => "configuration",
        }
    }
}

/// Reads, parses and validates the lab file at `path`; errors name the
/// path as given.
pub fn load_file(path: &Path) -> Result<Lab, LabError> {
    let origin = path.display().to_string();
    let text = read_text(path, &origin)?;
    beside(path, || load_str(&text, &origin))
}

/// Runs `f`, which reads the text of the file at `path`, with the
/// `ScriptFile` names in it read relative to that file's directory. Text
/// read otherwise (a built-in lab, [`load_str`]) has no directory, and a
/// `ScriptFile` in it is refused (`spec::script` says so).
pub fn beside<R>(path: &Path, f: impl FnOnce() -> R) -> R {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    crate::spec::script::with_files(move |name| read_script(&dir, name), f)
}

/// The text of the algorithm script `name` in `dir`, within
/// [`MAX_SCRIPT_BYTES`].
fn read_script(dir: &Path, name: &str) -> Result<String, String> {
    let path = dir.join(name);
    // The name as written: it is relative to the file the error names.
    let cannot = |why: String| format!("cannot read script file \"{name}\": {why}");
    let file = std::fs::File::open(&path).map_err(|e| cannot(e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(MAX_SCRIPT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| cannot(e.to_string()))?;
    if bytes.len() > MAX_SCRIPT_BYTES {
        return Err(cannot(format!(
            "a script is at most {MAX_SCRIPT_BYTES} bytes"
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        cannot(format!(
            "not UTF-8 text (byte 0x{:02x} at offset {})",
            e.as_bytes()[e.utf8_error().valid_up_to()],
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Reads a UTF-8 file of at most [`MAX_LAB_BYTES`].
pub(crate) fn read_text(path: &Path, origin: &str) -> Result<String, LabError> {
    read_text_as(path, origin, Kind::Lab)
}

/// [`read_text`], with messages that call the file a `kind`.
pub(crate) fn read_text_as(path: &Path, origin: &str, kind: Kind) -> Result<String, LabError> {
    let cannot_read = |e: std::io::Error| LabError::whole(origin, format!("cannot read: {e}"));
    let file = std::fs::File::open(path).map_err(cannot_read)?;
    if let Ok(meta) = file.metadata() {
        check_size(
            usize::try_from(meta.len()).unwrap_or(usize::MAX),
            origin,
            kind,
        )?;
    }
    // The size can change between the check and the read (or the metadata
    // can lie, as for pipes); reading one byte past the limit tells.
    let mut bytes = Vec::new();
    file.take(MAX_LAB_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot_read)?;
    check_size(bytes.len(), origin, kind)?;
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let e = e.utf8_error();
        let valid = &bytes[..e.valid_up_to()];
        // The prefix is valid UTF-8 by definition of `valid_up_to`.
        let prefix = std::str::from_utf8(valid).unwrap_or_default();
        let bad = bytes.get(e.valid_up_to()).copied().unwrap_or(0);
        LabError::at(
            origin,
            prefix,
            prefix.len(),
            format!(
                "not UTF-8 text (byte 0x{bad:02x}); a {} must be UTF-8",
                kind.noun()
            ),
        )
    })
}

fn check_size(len: usize, origin: &str, kind: Kind) -> Result<(), LabError> {
    if len > MAX_LAB_BYTES {
        return Err(LabError::whole(
            origin,
            format!(
                "{} is {len} bytes, more than the limit of {MAX_LAB_BYTES} bytes (1 MiB)",
                kind.noun()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        load_str(text, "t.ron").unwrap_err().to_string()
    }

    #[test]
    fn a_minimal_lab_loads_with_defaults() {
        let lab = load_str("(name: \"m\")", "t.ron").unwrap();
        assert_eq!(lab.name, "m");
        assert_eq!(lab.seed, 1);
        assert_eq!(lab.servers.expand().len(), 10);
    }

    #[test]
    fn syntax_errors_point_where_the_separator_belonged() {
        assert_eq!(
            err("(\n  name: \"x\"\n  seed: 2,\n)"),
            "t.ron:3:3: expected `,` or `)`, found `seed`"
        );
        assert_eq!(
            err("(name: \"x\",\n clients: (tcp: ()\n"),
            "t.ron:3:1: clients: expected `,` or `)`, found the end of the file"
        );
        assert_eq!(
            err("(name: \"x\") junk"),
            "t.ron:1:13: unexpected `junk` after the end of the lab"
        );
    }

    #[test]
    fn unclosed_things_point_at_where_they_open() {
        assert_eq!(
            err("(name: \"x\", /* never closed"),
            "t.ron:1:13: comment `/*` has no closing `*/`"
        );
        assert_eq!(
            err("(name: \"x\", summary: \"never closed)"),
            "t.ron:1:22: summary: string has no closing `\"`"
        );
    }

    #[test]
    fn unknown_fields_list_the_allowed_ones() {
        assert_eq!(
            err("(name: \"x\", clients: (closed: Some((populaton: 3))))"),
            "t.ron:1:37: clients.closed: unknown field \"populaton\", expected one of: \
             population, segments, segment_size, gap, think, connections, start_spread"
        );
        assert_eq!(
            err("(name: \"x\",\n  bogus: 1)"),
            "t.ron:2:3: unknown field \"bogus\", expected one of: name, summary, seed, \
             duration, network, balancer, servers, clients, lesson, timeline, objectives"
        );
    }

    #[test]
    fn enum_struct_variants_refuse_unknown_fields_too() {
        assert_eq!(
            err("(name: \"x\", servers: List([(service_time: \
                 LogNormal(median: \"1ms\", sgma: 1.0))]))"),
            "t.ron:1:68: servers[0].service_time: unknown field \"sgma\", \
             expected one of: median, sigma"
        );
    }

    #[test]
    fn wrong_types_say_expected_and_found() {
        assert_eq!(
            err("(name: \"x\", seed:  \"one\")"),
            "t.ron:1:20: seed: expected a whole number, found \"one\""
        );
        assert_eq!(
            err("(name: \"x\", balancer: (algorithm: Fastest))"),
            "t.ron:1:35: balancer.algorithm: unknown variant \"Fastest\", expected one of: \
             RoundRobin, Random, WeightedRoundRobin, LeastConnections, WeightedLeastConnections, \
             ShortestExpectedDelay, NeverQueue, LeastRequests, PowerOfTwoChoices, PowerOfChoices, \
             PeakEwma, SourceHash, RingHash, Maglev, Score, Script, ScriptFile"
        );
        assert_eq!(
            err("(name: \"x\", duration: \"1s\")"),
            "t.ron:1:23: duration: expected `None` or the value inside `Some(...)`, \
             found \"1s\""
        );
        assert_eq!(
            err("(name: \"x\", clients: (closed: Some((segments: Uniform(1)))))"),
            "t.ron:1:56: clients.closed.segments: expected 2 values for Uniform, found 1"
        );
    }

    #[test]
    fn range_errors_come_from_the_value_types() {
        assert_eq!(
            err("(name: \"x\", network: (client_link: (loss:\n   1.5)))"),
            "t.ron:2:4: network.client_link.loss: expected a probability from 0.0 to 1.0, \
             found 1.5"
        );
        assert_eq!(
            err("(name: \"x\", network: (backend_link: (delay: 5)))"),
            "t.ron:1:45: network.backend_link.delay: expected a duration with a unit, \
             in quotes, such as \"5ms\" or \"5s\", found the bare number 5"
        );
        assert_eq!(
            err("(name: \"x\", servers: Replicate(count: 2.5, template: ()))"),
            "t.ron:1:39: servers.count: expected a whole number from 1 to 4294967295, \
             found 2.5"
        );
    }

    #[test]
    fn validation_errors_point_at_the_field() {
        assert_eq!(
            err(
                "(\n  name: \"x\",\n  servers: List([\n    (name: \"a\"),\n    (name: \"a\"),\n  ]),\n)"
            ),
            "t.ron:5:12: servers[1].name: server name \"a\" is already used by servers[0]"
        );
        assert_eq!(err("(name: \"\")"), "t.ron:1:8: name: the lab needs a name");
    }

    #[test]
    fn missing_fields_name_the_struct() {
        assert_eq!(
            err("(summary: \"s\")"),
            "t.ron:1:14: missing field \"name\""
        );
    }

    #[test]
    fn oversized_text_is_refused_before_parsing() {
        let big = " ".repeat(MAX_LAB_BYTES + 1);
        assert_eq!(
            err(&big),
            format!(
                "t.ron: lab is {} bytes, more than the limit of 1048576 bytes (1 MiB)",
                MAX_LAB_BYTES + 1
            )
        );
    }

    #[test]
    fn deep_nesting_fails_cleanly_everywhere() {
        let deep = "(".repeat(100_000);
        for prefix in [
            "",
            "(name: \"x\", summary: ",
            "(name: \"x\", duration: Some(",
            "(name: \"x\", network: (client_link: (delay: ",
            "(name: \"x\", servers: List(",
            "(name: \"x\", servers: Replicate(count: ",
            "(name: \"x\", clients: (closed: Some(",
        ] {
            for open in ["(", "[", "{", "Some("] {
                let text = format!("{prefix}{}", open.repeat(100_000 / open.len()));
                assert!(load_str(&text, "t").is_err(), "{prefix}{open}");
            }
        }
        assert!(load_str(&deep, "t").is_err());
    }

    #[test]
    fn a_byte_order_mark_is_ignored() {
        assert!(load_str("\u{feff}(name: \"x\")", "t").is_ok());
    }

    #[test]
    fn files_report_io_and_encoding_errors() {
        let missing = Path::new("no/such/lab.ron");
        let e = load_file(missing).unwrap_err();
        assert_eq!(e.position(), None);
        assert!(
            e.to_string().starts_with("no/such/lab.ron: cannot read: "),
            "{e}"
        );

        let path = std::env::temp_dir().join(format!("lblab-latin1-{}.ron", std::process::id()));
        std::fs::write(&path, b"(name: \"caf\xe9\")").unwrap();
        let e = load_file(&path).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert_eq!((e.line, e.col), (1, 12));
        assert!(e.message.contains("not UTF-8 text (byte 0xe9)"), "{e}");
    }
}
