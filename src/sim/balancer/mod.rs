//! The NAT balancer: a VIP in front of the backends. New flows pass
//! admission (filters, rate limit, the per-backend half-open limit) and the
//! algorithm, get a conn-table entry keyed by their 4-tuple, and have their
//! destination rewritten to the backend; replies are found by the same key
//! and have their source rewritten back to the VIP. Idle entries are swept.
//!
//! The balancer only decides; the World sends what it returns.

mod backend;
mod marks;
mod resilience;
mod rotation;
mod syn_proxy;
pub(crate) mod table;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_requests;
pub mod why;

pub use backend::Backend;
pub use resilience::{Note, Resilience};
pub use rotation::Disruption;
pub use table::{ConnTable, EntryState, IdleCheck, IdleTimeouts};

use crate::model::{Endpoint, Flags, FourTuple, Packet, SimDuration, SimTime};
use crate::policy::{
    BackendView, CookieJar, HealthTransition, IpFilter, NoBackend, RateLimit, RateLimiter,
    Selector, explain, peak_ewma, score,
};
use crate::spec::{
    Algorithm, BalancerSpec, CookieMode, DEFAULT_DECAY, DropReason, HealthSpec, OnBackendDown,
};

/// Where the balancer gets a random word when its algorithm needs one: the
/// World's generator, or a fixed word in tests. Drawn only for a pick by a
/// randomised algorithm, so other runs leave the random stream alone.
pub trait Entropy {
    /// A fresh random word.
    fn word(&mut self) -> u64;
}

impl Entropy for u64 {
    fn word(&mut self) -> u64 {
        *self
    }
}

/// The World's generator as a source of entropy.
pub struct Draw<'a, R: rand::Rng + ?Sized>(pub &'a mut R);

impl<R: rand::Rng + ?Sized> Entropy for Draw<'_, R> {
    fn word(&mut self) -> u64 {
        self.0.next_u64()
    }
}

/// Counters of the balancer beyond its conn table's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BalancerStats {
    /// RSTs sent to clients of backends that went down.
    pub resets_sent: u64,
    /// SYN|ACKs sent with a cookie.
    pub cookies_sent: u64,
    /// ACKs whose cookie was good.
    pub cookies_accepted: u64,
}

/// Flags no TCP stack sends together: SYN with FIN or RST, FIN with RST,
/// or no flag at all.
pub fn impossible_flags(f: Flags) -> bool {
    f == Flags::NONE
        || (f.contains(Flags::SYN) && f.intersects(Flags::FIN | Flags::RST))
        || f.contains(Flags::FIN | Flags::RST)
}

/// What to do with a packet from a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forward {
    /// Send `packet` (rewritten) to backend `backend`. `new_entry` is the
    /// (slot, due time) of a new entry's idle timer for the World to schedule.
    ToBackend {
        /// Backend index.
        backend: u32,
        /// The rewritten packet.
        packet: Packet,
        /// A new entry's slot and first idle deadline.
        new_entry: Option<(u32, SimTime)>,
    },
    /// Answer the client from the VIP (a SYN cookie's SYN|ACK).
    Reply(Packet),
    /// Every backend is at its connection cap: the SYN waits in the
    /// balancer's queue (the World gets it back from `release_queued`).
    Queued,
    /// Drop it.
    Drop(DropReason),
}

/// What to do with a packet from a backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backward {
    /// Send it (rewritten) to its client.
    ToClient(Packet),
    /// The backend accepted a proxied connection: complete its handshake
    /// with this ACK and pass on the client's held segment, if any.
    ToBackend(Packet, Option<Packet>),
    /// Drop it.
    Drop(DropReason),
}

