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

/// A lab file in a directory of its own, removed when dropped.
struct TempLab {
    dir: std::path::PathBuf,
    path: std::path::PathBuf,
}

impl TempLab {
    fn new(tag: &str, ron: &str) -> TempLab {
        let dir = std::env::temp_dir().join(format!("lblab-cli-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(format!("{tag}.ron"));
        std::fs::write(&path, ron).expect("write lab");
        TempLab { dir, path }
    }

    fn path(&self) -> &str {
        self.path.to_str().expect("utf-8 path")
    }
}

impl Drop for TempLab {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

/// The report's first line, which names the lab and seed.
fn first_line(o: &Output) -> String {
    stdout(o).lines().next().unwrap_or_default().to_string()
}

#[test]
fn seed_before_the_command_is_the_runs_seed() {
    // `lblab --seed 7 run round-robin` once reported seed 1.
    let before = lblab(&["--seed", "7", "run", "round-robin", "--for", "5s"]);
    let after = lblab(&["run", "round-robin", "--for", "5s", "--seed", "7"]);
    let both = lblab(&[
        "--seed",
        "7",
        "run",
        "round-robin",
        "--for",
        "5s",
        "--seed",
        "7",
    ]);
    for o in [&before, &after, &both] {
        assert!(o.status.success(), "{}", stderr(o));
        assert!(
            first_line(o).starts_with("lab round-robin  seed 7  "),
            "{}",
            first_line(o)
        );
    }
    assert_eq!(
        deterministic_part(&stdout(&before)),
        deterministic_part(&stdout(&after))
    );
}

#[test]
fn two_different_seeds_are_refused() {
    let o = lblab(&["--seed", "7", "run", "round-robin", "--seed", "8"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert!(
        stderr(&o).contains("--seed is given twice, 7 before `run` and 8 after it"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn dashboard_flags_given_to_a_command_are_refused_not_ignored() {
    let log = std::env::temp_dir().join(format!("lblab-cli-log-{}", std::process::id()));
    let log_path = log.to_str().expect("utf-8 path");
    for (args, flag, command) in [
        (
            &["--speed", "5", "run", "round-robin"][..],
            "--speed",
            "run",
        ),
        (&["--log", log_path, "run", "round-robin"], "--log", "run"),
        (&["--lab", "syn-flood", "labs"], "--lab", "labs"),
        (&["--seed", "3", "labs"], "--seed", "labs"),
        (&["--seed", "3", "check", "classic"], "--seed", "check"),
    ] {
        let o = lblab(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?} ran anyway");
        let err = stderr(&o);
        let wanted = format!("{flag} is an option of the dashboard");
        assert!(
            err.contains(&wanted) && err.contains(&format!("not of `lblab {command}`")),
            "{args:?}: {err}"
        );
    }
    assert!(!log.exists(), "a refused --log still wrote its file");
}

#[test]
fn strict_exits_3_when_an_objective_fails() {
    // syn-flood untouched fails "clients get through again": the lesson
    // asks the student to turn a defence on.
    let strict = lblab(&["run", "syn-flood", "--strict"]);
    assert_eq!(strict.status.code(), Some(3), "{}", stderr(&strict));
    assert!(stdout(&strict).contains("FAIL     clients get through again"));
    assert!(
        stderr(&strict)
            .contains("1 of 2 objectives did not pass: clients get through again (fail)"),
        "{}",
        stderr(&strict)
    );
    let lenient = lblab(&["run", "syn-flood"]);
    assert_eq!(lenient.status.code(), Some(0), "{}", stderr(&lenient));
    // round-robin's objectives pass untouched.
    let passing = lblab(&["run", "round-robin", "--strict"]);
    assert_eq!(passing.status.code(), Some(0), "{}", stderr(&passing));
    assert!(!stdout(&passing).contains("FAIL"));
}

#[test]
fn strict_is_documented_in_help() {
    let o = lblab(&["run", "--help"]);
    assert!(o.status.success());
    let help = stdout(&o);
    assert!(
        help.contains("--strict") && help.contains("status 3"),
        "{help}"
    );
}

#[test]
fn check_refuses_a_lab_that_run_would_refuse() {
    let endless = TempLab::new(
        "endless-check",
        r#"(name: "endless", clients: (closed: Some((population: 2, connections: None))))"#,
    );
    let run = lblab(&["run", endless.path()]);
    let check = lblab(&["check", endless.path()]);
    assert_eq!(run.status.code(), Some(1));
    assert_eq!(check.status.code(), Some(1));
    assert!(check.stdout.is_empty(), "{}", stdout(&check));
    let refusal = "lab \"endless\" has no duration and its clients never finish";
    let run_err = stderr(&run);
    let message = run_err
        .lines()
        .find(|l| l.contains(refusal))
        .and_then(|l| l.strip_prefix("lblab: "))
        .unwrap_or_else(|| panic!("run: {run_err}"));
    let check_err = stderr(&check);
    assert!(
        check_err.contains(&format!("{}: {message}", endless.path())),
        "{check_err}"
    );
    assert!(
        check_err.contains("lblab: the lab file has an error"),
        "{check_err}"
    );
    // With a good lab beside it, the count reads as English.
    let two = lblab(&["check", "classic", endless.path()]);
    assert_eq!(two.status.code(), Some(1));
    assert!(stdout(&two).contains("classic: ok"));
    assert!(
        stderr(&two).contains("lblab: 1 of 2 lab files has an error"),
        "{}",
        stderr(&two)
    );
}

#[test]
fn bad_numbers_say_what_is_allowed() {
    for (args, wanted) in [
        (
            &["--seed", "abc"][..],
            "expected a whole number from 0 to 18446744073709551615, found \"abc\"",
        ),
        (
            &["run", "classic", "--seed", "1.5"],
            "expected a whole number from 0 to 18446744073709551615, found \"1.5\"",
        ),
        (
            &["run", "classic", "--explain", "many"],
            "expected a whole number of picks, like 20, found \"many\"",
        ),
        (
            &["proxy", "--config", "x.ron", "--threads", "abc"],
            "expected a whole number of threads from 1 to 512, found \"abc\"",
        ),
        (
            &["proxy", "--config", "x.ron", "--threads", "0"],
            "expected a whole number of threads from 1 to 512, found \"0\"",
        ),
        (
            &["backends", "2", "--port", "99999"],
            "expected a port from 0 to 65535, found \"99999\"",
        ),
    ] {
        let o = lblab(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert!(err.contains(wanted), "{args:?}: {err}");
        assert!(!err.contains("invalid digit"), "{args:?}: {err}");
    }
}

/// The JSON report of `args`, parsed.
fn json_report(args: &[&str]) -> serde_json::Value {
    let o = lblab(args);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).expect("valid JSON")
}

#[test]
fn json_times_are_seconds_with_the_unit_in_the_name() {
    let v = json_report(&["run", "syn-flood", "--for", "30s", "--format", "json"]);
    assert_eq!(v["sim_seconds"].as_f64(), Some(30.0), "{v}");
    assert!(v.get("sim_time").is_none(), "{v}");
    let handshake = &v["latency"]["handshake"];
    assert!(
        handshake["p95_ms"].as_f64().is_some_and(|ms| ms > 0.0),
        "{v}"
    );
    let log = v["log"].as_array().expect("the log is a list");
    assert!(!log.is_empty());
    for e in log {
        let t = e["time_seconds"]
            .as_f64()
            .expect("time_seconds is a number");
        assert!((0.0..=30.0).contains(&t), "{e}");
        assert!(e["text"].is_string(), "{e}");
        let kind = e["kind"].as_str().expect("kind is a string");
        assert_eq!(kind, kind.to_lowercase(), "{e}");
    }
    // The flood starts at 20 s in the lab's timeline.
    assert!(
        log.iter()
            .any(|e| e["kind"] == "flood" && e["time_seconds"] == 20.0),
        "{log:?}"
    );
}

#[test]
fn json_reasons_are_kebab_case_maps() {
    let v = json_report(&["run", "syn-flood", "--format", "json"]);
    let drops = v["drops"].as_object().expect("drops is a map");
    assert!(
        drops["half-open-limit"].as_u64().is_some_and(|n| n > 0),
        "{drops:?}"
    );
    let failures = v["failures"].as_object().expect("failures is a map");
    assert!(
        failures["syn-timeout"].as_u64().is_some_and(|n| n > 0),
        "{failures:?}"
    );
    let dropped: u64 = drops.values().filter_map(|n| n.as_u64()).sum();
    assert_eq!(Some(dropped), v["totals"]["drops"].as_u64());
    let verdicts: Vec<&str> = v["objectives"]
        .as_array()
        .expect("objectives is a list")
        .iter()
        .filter_map(|o| o["verdict"].as_str())
        .collect();
    assert_eq!(verdicts, ["pass", "fail"]);
}

#[test]
fn json_links_are_named() {
    let v = json_report(&["run", "classic", "--for", "5s", "--format", "json"]);
    let links = v["links"].as_array().expect("links is a list");
    let backends: Vec<&str> = v["backends"]
        .as_array()
        .expect("backends is a list")
        .iter()
        .filter_map(|b| b["name"].as_str())
        .collect();
    assert_eq!(links.len(), backends.len() + 1);
    assert_eq!(links[0]["link"], "clients");
    assert!(links[0]["backend"].is_null());
    for (l, name) in links[1..].iter().zip(&backends) {
        assert_eq!(l["link"], "backend");
        assert_eq!(l["backend"], *name);
        assert!(l["sent"].as_u64().is_some_and(|n| n > 0), "{l}");
    }
}

#[test]
fn a_reader_that_goes_away_ends_the_output_without_a_panic() {
    // `lblab labs | head -2` panicked with "failed printing to stdout".
    for args in [&["labs"][..], &["run", "round-robin", "--for", "1s"]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lblab"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("lblab starts");
        // Closing the pipe's reading end before lblab writes makes every
        // write fail as it would behind `head` that has had enough.
        drop(child.stdout.take());
        let o = child.wait_with_output().expect("lblab ends");
        assert!(!stderr(&o).contains("panicked"), "{args:?}: {}", stderr(&o));
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    }
}
