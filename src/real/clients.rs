//! The lab's clients as tokio tasks: a closed population looping
//! connect, send, close, think; open arrivals at a Poisson rate; and the
//! floods that are real on loopback (connection floods, slow senders).
//! Each client draws from its own generator seeded from the run's seed
//! and its number, and connects from its own loopback address (the
//! simulation's 10.b.c.d becomes 127.b.c.d), so per-source limits and
//! filters see distinct sources.

use super::book::Book;
use super::connection::{self, Deadlines, Plan, Timing};
use super::link::{LinkDelay, Pacer};
use crate::model::Ip;
use crate::sim::{client_ip, sample};
use crate::spec::{AttackKind, ClosedSpec, FloodSpec, OpenSpec, TcpSpec};
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;

/// Open arrivals are numbered from here, past any closed population.
const OPEN_BASE: u32 = 1 << 24;

/// A slow sender's pause between its one-byte segments (as simulated).
const SLOW_SENDER_PAUSE: Duration = Duration::from_millis(1500);

/// The loopback address standing for a simulated address `a.b.c.d`.
pub fn loopback_of(ip: Ip) -> IpAddr {
    let [_, b, c, d] = ip.0.to_be_bytes();
    IpAddr::V4(Ipv4Addr::new(127, b, c, d))
}

/// What every client task shares.
#[derive(Debug)]
pub struct Workload {
    /// Where clients connect: the balancer.
    pub target: SocketAddr,
    /// Their counters.
    pub book: Arc<Book>,
    /// The one-way delay of a client's writes.
    pub delay: Arc<LinkDelay>,
    seed: u64,
    tcp: Mutex<TcpSpec>,
    closed: Option<ClosedSpec>,
    open: Option<OpenSpec>,
    population: AtomicU32,
    started: AtomicU32,
    rate: Mutex<f64>,
    arrivals: AtomicU64,
    alive: Mutex<HashMap<u32, CancellationToken>>,
    floods: Mutex<Vec<CancellationToken>>,
    /// Stops every task of the run.
    pub stop: CancellationToken,
}

