//! Reports pinned to the byte: a few built-in labs at two seeds against
//! tests/reports/ (`.ci/reports` checks every lab). A change to any number a
//! run prints fails here; after a change made on purpose, `.ci/reports
//! --write` pins them anew and the diff shows what moved.
//!
//! Then the hostile inputs: figures with no denominator, attacks of every
//! kind, weights all zero, names and lab files full of commas, quotes,
//! newlines and escape sequences, each with the exact text it prints.

use crate::common;

use common::{at, lab};
use lblab::headless;
use lblab::lab::builtin;
use lblab::report::Format;
use lblab::sim::World;

fn pinned(lab: &str, seed: u64) -> String {
    let path = format!(
        "{}/tests/reports/{lab}.seed{seed}.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn reports_match_the_pinned_ones_byte_for_byte() {
    for lab in ["round-robin", "server-dies", "lossy-link", "syn-cookies"] {
        let spec = builtin(lab).expect("built-in labs load");
        for seed in [1, 2] {
            let (report, _) =
                headless::run(World::maker(), &spec, seed, None, &[]).expect("the lab runs");
            let text: String = report
                .render(Format::Table)
                .lines()
                .filter(|l| !l.starts_with("wall time"))
                .map(|l| format!("{l}\n"))
                .collect();
            assert!(
                text == pinned(lab, seed),
                "{lab} seed {seed} differs from its pinned report:\n{text}"
            );
        }
    }
}

// Hostile worlds: each input the issue named, with the exact text it
// now prints.

use lblab::report::Report;
use lblab::spec::{AttackKind, Command, DropReason, FloodSpec, Origin, Rate};

/// The report of `world` as it stands, without wall-clock figures.
fn report_of(world: &World) -> Report {
    Report::from_engine(world, world.workload_finished(), None)
}

/// The line of `text` that starts with `prefix`.
fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in\n{text}"))
}

#[test]
fn no_connection_ended_means_no_success_rate_not_zero() {
    // Classic at 30 s: every client is mid-connection. The report once
    // printed "completed 0 failed 0 success 0.00%" (completed / attempted).
    let spec = builtin("classic").expect("built-in labs load");
    let mut w = World::new(&spec, 1);
    w.run_until(at(30.0));
    let r = report_of(&w);
    assert_eq!(r.totals.success_pct, None);
    let table = r.render(Format::Table);
    assert_eq!(
        line(&table, "connections"),
        "connections  attempted 100  established 100  completed 0  failed 0  success –"
    );
    assert!(r.render(Format::Csv).contains("\ntotal,success_pct,\n"));
    let json: serde_json::Value =
        serde_json::from_str(&r.render(Format::Json)).expect("the report is JSON");
    assert!(json["totals"]["success_pct"].is_null(), "{json}");
}

#[test]
fn success_is_completed_over_ended_as_the_objective_has_it() {
    // 70 completed, 30 failed of 100: 70%, whether or not others are open.
    let spec = builtin("classic").expect("built-in labs load");
    let mut w = World::new(&spec, 1);
    w.schedule(at(5.0), Command::KillServer("srv-1".into()));
    w.schedule(at(5.0), Command::KillServer("srv-2".into()));
    w.run_until(at(12.0));
    let r = report_of(&w);
    let (done, failed) = (r.totals.completed, r.totals.failed);
    assert_eq!((done, failed), (0, 20), "both servers' clients time out");
    assert_eq!(
        line(&r.render(Format::Table), "connections"),
        "connections  attempted 100  established 100  completed 0  failed 20  success 0.00%"
    );
    assert_eq!(r.totals.success_pct, w.snapshot().conns.success_rate_pct());
}

