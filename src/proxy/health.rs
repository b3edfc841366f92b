//! Active health checks: one task per backend probes it every interval (a
//! TCP connect, or `GET /health` expecting 200), and the `policy/` rise and
//! fall tracker decides when it flips. Each flip is logged with how long the
//! backend had been in its previous state.

use super::config::{HealthConfig, ProbeKind};
use super::pool::Backend;
use super::shared::Shared;
use crate::policy::{HealthTracker, HealthTransition};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// The most of a probe's answer read: the status line is all that counts.
const PROBE_READ: usize = 512;

/// Probes `backend` until it leaves the pool or `stop` is cancelled.
pub async fn watch(backend: Arc<Backend>, shared: Arc<Shared>, stop: CancellationToken) {
    let mut tracker = HealthTracker::new(backend.healthy.load(Relaxed));
    let mut draws = seed_for(&backend);
    loop {
        let health = shared.config.load().health.clone();
        let started = Instant::now();
        let ok = tokio::select! {
            ok = probe(backend.config.address, &health) => ok,
            () = stop.cancelled() => return,
            () = backend.retired.cancelled() => return,
        };
        if ok {
            backend.probe_times.record(started.elapsed());
        }
        if let Some(flip) = tracker.record(ok, health.rise, health.fall) {
            flipped(&backend, flip);
        }
        let wait = health.interval + jitter(&mut draws, health.jitter);
        tokio::select! {
            () = tokio::time::sleep_until((started + wait).into()) => {}
            () = stop.cancelled() => return,
            () = backend.retired.cancelled() => return,
        }
    }
}

/// Records a flip and logs it with the time spent in the old state.
fn flipped(backend: &Backend, flip: HealthTransition) {
    let up = flip == HealthTransition::WentUp;
    if up {
        backend.clear_record();
    }
    backend.healthy.store(up, Relaxed);
    let mut since = backend.since.lock().unwrap_or_else(|p| p.into_inner());
    let lasted = since.elapsed();
    *since = Instant::now();
    let name = &backend.config.name;
    if up {
        tracing::info!(backend = %name, down_for = ?lasted, "backend up");
    } else {
        tracing::warn!(backend = %name, up_for = ?lasted, "backend down");
    }
}

/// One probe of `address`: true if it passed within the timeout.
pub async fn probe(address: SocketAddr, health: &HealthConfig) -> bool {
    let attempt = async {
        let mut stream = TcpStream::connect(address).await.ok()?;
        match &health.kind {
            ProbeKind::Tcp => Some(true),
            ProbeKind::Http { path } => Some(http_ok(&mut stream, address, path).await),
        }
    };
    matches!(
        tokio::time::timeout(health.timeout, attempt).await,
        Ok(Some(true))
    )
}

/// Asks for `path` and reads the status line: 200 passes.
async fn http_ok(stream: &mut TcpStream, address: SocketAddr, path: &str) -> bool {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nUser-Agent: lblab-health\r\n\
         Connection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut buf = [0u8; PROBE_READ];
    let mut filled = 0;
    while filled < buf.len() {
        match stream.read(&mut buf[filled..]).await {
            Ok(0) | Err(_) => break,
            Ok(n) => filled += n,
        }
        if buf[..filled].contains(&b'\n') {
            break;
        }
    }
    status_is_200(&buf[..filled])
}

/// `HTTP/1.x 200 ...` on the first line.
fn status_is_200(head: &[u8]) -> bool {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let mut parts = line.split(|&b| b == b' ');
    matches!(
        (parts.next(), parts.next()),
        (Some(version), Some(b"200")) if version.starts_with(b"HTTP/1.")
    )
}

/// A per-backend seed for the jitter, so probes of many backends spread.
fn seed_for(backend: &Backend) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    backend.config.address.hash(&mut h);
    // Xorshift is stuck at zero; any other seed works.
    h.finish() | 1
}

/// A random part of `max`, from a xorshift stream.
fn jitter(state: &mut u64, max: Duration) -> Duration {
    if max.is_zero() {
        return Duration::ZERO;
    }
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    let nanos = max.as_nanos().min(u128::from(u64::MAX)) as u64;
    Duration::from_nanos(*state % nanos.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_200_status_line_passes() {
        assert!(status_is_200(b"HTTP/1.1 200 OK\r\n"));
        assert!(status_is_200(b"HTTP/1.0 200 OK\r\nX: y\r\n"));
        assert!(!status_is_200(b"HTTP/1.1 503 Service Unavailable\r\n"));
        assert!(!status_is_200(b"HTTP/1.1 2000 OK\r\n"));
        assert!(!status_is_200(b"SSH-2.0 200\r\n"));
        assert!(!status_is_200(b""));
    }

    #[test]
    fn jitter_stays_below_its_bound_and_varies() {
        let mut s = 12345;
        let max = Duration::from_millis(100);
        let draws: Vec<_> = (0..100).map(|_| jitter(&mut s, max)).collect();
        assert!(draws.iter().all(|d| *d < max));
        assert!(draws.iter().any(|d| *d != draws[0]));
        assert_eq!(jitter(&mut s, Duration::ZERO), Duration::ZERO);
    }
}
