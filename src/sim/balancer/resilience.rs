//! The balancer's resilience around its algorithm: sticky sessions, the
//! panic threshold, slow start, outlier ejection, redispatch of unanswered
//! SYNs, and a per-backend connection cap with a queue. The arithmetic is
//! in `policy::resilience`; this file keeps the state and says when.

use super::{Balancer, Entropy, Forward};
use crate::engine::Via;
use crate::model::{FourTuple, Packet, SimTime};
use crate::policy::explain::explain;
use crate::policy::resilience::{outlier, panic, slow_start};
use crate::policy::{BackendView, Selector};
use crate::sim::addressing::client_index;
use crate::spec::{DropReason, OutlierSpec, Percent, Positive, QueueSpec, ResilienceSpec};
use rustc_hash::FxHashSet;
use std::collections::VecDeque;

/// Something the balancer did on its own that the World should log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Note {
    /// Outlier ejection took a backend out of rotation until `until`.
    Ejected {
        /// The backend.
        backend: u32,
        /// When it comes back.
        until: SimTime,
        /// Its ejections so far, this one included.
        ejections: u32,
    },
    /// An ejection ended: the backend is back in rotation.
    EjectionOver {
        /// The backend.
        backend: u32,
    },
    /// Too few backends are eligible: balancing over all of them.
    PanicStarted {
        /// Eligible backends.
        eligible: usize,
        /// Backends in the pool.
        total: usize,
    },
    /// Enough backends are eligible again.
    PanicOver {
        /// Eligible backends.
        eligible: usize,
        /// Backends in the pool.
        total: usize,
    },
    /// A queued SYN waited out the queue timeout and was forgotten.
    QueueTimedOut {
        /// SYNs timed out so far.
        total: u64,
    },
}

/// The resilience state of a balancer.
#[derive(Clone, Debug, Default)]
pub struct Resilience {
    /// The settings in force.
    pub spec: ResilienceSpec,
    /// Backends ramping up in slow start, and since when.
    ramping: Vec<(u32, SimTime)>,
    /// The outlier detector's view of each backend.
    outliers: Vec<outlier::OutlierState>,
    /// Backends ejected now.
    ejected: Vec<bool>,
    /// How many of them are.
    ejected_now: usize,
    /// The earliest end of an ejection in force.
    next_return: Option<SimTime>,
    /// Each client address's sticky backend (plus one; 0: none) and when
    /// it last opened a connection.
    sticky: Vec<(u32, SimTime)>,
    /// SYNs waiting for a backend below its cap, oldest first.
    queue: VecDeque<(Packet, SimTime)>,
    /// The flows in `queue`, so their retransmitted SYNs are not queued
    /// twice.
    queued: FxHashSet<FourTuple>,
    /// SYNs forgotten after waiting out the queue timeout.
    pub queue_timeouts: u64,
    /// Balancing over every backend because too few are eligible.
    in_panic: bool,
    /// The selector used in panic, over every backend in the pool: its
    /// hash table must not be rebuilt at each pick.
    panic_selector: Option<Selector>,
    /// What happened, for the World's log.
    notes: Vec<Note>,
}

impl Resilience {
    /// Settings from a lab.
    pub fn new(spec: ResilienceSpec) -> Resilience {
        Resilience {
            spec,
            ..Resilience::default()
        }
    }

    /// A backend joined the pool.
    pub fn add_backend(&mut self) {
        self.outliers.push(outlier::OutlierState::default());
        self.ejected.push(false);
    }

    /// Backend `b` is ejected now.
    pub fn is_ejected(&self, b: usize) -> bool {
        self.ejected.get(b).copied().unwrap_or(false)
    }

    /// How many backends are ejected now.
    pub fn ejected_count(&self) -> usize {
        self.ejected_now
    }

    /// SYNs waiting in the queue.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }
}

impl Balancer {
    /// Replaces the slow-start window.
    pub fn set_slow_start(&mut self, window: Option<crate::spec::Dur>) {
        self.resilience.spec.slow_start = window;
        if window.is_none() {
            self.resilience.ramping.clear();
        }
    }

    /// Replaces the outlier-ejection settings; turning it off returns every
    /// ejected backend at once.
    pub fn set_outlier_ejection(&mut self, spec: Option<OutlierSpec>) {
        self.resilience.spec.outlier_ejection = spec;
        if spec.is_none() {
            for b in 0..self.backends.len() {
                if self.resilience.ejected[b] {
                    self.end_ejection(b);
                }
                self.resilience.outliers[b] = outlier::OutlierState::default();
            }
            self.resilience.next_return = None;
        }
    }

