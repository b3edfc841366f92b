//! A lab's server on a real socket: `workers` segments served at once,
//! each holding a worker for a service time drawn from the lab's
//! distribution, the rest waiting in line; past `max_connections`
//! established connections a new one is reset at once, as the simulated
//! server refuses a SYN with an RST.
//!
//! A killed server goes silent, as the simulation's does (it "drops
//! everything until revived"): its connections are frozen, held open and
//! never answered, so their clients time out as in the lab rather than
//! seeing a reset the lab never shows.

use super::wire::{self, ACK};
use crate::backends::{Service, Serving};
use crate::sim::sample;
use crate::spec::{Dist, Dur, ServerSpec};
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, watch};

/// What one lab server counts, across kills and revives.
#[derive(Debug, Default)]
pub struct ServerStats {
    /// Connections it holds now.
    pub established: AtomicU64,
    /// Connections that brought at least one segment (a TCP health probe
    /// brings none, so these are the clients' connections).
    pub carried: AtomicU64,
    /// Segments served.
    pub served: AtomicU64,
    /// Segments waiting for a worker now.
    pub queued: AtomicU64,
    /// Connections reset for being past `max_connections`.
    pub refused: AtomicU64,
}

/// The protocol a lab server speaks, with its workers and its draws.
#[derive(Debug)]
pub struct LabService {
    workers: Semaphore,
    service_time: Dist<Dur>,
    max_connections: u64,
    rng: Mutex<Pcg64Mcg>,
    /// One-way delay added before each acknowledgement (the link's).
    delay: Arc<super::link::LinkDelay>,
    /// Its counters, shared with the engine.
    pub stats: Arc<ServerStats>,
    frozen: watch::Sender<bool>,
    /// Frozen connections, held open until the server is revived.
    buried: Mutex<Vec<std::net::TcpStream>>,
}

impl LabService {
    /// The service of `spec`, drawing service times from `seed`.
    pub fn new(spec: &ServerSpec, seed: u64, delay: Arc<super::link::LinkDelay>) -> LabService {
        LabService {
            workers: Semaphore::new(spec.workers.get() as usize),
            service_time: spec.service_time,
            max_connections: u64::from(spec.max_connections.get()),
            rng: Mutex::new(Pcg64Mcg::seed_from_u64(seed)),
            delay,
            stats: Arc::new(ServerStats::default()),
            frozen: watch::Sender::new(false),
            buried: Mutex::new(Vec::new()),
        }
    }

    /// Goes silent: every connection stops answering and is held open.
    pub fn freeze(&self) {
        self.frozen.send_replace(true);
    }

    /// Answers again; the frozen connections are closed (their clients
    /// gave up on them long ago).
    pub fn thaw(&self) {
        self.frozen.send_replace(false);
        self.buried
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    fn bury(&self, stream: TcpStream) {
        // Out of the reactor, the socket stays open and nobody reads it.
        if let Ok(s) = stream.into_std() {
            self.buried
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(s);
        }
    }

    fn draw_service_time(&self) -> Duration {
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        let d = sample(&self.service_time, &mut *rng);
        Duration::from_nanos(d.get().as_nanos())
    }

    async fn serve_segments(&self, stream: &mut TcpStream) -> std::io::Result<()> {
        let mut buf = Vec::new();
        let mut first = true;
        let mut pacer = super::link::Pacer::default();
        while wire::read_segment(stream, &mut buf).await?.is_some() {
            if first {
                self.stats.carried.fetch_add(1, Relaxed);
                first = false;
            }
            let waiting = Held::new(&self.stats.queued);
            let permit = self.workers.acquire().await;
            drop(waiting);
            let work = self.draw_service_time();
            pacer.sleep(work).await;
            drop(permit);
            self.stats.served.fetch_add(1, Relaxed);
            self.delay.wait(&mut pacer).await;
            stream.write_all(&[ACK]).await?;
        }
        stream.shutdown().await
    }
}

/// One on a gauge while it lives: taken off however its future ends
/// (a kill or a freeze drops it mid-way).
struct Held<'a>(&'a AtomicU64);

impl<'a> Held<'a> {
    fn new(gauge: &'a AtomicU64) -> Held<'a> {
        gauge.fetch_add(1, Relaxed);
        Held(gauge)
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

impl Service for LabService {
    fn serve(self: Arc<Self>, mut stream: TcpStream) -> Serving {
        Box::pin(async move {
            let mut frozen = self.frozen.subscribe();
            if *frozen.borrow() {
                self.bury(stream);
                return Ok(());
            }
            let before = self.stats.established.load(Relaxed);
            let _held = Held::new(&self.stats.established);
            if before >= self.max_connections {
                self.stats.refused.fetch_add(1, Relaxed);
                // A zero linger makes the close an RST, as a full server's.
                return stream.set_zero_linger();
            }
            let _ = stream.set_nodelay(true);
            let served = tokio::select! {
                biased;
                _ = frozen.wait_for(|f| *f) => None,
                r = self.serve_segments(&mut stream) => Some(r),
            };
            match served {
                Some(result) => result,
                None => {
                    self.bury(stream);
                    Ok(())
                }
            }
        })
    }
}
