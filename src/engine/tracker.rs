//! Objectives checked while an engine runs: each measures its metric over
//! its window from a baseline taken when the window opens, and gives a
//! verdict when the window closes (or when the run ends). The simulation
//! and the real-socket lab share it, so a lab's claims mean the same on
//! both.

use super::{ConnCounters, Latency, ObjectiveStatus, Verdict};
use crate::model::SimDuration;
use crate::spec::{DropReason, Metric, Objective};

/// The counters an objective's window measures from: what an engine
/// keeps, seen the one way every tracker reads it.
pub trait Tally {
    /// Connection counters.
    fn conns(&self) -> ConnCounters;
    /// Drops by [`DropReason`] index.
    fn drops(&self) -> [u64; DropReason::COUNT];
    /// Retransmissions of every kind.
    fn retransmits(&self) -> u64;
}

/// A timed sample the World hands to objectives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sample {
    /// First SYN to SYN|ACK.
    Handshake,
    /// Segment to its ACK.
    Segment,
    /// First SYN to clean close.
    Completion,
    /// A server's death to its detection.
    Detection,
}

impl Sample {
    /// The sample a metric is computed from, if it is one.
    fn of(metric: Metric) -> Option<Sample> {
        match metric {
            Metric::HandshakeP95 => Some(Sample::Handshake),
            Metric::SegmentP95 | Metric::SegmentP99 => Some(Sample::Segment),
            Metric::CompletionP95 => Some(Sample::Completion),
            Metric::DetectionDelay => Some(Sample::Detection),
            _ => None,
        }
    }
}

/// Counters at the moment a window opened.
#[derive(Clone, Debug)]
struct Baseline {
    conns: ConnCounters,
    drops: [u64; DropReason::COUNT],
    retransmits: u64,
    picks: Vec<u64>,
}

/// One objective being tracked.
#[derive(Clone, Debug)]
pub struct Tracker {
    spec: Objective,
    baseline: Option<Baseline>,
    latency: Option<Latency>,
    detection: Option<SimDuration>,
    /// The largest share of flow keys a change moved in the window, in %.
    moved: Option<f64>,
    closed: Option<(Option<f64>, Verdict)>,
    /// The run could not do what the lab describes before the window
    /// closed: the verdict is `Invalid`, whatever the value.
    invalid: bool,
}

impl Tracker {
    /// Tracks `spec`; its window opens when the engine says so.
    pub fn new(spec: Objective) -> Tracker {
        Tracker {
            spec,
            baseline: None,
            latency: None,
            detection: None,
            moved: None,
            closed: None,
            invalid: false,
        }
    }

    /// Marks the objective as not judgeable, unless its window has closed
    /// already (its verdict then stands on what it saw).
    pub fn invalidate(&mut self) {
        if self.closed.is_none() {
            self.invalid = true;
        }
    }

    fn open_now(&self) -> bool {
        self.baseline.is_some() && self.closed.is_none()
    }

    /// The window opens: remember where the counters stand.
    pub fn open(&mut self, m: &impl Tally, picks: Vec<u64>) {
        self.baseline = Some(Baseline {
            conns: m.conns(),
            drops: m.drops(),
            retransmits: m.retransmits(),
            picks,
        });
        if matches!(
            Sample::of(self.spec.metric),
            Some(Sample::Handshake | Sample::Segment | Sample::Completion)
        ) {
            self.latency = Some(Latency::default());
        }
    }

    /// The window closes: the verdict is final.
    pub fn close(&mut self, m: &impl Tally, picks: &[u64]) {
        if self.closed.is_none() {
            let value = self.value(m, picks);
            self.closed = Some((value, self.judge(value)));
        }
    }

    /// Records a sample of `kind` while the window is open, if this
    /// objective measures it.
    pub fn record(&mut self, kind: Sample, d: SimDuration) {
        if !self.open_now() || Sample::of(self.spec.metric) != Some(kind) {
            return;
        }
        if kind == Sample::Detection {
            self.detection = Some(self.detection.map_or(d, |m| m.max(d)));
        } else if let Some(l) = &mut self.latency {
            l.record(d);
        }
    }

    /// Records the share of flow keys (in %) a change of the backends in
    /// rotation moved, if this objective measures it and is open.
    pub fn record_moved(&mut self, percent: f64) {
        if self.open_now() && self.spec.metric == Metric::KeysMoved {
            self.moved = Some(self.moved.map_or(percent, |m| m.max(percent)));
        }
    }