    /// Replaces the connection cap and queue; turning it off lets the
    /// waiting SYNs go at the next release.
    pub fn set_queue(&mut self, spec: Option<QueueSpec>) {
        self.resilience.spec.queue = spec;
    }

    /// Replaces the panic threshold.
    pub fn set_panic_threshold(&mut self, threshold: Option<Percent>) {
        self.resilience.spec.panic_threshold = threshold;
    }

    /// Replaces the redispatch setting.
    pub fn set_redispatch(&mut self, tries: Option<Positive>) {
        self.resilience.spec.redispatch = tries;
    }

    /// Replaces the sticky-session timeout; turning it off forgets every
    /// session.
    pub fn set_sticky(&mut self, timeout: Option<crate::spec::Dur>) {
        self.resilience.spec.sticky = timeout;
        if timeout.is_none() {
            self.resilience.sticky.clear();
        }
    }

    /// What the balancer did on its own since the last call.
    pub fn take_notes(&mut self) -> Vec<Note> {
        std::mem::take(&mut self.resilience.notes)
    }

    /// Something waits for the World: notes, or queued SYNs to release.
    #[inline]
    pub fn has_pending(&self) -> bool {
        !self.resilience.notes.is_empty() || !self.resilience.queue.is_empty()
    }

    /// Backend `b` came up (health checks marked it up, or it joined the
    /// pool): slow start begins its ramp.
    pub fn backend_came_up(&mut self, b: usize, now: SimTime) {
        if self.resilience.spec.slow_start.is_some() {
            self.resilience.ramping.retain(|(r, _)| *r as usize != b);
            self.resilience.ramping.push((b as u32, now));
        }
    }

    /// The backend for a new flow: its sticky backend if it has a live
    /// one, else the algorithm's pick (over every backend in panic), which
    /// slow start may turn away from a ramping backend once; then the
    /// connection cap, which sends the flow to a backend below it. `None`
    /// with a full pool: the caller queues the SYN.
    pub(super) fn choose(
        &mut self,
        key: &FourTuple,
        now: SimTime,
        entropy: &mut impl Entropy,
    ) -> Result<Option<usize>, DropReason> {
        self.return_ejected(now);
        self.picks.via = Via::Algorithm;
        self.picks.saw = None;
        if let Some(b) = self.sticky_backend(key, now)
            && !self.is_full(b)
        {
            self.picks.via = Via::Sticky;
            return Ok(Some(b));
        }
        let mut b = self.pick_in_or_out_of_panic(key, entropy)?;
        if let Some(window) = self.resilience.spec.slow_start {
            self.resilience
                .ramping
                .retain(|(_, since)| now.saturating_since(*since) < window.get());
            if let Some(&(_, since)) = self
                .resilience
                .ramping
                .iter()
                .find(|(r, _)| *r as usize == b)
                && !self.ramp_keeps(b, now.saturating_since(since), window.get(), entropy)
                && let Some(other) = self.pick_excluding(key, entropy, &[b])
            {
                b = other;
                self.picks.via = Via::SlowStart;
            }
        }
        if self.is_full(b) {
            let full = self.full_backends();
            self.picks.via = Via::Cap;
            return Ok(self.pick_excluding(key, entropy, &full));
        }
        Ok(Some(b))
    }

    /// Slow start lets a pick of ramping backend `b`, `since` into a ramp of
    /// `window`, stand: by chance in proportion to the ramp, and while it
    /// holds less than the ramp's share of the others' mean connections.
    fn ramp_keeps(
        &self,
        b: usize,
        since: crate::model::SimDuration,
        window: crate::model::SimDuration,
        entropy: &mut impl Entropy,
    ) -> bool {
        if !slow_start::keeps_pick(since, window, entropy.word() as u32) {
            return false;
        }
        let (sum, count) = self
            .views
            .iter()
            .enumerate()
            .filter(|(i, v)| *i != b && v.eligible())
            .fold((0u64, 0u64), |(s, c), (_, v)| {
                (s + u64::from(v.load()), c + 1)
            });
        let mean = if count == 0 {
            0.0
        } else {
            sum as f64 / count as f64
        };
        slow_start::within_ramped_load(since, window, self.views[b].load(), mean)
    }