/// The NAT balancer.
#[derive(Clone, Debug)]
pub struct Balancer {
    /// The virtual address clients connect to.
    pub vip: Endpoint,
    /// The algorithm and its state.
    pub selector: Selector,
    /// What the algorithm sees of each backend, by backend index.
    pub views: Vec<BackendView>,
    /// The rest of what the balancer knows of each backend.
    pub backends: Vec<Backend>,
    /// Idle timeouts of conn-table entries.
    pub idle: IdleTimeouts,
    /// What happens to connections of a backend marked down.
    pub on_backend_down: OnBackendDown,
    /// Health-check settings in force.
    pub health: HealthSpec,
    /// Counters.
    pub stats: BalancerStats,
    /// Drop packets with impossible flag combinations.
    pub validate_packets: bool,
    /// Source allow/deny lists for new connections.
    pub filter: IpFilter,
    /// Per-source limit on new connections.
    pub limiter: Option<RateLimiter>,
    /// When SYNs are answered with cookies.
    pub cookies: CookieMode,
    /// Makes and checks cookies (secrets from the World's seed).
    pub jar: CookieJar,
    /// Every flow the balancer watches.
    pub table: ConnTable,
    /// What the last change of the backends in rotation did to a hashing
    /// algorithm's mapping, until the World takes it for the log.
    disruption: Option<Disruption>,
    /// Slow start, outlier ejection, the queue, panic, redispatch and
    /// sticky sessions.
    pub resilience: Resilience,
    /// Each new flow's pick and why, the newest per backend.
    pub picks: why::PickLog,
}

impl Balancer {
    /// A balancer at `vip` with no backends yet.
    pub fn new(spec: &BalancerSpec, vip: Endpoint) -> Balancer {
        let mut lb = Balancer {
            vip,
            selector: Selector::new(spec.algorithm),
            views: Vec::new(),
            backends: Vec::new(),
            idle: IdleTimeouts {
                half_open: spec.half_open_timeout.get(),
                established: spec.established_timeout.get(),
            },
            on_backend_down: spec.on_backend_down,
            health: spec.health,
            stats: BalancerStats::default(),
            validate_packets: spec.defences.validate_packets,
            filter: IpFilter::from(&spec.defences.filter),
            limiter: spec.defences.rate_limit.and_then(|r| {
                RateLimit::from_spec(&r)
                    .ok()
                    .map(|l| RateLimiter::new(l, r.sources.get() as usize))
            }),
            cookies: spec.defences.syn_cookies,
            jar: CookieJar::new(0),
            table: ConnTable::default(),
            disruption: None,
            resilience: Resilience::new(spec.resilience),
            picks: why::PickLog::default(),
        };
        lb.set_early_drop(spec.defences.early_drop);
        lb
    }

    /// The same balancer with cookie secrets derived from `seed`, so runs
    /// stay reproducible and differ between seeds.
    pub fn with_cookie_seed(mut self, seed: u64) -> Balancer {
        self.jar = CookieJar::new(seed);
        self
    }

    /// Adds a healthy backend; returns its index.
    pub fn add_backend(&mut self, endpoint: Endpoint, weight: u32, max_half_open: u32) -> u32 {
        self.views.push(BackendView {
            weight,
            ..BackendView::idle()
        });
        self.backends.push(Backend::new(endpoint, max_half_open));
        self.table.add_backend();
        self.resilience.add_backend();
        self.selector.membership_changed();
        (self.backends.len() - 1) as u32
    }

    /// Entries in the conn table.
    pub fn table_len(&self) -> usize {
        self.table.len()
    }

    /// Half-open entries over all backends.
    pub fn half_open_total(&self) -> u64 {
        self.views.iter().map(|v| u64::from(v.half_open)).sum()
    }

    /// Turns early drop on or off.
    pub fn set_early_drop(&mut self, on: bool) {
        self.table.set_early_drop(on, self.backends.len());
    }

    /// Early drop is on.
    pub fn early_drop_enabled(&self) -> bool {
        self.table.early_drop_enabled()
    }

