//! The NAT balancer: a VIP in front of the backends. New flows pass
//! admission (the per-backend half-open limit) and the algorithm, get a
//! conn-table entry keyed by their 4-tuple, and have their destination
//! rewritten to the backend; replies are found by the same key and have
//! their source rewritten back to the VIP. Idle entries are swept.
//!
//! The balancer only decides; the World sends what it returns.

use crate::model::{Endpoint, Flags, FourTuple, Packet, SimDuration, SimTime};
use crate::policy::{
    BackendView, CookieJar, HealthTracker, IpFilter, MSS_TABLE, RateLimit, RateLimiter, Selector,
};
use crate::spec::{BalancerSpec, CookieMode, DropReason, HealthSpec, OnBackendDown};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

/// Probe round-trip samples kept per backend for its p95.
pub const PROBE_WINDOW: usize = 64;

/// Where a conn-table entry is in the TCP exchange it watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryState {
    /// SYN forwarded; the client's ACK not yet seen (half-open).
    SynRecv,
    /// Handshake completed.
    Established,
    /// The client sent FIN.
    FinWait,
    /// The backend answered FIN|ACK; waiting for the client's last ACK.
    Closing,
    /// A SYN cookie was good: the balancer sent the backend a SYN of its
    /// own and waits for its SYN|ACK.
    Proxying,
}

impl EntryState {
    /// Counted as half-open (not yet established).
    pub const fn is_half_open(self) -> bool {
        matches!(self, EntryState::SynRecv | EntryState::Proxying)
    }
}

/// One conn-table entry.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// The flow as the client sends it (client -> VIP).
    pub client: FourTuple,
    /// Index of the backend it was sent to.
    pub backend: u32,
    /// TCP progress seen by the balancer.
    pub state: EntryState,
    /// Last packet in either direction.
    pub last_seen: SimTime,
    /// Due time of the one idle-timer event that counts for this entry.
    pub timer_at: SimTime,
    /// Bumped when the slot is freed, so old timer events miss.
    pub generation: u32,
    /// For a connection opened by a SYN cookie: while proxying, the
    /// cookie; after, the backend's ISN minus the cookie, added to the
    /// client's acknowledgements and taken from the backend's sequence
    /// numbers.
    pub seq_delta: u32,
    /// Opened by a SYN cookie (the balancer did the client's handshake).
    pub proxied: bool,
    live: bool,
}

/// Health-check settings in force now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthConfig {
    /// Time between probes to one backend.
    pub interval: SimDuration,
    /// Time a probe may take.
    pub timeout: SimDuration,
    /// Successes to come up.
    pub rise: u32,
    /// Failures to go down.
    pub fall: u32,
}

impl From<&HealthSpec> for HealthConfig {
    fn from(h: &HealthSpec) -> HealthConfig {
        HealthConfig {
            interval: h.interval.get(),
            timeout: h.timeout.get(),
            rise: h.rise.get(),
            fall: h.fall.get(),
        }
    }
}

/// The balancer's record of one backend besides its [`BackendView`].
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
}

impl Backend {
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

/// Counters of the balancer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BalancerStats {
    /// Entries created.
    pub entries_created: u64,
    /// Half-open entries swept for idleness.
    pub half_open_expired: u64,
    /// Established entries swept for idleness.
    pub established_expired: u64,
    /// RSTs sent to clients of backends that went down.
    pub resets_sent: u64,
    /// Half-open entries forgotten to make room (early drop).
    pub early_drops: u64,
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

/// What an idle-timer event found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdleCheck {
    /// The event no longer counts (entry gone or re-armed).
    Stale,
    /// The entry was idle too long and is gone.
    Expired,
    /// Still active: check again at this time.
    Recheck(SimTime),
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
    /// Idle time before a half-open entry is swept.
    pub half_open_timeout: SimDuration,
    /// Idle time before an established entry is swept.
    pub established_timeout: SimDuration,
    /// What happens to connections of a backend marked down.
    pub on_backend_down: OnBackendDown,
    /// Health-check settings.
    pub health: HealthConfig,
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
    /// The one client segment each proxying entry keeps, by slot.
    held: FxHashMap<u32, Packet>,
    /// Half-open entries per backend, oldest first, kept only while early
    /// drop is on (entries that moved on are skipped lazily).
    half_open_fifo: Option<Vec<VecDeque<(u32, u32)>>>,
    table: FxHashMap<FourTuple, u32>,
    entries: Vec<Entry>,
    free: Vec<u32>,
}