    /// The algorithm's pick, or in panic the pick over every backend in
    /// the pool, healthy or not.
    fn pick_in_or_out_of_panic(
        &mut self,
        key: &FourTuple,
        entropy: &mut impl Entropy,
    ) -> Result<usize, DropReason> {
        let Some(threshold) = self.resilience.spec.panic_threshold else {
            return self.pick(key, entropy);
        };
        let total = self.backends.iter().filter(|b| !b.removed).count();
        let eligible = self.views.iter().filter(|v| v.eligible()).count();
        let panicking = panic::in_panic(eligible, total, threshold);
        if panicking != self.resilience.in_panic {
            self.resilience.in_panic = panicking;
            self.resilience.notes.push(if panicking {
                Note::PanicStarted { eligible, total }
            } else {
                Note::PanicOver { eligible, total }
            });
            self.resilience.panic_selector = None;
        }
        if !panicking {
            return self.pick(key, entropy);
        }
        let all: Vec<BackendView> = self
            .views
            .iter()
            .zip(&self.backends)
            .map(|(v, be)| BackendView {
                healthy: !be.removed,
                draining: false,
                ..*v
            })
            .collect();
        let algorithm = self.selector.algorithm();
        let selector = self
            .resilience
            .panic_selector
            .get_or_insert_with(|| Selector::new(algorithm));
        let word = if selector.needs_entropy() {
            entropy.word()
        } else {
            0
        };
        let b = selector
            .pick(&all, key, word)
            .map_err(|_| DropReason::NoHealthyBackend)?;
        self.picks.saw = Some(explain(algorithm, &all, key, word, b));
        self.picks.via = Via::Panic;
        Ok(b)
    }

    /// The algorithm's pick among the eligible backends not in `skip`, or
    /// `None`. A hashing algorithm keeps its table (built for the
    /// rotation, which has not changed) and walks on from its pick to the
    /// next backend not skipped, as a ring does.
    pub(super) fn pick_excluding(
        &mut self,
        key: &FourTuple,
        entropy: &mut impl Entropy,
        skip: &[usize],
    ) -> Option<usize> {
        let n = self.views.len();
        if self.selector.algorithm().hashes_flows() {
            let start = self.pick(key, entropy).ok()?;
            return (0..n)
                .map(|k| (start + k) % n)
                .find(|i| self.views[*i].eligible() && !skip.contains(i));
        }
        let hidden: Vec<usize> = skip
            .iter()
            .copied()
            .filter(|&i| i < n && self.views[i].eligible())
            .collect();
        for &i in &hidden {
            self.views[i].healthy = false;
        }
        let pick = self.pick(key, entropy).ok();
        for &i in &hidden {
            self.views[i].healthy = true;
        }
        pick
    }

    /// Backend `b` holds as many connections as the cap allows.
    fn is_full(&self, b: usize) -> bool {
        self.resilience
            .spec
            .queue
            .is_some_and(|q| self.views[b].load() >= q.max_connections.get())
    }

    /// Every backend at the cap.
    fn full_backends(&self) -> Vec<usize> {
        (0..self.views.len()).filter(|&b| self.is_full(b)).collect()
    }

    /// Puts a SYN that found every backend full in the queue, or says why
    /// not.
    pub(super) fn enqueue(&mut self, p: &Packet, now: SimTime) -> Forward {
        let Some(q) = self.resilience.spec.queue else {
            return Forward::Drop(DropReason::NoHealthyBackend);
        };
        if self.resilience.queue.len() >= q.size.get() as usize {
            return Forward::Drop(DropReason::QueueFull);
        }
        self.resilience.queue.push_back((*p, now));
        self.resilience.queued.insert(p.key);
        Forward::Queued
    }

    /// A SYN of a flow already waiting in the queue.
    pub(super) fn is_queued(&self, key: &FourTuple) -> bool {
        !self.resilience.queued.is_empty() && self.resilience.queued.contains(key)
    }

    /// Lets queued SYNs go to backends now below their cap, oldest first,
    /// forgetting those that waited out the timeout; returns what to send.
    pub fn release_queued(&mut self, now: SimTime, entropy: &mut impl Entropy) -> Vec<Forward> {
        let mut out = Vec::new();
        while let Some(&(p, since)) = self.resilience.queue.front() {
            let timeout = self
                .resilience
                .spec
                .queue
                .map_or(crate::model::SimDuration::ZERO, |q| q.timeout.get());
            if self.resilience.spec.queue.is_some() && now.saturating_since(since) >= timeout {
                self.resilience.queue.pop_front();
                self.resilience.queued.remove(&p.key);
                self.resilience.queue_timeouts += 1;
                // The first, and then each power of ten: a steady stream
                // of timeouts must not flood the log.
                let n = self.resilience.queue_timeouts;
                if crate::policy::is_power_of_ten(n) {
                    self.resilience.notes.push(Note::QueueTimedOut { total: n });
                }
                continue;
            }
            let b = match self.choose(&p.key, now, entropy) {
                Ok(Some(b)) => b,
                Ok(None) => break,
                Err(_) => break,
            };
            self.resilience.queue.pop_front();
            self.resilience.queued.remove(&p.key);
            self.picks.via = Via::Queue;
            out.push(self.admit_to(&p, b, now));
        }
        // A queue turned off lets everything go; what cannot go is dropped
        // by the client's own timeout.
        if self.resilience.spec.queue.is_none() && !self.resilience.queue.is_empty() {
            self.resilience.queue.clear();
            self.resilience.queued.clear();
        }
        out
    }

