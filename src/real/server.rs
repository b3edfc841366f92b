//! A lab's server on a real socket: `workers` segments served at once,
//! each holding a worker for a service time drawn from the lab's
//! distribution, the rest waiting in line; past `max_connections`
//! established connections a new one is reset at once, as the simulated
//! server refuses a SYN with an RST.

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
use tokio::sync::Semaphore;

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
        while wire::read_segment(stream, &mut buf).await?.is_some() {
            if first {
                self.stats.carried.fetch_add(1, Relaxed);
                first = false;
            }
            self.stats.queued.fetch_add(1, Relaxed);
            let permit = self.workers.acquire().await;
            self.stats.queued.fetch_sub(1, Relaxed);
            let work = self.draw_service_time();
            if !work.is_zero() {
                tokio::time::sleep(work).await;
            }
            drop(permit);
            self.stats.served.fetch_add(1, Relaxed);
            self.delay.wait().await;
            stream.write_all(&[ACK]).await?;
        }
        stream.shutdown().await
    }
}

/// Takes one off the established count when a connection ends, however
/// it ends (a kill drops the future mid-way).
struct Held<'a>(&'a AtomicU64);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

impl Service for LabService {
    fn serve(self: Arc<Self>, mut stream: TcpStream) -> Serving {
        Box::pin(async move {
            let before = self.stats.established.fetch_add(1, Relaxed);
            let _held = Held(&self.stats.established);
            if before >= self.max_connections {
                self.stats.refused.fetch_add(1, Relaxed);
                // A zero linger makes the close an RST, as a full server's.
                return stream.set_zero_linger();
            }
            let _ = stream.set_nodelay(true);
            self.serve_segments(&mut stream).await
        })
    }
}