impl Balancer {
    /// A balancer at `vip` with no backends yet.
    pub fn new(spec: &BalancerSpec, vip: Endpoint) -> Balancer {
        let mut lb = Balancer {
            vip,
            selector: Selector::new(spec.algorithm),
            views: Vec::new(),
            backends: Vec::new(),
            half_open_timeout: spec.half_open_timeout.get(),
            established_timeout: spec.established_timeout.get(),
            on_backend_down: spec.on_backend_down,
            health: HealthConfig::from(&spec.health),
            stats: BalancerStats::default(),
            validate_packets: spec.defences.validate_packets,
            filter: IpFilter::from(&spec.defences.filter),
            limiter: spec.defences.rate_limit.and_then(|r| {
                RateLimit::from_spec(&r)
                    .ok()
                    .map(|l| RateLimiter::new(l, r.sources.get() as usize))
            }),
            half_open_fifo: None,
            cookies: spec.defences.syn_cookies,
            jar: CookieJar::new(0),
            held: FxHashMap::default(),
            table: FxHashMap::default(),
            entries: Vec::new(),
            free: Vec::new(),
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
        self.backends.push(Backend {
            endpoint,
            health: HealthTracker::new(true),
            max_half_open,
            removed: false,
            picks: 0,
            probe_out: None,
            probe_seq: 0,
            probe_rtts: VecDeque::with_capacity(PROBE_WINDOW),
            probe_failures: 0,
        });
        if let Some(fifo) = &mut self.half_open_fifo {
            fifo.push(VecDeque::new());
        }
        (self.backends.len() - 1) as u32
    }

    /// The generation of `slot`, which its idle-timer events carry.
    pub fn entry_gen(&self, slot: u32) -> u32 {
        self.entries.get(slot as usize).map_or(0, |e| e.generation)
    }

    /// Entries in the conn table.
    pub fn table_len(&self) -> usize {
        self.table.len()
    }

    /// Half-open entries over all backends.
    pub fn half_open_total(&self) -> u64 {
        self.views.iter().map(|v| u64::from(v.half_open)).sum()
    }

    /// The idle timeout that applies to an entry in `state`.
    pub fn timeout_for(&self, state: EntryState) -> SimDuration {
        if state.is_half_open() {
            self.half_open_timeout
        } else {
            self.established_timeout
        }
    }

    /// Handles a packet a client sent to the VIP.
    pub fn from_client(&mut self, p: &Packet, now: SimTime, entropy: u64) -> Forward {
        if self.validate_packets && impossible_flags(p.flags) {
            return Forward::Drop(DropReason::InvalidFlags);
        }
        let bare_syn = p.flags.contains(Flags::SYN)
            && !p.flags.intersects(Flags::ACK | Flags::RST | Flags::FIN);
        if let Some(&slot) = self.table.get(&p.key) {
            // A new SYN on an entry past its handshake: the client reused
            // the port, so the old entry goes and the flow is balanced anew.
            if bare_syn && !self.entries[slot as usize].state.is_half_open() {
                self.remove(slot);
            } else {
                return self.forward_known(slot, p, now);
            }
        }
        // An ACK for no entry may answer one of our cookies.
        if !bare_syn && self.cookies != CookieMode::Off && p.flags.contains(Flags::ACK) {
            return self.accept_cookie(p, now, entropy);
        }
        // Only a bare SYN may open a flow.
        if !bare_syn {
            return Forward::Drop(DropReason::NoConnEntry);
        }
        // Admission, cheapest and most certain first, all before the SYN
        // can take a half-open slot.
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
        let b = match self.selector.pick(&self.views, &p.key, entropy) {
            Ok(b) => b,
            Err(_) => return Forward::Drop(DropReason::NoHealthyBackend),
        };
        if self.views[b].half_open >= self.backends[b].max_half_open && !self.early_drop(b) {
            if self.cookies == CookieMode::OnOverflow {
                return self.reply_with_cookie(p, now);
            }
            return Forward::Drop(DropReason::HalfOpenLimit);
        }
        let (slot, timer_at) = self.new_entry(p.key, b, EntryState::SynRecv, now);
        Forward::ToBackend {
            backend: b as u32,
            packet: self.to_backend(p, b),
            new_entry: Some((slot, timer_at)),
        }
    }

    /// Answers a SYN statelessly: a SYN|ACK from the VIP whose sequence
    /// number is the cookie.
    fn reply_with_cookie(&mut self, p: &Packet, now: SimTime) -> Forward {
        // The largest MSS of the table: lblab's segments fit any of them.
        let mss = (MSS_TABLE.len() - 1) as u8;
        let cookie = self.jar.make(&p.key, p.seq, mss, now);
        self.stats.cookies_sent += 1;
        Forward::Reply(Packet::control(
            p.key.reversed(),
            Flags::SYN | Flags::ACK,
            cookie,
            p.seq.wrapping_add(1),
        ))
    }

    /// An ACK (or the first data segment) for no entry: if it carries a good
    /// cookie, open the backend connection on the client's behalf.
    fn accept_cookie(&mut self, p: &Packet, now: SimTime, entropy: u64) -> Forward {
        if self.jar.check(&p.key, p.seq, p.ack, now).is_err() {
            return Forward::Drop(DropReason::BadCookie);
        }
        let b = match self.selector.pick(&self.views, &p.key, entropy) {
            Ok(b) => b,
            Err(_) => return Forward::Drop(DropReason::NoHealthyBackend),
        };
        self.stats.cookies_accepted += 1;
        let (slot, timer_at) = self.new_entry(p.key, b, EntryState::Proxying, now);
        let e = &mut self.entries[slot as usize];
        e.proxied = true;
        e.seq_delta = p.ack.wrapping_sub(1);
        if p.len > 0 {
            self.held.insert(slot, *p);
        }
        Forward::ToBackend {
            backend: b as u32,
            packet: self.backend_syn(p, b),
            new_entry: Some((slot, timer_at)),
        }
    }

    /// The SYN the balancer sends a backend for a proxied connection: the
    /// client's own address and ISN, so the backend sees the client.
    fn backend_syn(&self, p: &Packet, b: usize) -> Packet {
        let mut syn = Packet::control(p.key, Flags::SYN, p.seq.wrapping_sub(1), 0);
        syn.key.dst = self.backends[b].endpoint;
        syn
    }

    /// Records a new entry for `key` on backend `b`; returns its slot and
    /// first idle deadline.
    fn new_entry(
        &mut self,
        key: FourTuple,
        b: usize,
        state: EntryState,
        now: SimTime,
    ) -> (u32, SimTime) {
        let timer_at = now + self.half_open_timeout;
        let entry = Entry {
            client: key,
            backend: b as u32,
            state,
            last_seen: now,
            timer_at,
            generation: 0,
            seq_delta: 0,
            proxied: false,
            live: true,
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                let generation = self.entries[slot as usize].generation;
                self.entries[slot as usize] = Entry {
                    generation,
                    ..entry
                };
                slot
            }
            None => {
                self.entries.push(entry);
                (self.entries.len() - 1) as u32
            }
        };
        self.table.insert(key, slot);
        if let Some(fifo) = &mut self.half_open_fifo {
            let gen_now = self.entries[slot as usize].generation;
            let queue = &mut fifo[b];
            // Entries that left half-open are dropped from the front as new
            // ones arrive, so the queue holds about one timeout's worth.
            while let Some(&(s, g)) = queue.front() {
                let e = &self.entries[s as usize];
                if e.live && e.generation == g && e.state.is_half_open() {
                    break;
                }
                queue.pop_front();
            }
            queue.push_back((slot, gen_now));
        }
        self.views[b].half_open += 1;
        self.backends[b].picks += 1;
        self.stats.entries_created += 1;
        (slot, timer_at)
    }