    /// The live sticky backend of the flow's source, if any.
    fn sticky_backend(&self, key: &FourTuple, now: SimTime) -> Option<usize> {
        let timeout = self.resilience.spec.sticky?;
        let i = client_index(key.src.ip)?;
        let &(b, last) = self.resilience.sticky.get(i)?;
        let b = (b as usize).checked_sub(1)?;
        (now.saturating_since(last) < timeout.get() && self.views.get(b)?.eligible()).then_some(b)
    }

    /// Remembers the flow's backend as its source's sticky backend.
    pub(super) fn stick(&mut self, key: &FourTuple, b: usize, now: SimTime) {
        if self.resilience.spec.sticky.is_none() {
            return;
        }
        let Some(i) = client_index(key.src.ip) else {
            return;
        };
        let sticky = &mut self.resilience.sticky;
        if i >= sticky.len() {
            sticky.resize(i + 1, (0, SimTime::ZERO));
        }
        sticky[i] = (b as u32 + 1, now);
    }

    /// Feeds the outlier detector one outcome of backend `b`.
    pub(super) fn outlier_outcome(&mut self, b: usize, failed: bool, now: SimTime) {
        let Some(spec) = self.resilience.spec.outlier_ejection else {
            return;
        };
        let total = self.backends.iter().filter(|be| !be.removed).count();
        let ejected = self.resilience.ejected_now;
        let eligible = self.views.iter().filter(|v| v.eligible()).count();
        let may = outlier::may_eject(ejected, eligible, total, &spec);
        let verdict = self.resilience.outliers[b].record(failed, now, &spec, may);
        if let outlier::Verdict::Eject(until) = verdict {
            self.resilience.ejected[b] = true;
            self.resilience.ejected_now += 1;
            self.resilience.next_return =
                Some(self.resilience.next_return.map_or(until, |t| t.min(until)));
            self.resilience.notes.push(Note::Ejected {
                backend: b as u32,
                until,
                ejections: self.resilience.outliers[b].ejections,
            });
            self.refresh_health(b);
        }
    }

    /// Returns the backends whose ejection is over by `now`.
    fn return_ejected(&mut self, now: SimTime) {
        let Some(next) = self.resilience.next_return else {
            return;
        };
        if next > now {
            return;
        }
        let mut later: Option<SimTime> = None;
        for b in 0..self.backends.len() {
            if !self.resilience.ejected[b] {
                continue;
            }
            if self.resilience.outliers[b].expire(now) {
                self.end_ejection(b);
                self.resilience
                    .notes
                    .push(Note::EjectionOver { backend: b as u32 });
            } else if let Some(until) = self.resilience.outliers[b].ejected_until {
                later = Some(later.map_or(until, |t| t.min(until)));
            }
        }
        self.resilience.next_return = later;
    }

    fn end_ejection(&mut self, b: usize) {
        if self.resilience.ejected[b] {
            self.resilience.ejected_now -= 1;
        }
        self.resilience.ejected[b] = false;
        self.resilience.outliers[b].ejected_until = None;
        self.refresh_health(b);
    }

    /// A client retransmitted the SYN of a connection its backend has not
    /// answered: the backend failed a connect (the first sign the balancer
    /// can see, long before the entry expires). With redispatch, once the
    /// backend has had `tries` SYNs of it, this one is balanced anew, away
    /// from that backend. Returns the forward, or `None` to send it to its
    /// backend as before.
    pub(super) fn syn_retransmitted(
        &mut self,
        slot: u32,
        p: &Packet,
        now: SimTime,
        entropy: &mut impl Entropy,
    ) -> Option<Forward> {
        let e = *self.table.entry(slot);
        if !e.state.is_half_open() || e.answered() || e.proxied() {
            return None;
        }
        let old = e.backend as usize;
        // One failed connect per connection, however often its client
        // resends: outlier ejection counts connections in a row.
        if e.syn_tries == 1 {
            self.observe_outcome(old, None, now);
        }
        let tries = self.resilience.spec.redispatch;
        if tries.is_none_or(|t| u32::from(e.syn_tries) < t.get()) {
            self.table.count_syn(slot);
            return None;
        }
        let mut skip = self.full_backends();
        skip.push(old);
        let Some(other) = self.pick_excluding(&p.key, entropy, &skip) else {
            self.table.count_syn(slot);
            return None;
        };
        self.table.remove(slot, &mut self.views);
        self.picks.via = Via::Redispatch;
        Some(self.admit_to(p, other, now))
    }
}
