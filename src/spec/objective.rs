//! Objectives: claims about a run (`metric op threshold` over a window of
//! simulated time) that engines check as the run goes.

use super::reasons::DropReason;
use super::values::Dur;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What an objective measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Metric {
    /// Completed connections over those that ended, in percent.
    SuccessRate,
    /// Connections that completed.
    CompletedConnections,
    /// Connections that failed, for any reason.
    FailedConnections,
    /// 95th percentile of handshake time, in milliseconds.
    HandshakeP95,
    /// 95th percentile of segment latency (send to ACK), in milliseconds.
    SegmentP95,
    /// 99th percentile of segment latency, in milliseconds.
    SegmentP99,
    /// 95th percentile of connection completion time, in milliseconds.
    CompletionP95,
    /// Packets dropped for one reason.
    Drops(DropReason),
    /// Packets dropped for any reason.
    AllDrops,
    /// Retransmissions of any kind.
    Retransmissions,
    /// The largest share of new connections one backend took, in percent.
    MaxShare,
    /// The longest time from a server's death to its detection, in
    /// milliseconds (no detection in the window counts as failing).
    DetectionDelay,
    /// The largest share of flow keys one change of the backends in
    /// rotation sent to another backend, in percent (hashing algorithms;
    /// no change in the window counts as failing).
    KeysMoved,
}

impl Metric {
    /// The unit its values are in, for display.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::SuccessRate | Metric::MaxShare | Metric::KeysMoved => "%",
            Metric::HandshakeP95
            | Metric::SegmentP95
            | Metric::SegmentP99
            | Metric::CompletionP95
            | Metric::DetectionDelay => "ms",
            _ => "",
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Metric::SuccessRate => f.write_str("success rate"),
            Metric::CompletedConnections => f.write_str("completed connections"),
            Metric::FailedConnections => f.write_str("failed connections"),
            Metric::HandshakeP95 => f.write_str("handshake p95"),
            Metric::SegmentP95 => f.write_str("segment p95"),
            Metric::SegmentP99 => f.write_str("segment p99"),
            Metric::CompletionP95 => f.write_str("completion p95"),
            Metric::Drops(r) => write!(f, "{r} drops"),
            Metric::AllDrops => f.write_str("drops"),
            Metric::Retransmissions => f.write_str("retransmissions"),
            Metric::MaxShare => f.write_str("largest backend share"),
            Metric::DetectionDelay => f.write_str("detection delay"),
            Metric::KeysMoved => f.write_str("flow keys moved"),
        }
    }
}

/// How a value must compare with the threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    /// The value must be at least the threshold.
    AtLeast,
    /// The value must be at most the threshold.
    AtMost,
}

impl Comparison {
    /// True if `value` satisfies the comparison with `threshold`.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::AtLeast => value >= threshold,
            Comparison::AtMost => value <= threshold,
        }
    }

    /// `≥` or `≤`.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::AtLeast => "≥",
            Comparison::AtMost => "≤",
        }
    }
}

/// The stretch of simulated time an objective measures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Window {
    /// The whole run.
    #[default]
    Run,
    /// From this time to the end of the run.
    From(Dur),
    /// From the first time to the second.
    Between(Dur, Dur),
}

impl Window {
    /// When it opens.
    pub fn start(self) -> Dur {
        match self {
            Window::Run => Dur::ZERO,
            Window::From(s) | Window::Between(s, _) => s,
        }
    }

    /// When it closes, if before the end of the run.
    pub fn end(self) -> Option<Dur> {
        match self {
            Window::Between(_, e) => Some(e),
            _ => None,
        }
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Window::Run => f.write_str("over the run"),
            Window::From(s) => write!(f, "from {s}"),
            Window::Between(s, e) => write!(f, "from {s} to {e}"),
        }
    }
}

/// A claim about the run that is checked: `metric op threshold` over
/// `window`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objective {
    /// What the objective is about, in a few words.
    pub name: String,
    /// What is measured.
    pub metric: Metric,
    /// How it must compare.
    pub op: Comparison,
    /// The threshold, in the metric's unit.
    pub value: f64,
    /// When it is measured.
    #[serde(default)]
    pub window: Window,
}

impl fmt::Display for Objective {
    /// `success rate ≥ 99% from 30s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}{} {}",
            self.metric,
            self.op.symbol(),
            self.value,
            self.metric.unit(),
            self.window
        )
    }
}
