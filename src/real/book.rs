//! What the real clients count: connections by outcome, clients by state,
//! and timed samples the engine collects to feed its histograms and the
//! lab's objectives.

use crate::engine::{ClientCounts, ConnCounters, Sample};
use crate::model::{SimDuration, SimTime};
use crate::spec::FailReason;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// A client's TCP state, as the dashboard counts them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Connecting.
    SynSent,
    /// Sending segments.
    Established,
    /// Half-closed, waiting for the server's close.
    FinWait,
}

/// Counters the client tasks share with the engine.
#[derive(Debug)]
pub struct Book {
    base: Instant,
    attempted: AtomicU64,
    established: AtomicU64,
    completed: AtomicU64,
    failed: [AtomicU64; FailReason::COUNT],
    phases: [AtomicU64; 3],
    done: AtomicU64,
    killed: AtomicU64,
    /// Clients that exist (started, not yet done or killed or retired).
    live: AtomicU64,
    /// SYNs of connection floods and slow senders.
    pub flood_syns: AtomicU64,
    samples: Mutex<Vec<(Sample, SimTime, SimDuration)>>,
}

impl Book {
    /// An empty book whose clock starts at `base`.
    pub fn new(base: Instant) -> Book {
        Book {
            base,
            attempted: AtomicU64::new(0),
            established: AtomicU64::new(0),
            completed: AtomicU64::new(0),
            failed: std::array::from_fn(|_| AtomicU64::new(0)),
            phases: std::array::from_fn(|_| AtomicU64::new(0)),
            done: AtomicU64::new(0),
            killed: AtomicU64::new(0),
            live: AtomicU64::new(0),
            flood_syns: AtomicU64::new(0),
            samples: Mutex::new(Vec::new()),
        }
    }

    /// The engine's clock: time since the run started.
    pub fn now(&self) -> SimTime {
        SimTime(u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX))
    }

    /// A connection starts connecting.
    pub fn attempt(&self) {
        self.attempted.fetch_add(1, Relaxed);
    }

    /// The handshake completed after `took`.
    pub fn establish(&self, took: SimDuration) {
        self.established.fetch_add(1, Relaxed);
        self.sample(Sample::Handshake, took);
    }

    /// A segment was acknowledged after `took`.
    pub fn segment(&self, took: SimDuration) {
        self.sample(Sample::Segment, took);
    }

    /// A connection closed cleanly, `took` after its first SYN.
    pub fn complete(&self, took: SimDuration) {
        self.completed.fetch_add(1, Relaxed);
        self.sample(Sample::Completion, took);
    }

    /// A connection failed.
    pub fn fail(&self, why: FailReason) {
        self.failed[why as usize].fetch_add(1, Relaxed);
    }

    /// A client enters `phase`, leaving the one it was in.
    pub fn enter(&self, from: Option<Phase>, to: Option<Phase>) {
        if let Some(p) = from {
            self.phases[p as usize].fetch_sub(1, Relaxed);
        }
        if let Some(p) = to {
            self.phases[p as usize].fetch_add(1, Relaxed);
        }
    }

    /// A client starts living.
    pub fn born(&self) {
        self.live.fetch_add(1, Relaxed);
    }

    /// A client made every connection it was to make.
    pub fn finished(&self) {
        self.done.fetch_add(1, Relaxed);
        self.live.fetch_sub(1, Relaxed);
    }

    /// A client was killed by a command.
    pub fn killed(&self) {
        self.killed.fetch_add(1, Relaxed);
        self.live.fetch_sub(1, Relaxed);
    }

    /// A client left because the population shrank.
    pub fn retired(&self) {
        self.live.fetch_sub(1, Relaxed);
    }

    /// Clients alive now.
    pub fn live(&self) -> u64 {
        self.live.load(Relaxed)
    }

    /// Clients that made all their connections.
    pub fn done(&self) -> u64 {
        self.done.load(Relaxed)
    }

    fn sample(&self, kind: Sample, d: SimDuration) {
        let at = self.now();
        self.samples
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((kind, at, d));
    }

    /// The samples since the last call, oldest first.
    pub fn take_samples(&self) -> Vec<(Sample, SimTime, SimDuration)> {
        std::mem::take(&mut *self.samples.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Connection counters now.
    pub fn conns(&self) -> ConnCounters {
        ConnCounters {
            attempted: self.attempted.load(Relaxed),
            established: self.established.load(Relaxed),
            completed: self.completed.load(Relaxed),
            failed: std::array::from_fn(|i| self.failed[i].load(Relaxed)),
        }
    }

    /// Clients by state now.
    pub fn counts(&self) -> ClientCounts {
        let phase = |p: Phase| self.phases[p as usize].load(Relaxed);
        let busy = phase(Phase::SynSent) + phase(Phase::Established) + phase(Phase::FinWait);
        ClientCounts {
            closed: self.live().saturating_sub(busy),
            syn_sent: phase(Phase::SynSent),
            established: phase(Phase::Established),
            fin_wait: phase(Phase::FinWait),
            done: self.done(),
            killed: self.killed.load(Relaxed),
        }
    }
}
