//! The headless report: what a run did, as a table for people, JSON for
//! programs, or CSV (one `scope,metric,value` row each) for spreadsheets.
//! Everything but the `wall` section is a pure function of the run, so two
//! runs of the same lab and seed print the same bytes.

use crate::model::{SimDuration, SimTime};
use crate::sim::{
    DropReason, FailReason, LinkStats, ObjectiveStatus, Percentiles, RetransmitCounters, Snapshot,
    World,
};
use serde::Serialize;
use std::fmt::Write as _;

/// One backend's line in the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BackendReport {
    /// Server name.
    pub name: String,
    /// Connections the balancer assigned to it.
    pub connections: u64,
    /// Its share of all assigned connections, in percent.
    pub share_pct: f64,
    /// Packets that reached it.
    pub packets: u64,
    /// Data segments it served.
    pub segments_served: u64,
    /// Packets lost on its link or dropped by it.
    pub drops: u64,
    /// p95 of its recent health-probe round trips, in milliseconds.
    pub probe_p95_ms: Option<f64>,
    /// Its state at the end (`up`, `down`, `draining`, `killed`).
    pub state: &'static str,
}

/// Totals over the whole run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Totals {
    /// Connections clients started.
    pub attempted: u64,
    /// Handshakes completed.
    pub established: u64,
    /// Connections that closed cleanly.
    pub completed: u64,
    /// Connections that failed.
    pub failed: u64,
    /// Completed over attempted, in percent.
    pub success_pct: f64,
    /// Packets put on any link.
    pub packets: u64,
    /// Wire bytes put on any link.
    pub bytes: u64,
    /// Packets dropped, for any reason.
    pub drops: u64,
    /// Retransmissions by kind.
    pub retransmits: RetransmitCounters,
    /// SYNs sent by floods.
    pub flood_syns: u64,
    /// Conn-table entries at the end.
    pub table_entries: u64,
}

/// Latency figures in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LatencyReport {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50_ms: Option<f64>,
    /// 95th percentile.
    pub p95_ms: Option<f64>,
    /// 99th percentile.
    pub p99_ms: Option<f64>,
    /// Largest.
    pub max_ms: Option<f64>,
}

impl From<Percentiles> for LatencyReport {
    fn from(p: Percentiles) -> LatencyReport {
        let ms = |d: Option<SimDuration>| d.map(|d| d.as_millis_f64());
        LatencyReport {
            count: p.count,
            p50_ms: ms(p.p50),
            p95_ms: ms(p.p95),
            p99_ms: ms(p.p99),
            max_ms: ms(p.max),
        }
    }
}

/// The three latencies the report shows.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LatencySet {
    /// First SYN to SYN|ACK.
    pub handshake: LatencyReport,
    /// A data segment to its ACK.
    pub segment: LatencyReport,
    /// First SYN to clean close.
    pub completion: LatencyReport,
    /// A server's death to its detection by health checks.
    pub detection: LatencyReport,
}

impl LatencySet {
    /// Each latency with its name, in report order.
    pub fn rows(&self) -> [(&'static str, &LatencyReport); 4] {
        [
            ("handshake", &self.handshake),
            ("segment", &self.segment),
            ("completion", &self.completion),
            ("detection", &self.detection),
        ]
    }
}

/// Wall-clock figures: the only part of a report that differs between two
/// identical runs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct WallClock {
    /// Seconds the run took on this machine.
    pub seconds: f64,
    /// Events processed per wall second.
    pub events_per_sec: f64,
    /// Simulated seconds per wall second.
    pub speedup: f64,
}

/// A finished run, ready to print.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// lblab's version.
    pub lblab_version: &'static str,
    /// Lab name.
    pub lab: String,
    /// Seed of the run.
    pub seed: u64,
    /// Whether every finite workload finished.
    pub finished: bool,
    /// Simulated time at the end.
    pub sim_time: SimTime,
    /// Events processed.
    pub events: u64,
    /// The algorithm at the end.
    pub algorithm: String,
    /// One line per backend.
    pub backends: Vec<BackendReport>,
    /// Totals.
    pub totals: Totals,
    /// Failed connections by reason (reasons that occurred).
    pub failures: Vec<(FailReason, u64)>,
    /// Dropped packets by reason (reasons that occurred).
    pub drops: Vec<(DropReason, u64)>,
    /// Latencies.
    pub latency: LatencySet,
    /// Every link's counters: clients first, then each server's.
    pub links: Vec<LinkStats>,
    /// The lab's objectives and their verdicts.
    pub objectives: Vec<ObjectiveStatus>,
    /// The newest event-log lines.
    pub log: Vec<String>,
    /// Wall-clock figures; `None` in reproducibility tests.
    pub wall: Option<WallClock>,
}

