//! The `lblab` binary as a user runs it: reports, formats, reproducibility
//! and errors with the right exit codes.

use std::process::{Command, Output};

fn lblab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lblab"))
        .args(args)
        .output()
        .expect("lblab runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The report without its wall-clock line.
fn deterministic_part(report: &str) -> String {
    report
        .lines()
        .filter(|l| !l.starts_with("wall time") && !l.starts_with("wall,"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn run_prints_a_table_report() {
    let o = lblab(&["run", "classic", "--for", "10s"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("lab classic  seed 1  algorithm round-robin  sim time 10.000s"),
        "{out}"
    );
    for needle in [
        "srv-10",
        "connections  attempted 100",
        "latency",
        "handshake",
        "events processed",
        "wall time",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
}

#[test]
fn json_report_names_lab_seed_and_version() {
    let o = lblab(&[
        "run", "classic", "--for", "5s", "--seed", "42", "--format", "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("valid JSON");
    assert_eq!(v["lab"], "classic");
    assert_eq!(v["seed"], 42);
    assert_eq!(v["lblab_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["backends"].as_array().map(Vec::len), Some(10));
    assert!(
        v["wall"]["events_per_sec"]
            .as_f64()
            .is_some_and(|e| e > 0.0)
    );
}

#[test]
fn csv_report_is_one_row_per_figure() {
    let o = lblab(&["run", "classic", "--for", "5s", "--format", "csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("scope,metric,value"));
    assert!(lines.all(|l| l.split(',').count() == 3), "{out}");
    assert!(out.contains("backend:srv-3,connections,10"));
}

#[test]
fn same_seed_same_report_and_other_seed_another() {
    let a = lblab(&["run", "classic", "--for", "20s", "--seed", "5"]);
    let b = lblab(&["run", "classic", "--for", "20s", "--seed", "5"]);
    let c = lblab(&["run", "classic", "--for", "20s", "--seed", "6"]);
    assert_eq!(
        deterministic_part(&stdout(&a)),
        deterministic_part(&stdout(&b))
    );
    assert_ne!(
        deterministic_part(&stdout(&a)),
        deterministic_part(&stdout(&c))
    );
}

#[test]
fn a_bad_lab_file_reports_file_line_col_and_fails() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/bad-labs/loss-above-one.ron"
    );
    let o = lblab(&["run", path]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let err = stderr(&o);
    assert!(
        err.contains(&format!("{path}:4:29: network.client_link.loss: expected a probability from 0.0 to 1.0, found 1.5")),
        "{err}"
    );
}

#[test]
fn an_unknown_lab_lists_the_built_in_ones() {
    let o = lblab(&["run", "no-such-lab"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("no-such-lab") && err.contains("classic"),
        "{err}"
    );
}

#[test]
fn bad_flags_get_usage_errors() {
    for args in [
        &["run", "classic", "--format", "yaml"][..],
        &["run", "classic", "--for", "ten"],
        &["run", "classic", "--for", "0s"],
        &["run", "classic", "--seed", "-3"],
        &["run"],
        &["--no-such-flag"],
    ] {
        let o = lblab(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert!(
            err.contains("error:") && (err.contains("Usage") || err.contains("--help")),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn an_endless_lab_without_a_duration_asks_for_one() {
    let dir = std::env::temp_dir().join(format!("lblab-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("endless.ron");
    std::fs::write(
        &path,
        r#"(name: "endless", clients: (closed: Some((population: 2, connections: None))))"#,
    )
    .expect("write lab");
    let o = lblab(&["run", path.to_str().expect("utf-8 path")]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--for"), "{}", stderr(&o));
}