#[test]
fn each_attack_kind_is_logged_by_its_own_name() {
    // Connection floods and slow senders were logged as "SYN flood: 5000/s
    // from 1000 spoofed sources": they spoof nothing.
    let spec = lab(
        r#"(name: "attacks", servers: Replicate(count: 2, template: (name: "srv")),
        clients: (closed: Some((population: 4, segments: Constant(3), connections: None))))"#,
    );
    let mut w = World::new(&spec, 1);
    let flood = |kind, rate| FloodSpec {
        kind,
        rate: Rate::new(rate).expect("a valid rate"),
        duration: Some(lblab::spec::Dur::from_secs(1)),
        ..FloodSpec::default()
    };
    for (t, kind, rate) in [
        (1.0, AttackKind::SpoofedSyn, 200.0),
        (2.0, AttackKind::ConnectionFlood, 20.0),
        (3.0, AttackKind::SlowSenders, 10.0),
    ] {
        w.schedule_from(
            at(t),
            Command::StartFlood(flood(kind, rate)),
            Origin::Script,
        );
    }
    w.run_until(at(5.0));
    let r = report_of(&w);
    let starts: Vec<&str> = r
        .log
        .iter()
        .map(String::as_str)
        .filter(|l| l.contains("start"))
        .collect();
    assert_eq!(
        starts,
        [
            "1.000s script: start spoofed SYN flood: 200 SYNs/s from 1000 sources",
            "2.000s script: start connection flood: 20 connections/s, each held open idle",
            "3.000s script: start slow senders: 10 connections/s, each trickling a segment every 1.5s",
        ]
    );
    // The totals line counts every kind's SYNs and names none of them.
    assert!(line(&r.render(Format::Table), "floods").starts_with("floods       SYNs sent "));
}

#[test]
fn all_weights_zero_is_dropped_as_no_weighted_backend() {
    // Weighted round robin with every weight 0 (the dashboard's `-` takes a
    // weight down to 0) used to drop as `no-healthy-backend` although every
    // backend was healthy.
    let spec = lab(
        r#"(name: "weightless", balancer: (algorithm: WeightedRoundRobin),
        servers: List([(name: "a"), (name: "b")]),
        clients: (closed: Some((population: 3, segments: Constant(2), connections: Some(1)))))"#,
    );
    let mut w = World::new(&spec, 1);
    for name in ["a", "b"] {
        w.apply_from(Command::SetWeight(name.into(), 0), Origin::User);
    }
    w.run_until(at(10.0));
    let r = report_of(&w);
    let table = r.render(Format::Table);
    assert_eq!(line(&table, "drops"), "drops        no-weighted-backend 12");
    assert_eq!(line(&table, "failures"), "failures     syn-timeout 3");
    assert!(
        r.drops
            .iter()
            .all(|(d, _)| *d != DropReason::NoHealthyBackend)
    );
    assert!(
        r.render(Format::Csv)
            .contains("\ndrop,no-weighted-backend,12\n")
    );
}

/// A lab whose every name is hostile: commas, quotes, a newline, ESC
/// sequences that would recolour and clear the screen, a NUL.
const HOSTILE: &str = r#"(
    name: "evil, \"lab\"\n\u{1b}[2J",
    servers: List([(name: "a,b"), (name: "q\"uote"), (name: "nl\nx"), (name: "esc\u{1b}[31m\u{0}")]),
    clients: (closed: Some((population: 8, segments: Constant(2), connections: Some(1)))),
    objectives: [(name: "ok, \"so\"\n\u{1b}]0;pwned\u{7}", metric: CompletedConnections, op: AtLeast, value: 1.0)],
)"#;

fn hostile_report() -> Report {
    let mut w = World::new(&lab(HOSTILE), 1);
    assert!(w.run_to_completion(at(30.0)), "the hostile lab finishes");
    report_of(&w)
}

