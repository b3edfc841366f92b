//! The report as a Markdown hand-out a teacher can give a class: the lab
//! and its lesson, the objectives with their verdicts, then the tables.
//! Names and lesson text come from lab files, so every cell is escaped:
//! control characters as the table escapes them, `|` so it cannot split
//! a cell, and line breaks so a cell stays on its row.

use super::theory::waited;
use super::{NONE, Report, fmt_ms};
use crate::spec::Lab;
use crate::text::escape;
use std::fmt::Write as _;

/// What the hand-out says about the lab beyond its name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct About {
    /// The lab's one-line summary.
    pub summary: String,
    /// The lesson's paragraphs.
    pub text: Vec<String>,
    /// The lesson's steps: when (if timed) and what.
    pub steps: Vec<(Option<String>, String)>,
}

impl Report {
    /// Adds `lab`'s summary and lesson, for the Markdown hand-out.
    pub fn describe_lab(&mut self, lab: &Lab) {
        self.about = Some(About {
            summary: lab.summary.clone(),
            text: lab.lesson.text.clone(),
            steps: lab
                .lesson
                .steps
                .iter()
                .map(|s| (s.at.map(|d| d.to_string()), s.text.clone()))
                .collect(),
        });
    }

    /// The report as Markdown.
    pub(super) fn to_markdown(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "# Lab: {}", text(&self.lab));
        if let Some(a) = &self.about {
            md_lesson(&mut o, a);
        }
        let _ = writeln!(o);
        let _ = writeln!(o, "## The run");
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "Seed {}, algorithm {}, {} simulated, {}.",
            self.seed,
            self.algorithm,
            self.sim_time,
            if self.finished {
                "every client finished"
            } else {
                "stopped at its deadline"
            }
        );
        self.md_objectives(&mut o);
        self.md_backends(&mut o);
        self.md_connections(&mut o);
        self.md_latency(&mut o);
        self.md_averages(&mut o);
        o
    }

    fn md_objectives(&self, o: &mut String) {
        if self.objectives.is_empty() {
            return;
        }
        let _ = writeln!(o);
        let _ = writeln!(o, "## Objectives");
        let _ = writeln!(o);
        let _ = writeln!(o, "| Verdict | Objective | Claim | Measured |");
        let _ = writeln!(o, "|---|---|---|---|");
        for obj in &self.objectives {
            let value = obj
                .value
                .map_or(NONE.to_string(), |v| format!("{v:.2}{}", obj.unit));
            let _ = writeln!(
                o,
                "| **{}** | {} | {} | {} |",
                obj.verdict.to_string().to_uppercase(),
                cell(&obj.name),
                cell(&obj.claim),
                cell(&value)
            );
        }
    }

    fn md_backends(&self, o: &mut String) {
        let _ = writeln!(o);
        let _ = writeln!(o, "## Backends");
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "| Backend | Connections | Share | Segments served | Drops | State |"
        );
        let _ = writeln!(o, "|---|--:|--:|--:|--:|---|");
        for b in &self.backends {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                cell(&b.name),
                b.connections,
                b.share_pct.map_or(NONE.to_string(), |v| format!("{v:.1}%")),
                b.segments_served
                    .map_or(NONE.to_string(), |n| n.to_string()),
                b.drops,
                b.state
            );
        }
    }

    fn md_connections(&self, o: &mut String) {
        let t = &self.totals;
        let _ = writeln!(o);
        let _ = writeln!(o, "## Connections");
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "| Attempted | Established | Completed | Failed | Success |"
        );
        let _ = writeln!(o, "|--:|--:|--:|--:|--:|");
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            t.attempted,
            t.established,
            t.completed,
            t.failed,
            t.success_pct
                .map_or(NONE.to_string(), |v| format!("{v:.2}%"))
        );
        let list = |v: Vec<String>| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        let _ = writeln!(o);
        let failures = self.failures.iter().map(|(r, n)| format!("{r} {n}"));
        let _ = writeln!(o, "Failures by reason: {}.", list(failures.collect()));
        let _ = writeln!(o);
        let drops = self.drops.iter().map(|(r, n)| format!("{r} {n}"));
        let _ = writeln!(o, "Dropped packets by reason: {}.", list(drops.collect()));
    }

    fn md_latency(&self, o: &mut String) {
        let _ = writeln!(o);
        let _ = writeln!(o, "## Latency");
        let _ = writeln!(o);
        let _ = writeln!(o, "| Latency | Count | p50 | p95 | p99 | Max | Mean |");
        let _ = writeln!(o, "|---|--:|--:|--:|--:|--:|--:|");
        let ms = |v: Option<f64>| v.map_or(NONE.to_string(), fmt_ms);
        for (name, l) in self.latency.rows() {
            if name == "detection" && l.count == 0 {
                continue;
            }
            let _ = writeln!(
                o,
                "| {name} | {} | {} | {} | {} | {} | {} |",
                l.count,
                ms(l.p50_ms),
                ms(l.p95_ms),
                ms(l.p99_ms),
                ms(l.max_ms),
                ms(l.mean_ms)
            );
        }
    }

    fn md_averages(&self, o: &mut String) {
        let Some(a) = &self.averages else { return };
        let _ = writeln!(o);
        let _ = writeln!(o, "## Time averages over {:.3} s", a.seconds);
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "Conn table: {:.3} entries, {:.3} of them half-open, on average.",
            a.table_entries, a.half_open
        );
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "| Backend | Active | Queue | Busy workers | Utilisation | Served/s | Waited |"
        );
        let _ = writeln!(o, "|---|--:|--:|--:|--:|--:|--:|");
        for b in &a.backends {
            let per_sec = super::theory::per_second(b.segments_served, a.seconds);
            let waited_pct = super::theory::share(b.segments_waited, b.segments_served);
            let _ = writeln!(
                o,
                "| {} | {:.3} | {:.3} | {:.3} | {} | {per_sec} | {waited_pct} |",
                cell(&b.name),
                b.active,
                b.queue,
                b.busy_workers,
                b.utilisation_pct
                    .map_or(NONE.to_string(), |u| format!("{u:.1}%")),
            );
        }
        let (served, waited) = waited(a);
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "Segments served: {served}; {waited} waited for a worker. Little's law per \
             backend: L = queue + busy workers, λ = served/s, W = the segment latency's mean."
        );
    }
}

/// The lesson: summary, paragraphs and steps.
fn md_lesson(o: &mut String, a: &About) {
    if !a.summary.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "> {}", text(&a.summary));
    }
    if a.text.is_empty() && a.steps.is_empty() {
        return;
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "## The lesson");
    for p in &a.text {
        let _ = writeln!(o);
        let _ = writeln!(o, "{}", text(p));
    }
    if !a.steps.is_empty() {
        let _ = writeln!(o);
        for (i, (at, step)) in a.steps.iter().enumerate() {
            match at {
                Some(at) => {
                    let _ = writeln!(o, "{}. **At {}:** {}", i + 1, text(at), text(step));
                }
                None => {
                    let _ = writeln!(o, "{}. {}", i + 1, text(step));
                }
            }
        }
    }
}

/// Text from a lab file on one line, control characters escaped.
fn text(s: &str) -> String {
    escape(&s.replace(['\n', '\r'], " ")).into_owned()
}

/// Text for a Markdown table cell: on one line, and a `|` cannot end the
/// cell.
pub(crate) fn cell(s: &str) -> String {
    text(s).replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_keeps_to_its_row_and_column() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
