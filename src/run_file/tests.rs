//! Run files: the text round-trips, and a file that would not replay the
//! run it claims is refused with its place, or let through by `--force`.

use super::*;
use crate::spec::{Command, TimedCommand};

fn classic_run() -> RunFile {
    let lab = crate::lab::builtin("classic").expect("classic loads");
    let mut run = RunFile::new(&lab, 7);
    run.length = Some(Dur::from_secs(30));
    run.commands = vec![
        TimedCommand::At(
            Dur::from_millis(12_500),
            Command::KillServer("srv-3".into()),
        ),
        TimedCommand::At(
            Dur(crate::model::SimDuration::from_nanos(20_000_000_123)),
            Command::StopFlood,
        ),
    ];
    run
}

#[test]
fn a_run_file_reads_back_as_written() {
    let run = classic_run();
    assert_eq!(run.lab, LabSource::Builtin("classic".into()));
    let text = run.to_text().expect("writes");
    assert!(
        text.contains("At(\"12500ms\", KillServer(\"srv-3\"))"),
        "{text}"
    );
    let back = load_str(&text, "run.ron", false).expect("reads back");
    assert_eq!(back.run, run, "nanosecond times survive the text");
    assert!(back.warnings.is_empty());
}

#[test]
fn a_file_lab_is_written_inline_and_its_hash_checked() {
    let mut lab = crate::lab::builtin("classic").expect("classic loads");
    lab.seed = 99;
    let run = RunFile::new(&lab, 1);
    assert!(matches!(run.lab, LabSource::Inline(_)));
    let text = run.to_text().expect("writes");
    assert!(load_str(&text, "run.ron", false).is_ok());
    // Editing the inline lab is caught by its hash.
    let edited = text.replacen("seed: 99", "seed: 98", 1);
    assert_ne!(edited, text);
    let e = load_str(&edited, "run.ron", false).expect_err("hash differs");
    assert!(e.message.contains("edited after recording"), "{e}");
    assert!(e.position().is_some(), "{e}");
}

#[test]
fn another_version_or_hash_is_refused_at_its_line_unless_forced() {
    let text = classic_run().to_text().expect("writes");
    let old = text.replacen(&format!("lblab: \"{VERSION}\""), "lblab: \"0.0.1\"", 1);
    let e = load_str(&old, "run.ron", false).expect_err("old version");
    let line = old
        .lines()
        .position(|l| l.contains("lblab: "))
        .expect("line")
        + 1;
    assert_eq!(e.position().map(|p| p.0), Some(line), "{e}");
    assert!(e.to_string().contains("--force"), "{e}");
    let forced = load_str(&old, "run.ron", true).expect("forced");
    assert_eq!(forced.warnings.len(), 1, "{:?}", forced.warnings);
    let bad_hash = text.replacen("lab_hash: \"sip13:", "lab_hash: \"sip13:0", 1);
    let e = load_str(&bad_hash, "run.ron", false).expect_err("hash");
    assert!(e.message.contains("has changed since"), "{e}");
    assert!(load_str(&bad_hash, "run.ron", true).is_ok());
}

#[test]
fn bad_entries_point_at_their_place() {
    let text = classic_run().to_text().expect("writes");
    let garbled = text.replacen("KillServer(\"srv-3\")", "KillServer(3)", 1);
    let e = load_str(&garbled, "run.ron", false).expect_err("bad command");
    assert!(e.position().is_some(), "{e}");
    let backwards = text.replacen("\"12500ms\"", "\"25s\"", 1);
    let e = load_str(&backwards, "run.ron", false).expect_err("out of order");
    assert!(e.message.contains("commands entry 2"), "{e}");
    let line = backwards
        .lines()
        .position(|l| l.contains("StopFlood"))
        .expect("line")
        + 1;
    assert_eq!(e.position().map(|p| p.0), Some(line), "{e}");
}

#[test]
fn the_lab_hash_is_fixed_text() {
    let lab = crate::lab::builtin("classic").expect("classic loads");
    let h = lab_hash(&lab);
    assert!(h.starts_with("sip13:") && h.len() == 22, "{h}");
    assert_eq!(h, lab_hash(&lab.clone()));
}