/// Output formats of `lblab run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned text for people.
    Table,
    /// One JSON object.
    Json,
    /// `scope,metric,value` rows.
    Csv,
}

impl Report {
    /// Builds the report of `world` as it is now.
    pub fn from_world(world: &World, finished: bool, wall: Option<WallClock>) -> Report {
        let snap: Snapshot = world.snapshot();
        let rows = world.server_rows();
        let total_conns: u64 = rows.iter().map(|s| s.connections).sum();
        let backends = rows
            .iter()
            .map(|s| BackendReport {
                name: s.name.clone(),
                connections: s.connections,
                share_pct: pct(s.connections, total_conns),
                packets: s.packets,
                segments_served: s.segments_served,
                drops: s.drops,
                probe_p95_ms: s.probe_p95.map(|d| d.as_millis_f64()),
                state: s.state.name(),
            })
            .collect();
        let links = world.link_stats();
        let c = snap.conns;
        let totals = Totals {
            attempted: c.attempted,
            established: c.established,
            completed: c.completed,
            failed: c.failed_total(),
            success_pct: pct(c.completed, c.attempted),
            packets: links.iter().map(|l| l.sent).sum(),
            bytes: links.iter().map(|l| l.bytes).sum(),
            drops: snap.drops.iter().map(|(_, n)| n).sum(),
            retransmits: snap.retransmits,
            flood_syns: snap.flood_syns,
            table_entries: snap.table_entries,
        };
        let failures = FailReason::ALL
            .iter()
            .map(|r| (*r, c.failed[r.index()]))
            .filter(|(_, n)| *n > 0)
            .collect();
        Report {
            lblab_version: env!("CARGO_PKG_VERSION"),
            lab: snap.lab.clone(),
            seed: snap.seed,
            finished,
            sim_time: snap.now,
            events: snap.events,
            algorithm: snap.settings.algorithm.to_string(),
            backends,
            totals,
            failures,
            drops: snap.drops.iter().copied().filter(|(_, n)| *n > 0).collect(),
            latency: LatencySet {
                handshake: snap.latency.handshake.into(),
                segment: snap.latency.segment.into(),
                completion: snap.latency.completion.into(),
                detection: snap.latency.detection.into(),
            },
            links,
            objectives: world.objective_statuses(true),
            log: snap
                .log
                .iter()
                .map(|e| format!("{} {}", e.at, e.text))
                .collect(),
            wall,
        }
    }