    /// Handles a packet a client sent to the VIP.
    #[inline(always)]
    pub fn from_client(&mut self, p: &Packet, now: SimTime, entropy: &mut impl Entropy) -> Forward {
        if self.validate_packets && impossible_flags(p.flags) {
            return Forward::Drop(DropReason::InvalidFlags);
        }
        let bare_syn = p.flags.contains(Flags::SYN)
            && !p.flags.intersects(Flags::ACK | Flags::RST | Flags::FIN);
        if let Some(slot) = self.table.find(&p.key) {
            // A new SYN on an entry past its handshake: the client reused
            // the port, so the old entry goes and the flow is balanced anew.
            if bare_syn && !self.table.entry(slot).state.is_half_open() {
                self.table.remove(slot, &mut self.views);
            } else {
                if bare_syn && let Some(f) = self.syn_retransmitted(slot, p, now, entropy) {
                    return f;
                }
                return self.forward_known(slot, p, now);
            }
        }
        if bare_syn && self.is_queued(&p.key) {
            return Forward::Drop(DropReason::AlreadyQueued);
        }
        // An ACK for no entry may answer one of our cookies.
        if !bare_syn && self.cookies != CookieMode::Off && p.flags.contains(Flags::ACK) {
            return self.accept_cookie(p, now, entropy);
        }
        // Only a bare SYN may open a flow.
        if !bare_syn {
            return Forward::Drop(DropReason::NoConnEntry);
        }
        self.admit(p, now, entropy)
    }

    /// A bare SYN for a new flow: admission, cheapest and most certain
    /// first, all before the SYN can take a half-open slot; then the
    /// algorithm.
    fn admit(&mut self, p: &Packet, now: SimTime, entropy: &mut impl Entropy) -> Forward {
        if !self.filter.verdict(p.key.src.ip).is_allowed() {
            return Forward::Drop(DropReason::Filtered);
        }
        if let Some(limiter) = &mut self.limiter
            && !limiter.check(p.key.src.ip, now).is_allow()
        {
            return Forward::Drop(DropReason::RateLimited);
        }
        if self.cookies == CookieMode::Always {
            return self.reply_with_cookie(p, now);
        }
        let b = match self.choose(&p.key, now, entropy) {
            Ok(Some(b)) => b,
            Ok(None) => return self.enqueue(p, now),
            Err(why) => return Forward::Drop(why),
        };
        self.admit_to(p, b, now)
    }

    /// A SYN the balancer has chosen backend `b` for: the half-open limit
    /// (with early drop and cookies on overflow), then a conn-table entry.
    fn admit_to(&mut self, p: &Packet, b: usize, now: SimTime) -> Forward {
        if self.views[b].half_open >= self.backends[b].max_half_open
            && !self.table.early_drop(b, &mut self.views)
        {
            if self.cookies == CookieMode::OnOverflow {
                return self.reply_with_cookie(p, now);
            }
            return Forward::Drop(DropReason::HalfOpenLimit);
        }
        let (slot, timer_at) = self.new_entry(p.key, b, EntryState::SynRecv, now);
        self.stick(&p.key, b, now);
        Forward::ToBackend {
            backend: b as u32,
            packet: self.to_backend(p, b),
            new_entry: Some((slot, timer_at)),
        }
    }

    /// The algorithm's backend for a new flow, drawing a random word only
    /// if the algorithm uses one; or the reason to drop the SYN.
    fn pick(&mut self, key: &FourTuple, entropy: &mut impl Entropy) -> Result<usize, DropReason> {
        let word = if self.selector.needs_entropy() {
            entropy.word()
        } else {
            0
        };
        let b = self
            .selector
            .pick(&self.views, key, word)
            .map_err(|why| match why {
                NoBackend::ZeroWeights { .. } => DropReason::NoWeightedBackend,
                NoBackend::Empty | NoBackend::NoneEligible { .. } => DropReason::NoHealthyBackend,
            })?;
        self.picks.saw = Some(explain::explain(
            self.selector.algorithm(),
            &self.views,
            key,
            word,
            b,
        ));
        Ok(b)
    }

