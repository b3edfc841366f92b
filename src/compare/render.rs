//! A comparison as text, JSON or Markdown: the same rows each time, A, B
//! and B − A, after the draw check that says the two runs saw the same
//! arrivals and service times.

use super::{Comparison, DrawCheck};
use crate::engine::ObjectiveStatus;
use crate::report::{LatencyReport, Report};
use crate::text::escape;
use serde::Serialize;
use std::fmt::Write as _;

/// What a figure counts, for its formatting and its difference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unit {
    /// A count.
    Count,
    /// A percentage (its difference is in percentage points).
    Pct,
    /// Milliseconds.
    Ms,
}

/// One line of the comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// Which part of the report it belongs to.
    pub group: &'static str,
    /// What it measures.
    pub label: String,
    /// A's figure (`None`: there is none, like a share of nothing).
    pub a: Option<f64>,
    /// B's figure.
    pub b: Option<f64>,
    /// B − A, when both exist.
    pub delta: Option<f64>,
    /// Its unit.
    pub unit: Unit,
}

fn row(group: &'static str, label: String, a: Option<f64>, b: Option<f64>, unit: Unit) -> Row {
    let delta = a.zip(b).map(|(a, b)| b - a);
    Row {
        group,
        label,
        a,
        b,
        delta,
        unit,
    }
}

/// Names in A's order, then B's that A lacks.
fn union<'a>(a: impl Iterator<Item = &'a str>, b: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut all: Vec<&str> = a.collect();
    for n in b {
        if !all.contains(&n) {
            all.push(n);
        }
    }
    all
}

/// Reads one figure of a latency.
type Figure = fn(&LatencyReport) -> Option<f64>;

/// Every row, in report order.
pub fn rows(c: &Comparison) -> Vec<Row> {
    rows_of(&c.report_a, &c.report_b)
}

/// Every row of two reports of one lab, in report order: what a
/// comparison and the simulated-versus-real report both print.
pub fn rows_of(a: &Report, b: &Report) -> Vec<Row> {
    let mut out = Vec::new();
    let names = union(
        a.backends.iter().map(|x| x.name.as_str()),
        b.backends.iter().map(|x| x.name.as_str()),
    );
    for name in names {
        let find = |r: &'_ Report| r.backends.iter().find(|x| x.name == name).cloned();
        let (ba, bb) = (find(a), find(b));
        let conns =
            |x: &Option<crate::report::BackendReport>| x.as_ref().map(|x| x.connections as f64);
        let share = |x: &Option<crate::report::BackendReport>| x.as_ref().and_then(|x| x.share_pct);
        out.push(row(
            "backend",
            format!("{name} conns"),
            conns(&ba),
            conns(&bb),
            Unit::Count,
        ));
        out.push(row(
            "backend",
            format!("{name} share"),
            share(&ba),
            share(&bb),
            Unit::Pct,
        ));
    }
    let count = |v: u64| Some(v as f64);
    let (ta, tb) = (&a.totals, &b.totals);
    for (label, va, vb) in [
        ("attempted", ta.attempted, tb.attempted),
        ("established", ta.established, tb.established),
        ("completed", ta.completed, tb.completed),
        ("failed", ta.failed, tb.failed),
    ] {
        out.push(row(
            "connections",
            label.into(),
            count(va),
            count(vb),
            Unit::Count,
        ));
    }
    out.push(row(
        "connections",
        "success".into(),
        ta.success_pct,
        tb.success_pct,
        Unit::Pct,
    ));
    let reasons = union(
        a.failures.iter().map(|(r, _)| r.name()),
        b.failures.iter().map(|(r, _)| r.name()),
    );
    for reason in reasons {
        let n = |r: &Report| {
            let found = r.failures.iter().find(|(x, _)| x.name() == reason);
            Some(found.map_or(0.0, |(_, n)| *n as f64))
        };
        out.push(row(
            "failed",
            format!("failed: {reason}"),
            n(a),
            n(b),
            Unit::Count,
        ));
    }
    for ((name, la), (_, lb)) in a.latency.rows().into_iter().zip(b.latency.rows()) {
        if name == "detection" && la.count == 0 && lb.count == 0 {
            continue;
        }
        let figures: [(&str, Figure); 5] = [
            ("p50", |l| l.p50_ms),
            ("p95", |l| l.p95_ms),
            ("p99", |l| l.p99_ms),
            ("max", |l| l.max_ms),
            ("mean", |l| l.mean_ms),
        ];
        for (what, f) in figures {
            out.push(row(
                "latency",
                format!("{name} {what}"),
                f(la),
                f(lb),
                Unit::Ms,
            ));
        }
    }
    out
}