    /// The report in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Table => self.to_table(),
            // Serializing plain numbers and strings cannot fail.
            Format::Json => serde_json::to_string_pretty(self).unwrap_or_default() + "\n",
            Format::Csv => self.to_csv(),
        }
    }

    fn to_table(&self) -> String {
        let mut o = String::new();
        let t = &self.totals;
        let _ = writeln!(
            o,
            "lab {}  seed {}  algorithm {}  sim time {}  {}",
            self.lab,
            self.seed,
            self.algorithm,
            self.sim_time,
            if self.finished {
                "finished"
            } else {
                "stopped at deadline"
            }
        );
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "{:<12} {:>8} {:>7} {:>12} {:>12} {:>8} {:>10}  state",
            "backend", "conns", "share", "packets", "segments", "drops", "probe p95"
        );
        for b in &self.backends {
            let _ = writeln!(
                o,
                "{:<12} {:>8} {:>6.1}% {:>12} {:>12} {:>8} {:>10}  {}",
                b.name,
                b.connections,
                b.share_pct,
                b.packets,
                b.segments_served,
                b.drops,
                b.probe_p95_ms
                    .map_or("-".to_string(), |v| format!("{v:.3}ms")),
                b.state
            );
        }
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "connections  attempted {}  established {}  completed {}  failed {}  success {:.2}%",
            t.attempted, t.established, t.completed, t.failed, t.success_pct
        );
        let _ = writeln!(
            o,
            "packets      sent {}  bytes {}  dropped {}  conn-table entries at end {}",
            t.packets, t.bytes, t.drops, t.table_entries
        );
        let _ = writeln!(
            o,
            "retransmits  syn {}  data {}  fin {}  total {}",
            t.retransmits.syn,
            t.retransmits.data,
            t.retransmits.fin,
            t.retransmits.total()
        );
        if t.flood_syns > 0 {
            let _ = writeln!(o, "flood        spoofed SYNs {}", t.flood_syns);
        }
        let reasons = |v: Vec<String>| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join("  ")
            }
        };
        let _ = writeln!(
            o,
            "failures     {}",
            reasons(
                self.failures
                    .iter()
                    .map(|(r, n)| format!("{r} {n}"))
                    .collect()
            )
        );
        let _ = writeln!(
            o,
            "drops        {}",
            reasons(self.drops.iter().map(|(r, n)| format!("{r} {n}")).collect())
        );
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "{:<12} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "latency", "count", "p50", "p95", "p99", "max"
        );
        for (name, l) in self.latency.rows() {
            if name == "detection" && l.count == 0 {
                continue;
            }
            let ms = |v: Option<f64>| v.map_or("-".to_string(), fmt_ms);
            let _ = writeln!(
                o,
                "{:<12} {:>10} {:>10} {:>10} {:>10} {:>10}",
                name,
                l.count,
                ms(l.p50_ms),
                ms(l.p95_ms),
                ms(l.p99_ms),
                ms(l.max_ms)
            );
        }
        if !self.objectives.is_empty() {
            let _ = writeln!(o);
            let _ = writeln!(o, "objectives");
            for obj in &self.objectives {
                let value = obj
                    .value
                    .map_or("no value".to_string(), |v| format!("{v:.2}{}", obj.unit));
                let _ = writeln!(
                    o,
                    "  {:<8} {}: {} (measured {value})",
                    obj.verdict.to_string().to_uppercase(),
                    obj.name,
                    obj.claim
                );
            }
        }
        if !self.log.is_empty() {
            let _ = writeln!(o);
            let _ = writeln!(o, "events");
            for line in &self.log {
                let _ = writeln!(o, "  {line}");
            }
        }
        let _ = writeln!(o);
        let _ = writeln!(o, "events processed {}", self.events);
        if let Some(w) = &self.wall {
            let _ = writeln!(
                o,
                "wall time {:.3}s  {:.2}M events/s  {:.0}x real time",
                w.seconds,
                w.events_per_sec / 1e6,
                w.speedup
            );
        }
        o
    }

    fn to_csv(&self) -> String {
        let mut o = String::from("scope,metric,value\n");
        let mut row = |scope: &str, metric: &str, value: String| {
            let _ = writeln!(o, "{scope},{metric},{value}");
        };
        row("run", "lblab_version", self.lblab_version.to_string());
        row("run", "lab", csv_text(&self.lab));
        row("run", "seed", self.seed.to_string());
        row("run", "finished", self.finished.to_string());
        row(
            "run",
            "sim_seconds",
            format!("{:.9}", self.sim_time.as_secs_f64()),
        );
        row("run", "events", self.events.to_string());
        row("run", "algorithm", self.algorithm.clone());
        for b in &self.backends {
            let scope = format!("backend:{}", csv_text(&b.name));
            row(&scope, "connections", b.connections.to_string());
            row(&scope, "share_pct", format!("{:.3}", b.share_pct));
            row(&scope, "packets", b.packets.to_string());
            row(&scope, "segments_served", b.segments_served.to_string());
            row(&scope, "drops", b.drops.to_string());
            row(
                &scope,
                "probe_p95_ms",
                b.probe_p95_ms.map_or(String::new(), |v| format!("{v:.3}")),
            );
            row(&scope, "state", b.state.to_string());
        }
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
            row("total", k, v.to_string());
        }
        row("total", "success_pct", format!("{:.3}", t.success_pct));
        for (r, n) in &self.failures {
            row("failure", r.name(), n.to_string());
        }
        for (r, n) in &self.drops {
            row("drop", r.name(), n.to_string());
        }
        for (name, l) in self.latency.rows() {
            let scope = format!("latency:{name}");
            let ms = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.3}"));
            row(&scope, "count", l.count.to_string());
            row(&scope, "p50_ms", ms(l.p50_ms));
            row(&scope, "p95_ms", ms(l.p95_ms));
            row(&scope, "p99_ms", ms(l.p99_ms));
            row(&scope, "max_ms", ms(l.max_ms));
        }
        for obj in &self.objectives {
            let scope = format!("objective:{}", csv_text(&obj.name));
            row(&scope, "verdict", obj.verdict.to_string());
            row(
                &scope,
                "value",
                obj.value.map_or(String::new(), |v| format!("{v:.3}")),
            );
        }
        if let Some(w) = &self.wall {
            row("wall", "seconds", format!("{:.6}", w.seconds));
            row("wall", "events_per_sec", format!("{:.0}", w.events_per_sec));
        }
        o
    }
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

fn fmt_ms(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.3}s", v / 1000.0)
    } else {
        format!("{v:.3}ms")
    }
}

/// Quotes a CSV field when it holds a comma, quote or line break.
fn csv_text(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_text("plain"), "plain");
        assert_eq!(csv_text("a,b"), "\"a,b\"");
        assert_eq!(csv_text("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn milliseconds_switch_to_seconds_past_one_second() {
        assert_eq!(fmt_ms(4.25), "4.250ms");
        assert_eq!(fmt_ms(1500.0), "1.500s");
    }
}
