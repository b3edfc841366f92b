//! What the balancer knows of each backend beyond what the algorithm sees:
//! where it is, its health, its half-open limit and its probes.

use crate::model::{Endpoint, SimDuration, SimTime};
use crate::policy::{HealthTracker, HealthTransition};
use std::collections::VecDeque;

/// Probe round-trip samples kept per backend for its p95.
pub const PROBE_WINDOW: usize = 64;

/// The balancer's record of one backend besides its `BackendView`.
#[derive(Clone, Debug)]
pub struct Backend {
    /// Where its connections are forwarded.
    pub endpoint: Endpoint,
    /// Rise/fall verdict of the health checker.
    pub health: HealthTracker,
    /// Half-open connections allowed before SYNs for it are dropped.
    pub max_half_open: u32,
    /// Taken out of the pool for good.
    pub removed: bool,
    /// Connections assigned to it over the run.
    pub picks: u64,
    /// The probe in flight: its id and when it left.
    pub probe_out: Option<(u32, SimTime)>,
    /// Id of the last probe sent.
    pub probe_seq: u32,
    /// Recent probe round trips, newest last.
    pub probe_rtts: VecDeque<SimDuration>,
    /// Probes that failed (timed out).
    pub probe_failures: u64,
    /// When the last response to a client request came back, for the
    /// peak-EWMA decay.
    pub last_response_at: Option<SimTime>,
}

impl Backend {
    /// A healthy backend at `endpoint` that no probe has reached yet.
    pub fn new(endpoint: Endpoint, max_half_open: u32) -> Backend {
        Backend {
            endpoint,
            health: HealthTracker::new(true),
            max_half_open,
            removed: false,
            picks: 0,
            probe_out: None,
            probe_seq: 0,
            probe_rtts: VecDeque::with_capacity(PROBE_WINDOW),
            probe_failures: 0,
            last_response_at: None,
        }
    }

    /// Records one probe's result; returns the health flip, if any.
    pub fn record_probe(
        &mut self,
        ok: bool,
        rtt: Option<SimDuration>,
        rise: u32,
        fall: u32,
    ) -> Option<HealthTransition> {
        if let Some(rtt) = rtt {
            if self.probe_rtts.len() == PROBE_WINDOW {
                self.probe_rtts.pop_front();
            }
            self.probe_rtts.push_back(rtt);
        }
        if !ok {
            self.probe_failures += 1;
        }
        self.health.record(ok, rise, fall)
    }

    /// The 95th percentile of recent probe round trips.
    pub fn probe_p95(&self) -> Option<SimDuration> {
        if self.probe_rtts.is_empty() {
            return None;
        }
        let mut v: Vec<_> = self.probe_rtts.iter().copied().collect();
        v.sort_unstable();
        let rank = (v.len() * 95).div_ceil(100).max(1) - 1;
        Some(v[rank])
    }
}
