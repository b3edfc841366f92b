//! Where a lab's objectives stand, as Snapshots and reports show them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where an objective stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// Its window is still open (or has not opened).
    Pending,
    /// Met.
    Pass,
    /// Not met.
    Fail,
    /// Cannot be judged: the run could not do what the lab describes while
    /// the window was open (every client address was in use, so arrivals
    /// were refused).
    Invalid,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Pending => "pending",
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Invalid => "invalid",
        })
    }
}

/// An objective's state, as Snapshots and reports show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveStatus {
    /// The objective's name.
    pub name: String,
    /// The claim in words (`success rate ≥ 99% from 30s`).
    pub claim: String,
    /// The value measured so far, in the metric's unit.
    pub value: Option<f64>,
    /// The metric's unit.
    pub unit: String,
    /// Where it stands.
    pub verdict: Verdict,
}
