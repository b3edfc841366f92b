//! How the report's fields look in JSON, where their Rust types would say
//! less: times as seconds with the unit in the name (as the CSV has them),
//! reasons, verdicts and log kinds in the kebab-case the table prints,
//! reasons as `{"name": count}` maps, and the event log as entries a
//! program can filter (`{time_seconds, kind, text}`) rather than lines to
//! parse. Each function here is a `serialize_with` of one field of
//! [`super::Report`]; the field names live there.

use crate::engine::{DisruptionRecord, LinkStats, LogEntry, LogKind, ObjectiveStatus};
use crate::model::SimTime;
use crate::spec::{DropReason, FailReason};
use serde::{Serialize, Serializer};

/// One link's counters with the link named: the clients' shared link, or
/// the link to one backend.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LinkReport {
    /// `clients` (the shared link between clients and the balancer) or
    /// `backend` (from the balancer to the backend named beside it).
    pub link: &'static str,
    /// The backend at the far end, for a `backend` link.
    pub backend: Option<String>,
    /// Its counters.
    #[serde(flatten)]
    pub stats: LinkStats,
}

impl LinkReport {
    /// Names `links` as an engine lists them (clients' link first, then one
    /// per server in server order) after `servers`.
    pub fn name_all(links: Vec<LinkStats>, servers: &[String]) -> Vec<LinkReport> {
        links
            .into_iter()
            .enumerate()
            .map(|(i, stats)| match i {
                0 => LinkReport {
                    link: "clients",
                    backend: None,
                    stats,
                },
                i => LinkReport {
                    link: "backend",
                    backend: servers.get(i - 1).cloned(),
                    stats,
                },
            })
            .collect()
    }
}

/// A simulated time as seconds.
pub(super) fn seconds<S: Serializer>(t: &SimTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(t.as_secs_f64())
}

/// Failure reasons as `{"syn-timeout": 3}`, in the reasons' own order.
pub(super) fn failures<S: Serializer>(v: &[(FailReason, u64)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(v.iter().map(|(r, n)| (r.name(), n)))
}

/// Drop reasons as `{"half-open-limit": 12}`, in the reasons' own order.
pub(super) fn drops<S: Serializer>(v: &[(DropReason, u64)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(v.iter().map(|(r, n)| (r.name(), n)))
}

#[derive(Serialize)]
struct LogLine<'a> {
    time_seconds: f64,
    kind: &'static str,
    text: &'a str,
}

/// The event log as `{time_seconds, kind, text}` entries.
pub(super) fn log<S: Serializer>(v: &[LogEntry], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|e| LogLine {
        time_seconds: e.at.as_secs_f64(),
        kind: LogKind::name(e.kind),
        text: &e.text,
    }))
}

#[derive(Serialize)]
struct Objective<'a> {
    name: &'a str,
    claim: &'a str,
    verdict: String,
    value: Option<f64>,
    unit: &'a str,
}

/// Objectives with their verdicts in lower case, as the table's words.
pub(super) fn objectives<S: Serializer>(v: &[ObjectiveStatus], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|o| Objective {
        name: &o.name,
        claim: &o.claim,
        verdict: o.verdict.to_string(),
        value: o.value,
        unit: &o.unit,
    }))
}

#[derive(Serialize)]
struct Disruption<'a> {
    at_seconds: f64,
    algorithm: &'a str,
    keys_moved_pct: f64,
    flows_moved: u64,
    flows_open: u64,
}

/// Disruptions with their time in seconds and the share of keys moved in
/// percent, as the table prints it.
pub(super) fn disruptions<S: Serializer>(v: &[DisruptionRecord], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|d| Disruption {
        at_seconds: d.at.as_secs_f64(),
        algorithm: &d.algorithm,
        keys_moved_pct: d.keys_moved * 100.0,
        flows_moved: d.flows_moved,
        flows_open: d.flows_open,
    }))
}
