//! The report as `scope,metric,value` rows for spreadsheets.

use super::{Report, csv_text};
use std::fmt::Write as _;

/// Collects rows of `scope,metric,value`.
struct Rows(String);

impl Rows {
    fn row(&mut self, scope: &str, metric: &str, value: String) {
        let _ = writeln!(self.0, "{scope},{metric},{value}");
    }
}

/// A count an engine may not know, as an empty field when it does not.
fn count(v: Option<u64>) -> String {
    v.map_or(String::new(), |n| n.to_string())
}

/// Milliseconds with three decimals, empty when unknown.
fn ms(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| format!("{v:.3}"))
}

impl Report {
    /// The report as CSV.
    pub(super) fn to_csv(&self) -> String {
        let mut o = Rows(String::from("scope,metric,value\n"));
        self.csv_run(&mut o);
        self.csv_totals(&mut o);
        for (name, l) in self.latency.rows() {
            let scope = format!("latency:{name}");
            o.row(&scope, "count", l.count.to_string());
            o.row(&scope, "p50_ms", ms(l.p50_ms));
            o.row(&scope, "p95_ms", ms(l.p95_ms));
            o.row(&scope, "p99_ms", ms(l.p99_ms));
            o.row(&scope, "max_ms", ms(l.max_ms));
        }
        for obj in &self.objectives {
            let scope = format!("objective:{}", csv_text(&obj.name));
            o.row(&scope, "verdict", obj.verdict.to_string());
            o.row(&scope, "value", ms(obj.value));
        }
        if let Some(w) = &self.wall {
            o.row("wall", "seconds", format!("{:.6}", w.seconds));
            o.row("wall", "events_per_sec", format!("{:.0}", w.events_per_sec));
        }
        o.0
    }

    fn csv_run(&self, o: &mut Rows) {
        o.row("run", "lblab_version", self.lblab_version.to_string());
        o.row("run", "lab", csv_text(&self.lab));
        o.row("run", "seed", self.seed.to_string());
        o.row("run", "finished", self.finished.to_string());
        let sim_seconds = format!("{:.9}", self.sim_time.as_secs_f64());
        o.row("run", "sim_seconds", sim_seconds);
        o.row("run", "events", self.events.to_string());
        o.row("run", "algorithm", self.algorithm.clone());
        for b in &self.backends {
            let scope = format!("backend:{}", csv_text(&b.name));
            o.row(&scope, "connections", b.connections.to_string());
            o.row(&scope, "share_pct", format!("{:.3}", b.share_pct));
            o.row(&scope, "packets", count(b.packets));
            o.row(&scope, "segments_served", count(b.segments_served));
            o.row(&scope, "drops", b.drops.to_string());
            o.row(&scope, "probe_p95_ms", ms(b.probe_p95_ms));
            o.row(&scope, "state", b.state.to_string());
        }
    }

    fn csv_totals(&self, o: &mut Rows) {
        let t = &self.totals;
        for (k, v) in [
            ("attempted", t.attempted),
            ("established", t.established),
            ("completed", t.completed),
            ("failed", t.failed),
            ("packets", t.packets),
            ("bytes", t.bytes),
            ("drops", t.drops),
            ("retransmits_syn", t.retransmits.syn),
            ("retransmits_data", t.retransmits.data),
            ("retransmits_fin", t.retransmits.fin),
            ("flood_syns", t.flood_syns),
            ("table_entries", t.table_entries),
        ] {
            o.row("total", k, v.to_string());
        }
        o.row("total", "success_pct", format!("{:.3}", t.success_pct));
        for (r, n) in &self.failures {
            o.row("failure", r.name(), n.to_string());
        }
        for (r, n) in &self.drops {
            o.row("drop", r.name(), n.to_string());
        }
    }
}