/// A figure as the table prints it.
pub(crate) fn figure(v: Option<f64>, unit: Unit) -> String {
    match (v, unit) {
        (None, _) => "–".into(),
        (Some(v), Unit::Count) => format!("{v:.0}"),
        (Some(v), Unit::Pct) => format!("{v:.2}%"),
        (Some(v), Unit::Ms) => format!("{v:.3}ms"),
    }
}

/// B − A as the table prints it, signed.
pub(crate) fn difference(v: Option<f64>, unit: Unit) -> String {
    match (v, unit) {
        (None, _) => "–".into(),
        (Some(v), Unit::Count) => format!("{v:+.0}"),
        (Some(v), Unit::Pct) => format!("{v:+.2} pp"),
        (Some(v), Unit::Ms) => format!("{v:+.3}ms"),
    }
}

/// An objective's verdict and value, in a few words.
fn verdict(o: Option<&ObjectiveStatus>) -> String {
    o.map_or("–".into(), |o| {
        let value = o.value.map_or("–".into(), |v| format!("{v:.2}{}", o.unit));
        format!("{} ({value})", o.verdict.to_string().to_uppercase())
    })
}

/// The objectives of both runs, by name in A's order.
fn objectives(c: &Comparison) -> Vec<(String, String, String)> {
    objectives_of(&c.report_a.objectives, &c.report_b.objectives)
}

/// Each objective's name and its verdict in two runs, in A's order.
pub(crate) fn objectives_of(
    a: &[ObjectiveStatus],
    b: &[ObjectiveStatus],
) -> Vec<(String, String, String)> {
    union(
        a.iter().map(|o| o.name.as_str()),
        b.iter().map(|o| o.name.as_str()),
    )
    .into_iter()
    .map(|name| {
        let find = |v: &'_ [ObjectiveStatus]| v.iter().find(|o| o.name == name).cloned();
        (
            name.to_string(),
            verdict(find(a).as_ref()),
            verdict(find(b).as_ref()),
        )
    })
    .collect()
}

/// The draw check of one kind, as two lines.
fn draw_lines(o: &mut String, kind: &str, d: &DrawCheck, indent: &str) {
    let _ = writeln!(
        o,
        "{indent}{kind:<10} A {} draws hash {:016x}   B {} draws hash {:016x}",
        d.a.count, d.a.hash, d.b.count, d.b.hash
    );
    let verdict = if d.same() { "the same" } else { "DIFFERENT" };
    if d.checked {
        let _ = writeln!(
            o,
            "{indent}{:<10} drawn by both {}: hash A {:016x} B {:016x}, {verdict} \
             ({} differ; {} by A only, {} by B only)",
            "", d.shared, d.shared_hash_a, d.shared_hash_b, d.differing, d.only_a, d.only_b
        );
    } else {
        let _ = writeln!(o, "{indent}{:<10} totals {verdict}", "");
    }
}

impl Comparison {
    /// The header: lab, seed, time and each side.
    fn header(&self, o: &mut String) {
        let r = &self.report_a;
        let _ = writeln!(
            o,
            "compare {}  seed {}  sim time {}",
            escape(&r.lab),
            r.seed,
            r.sim_time
        );
        for (side, s, rep) in [("A", &self.a, r), ("B", &self.b, &self.report_b)] {
            let _ = writeln!(
                o,
                "{side}  {}  (algorithm at the end: {})",
                escape(&s.label),
                rep.algorithm
            );
        }
    }

    /// The comparison as aligned text.
    pub fn to_table(&self) -> String {
        let mut o = String::new();
        self.header(&mut o);
        let _ = writeln!(o);
        let _ = writeln!(o, "same arrivals and service times in A and B");
        draw_lines(&mut o, "arrivals", &self.arrivals, "  ");
        draw_lines(&mut o, "service", &self.service, "  ");
        if self.uneven_service {
            let _ = writeln!(
                o,
                "  (servers differ in service time: a segment served elsewhere takes \
                 another time from the same draw)"
            );
        }
        let _ = writeln!(o);
        let _ = writeln!(o, "{:<28} {:>12} {:>12} {:>14}", "", "A", "B", "B−A");
        let mut group = "";
        for r in rows(self) {
            if r.group != group && !group.is_empty() {
                let _ = writeln!(o);
            }
            group = r.group;
            let _ = writeln!(
                o,
                "{:<28} {:>12} {:>12} {:>14}",
                escape(&r.label),
                figure(r.a, r.unit),
                figure(r.b, r.unit),
                difference(r.delta, r.unit)
            );
        }
        let objectives = objectives(self);
        if !objectives.is_empty() {
            let _ = writeln!(o);
            let _ = writeln!(o, "objectives");
            for (name, a, b) in objectives {
                let _ = writeln!(o, "  {}", escape(&name));
                let _ = writeln!(o, "    A {a}");
                let _ = writeln!(o, "    B {b}");
            }
        }
        o
    }