    fn to_backend(&self, p: &Packet, b: usize) -> Packet {
        let mut out = *p;
        out.key.dst = self.backends[b].endpoint;
        out
    }

    fn forward_known(&mut self, slot: u32, p: &Packet, now: SimTime) -> Forward {
        let e = self.entries[slot as usize];
        let b = e.backend as usize;
        let f = p.flags;
        let mut packet = self.to_backend(p, b);
        self.entries[slot as usize].last_seen = now;
        if e.state == EntryState::Proxying && !f.contains(Flags::RST) {
            // The backend has not answered yet: keep the client's newest
            // segment and ask the backend again (our SYN may be lost).
            if p.len > 0 {
                self.held.insert(slot, *p);
            }
            return Forward::ToBackend {
                backend: e.backend,
                packet: self.backend_syn(p, b),
                new_entry: None,
            };
        }
        if e.proxied && f.contains(Flags::ACK) {
            packet.ack = packet.ack.wrapping_add(e.seq_delta);
        }
        if f.contains(Flags::RST) {
            self.remove(slot);
        } else {
            match e.state {
                // The client's ACK completes the handshake.
                EntryState::SynRecv if f.contains(Flags::ACK) && !f.contains(Flags::SYN) => {
                    self.set_state(slot, EntryState::Established);
                }
                EntryState::Established if f.contains(Flags::FIN) => {
                    self.set_state(slot, EntryState::FinWait);
                }
                // The client's last ACK after the backend's FIN|ACK: done.
                EntryState::Closing if f.contains(Flags::ACK) && !f.contains(Flags::FIN) => {
                    self.remove(slot);
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
    pub fn from_backend(&mut self, b: u32, p: &Packet, now: SimTime) -> Backward {
        let client_key = FourTuple::tcp(p.key.dst, self.vip);
        let Some(&slot) = self.table.get(&client_key) else {
            return Backward::Drop(DropReason::NoConnEntry);
        };
        let e = self.entries[slot as usize];
        if e.backend != b {
            return Backward::Drop(DropReason::NoConnEntry);
        }
        self.entries[slot as usize].last_seen = now;
        if e.state == EntryState::Proxying && p.flags.contains(Flags::SYN | Flags::ACK) {
            // The backend accepted: its ISN against our cookie gives the
            // offset for every later sequence number.
            let delta = p.seq.wrapping_sub(e.seq_delta);
            self.entries[slot as usize].seq_delta = delta;
            self.set_state(slot, EntryState::Established);
            let ack = Packet::control(p.key.reversed(), Flags::ACK, p.ack, p.seq.wrapping_add(1));
            let held = self.held.remove(&slot).map(|mut h| {
                h.key.dst = p.key.src;
                h.ack = h.ack.wrapping_add(delta);
                h
            });
            return Backward::ToBackend(ack, held);
        }
        if p.flags.contains(Flags::RST) {
            self.remove(slot);
        } else if e.state == EntryState::FinWait && p.flags.contains(Flags::FIN) {
            self.set_state(slot, EntryState::Closing);
        }
        let mut out = *p;
        out.key.src = self.vip;
        if e.proxied {
            out.seq = out.seq.wrapping_sub(self.entries[slot as usize].seq_delta);
        }
        Backward::ToClient(out)
    }

    fn set_state(&mut self, slot: u32, state: EntryState) {
        let e = &mut self.entries[slot as usize];
        let was_half_open = e.state.is_half_open();
        e.state = state;
        let v = &mut self.views[e.backend as usize];
        if was_half_open && !state.is_half_open() {
            v.half_open -= 1;
            v.active += 1;
        }
    }

    /// Early drop (IPVS's `drop_entry`): at the half-open limit, forget the
    /// backend's oldest half-open entry to make room. True if one went.
    fn early_drop(&mut self, b: usize) -> bool {
        let Some(fifo) = &mut self.half_open_fifo else {
            return false;
        };
        while let Some((slot, g)) = fifo[b].pop_front() {
            let e = &self.entries[slot as usize];
            if e.live && e.generation == g && e.state.is_half_open() && e.backend as usize == b {
                self.remove(slot);
                self.stats.early_drops += 1;
                return true;
            }
        }
        false
    }

    /// Turns early drop on (keeping a queue of half-open entries per
    /// backend, oldest first) or off.
    pub fn set_early_drop(&mut self, on: bool) {
        self.half_open_fifo = on.then(|| {
            let mut fifo = vec![VecDeque::new(); self.backends.len()];
            for (slot, e) in self.entries.iter().enumerate() {
                if e.live && e.state.is_half_open() {
                    fifo[e.backend as usize].push_back((slot as u32, e.generation));
                }
            }
            fifo
        });
    }

    /// Early drop is on.
    pub fn early_drop_enabled(&self) -> bool {
        self.half_open_fifo.is_some()
    }

    fn remove(&mut self, slot: u32) {
        let e = &mut self.entries[slot as usize];
        if !e.live {
            return;
        }
        e.live = false;
        e.generation = e.generation.wrapping_add(1);
        e.timer_at = SimTime::MAX;
        let v = &mut self.views[e.backend as usize];
        if e.state.is_half_open() {
            v.half_open -= 1;
        } else {
            v.active -= 1;
        }
        let key = e.client;
        self.table.remove(&key);
        self.held.remove(&slot);
        self.free.push(slot);
    }

    /// Handles an idle-timer event for `slot` due at `now`.
    pub fn on_idle_timer(&mut self, slot: u32, generation: u32, now: SimTime) -> IdleCheck {
        let Some(e) = self.entries.get(slot as usize).copied() else {
            return IdleCheck::Stale;
        };
        if !e.live || e.generation != generation || e.timer_at != now {
            return IdleCheck::Stale;
        }
        let due = e.last_seen + self.timeout_for(e.state);
        if due <= now {
            if e.state.is_half_open() {
                self.stats.half_open_expired += 1;
            } else {
                self.stats.established_expired += 1;
            }
            self.remove(slot);
            IdleCheck::Expired
        } else {
            self.entries[slot as usize].timer_at = due;
            IdleCheck::Recheck(due)
        }
    }

    /// Re-arms every entry's idle timer after a timeout changed, so a
    /// shorter timeout takes effect at once: (slot, generation, due) to schedule.
    pub fn rearm_idle_timers(&mut self, now: SimTime) -> Vec<(u32, u32, SimTime)> {
        let (half_open, established) = (self.half_open_timeout, self.established_timeout);
        let mut out = Vec::new();
        for (slot, e) in self.entries.iter_mut().enumerate() {
            if !e.live {
                continue;
            }
            let t = if e.state.is_half_open() {
                half_open
            } else {
                established
            };
            let due = (e.last_seen + t).max(now);
            e.timer_at = due;
            out.push((slot as u32, e.generation, due));
        }
        out
    }

    /// Backend `b` was marked down. With `Reset`, every connection through
    /// it is forgotten and its client gets an RST from the VIP (returned for
    /// sending); with `Timeout`, nothing changes and clients find out by
    /// timing out.
    pub fn backend_went_down(&mut self, b: u32) -> Vec<Packet> {
        if self.on_backend_down != OnBackendDown::Reset {
            return Vec::new();
        }
        let slots: Vec<u32> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.live && e.backend == b)
            .map(|(i, _)| i as u32)
            .collect();
        let mut rsts = Vec::with_capacity(slots.len());
        for slot in slots {
            let client = self.entries[slot as usize].client;
            rsts.push(Packet::control(client.reversed(), Flags::RST, 0, 0));
            self.remove(slot);
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
    ) -> Option<crate::policy::HealthTransition> {
        let (rise, fall) = (self.health.rise, self.health.fall);
        let be = &mut self.backends[b as usize];
        if let Some(rtt) = rtt {
            if be.probe_rtts.len() == PROBE_WINDOW {
                be.probe_rtts.pop_front();
            }
            be.probe_rtts.push_back(rtt);
        }
        if !ok {
            be.probe_failures += 1;
        }
        let flip = be.health.record(ok, rise, fall);
        self.views[b as usize].healthy = be.health.is_up() && !be.removed;
        flip
    }

    /// Bytes the conn table holds, for memory accounting.
    pub fn table_bytes(&self) -> usize {
        self.table.capacity() * (std::mem::size_of::<(FourTuple, u32)>() + 1)
            + self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.free.capacity() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Ip;

    fn vip() -> Endpoint {
        Endpoint::new(Ip::new(192, 0, 2, 1), 80)
    }

    fn lb(backends: u32) -> Balancer {
        let mut lb = Balancer::new(&BalancerSpec::default(), vip());
        for i in 0..backends {
            lb.add_backend(Endpoint::new(Ip::new(172, 16, 0, 1 + i as u8), 80), 1, 2);
        }
        lb
    }

    fn client(port: u16) -> Endpoint {
        Endpoint::new(Ip::new(10, 0, 0, 1), port)
    }

    fn from(port: u16, flags: Flags) -> Packet {
        Packet::control(FourTuple::tcp(client(port), vip()), flags, 1, 1)
    }

    fn reply(lb: &Balancer, b: usize, port: u16, flags: Flags) -> Packet {
        Packet::control(
            FourTuple::tcp(lb.backends[b].endpoint, client(port)),
            flags,
            1,
            1,
        )
    }

    #[test]
    fn syn_gets_an_entry_and_a_rewritten_destination() {
        let mut lb = lb(2);
        let Forward::ToBackend {
            backend,
            packet,
            new_entry,
        } = lb.from_client(&from(1, Flags::SYN), SimTime(0), 0)
        else {
            panic!("dropped")
        };
        assert_eq!(backend, 0);
        assert_eq!(packet.key.dst, lb.backends[0].endpoint);
        assert_eq!(packet.key.src, client(1));
        assert_eq!(
            new_entry.map(|e| e.1),
            Some(SimTime(0) + lb.half_open_timeout)
        );
        assert_eq!(lb.views[0].half_open, 1);
        assert_eq!(lb.table_len(), 1);
    }

    #[test]
    fn later_packets_follow_their_entry_and_replies_come_from_the_vip() {
        let mut lb = lb(3);
        lb.from_client(&from(1, Flags::SYN), SimTime(0), 0);
        lb.from_client(&from(2, Flags::SYN), SimTime(0), 0);
        let Forward::ToBackend { backend, .. } =
            lb.from_client(&from(1, Flags::ACK), SimTime(1), 0)
        else {
            panic!("dropped")
        };
        assert_eq!(backend, 0, "the flow sticks to its backend");
        assert_eq!(lb.views[0].active, 1);
        assert_eq!(lb.views[0].half_open, 0);
        let Backward::ToClient(out) =
            lb.from_backend(1, &reply(&lb, 1, 2, Flags::SYN | Flags::ACK), SimTime(2))
        else {
            panic!("not forwarded to the client")
        };
        assert_eq!(out.key.src, vip());
        assert_eq!(out.key.dst, client(2));
    }

    #[test]
    fn a_syn_reusing_a_closing_flow_starts_a_new_entry() {
        let mut lb = lb(2);
        lb.from_client(&from(1, Flags::SYN), SimTime(0), 0);
        lb.from_client(&from(1, Flags::ACK), SimTime(1), 0);
        lb.from_client(&from(1, Flags::FIN | Flags::ACK), SimTime(2), 0);
        let again = lb.from_client(&from(1, Flags::SYN), SimTime(3), 0);
        let Forward::ToBackend {
            backend, new_entry, ..
        } = again
        else {
            panic!("dropped")
        };
        assert!(new_entry.is_some());
        assert_eq!(backend, 1, "round robin moves on");
        assert_eq!((lb.views[0].active, lb.views[1].half_open), (0, 1));
        assert_eq!(lb.table_len(), 1);
    }

    #[test]
    fn reply_from_the_wrong_backend_is_dropped() {
        let mut lb = lb(2);
        lb.from_client(&from(1, Flags::SYN), SimTime(0), 0);
        let r = lb.from_backend(1, &reply(&lb, 1, 1, Flags::ACK), SimTime(1));
        assert_eq!(r, Backward::Drop(DropReason::NoConnEntry));
    }

    #[test]
    fn non_syn_without_entry_is_dropped() {
        let mut lb = lb(1);
        assert_eq!(
            lb.from_client(&from(1, Flags::ACK), SimTime(0), 0),
            Forward::Drop(DropReason::NoConnEntry)
        );
    }

    #[test]
    fn half_open_limit_drops_new_syns_for_that_backend() {
        let mut lb = lb(1);
        lb.from_client(&from(1, Flags::SYN), SimTime(0), 0);
        lb.from_client(&from(2, Flags::SYN), SimTime(0), 0);
        assert_eq!(
            lb.from_client(&from(3, Flags::SYN), SimTime(0), 0),
            Forward::Drop(DropReason::HalfOpenLimit)
        );
        // A retransmitted SYN of an admitted flow still passes.
        assert!(matches!(
            lb.from_client(&from(1, Flags::SYN), SimTime(0), 0),
            Forward::ToBackend { .. }
        ));
    }

    #[test]
    fn no_healthy_backend_is_a_named_drop() {
        let mut lb = lb(1);
        lb.views[0].healthy = false;
        assert_eq!(
            lb.from_client(&from(1, Flags::SYN), SimTime(0), 0),
            Forward::Drop(DropReason::NoHealthyBackend)
        );
    }

    #[test]
    fn full_close_removes_the_entry() {
        let mut lb = lb(1);
        lb.from_client(&from(1, Flags::SYN), SimTime(0), 0);
        lb.from_client(&from(1, Flags::ACK), SimTime(1), 0);
        lb.from_client(&from(1, Flags::FIN | Flags::ACK), SimTime(2), 0);
        let back = lb.from_backend(0, &reply(&lb, 0, 1, Flags::FIN | Flags::ACK), SimTime(3));
        assert!(matches!(back, Backward::ToClient(_)));
        assert_eq!(lb.table_len(), 1);
        lb.from_client(&from(1, Flags::ACK), SimTime(4), 0);
        assert_eq!(lb.table_len(), 0);
        assert_eq!(lb.views[0].active, 0);
    }

    #[test]
    fn idle_timer_rechecks_active_entries_and_expires_idle_ones() {
        let mut lb = lb(1);
        let Forward::ToBackend {
            new_entry: Some((slot, due)),
            ..
        } = lb.from_client(&from(1, Flags::SYN), SimTime(0), 0)
        else {
            panic!("no entry")
        };
        // Activity at 1 s pushes the deadline to 3 s.
        lb.from_client(&from(1, Flags::SYN), SimTime(1_000_000_000), 0);
        let again = SimTime(3_000_000_000);
        assert_eq!(lb.on_idle_timer(slot, 0, due), IdleCheck::Recheck(again));
        assert_eq!(lb.on_idle_timer(slot, 0, due), IdleCheck::Stale);
        assert_eq!(lb.on_idle_timer(slot, 0, again), IdleCheck::Expired);
        assert_eq!(lb.table_len(), 0);
        assert_eq!(lb.views[0].half_open, 0);
        assert_eq!(lb.stats.half_open_expired, 1);
    }

    #[test]
    fn reset_mode_sends_rst_to_every_client_of_a_dead_backend() {
        let mut lb = lb(2);
        lb.on_backend_down = OnBackendDown::Reset;
        for port in 1..=4 {
            lb.from_client(&from(port, Flags::SYN), SimTime(0), 0);
        }
        let rsts = lb.backend_went_down(0);
        assert_eq!(rsts.len(), 2);
        assert!(
            rsts.iter()
                .all(|p| p.flags == Flags::RST && p.key.src == vip())
        );
        assert_eq!(lb.table_len(), 2);
        assert_eq!(lb.views[0].half_open, 0);
    }

    #[test]
    fn timeout_mode_leaves_entries_alone() {
        let mut lb = lb(1);
        lb.from_client(&from(1, Flags::SYN), SimTime(0), 0);
        assert!(lb.backend_went_down(0).is_empty());
        assert_eq!(lb.table_len(), 1);
    }

    #[test]
    fn impossible_flags_are_dropped_with_their_own_reason() {
        let mut lb = lb(1);
        for flags in [
            Flags::NONE,
            Flags::SYN | Flags::FIN,
            Flags::SYN | Flags::RST,
            Flags::FIN | Flags::RST,
        ] {
            assert_eq!(
                lb.from_client(&from(1, flags), SimTime(0), 0),
                Forward::Drop(DropReason::InvalidFlags),
                "{flags}"
            );
        }
        lb.validate_packets = false;
        assert_eq!(
            lb.from_client(&from(1, Flags::SYN | Flags::FIN), SimTime(0), 0),
            Forward::Drop(DropReason::NoConnEntry)
        );
    }

    #[test]
    fn a_denied_source_never_takes_a_half_open_slot() {
        let mut lb = lb(1);
        let cidr = |s: &str| crate::model::Cidr::parse(s).unwrap();
        lb.filter = IpFilter::new(vec![cidr("10.0.0.0/8")], vec![cidr("10.0.0.1/32")]);
        assert_eq!(
            lb.from_client(&from(1, Flags::SYN), SimTime(0), 0),
            Forward::Drop(DropReason::Filtered)
        );
        assert_eq!(lb.views[0].half_open, 0);
        let other = Packet::control(
            FourTuple::tcp(Endpoint::new(Ip::new(10, 0, 0, 2), 1), vip()),
            Flags::SYN,
            1,
            0,
        );
        assert!(matches!(
            lb.from_client(&other, SimTime(0), 0),
            Forward::ToBackend { .. }
        ));
        let outsider = Packet::control(
            FourTuple::tcp(Endpoint::new(Ip::new(198, 18, 0, 1), 1), vip()),
            Flags::SYN,
            1,
            0,
        );
        assert_eq!(
            lb.from_client(&outsider, SimTime(0), 0),
            Forward::Drop(DropReason::Filtered)
        );
    }

    #[test]
    fn the_rate_limit_refuses_the_fourth_connection_in_a_minute() {
        let mut lb = lb(1);
        lb.views[0].half_open = 0;
        lb.backends[0].max_half_open = 100;
        let limit = crate::policy::RateLimit::new(3, SimDuration::from_secs(60), 3).unwrap();
        lb.limiter = Some(RateLimiter::new(limit, 16));
        for port in 1..=3 {
            assert!(matches!(
                lb.from_client(&from(port, Flags::SYN), SimTime(0), 0),
                Forward::ToBackend { .. }
            ));
        }
        assert_eq!(
            lb.from_client(&from(4, Flags::SYN), SimTime(0), 0),
            Forward::Drop(DropReason::RateLimited)
        );
        // A retransmitted SYN of an admitted flow is not a new connection.
        assert!(matches!(
            lb.from_client(&from(1, Flags::SYN), SimTime(1), 0),
            Forward::ToBackend { .. }
        ));
        // 20 s later the bucket has one more.
        let later = SimTime(20_000_000_000);
        assert!(matches!(
            lb.from_client(&from(5, Flags::SYN), later, 0),
            Forward::ToBackend { .. }
        ));
    }

    #[test]
    fn early_drop_forgets_the_oldest_half_open_entry_to_admit_a_new_syn() {
        let mut lb = lb(1);
        lb.set_early_drop(true);
        // Limit 2: ports 1 and 2 fill it, 1 completes its handshake.
        lb.from_client(&from(1, Flags::SYN), SimTime(0), 0);
        lb.from_client(&from(2, Flags::SYN), SimTime(1), 0);
        lb.from_client(&from(3, Flags::SYN), SimTime(2), 0);
        assert_eq!(
            lb.stats.early_drops, 1,
            "port 1's entry made room for port 3"
        );
        assert_eq!(lb.views[0].half_open, 2);
        // Port 3 completes its handshake, port 4 takes the free slot.
        lb.from_client(&from(3, Flags::ACK), SimTime(3), 0);
        lb.from_client(&from(4, Flags::SYN), SimTime(4), 0);
        assert_eq!(lb.stats.early_drops, 1);
        // Full again: port 2 is the oldest still half-open (3 moved on).
        assert!(matches!(
            lb.from_client(&from(5, Flags::SYN), SimTime(5), 0),
            Forward::ToBackend { .. }
        ));
        assert_eq!(lb.stats.early_drops, 2);
        assert_eq!(
            lb.from_client(&from(2, Flags::ACK), SimTime(6), 0),
            Forward::Drop(DropReason::NoConnEntry)
        );
        assert_eq!((lb.views[0].half_open, lb.views[0].active), (2, 1));
        lb.set_early_drop(false);
        assert_eq!(
            lb.from_client(&from(6, Flags::SYN), SimTime(7), 0),
            Forward::Drop(DropReason::HalfOpenLimit)
        );
    }

    #[test]
    fn probe_p95_uses_recent_samples() {
        let mut lb = lb(1);
        for ms in 1..=100u64 {
            lb.record_probe(0, true, Some(SimDuration::from_millis(ms)));
        }
        // The window holds the last 64 samples: 37..=100 ms.
        assert_eq!(
            lb.backends[0].probe_p95(),
            Some(SimDuration::from_millis(97))
        );
    }
}