    /// Records a new entry for `key` on backend `b`.
    fn new_entry(
        &mut self,
        key: FourTuple,
        b: usize,
        state: EntryState,
        now: SimTime,
    ) -> (u32, SimTime) {
        self.backends[b].picks += 1;
        self.record_pick(key, b, now);
        self.table
            .insert(key, b, state, now, self.idle, &mut self.views)
    }

    fn to_backend(&self, p: &Packet, b: usize) -> Packet {
        let mut out = *p;
        out.key.dst = self.backends[b].endpoint;
        out
    }

    #[inline(always)]
    fn forward_known(&mut self, slot: u32, p: &Packet, now: SimTime) -> Forward {
        let e = *self.table.entry(slot);
        let b = e.backend as usize;
        let f = p.flags;
        let mut packet = self.to_backend(p, b);
        self.table.touch(slot, now);
        if e.state == EntryState::Proxying && !f.contains(Flags::RST) {
            return self.proxying_client_segment(slot, p, b);
        }
        if e.proxied() && f.contains(Flags::ACK) {
            packet.ack = packet.ack.wrapping_add(e.seq_delta);
        }
        if f.contains(Flags::RST) {
            self.table.remove(slot, &mut self.views);
        } else {
            if p.len > 0 {
                let end = p.seq.wrapping_add(p.len);
                self.table.request_sent(slot, end, now, &mut self.views);
            }
            let views = &mut self.views;
            match e.state {
                // The client's ACK completes the handshake.
                EntryState::SynRecv if f.contains(Flags::ACK) && !f.contains(Flags::SYN) => self
                    .table
                    .set_state(slot, now, EntryState::Established, views),
                // The client closes.
                EntryState::Established if f.contains(Flags::FIN) => {
                    self.table.set_state(slot, now, EntryState::FinWait, views)
                }
                // The client's last ACK after the backend's FIN|ACK: done.
                EntryState::Closing if f.contains(Flags::ACK) && !f.contains(Flags::FIN) => {
                    self.table.remove(slot, views)
                }
                _ => {}
            }
        }
        Forward::ToBackend {
            backend: e.backend,
            packet,
            new_entry: None,
        }
    }

    /// Handles a packet backend `b` sent toward a client.
    #[inline(always)]
    pub fn from_backend(&mut self, b: u32, p: &Packet, now: SimTime) -> Backward {
        let client_key = FourTuple::tcp(p.key.dst, self.vip);
        let Some(slot) = self.table.find(&client_key) else {
            return Backward::Drop(DropReason::NoConnEntry);
        };
        let e = *self.table.entry(slot);
        if e.backend != b {
            return Backward::Drop(DropReason::NoConnEntry);
        }
        self.table.touch(slot, now);
        if e.state == EntryState::Proxying && p.flags.contains(Flags::SYN | Flags::ACK) {
            return self.backend_accepted_proxied(slot, p, now);
        }
        let mut out = *p;
        out.key.src = self.vip;
        if e.proxied() {
            out.seq = out.seq.wrapping_sub(e.seq_delta);
        }
        if p.flags.contains(Flags::RST) {
            // A backend that resets a connection failed it: refused at
            // connect, or dropped mid-way.
            self.table.remove(slot, &mut self.views);
            self.observe_outcome(b as usize, None, now);
        } else {
            if p.flags.contains(Flags::ACK)
                && let Some(rtt) = self.table.request_acked(slot, p.ack, now, &mut self.views)
            {
                self.observe_outcome(b as usize, Some(rtt), now);
            }
            if e.state == EntryState::FinWait && p.flags.contains(Flags::FIN) {
                self.table
                    .set_state(slot, now, EntryState::Closing, &mut self.views);
            }
            if out.seq_len() > 0 {
                self.table
                    .answered(slot, out.seq.wrapping_add(out.seq_len()));
            }
        }
        Backward::ToClient(out)
    }

