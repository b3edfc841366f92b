//! The report as `scope,metric,value` rows for spreadsheets: RFC 4180, with
//! the quoting done by the `csv` crate's writer, so every row parses as
//! exactly three fields whatever a name holds. Names are escaped first
//! (a newline in a name becomes `\n`), so a row is also one line.

use super::Report;
use crate::text::escape;

/// Collects rows of `scope,metric,value`.
struct Rows(::csv::Writer<Vec<u8>>);

impl Rows {
    fn new() -> Rows {
        // CRLF is RFC 4180's terminator, but every row printed so far ended
        // in a bare LF and spreadsheets read both; keep what scripts expect.
        let writer = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        let mut rows = Rows(writer);
        rows.row("scope", "metric", "value".to_string());
        rows
    }

    fn row(&mut self, scope: &str, metric: &str, value: String) {
        // Writing to memory cannot fail, and the writer quotes any field.
        let _ = self.0.write_record([scope, metric, value.as_str()]);
    }

    fn finish(self) -> String {
        let bytes = self.0.into_inner().unwrap_or_default();
        // Every field came from a `&str`, so the bytes are UTF-8.
        String::from_utf8(bytes).unwrap_or_default()
    }
}

/// A count an engine may not know, as an empty field when it does not.
fn count(v: Option<u64>) -> String {
    v.map_or(String::new(), |n| n.to_string())
}

/// A figure with three decimals (milliseconds, percent or a count), empty
/// when it does not exist.
fn decimal(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| format!("{v:.3}"))
}

impl Report {
    /// The report as CSV.
    pub(super) fn to_csv(&self) -> String {
        let mut o = Rows::new();
        self.csv_run(&mut o);
        self.csv_totals(&mut o);
        for (name, l) in self.latency.rows() {
            let scope = format!("latency:{name}");
            o.row(&scope, "count", l.count.to_string());
            o.row(&scope, "p50_ms", decimal(l.p50_ms));
            o.row(&scope, "p95_ms", decimal(l.p95_ms));
            o.row(&scope, "p99_ms", decimal(l.p99_ms));
            o.row(&scope, "max_ms", decimal(l.max_ms));
            o.row(&scope, "mean_ms", decimal(l.mean_ms));
        }
        self.csv_averages(&mut o);
        for obj in &self.objectives {
            let scope = format!("objective:{}", escape(&obj.name));
            o.row(&scope, "verdict", obj.verdict.to_string());
            o.row(&scope, "value", decimal(obj.value));
        }
        if let Some(w) = &self.wall {
            o.row("wall", "seconds", format!("{:.6}", w.seconds));
            o.row("wall", "events_per_sec", format!("{:.0}", w.events_per_sec));
        }
        o.finish()
    }

    fn csv_run(&self, o: &mut Rows) {
        o.row("run", "lblab_version", self.lblab_version.to_string());
        o.row("run", "lab", escape(&self.lab).into_owned());
        o.row("run", "seed", self.seed.to_string());
        o.row("run", "finished", self.finished.to_string());
        let sim_seconds = format!("{:.9}", self.sim_time.as_secs_f64());
        o.row("run", "sim_seconds", sim_seconds);
        o.row("run", "events", self.events.to_string());
        o.row("run", "algorithm", self.algorithm.clone());
        for b in &self.backends {
            let scope = format!("backend:{}", escape(&b.name));
            o.row(&scope, "connections", b.connections.to_string());
            o.row(&scope, "share_pct", decimal(b.share_pct));
            o.row(&scope, "packets", count(b.packets));
            o.row(&scope, "segments_served", count(b.segments_served));
            o.row(&scope, "drops", b.drops.to_string());
            o.row(&scope, "probe_p95_ms", decimal(b.probe_p95_ms));
            o.row(&scope, "state", b.state.to_string());
        }
    }

    /// Time averages: `averages` for the conn table and the segments
    /// that waited, `average:NAME` for each backend.
    fn csv_averages(&self, o: &mut Rows) {
        let Some(a) = &self.averages else { return };
        let f = |v: f64| format!("{v:.6}");
        o.row("averages", "seconds", f(a.seconds));
        o.row("averages", "table_entries", f(a.table_entries));
        o.row("averages", "half_open", f(a.half_open));
        let (served, waited) = super::theory::waited(a);
        o.row("averages", "segments_served", served.to_string());
        o.row("averages", "segments_waited", waited.to_string());
        for b in &a.backends {
            let scope = format!("average:{}", escape(&b.name));
            o.row(&scope, "active", f(b.active));
            o.row(&scope, "queue", f(b.queue));
            o.row(&scope, "busy_workers", f(b.busy_workers));
            o.row(&scope, "utilisation_pct", decimal(b.utilisation_pct));
            o.row(&scope, "segments_served", b.segments_served.to_string());
            o.row(&scope, "segments_waited", b.segments_waited.to_string());
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
        o.row("total", "success_pct", decimal(t.success_pct));
        for (r, n) in &self.failures {
            o.row("failure", r.name(), n.to_string());
        }
        for (r, n) in &self.drops {
            o.row("drop", r.name(), n.to_string());
        }
    }
}
