//! The headless report: what a run did, as a table for people, JSON for
//! programs, or CSV (one `scope,metric,value` row each) for spreadsheets.
//! Everything but the `wall` section is a pure function of the run, so two
//! runs of the same lab and seed print the same bytes.
//!
//! Figures are honest: a ratio with no denominator (the success rate before
//! any connection ended, shares before any was assigned) is `None`: `–` in
//! the table, an empty field in CSV, `null` in JSON, never a made-up 0%.
//! Names that come from a lab file are printed through
//! [`crate::text::escape`] in the table and CSV (JSON escapes them itself).
//! JSON puts each figure's unit in its name (`sim_seconds`, `p95_ms`) and
//! spells reasons, verdicts and log kinds as the table does (`json.rs`).

mod csv;
mod json;
mod markdown;
mod series;
mod table;
mod theory;

pub use json::LinkReport;
pub use markdown::About;
pub(crate) use markdown::cell as markdown_cell;
pub use series::SeriesArgs;

use crate::engine::{
    DisruptionRecord, Engine, LogEntry, ObjectiveStatus, Percentiles, RetransmitCounters, Snapshot,
    TimeAverages, Verdict,
};
use crate::model::{SimDuration, SimTime};
use crate::spec::{DropReason, FailReason};
use serde::Serialize;

/// One backend's line in the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BackendReport {
    /// Server name.
    pub name: String,
    /// Connections the balancer assigned to it.
    pub connections: u64,
    /// Its share of all assigned connections, in percent (`None` while no
    /// backend has been assigned any).
    pub share_pct: Option<f64>,
    /// Packets that reached it (`None`: the engine cannot see packets).
    pub packets: Option<u64>,
    /// Data segments it served (`None`: the engine cannot tell).
    pub segments_served: Option<u64>,
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
    /// Completed over ended (completed + failed), in percent, as
    /// [`crate::engine::ConnCounters::success_rate_of`] defines it; `None`
    /// while no connection has ended.
    pub success_pct: Option<f64>,
    /// Packets put on any link.
    pub packets: u64,
    /// Wire bytes put on any link.
    pub bytes: u64,
    /// Packets dropped, for any reason.
    pub drops: u64,
    /// Retransmissions by kind.
    pub retransmits: RetransmitCounters,
    /// SYNs sent by floods of every kind: spoofed SYNs, and the first SYN
    /// of each connection a connection flood or slow sender opens.
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
    /// Mean: with the percentiles, what queueing theory predicts.
    pub mean_ms: Option<f64>,
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
            mean_ms: ms(p.mean),
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
    /// Simulated time at the end (`sim_seconds` in JSON).
    #[serde(rename = "sim_seconds", serialize_with = "json::seconds")]
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
    #[serde(serialize_with = "json::failures")]
    pub failures: Vec<(FailReason, u64)>,
    /// Dropped packets by reason (reasons that occurred).
    #[serde(serialize_with = "json::drops")]
    pub drops: Vec<(DropReason, u64)>,
    /// Latencies.
    pub latency: LatencySet,
    /// Every link's counters, named: clients first, then each server's.
    pub links: Vec<LinkReport>,
    /// The lab's objectives and their verdicts.
    #[serde(serialize_with = "json::objectives")]
    pub objectives: Vec<ObjectiveStatus>,
    /// The newest event-log lines, as the table prints them (time, text).
    #[serde(skip)]
    pub log: Vec<String>,
    /// The same entries with their kind, for JSON (`log` there): a
    /// program filters on `kind` and `time_seconds` instead of parsing
    /// lines. The lines above stay for callers that read text.
    #[serde(rename = "log", serialize_with = "json::log")]
    pub log_entries: Vec<LogEntry>,
    /// Wall-clock figures; `None` in reproducibility tests.
    pub wall: Option<WallClock>,
    /// Seconds into the run when every client address was first in use,
    /// if that happened: arrivals were refused from then on while none was
    /// free, and objectives still open are `invalid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addresses_ran_out_s: Option<f64>,
    /// What each change of the backends in rotation did to a hashing
    /// algorithm's mapping (none for other algorithms).
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "json::disruptions"
    )]
    pub disruptions: Vec<DisruptionRecord>,
    /// The first picks and why each backend was chosen (`--explain N`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub picks: Vec<String>,
    /// Gauges averaged over the run (conn table; each backend's active
    /// connections, queue and workers), where the engine keeps them: what
    /// checking Little's law or a utilisation takes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub averages: Option<TimeAverages>,
    /// The lab's summary and lesson, for the Markdown hand-out
    /// ([`Report::describe_lab`]).
    #[serde(skip)]
    pub about: Option<markdown::About>,
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
    /// A hand-out in Markdown: the lab, its lesson, objectives and tables.
    Markdown,
}

impl Report {
    /// Builds the report of `engine` as it is now.
    pub fn from_engine(engine: &dyn Engine, finished: bool, wall: Option<WallClock>) -> Report {
        let snap: Snapshot = engine.snapshot();
        let rows = engine.server_rows();
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
        let links = engine.link_stats();
        let names: Vec<String> = rows.iter().map(|s| s.name.clone()).collect();
        let c = snap.conns;
        let totals = Totals {
            attempted: c.attempted,
            established: c.established,
            completed: c.completed,
            failed: c.failed_total(),
            success_pct: c.success_rate_pct(),
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
            links: LinkReport::name_all(links, &names),
            objectives: engine.objective_statuses(true),
            log: snap
                .log
                .iter()
                .map(|e| format!("{} {}", e.at, e.text))
                .collect(),
            log_entries: snap.log.clone(),
            wall,
            addresses_ran_out_s: snap.addresses_ran_out.map(|t| t.as_secs_f64()),
            disruptions: snap.disruptions.clone(),
            picks: engine.explained_picks(),
            averages: engine.time_averages(),
            about: None,
        }
    }

    /// The objectives that did not pass: failed, or could not be judged.
    pub fn objectives_missed(&self) -> Vec<&ObjectiveStatus> {
        self.objectives
            .iter()
            .filter(|o| o.verdict != Verdict::Pass)
            .collect()
    }

    /// The report in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Table => self.to_table(),
            // Serializing plain numbers and strings cannot fail.
            Format::Json => serde_json::to_string_pretty(self).unwrap_or_default() + "\n",
            Format::Csv => self.to_csv(),
            Format::Markdown => self.to_markdown(),
        }
    }
}

/// `part` as a percentage of `whole`; none of nothing.
fn pct(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

/// What the table shows for a figure that does not exist.
const NONE: &str = "–";

fn fmt_ms(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.3}s", v / 1000.0)
    } else {
        format!("{v:.3}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_of_nothing_is_no_share() {
        assert_eq!(pct(0, 0), None);
        assert_eq!(pct(1, 4), Some(25.0));
    }

    #[test]
    fn milliseconds_switch_to_seconds_past_one_second() {
        assert_eq!(fmt_ms(4.25), "4.250ms");
        assert_eq!(fmt_ms(1500.0), "1.500s");
    }
}