    fn judge(&self, value: Option<f64>) -> Verdict {
        match value {
            Some(v) if self.spec.op.holds(v, self.spec.value) => Verdict::Pass,
            _ => Verdict::Fail,
        }
    }

    fn value(&self, m: &impl Tally, picks: &[u64]) -> Option<f64> {
        let b = self.baseline.as_ref()?;
        let conns = m.conns();
        let drops = m.drops();
        let completed = conns.completed - b.conns.completed;
        let failed = conns.failed_total() - b.conns.failed_total();
        let ms = |d: Option<SimDuration>| d.map(|d| d.as_millis_f64());
        let latency = |q| self.latency.as_ref().and_then(|l| l.quantile(q));
        match self.spec.metric {
            Metric::SuccessRate => ConnCounters::success_rate_of(completed, failed),
            Metric::CompletedConnections => Some(completed as f64),
            Metric::FailedConnections => Some(failed as f64),
            Metric::HandshakeP95 | Metric::SegmentP95 | Metric::CompletionP95 => ms(latency(0.95)),
            Metric::SegmentP99 => ms(latency(0.99)),
            Metric::Drops(r) => Some((drops[r.index()] - b.drops[r.index()]) as f64),
            Metric::AllDrops => {
                Some((drops.iter().sum::<u64>() - b.drops.iter().sum::<u64>()) as f64)
            }
            Metric::Retransmissions => Some((m.retransmits() - b.retransmits) as f64),
            Metric::MaxShare => {
                let deltas: Vec<u64> = picks
                    .iter()
                    .enumerate()
                    .map(|(i, p)| p - b.picks.get(i).copied().unwrap_or(0))
                    .collect();
                let total: u64 = deltas.iter().sum();
                let max = deltas.iter().copied().max().unwrap_or(0);
                (total > 0).then(|| max as f64 * 100.0 / total as f64)
            }
            Metric::DetectionDelay => ms(self.detection),
            Metric::KeysMoved => self.moved,
        }
    }

    /// The status now; with `run_over`, an open window is judged as if it
    /// closed now (the run has ended).
    pub fn status(&self, m: &impl Tally, picks: &[u64], run_over: bool) -> ObjectiveStatus {
        let (value, verdict) = match self.closed {
            Some(done) => done,
            None => {
                // Once the run is over every window is as closed as it will
                // get: one cut short is judged on what it saw, one that
                // never opened has no value and fails.
                let value = self.value(m, picks);
                (
                    value,
                    if run_over {
                        self.judge(value)
                    } else {
                        Verdict::Pending
                    },
                )
            }
        };
        ObjectiveStatus {
            name: self.spec.name.clone(),
            claim: self.spec.to_string(),
            value,
            unit: self.spec.metric.unit().to_string(),
            verdict: if self.invalid {
                Verdict::Invalid
            } else {
                verdict
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Comparison, Window};

    /// Counters that never move.
    struct Still;

    impl Tally for Still {
        fn conns(&self) -> ConnCounters {
            ConnCounters::default()
        }
        fn drops(&self) -> [u64; DropReason::COUNT] {
            [0; DropReason::COUNT]
        }
        fn retransmits(&self) -> u64 {
            0
        }
    }

    fn completed_at_least_one() -> Tracker {
        Tracker::new(Objective {
            name: "some finish".to_string(),
            metric: Metric::CompletedConnections,
            op: Comparison::AtLeast,
            value: 0.0,
            window: Window::default(),
        })
    }

    #[test]
    fn an_objective_open_when_addresses_ran_out_is_invalid_whatever_its_value() {
        let m = Still;
        let mut t = completed_at_least_one();
        t.open(&m, Vec::new());
        assert_eq!(t.status(&m, &[], true).verdict, Verdict::Pass);
        t.invalidate();
        assert_eq!(t.status(&m, &[], true).verdict, Verdict::Invalid);
    }

    #[test]
    fn an_objective_already_judged_keeps_its_verdict() {
        let m = Still;
        let mut t = completed_at_least_one();
        t.open(&m, Vec::new());
        t.close(&m, &[]);
        t.invalidate();
        assert_eq!(t.status(&m, &[], true).verdict, Verdict::Pass);
    }
}