#[test]
fn csv_is_rfc_4180_whatever_the_names_hold() {
    // 16 of 73 rows once failed to parse as 3 fields.
    let csv = hostile_report().render(Format::Csv);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader
        .records()
        .map(|r| r.expect("every row parses"))
        .collect();
    assert_eq!(rows.len(), csv.lines().count() - 1, "one row per line");
    assert!(rows.iter().all(|r| r.len() == 3), "every row has 3 fields");
    for wanted in [
        r#"run,lab,"evil, ""lab""\n\u{1b}[2J""#,
        r#""backend:a,b",connections,2"#,
        r#""backend:q""uote",connections,2"#,
        r#"backend:nl\nx,connections,2"#,
        r#"backend:esc\u{1b}[31m\u{0},connections,2"#,
        r#""objective:ok, ""so""\n\u{1b}]0;pwned\u{7}",verdict,pass"#,
    ] {
        assert!(csv.lines().any(|l| l == wanted), "no row {wanted}\n{csv}");
    }
    // What a reader gets back is the escaped name, never the raw one.
    let lab = rows.iter().find(|r| &r[1] == "lab").expect("a lab row");
    assert_eq!(&lab[2], "evil, \"lab\"\\n\\u{1b}[2J");
}

#[test]
fn the_table_escapes_every_name_it_prints() {
    let table = hostile_report().render(Format::Table);
    assert!(
        !table.chars().any(|c| c.is_control() && c != '\n'),
        "a control character reached the table:\n{table}"
    );
    assert!(
        table.starts_with("lab evil, \"lab\"\\n\\u{1b}[2J  seed 1  "),
        "{table}"
    );
    assert!(
        line(&table, "esc").starts_with("esc\\u{1b}[31m\\u{0}        2 "),
        "{table}"
    );
    assert_eq!(
        line(&table, "  PASS"),
        "  PASS     ok, \"so\"\\n\\u{1b}]0;pwned\\u{7}: completed connections ≥ 1 over the run (measured 8.00)"
    );
}

#[test]
fn lab_errors_show_the_offending_text_escaped() {
    // Error messages once echoed raw NUL and control bytes.
    let nul = lblab::lab::load_str("(name: \"x\",\0)", "nul.ron").unwrap_err();
    assert_eq!(
        nul.to_string(),
        "nul.ron:1:12: name: expected a field name, found `\\u{0}`"
    );
    let esc = lblab::lab::load_str(
        "(name: \"x\", duration: Some(\"3\u{1b}[2Js\"))",
        "esc\u{1b}.ron",
    )
    .unwrap_err();
    assert_eq!(
        esc.to_string(),
        "esc\\u{1b}.ron:1:29: duration: expected a duration such as \"500ms\", \"2s\" or \
         \"1.5s\" (units: ns, us, ms, s, m, h): unknown unit \"\\u{1b}[2Js\""
    );
}

#[test]
fn check_prints_a_hostile_lab_name_escaped() {
    let dir = std::env::temp_dir().join(format!("lblab-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join("hostile.ron");
    std::fs::write(&path, "(name: \"evil\\u{1b}[2J\")").expect("the lab is written");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lblab"))
        .arg("check")
        .arg(&path)
        .output()
        .expect("lblab runs");
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let expected = format!("{}: ok (evil\\u{{1b}}[2J): about ", path.display());
    assert!(stdout.starts_with(&expected), "{stdout:?}");
    assert!(
        !stdout.contains('\u{1b}'),
        "a raw escape reached the terminal"
    );
}

#[test]
fn a_run_that_ran_out_of_client_addresses_says_so() {
    let mut report = hostile_report();
    assert!(
        !report.render(Format::Table).contains("client address"),
        "an ordinary run mentions addresses"
    );
    report.addresses_ran_out_s = Some(12.5);
    let table = report.render(Format::Table);
    assert!(
        table.contains(
            "invalid      every client address was in use at 12.500s: arrivals were refused \
             while none was free, so objectives still open then are invalid"
        ),
        "{table}"
    );
    assert!(
        report
            .render(Format::Json)
            .contains("\"addresses_ran_out_s\": 12.5")
    );
}