fn mix(seed: u64, n: u64) -> u64 {
    // SplitMix64's finaliser: neighbouring numbers get unrelated streams.
    let mut z = seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Workload {
    /// The workload of a lab's clients, aimed at `target`.
    pub fn new(
        lab: &crate::spec::Lab,
        seed: u64,
        target: SocketAddr,
        book: Arc<Book>,
        delay: Arc<LinkDelay>,
    ) -> Arc<Workload> {
        let c = &lab.clients;
        Arc::new(Workload {
            target,
            book,
            delay,
            seed,
            tcp: Mutex::new(c.tcp),
            closed: c.closed.clone(),
            open: c.open.clone(),
            population: AtomicU32::new(c.closed.as_ref().map_or(0, |s| s.population)),
            started: AtomicU32::new(0),
            rate: Mutex::new(c.open.as_ref().map_or(0.0, |o| o.rate.get())),
            arrivals: AtomicU64::new(0),
            alive: Mutex::new(HashMap::new()),
            floods: Mutex::new(Vec::new()),
            stop: CancellationToken::new(),
        })
    }

    /// Starts every client and the lab's floods on `rt`.
    pub fn start(self: &Arc<Self>, rt: &Handle, floods: &[FloodSpec]) {
        self.grow(rt);
        if self.open.is_some() {
            rt.spawn(Arc::clone(self).arrivals_task(rt.clone()));
        }
        for f in floods {
            self.flood(rt, *f);
        }
    }

    /// Deadlines from the clients' TCP timers now.
    pub fn deadlines(&self) -> Deadlines {
        Deadlines::of(&self.tcp.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Changes the clients' TCP timers from the next connection on.
    pub fn set_tcp(&self, change: impl FnOnce(&mut TcpSpec)) {
        change(&mut self.tcp.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// Changes the population: new clients start at once, surplus ones
    /// leave after their current connection.
    pub fn set_population(self: &Arc<Self>, rt: &Handle, n: u32) {
        self.population.store(n, Relaxed);
        self.grow(rt);
    }

    /// Changes the open-arrival rate.
    pub fn set_rate(&self, rate: f64) {
        *self.rate.lock().unwrap_or_else(PoisonError::into_inner) = rate;
    }

    /// Kills client `i` now: its connection vanishes. False if it is not
    /// alive.
    pub fn kill(&self, i: u32) -> bool {
        let token = self
            .alive
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&i);
        token.map(|t| t.cancel()).is_some()
    }

    /// Numbers of the closed clients alive now, in order.
    pub fn alive(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .alive
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .copied()
            .collect();
        v.sort_unstable();
        v
    }

    /// The clients' TCP timers now.
    pub fn tcp(&self) -> TcpSpec {
        *self.tcp.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every open arrival the lab allows has arrived (true without open
    /// arrivals).
    pub fn arrivals_done(&self) -> bool {
        match &self.open {
            None => true,
            Some(o) => o.limit.is_some_and(|l| self.arrivals.load(Relaxed) >= l),
        }
    }

    /// Stops every flood running.
    pub fn stop_floods(&self) {
        for t in self
            .floods
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            t.cancel();
        }
    }

    fn grow(self: &Arc<Self>, rt: &Handle) {
        let Some(spec) = &self.closed else { return };
        let want = self.population.load(Relaxed);
        while self.started.load(Relaxed) < want {
            let i = self.started.fetch_add(1, Relaxed);
            let token = self.stop.child_token();
            self.alive
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(i, token.clone());
            self.book.born();
            rt.spawn(Arc::clone(self).closed_client(i, spec.clone(), token));
        }
    }

    fn plan(
        &self,
        rng: &mut Pcg64Mcg,
        segments: &crate::spec::Dist<u64>,
        size: &crate::spec::Dist<u64>,
        gap: &crate::spec::Dist<crate::spec::Dur>,
    ) -> Plan {
        let n = sample(segments, rng).max(1);
        let segments: Vec<u64> = (0..n).map(|_| sample(size, rng)).collect();
        let gaps = (1..n)
            .map(|_| Duration::from_nanos(sample(gap, rng).get().as_nanos()))
            .collect();
        Plan { segments, gaps }
    }

    async fn closed_client(self: Arc<Self>, i: u32, spec: ClosedSpec, token: CancellationToken) {
        let mut rng = Pcg64Mcg::seed_from_u64(mix(self.seed, u64::from(i)));
        let source = loopback_of(client_ip(i as usize));
        let spread = spec.start_spread.get().as_nanos();
        let offset = if spread == 0 {
            0
        } else {
            rand::RngExt::random_range(&mut rng, 0..spread)
        };
        let life = async {
            let mut pacer = Pacer::default();
            tokio::time::sleep(Duration::from_nanos(offset)).await;
            let mut made = 0u64;
            loop {
                if i >= self.population.load(Relaxed) {
                    return Leaving::Retired;
                }
                let plan = self.plan(&mut rng, &spec.segments, &spec.segment_size, &spec.gap);
                let deadlines = self.deadlines();
                let mut timing = Timing {
                    delay: &self.delay,
                    pacer: &mut pacer,
                };
                connection::run(
                    &self.book,
                    source,
                    self.target,
                    &plan,
                    deadlines,
                    &mut timing,
                )
                .await;
                made += 1;
                if spec.connections.is_some_and(|limit| made >= limit) {
                    return Leaving::Done;
                }
                let think = sample(&spec.think, &mut rng).get().as_nanos();
                pacer.sleep(Duration::from_nanos(think)).await;
            }
        };
        let leaving = tokio::select! {
            biased;
            () = token.cancelled() => Leaving::Killed,
            l = life => l,
        };
        self.alive
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&i);
        match leaving {
            Leaving::Done => self.book.finished(),
            Leaving::Retired => {
                self.book.retired();
                // A later growth may start this number again.
                self.started.fetch_min(i, Relaxed);
            }
            Leaving::Killed if self.stop.is_cancelled() => self.book.retired(),
            // Its connection, if it had one, was booked as killed when
            // the kill dropped it.
            Leaving::Killed => self.book.killed(),
        }
    }
}

impl Workload {
    async fn arrivals_task(self: Arc<Self>, rt: Handle) {
        let Some(spec) = self.open.clone() else {
            return;
        };
        let mut rng = Pcg64Mcg::seed_from_u64(mix(self.seed, u64::from(OPEN_BASE) - 1));
        // Arrival times are kept on an absolute schedule, so the rate holds
        // however late the timer wakes.
        let mut next = tokio::time::Instant::now();
        loop {
            let rate = *self.rate.lock().unwrap_or_else(PoisonError::into_inner);
            if rate <= 0.0 {
                tokio::select! {
                    () = self.stop.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
                next = tokio::time::Instant::now();
                continue;
            }
            let gap = crate::sim::standard_exponential(&mut rng) / rate;
            next += Duration::from_secs_f64(gap.min(3600.0));
            tokio::select! {
                () = self.stop.cancelled() => return,
                () = tokio::time::sleep_until(next) => {}
            }
            let k = self.arrivals.fetch_add(1, Relaxed);
            if spec.limit.is_some_and(|limit| k >= limit) {
                return;
            }
            rt.spawn(Arc::clone(&self).one_arrival(k, spec.clone()));
        }
    }

    async fn one_arrival(self: Arc<Self>, k: u64, spec: OpenSpec) {
        let number = u64::from(OPEN_BASE) + k;
        let mut rng = Pcg64Mcg::seed_from_u64(mix(self.seed, number));
        let plan = self.plan(&mut rng, &spec.segments, &spec.segment_size, &spec.gap);
        // Open arrivals take the addresses after the closed population's,
        // round the 2^24 loopback addresses there are.
        let index = (u64::from(self.population.load(Relaxed)) + k) % (1 << 24);
        let source = loopback_of(client_ip(index as usize));
        let deadlines = self.deadlines();
        let book = &self.book;
        let mut pacer = Pacer::default();
        let mut timing = Timing {
            delay: &self.delay,
            pacer: &mut pacer,
        };
        tokio::select! {
            () = self.stop.cancelled() => {}
            _ = connection::run(book, source, self.target, &plan, deadlines, &mut timing) => {}
        }
    }

    /// Starts a flood that is real on loopback: connections that send one
    /// segment and hold, or slow senders; a spoofed SYN flood is refused
    /// before a run starts.
    pub fn flood(self: &Arc<Self>, rt: &Handle, spec: FloodSpec) {
        if spec.kind == AttackKind::SpoofedSyn {
            return;
        }
        let token = self.stop.child_token();
        self.floods
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(token.clone());
        rt.spawn(Arc::clone(self).flood_task(rt.clone(), spec, token));
    }

    async fn flood_task(self: Arc<Self>, rt: Handle, spec: FloodSpec, token: CancellationToken) {
        let wait = |d: crate::spec::Dur| Duration::from_nanos(d.get().as_nanos());
        let until = spec
            .duration
            .map(|d| tokio::time::Instant::now() + wait(spec.start) + wait(d));
        tokio::select! {
            () = token.cancelled() => return,
            () = tokio::time::sleep(wait(spec.start)) => {}
        }
        let rate = spec.rate.get().max(1e-3);
        let mut next = tokio::time::Instant::now();
        let mut k = 0u64;
        loop {
            next += Duration::from_secs_f64(1.0 / rate);
            if until.is_some_and(|u| next >= u) {
                token.cancel();
                return;
            }
            tokio::select! {
                () = token.cancelled() => return,
                () = tokio::time::sleep_until(next) => {}
            }
            // Flood sources stand where the simulation puts them,
            // 198.18.0.0/15, which maps to 127.18.x.y and 127.19.x.y.
            let source = Ip::new(198, 18, 0, 0).offset((k % u64::from(spec.sources.get())) as u32);
            k += 1;
            self.book.flood_syns.fetch_add(1, Relaxed);
            rt.spawn(hold(
                self.target,
                loopback_of(source),
                spec.kind,
                token.clone(),
            ));
        }
    }
}

/// One flood connection: one segment then silence, or a byte every
/// [`SLOW_SENDER_PAUSE`], until the flood stops.
async fn hold(target: SocketAddr, source: IpAddr, kind: AttackKind, token: CancellationToken) {
    let attack = async {
        let mut stream = connection::connect(source, target).await.ok()?;
        super::wire::write_segment(&mut stream, 1).await.ok()?;
        loop {
            if kind == AttackKind::SlowSenders {
                tokio::time::sleep(SLOW_SENDER_PAUSE).await;
                super::wire::write_segment(&mut stream, 1).await.ok()?;
            } else {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
        }
        #[allow(unreachable_code)]
        Some(())
    };
    tokio::select! {
        () = token.cancelled() => {}
        _ = attack => {}
    }
}

/// Why a closed client's task ended.
enum Leaving {
    Done,
    Retired,
    Killed,
}