    /// Handles an idle-timer event for `slot` due at `now`.
    pub fn on_idle_timer(&mut self, slot: u32, generation: u32, now: SimTime) -> IdleCheck {
        let e = *self.table.entry(slot);
        let check = self
            .table
            .on_idle_timer(slot, generation, now, self.idle, &mut self.views);
        // A handshake the backend never answered is a failed connect,
        // counted here unless a retransmitted SYN counted it already. One
        // it answered but the client never completed (a spoofed SYN) says
        // nothing against the backend, nor does an established flow that
        // went quiet.
        if check == IdleCheck::Expired
            && e.state.is_half_open()
            && !e.answered()
            && e.syn_tries <= 1
        {
            self.observe_outcome(e.backend as usize, None, now);
        }
        check
    }

    /// Records the outcome of a request to backend `b`: answered after
    /// `rtt`, or failed (`None`). Feeds the peak-EWMA latency and the
    /// recent error rate that latency-aware algorithms read.
    fn observe_outcome(&mut self, b: usize, rtt: Option<SimDuration>, now: SimTime) {
        self.outlier_outcome(b, rtt.is_none(), now);
        let v = &mut self.views[b];
        v.error_rate = score::observe_outcome(v.error_rate, rtt.is_none());
        let Some(rtt) = rtt else { return };
        let decay = match self.selector.algorithm() {
            Algorithm::PeakEwma { decay } => decay.get(),
            _ => DEFAULT_DECAY.get(),
        };
        let be = &mut self.backends[b];
        let elapsed = be
            .last_response_at
            .map_or(u64::MAX, |t| now.saturating_since(t).as_nanos());
        be.last_response_at = Some(now);
        v.latency_ns = peak_ewma::observe(
            v.latency_ns,
            rtt.as_nanos() as f32,
            elapsed,
            decay.as_nanos(),
        );
    }

    /// Re-arms every entry's idle timer after a timeout changed, so a
    /// shorter timeout takes effect at once: (slot, generation, due) to
    /// schedule.
    pub fn rearm_idle_timers(&mut self, now: SimTime) -> Vec<(u32, u32, SimTime)> {
        self.table.rearm_idle_timers(now, self.idle)
    }

    /// Backend `b` was marked down. With `Reset`, every connection through
    /// it is forgotten, and each client the backend had answered gets an RST
    /// from the VIP (returned for sending) at the sequence number it
    /// expects, which RFC 9293 makes it believe; a client still waiting for
    /// its SYN|ACK is left to retry, and its next SYN goes to a healthy
    /// backend. With `Timeout`, nothing changes and clients find out by
    /// timing out.
    pub fn backend_went_down(&mut self, b: u32) -> Vec<Packet> {
        if self.on_backend_down != OnBackendDown::Reset {
            return Vec::new();
        }
        let slots = self.table.slots_of(b);
        let mut rsts = Vec::with_capacity(slots.len());
        for slot in slots {
            let e = *self.table.entry(slot);
            // No ACK flag: in SYN-SENT an RST without one is dropped, so
            // only a connection that is open can be reset by it.
            if e.answered() {
                let rst = Packet::control(e.client.reversed(), Flags::RST, e.rcv_nxt, 0);
                rsts.push(rst);
            }
            self.table.remove(slot, &mut self.views);
        }
        self.stats.resets_sent += rsts.len() as u64;
        rsts
    }

    /// Records a probe result for backend `b`; returns the health flip.
    pub fn record_probe(
        &mut self,
        b: u32,
        ok: bool,
        rtt: Option<SimDuration>,
        now: SimTime,
    ) -> Option<HealthTransition> {
        let (rise, fall) = (self.health.rise.get(), self.health.fall.get());
        let be = &mut self.backends[b as usize];
        let flip = be.record_probe(ok, rtt, rise, fall);
        if flip == Some(HealthTransition::WentUp) {
            // Back from the dead with a clean record: an algorithm that
            // shunned it for its errors or latency must try it again.
            be.last_response_at = None;
            let v = &mut self.views[b as usize];
            v.latency_ns = 0.0;
            v.error_rate = 0.0;
            self.backend_came_up(b as usize, now);
        }
        self.refresh_health(b as usize);
        flip
    }
}