    /// The comparison as Markdown.
    pub fn to_markdown(&self) -> String {
        let cell = crate::report::markdown_cell;
        let mut o = String::new();
        let _ = writeln!(o, "# Compare: {}", cell(&self.report_a.lab));
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "Seed {}, {} simulated each.",
            self.report_a.seed, self.report_a.sim_time
        );
        let _ = writeln!(o);
        let _ = writeln!(o, "- **A**: {}", cell(&self.a.label));
        let _ = writeln!(o, "- **B**: {}", cell(&self.b.label));
        let _ = writeln!(o);
        let _ = writeln!(o, "## Same arrivals and service times");
        let _ = writeln!(o);
        let _ = writeln!(o, "```");
        draw_lines(&mut o, "arrivals", &self.arrivals, "");
        draw_lines(&mut o, "service", &self.service, "");
        let _ = writeln!(o, "```");
        let _ = writeln!(o);
        let _ = writeln!(o, "## Figures");
        let _ = writeln!(o);
        let _ = writeln!(o, "| | A | B | B−A |");
        let _ = writeln!(o, "|---|--:|--:|--:|");
        for r in rows(self) {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                cell(&r.label),
                figure(r.a, r.unit),
                figure(r.b, r.unit),
                difference(r.delta, r.unit)
            );
        }
        let objectives = objectives(self);
        if !objectives.is_empty() {
            let _ = writeln!(o);
            let _ = writeln!(o, "## Objectives");
            let _ = writeln!(o);
            let _ = writeln!(o, "| Objective | A | B |");
            let _ = writeln!(o, "|---|---|---|");
            for (name, a, b) in objectives {
                let _ = writeln!(o, "| {} | {} | {} |", cell(&name), cell(&a), cell(&b));
            }
        }
        o
    }

    /// The comparison as one JSON object: the sides, the draw check, the
    /// rows with their differences, and both full reports.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct SideOut<'a> {
            label: &'a str,
            commands: usize,
            algorithm: &'a str,
        }
        #[derive(Serialize)]
        struct Draws<'a> {
            same: bool,
            arrivals: &'a DrawCheck,
            service: &'a DrawCheck,
            uneven_service: bool,
        }
        #[derive(Serialize)]
        struct ObjectiveOut {
            name: String,
            a: String,
            b: String,
        }
        #[derive(Serialize)]
        struct Out<'a> {
            lab: &'a str,
            seed: u64,
            sim_seconds: f64,
            a: SideOut<'a>,
            b: SideOut<'a>,
            draws: Draws<'a>,
            rows: Vec<Row>,
            objectives: Vec<ObjectiveOut>,
            report_a: &'a Report,
            report_b: &'a Report,
        }
        fn side<'a>(s: &'a super::Side, r: &'a Report) -> SideOut<'a> {
            SideOut {
                label: &s.label,
                commands: s.commands.len(),
                algorithm: &r.algorithm,
            }
        }
        let out = Out {
            lab: &self.report_a.lab,
            seed: self.report_a.seed,
            sim_seconds: self.report_a.sim_time.as_secs_f64(),
            a: side(&self.a, &self.report_a),
            b: side(&self.b, &self.report_b),
            draws: Draws {
                same: self.arrivals.same() && self.service.same(),
                arrivals: &self.arrivals,
                service: &self.service,
                uneven_service: self.uneven_service,
            },
            rows: rows(self),
            objectives: objectives(self)
                .into_iter()
                .map(|(name, a, b)| ObjectiveOut { name, a, b })
                .collect(),
            report_a: &self.report_a,
            report_b: &self.report_b,
        };
        // Plain numbers and strings always serialize.
        serde_json::to_string_pretty(&out).unwrap_or_default() + "\n"
    }
}
