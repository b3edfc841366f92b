//! One client connection, after admission: pick a backend (sticky first),
//! connect with failover, then copy bytes both ways with half-close until
//! both directions are done or the connection idles out (shutdown cuts the
//! whole task from outside).

use super::activity::Activity;
use super::pool::{Backend, Pool};
use super::pump::{End, pump};
use super::shared::{Shared, policy_ip};
use super::stats::Rejection;
use crate::proxy::config::ProxyConfig;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// What a client is sent, with `respond_503`, when no backend can take it.
pub const RESPONSE_503: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
Content-Type: text/plain\r\nContent-Length: 20\r\nConnection: close\r\n\r\n\
no backend available";

/// How long the proxy keeps reading (and discarding) a refused client's
/// request after a 503, so closing does not reset the answer away.
const LINGER_AFTER_503: Duration = Duration::from_millis(500);

/// Proxies `client` (from `peer`) to a backend until the exchange ends;
/// `plain` says the client is a bare TCP stream (not TLS).
pub async fn serve<S>(mut client: S, plain: bool, peer: SocketAddr, shared: Arc<Shared>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let config = shared.config.load_full();
    let pool = shared.pool.load_full();
    let (backend, mut upstream) = match connect(&shared, &config, &pool, peer).await {
        Ok(found) => found,
        Err(why) => {
            shared.stats.reject(why);
            tracing::info!(%peer, reason = %why, "refused");
            if config.respond_503 {
                answer_503(client).await;
            }
            return;
        }
    };
    shared.stats.proxied.fetch_add(1, Relaxed);
    backend.total.fetch_add(1, Relaxed);
    backend.active.fetch_add(1, Relaxed);
    let _active = ActiveGuard(&backend);
    if let Some(ttl) = config.sticky {
        shared
            .sticky
            .set(peer.ip(), backend.config.address, Instant::now(), ttl);
    }
    tracing::debug!(%peer, backend = %backend.config.name, "proxying");
    let activity = Activity::new();
    let from_client = End {
        stream: &mut client,
        read_bytes: &backend.bytes_to,
        plain,
    };
    let from_backend = End {
        stream: &mut upstream,
        read_bytes: &backend.bytes_from,
        plain: true,
    };
    tokio::select! {
        result = pump(from_client, from_backend, &activity) => {
            if let Err(e) = result {
                tracing::debug!(%peer, backend = %backend.config.name, error = %e, "connection ended");
            }
        }
        () = idle(&activity, config.idle_timeout) => {
            shared.stats.idle_closed.fetch_add(1, Relaxed);
            tracing::info!(%peer, backend = %backend.config.name, "closed: idle timeout");
        }
    }
}

/// Decrements a backend's live count however the connection ends.
struct ActiveGuard<'a>(&'a Backend);

impl Drop for ActiveGuard<'_> {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Relaxed);
    }
}

/// Connects to a backend for `peer`: its sticky backend if it has a live
/// session there, else the algorithm's pick; a failed connect is retried on
/// another backend, up to `connect_tries` in all.
async fn connect(
    shared: &Shared,
    config: &ProxyConfig,
    pool: &Pool,
    peer: SocketAddr,
) -> Result<(Arc<Backend>, TcpStream), Rejection> {
    let (ip, _) = policy_ip(peer.ip());
    let mut tried: Vec<usize> = Vec::new();
    for attempt in 0..config.connect_tries {
        let sticky = (attempt == 0 && config.sticky.is_some())
            .then(|| sticky_choice(shared, pool, peer))
            .flatten();
        let picking = Instant::now();
        let picked = sticky.map_or_else(|| pool.pick(ip, &tried), Ok);
        shared.pick_seconds.observe(picking.elapsed().as_secs_f64());
        let index = match picked {
            Ok(i) => i,
            Err(_) if tried.is_empty() => return Err(Rejection::NoBackend),
            Err(_) => return Err(Rejection::BackendUnreachable),
        };
        let backend = &pool.backends()[index];
        let address = backend.config.address;
        let connecting = Instant::now();
        match tokio::time::timeout(config.connect_timeout, TcpStream::connect(address)).await {
            Ok(Ok(stream)) => {
                let took = connecting.elapsed();
                backend.connect_times.record(took);
                backend.observe_connect(Some(took), pool.decay());
                // Small writes (requests, acknowledgements) must not wait
                // for Nagle; the proxy adds no delay of its own.
                let _ = stream.set_nodelay(true);
                return Ok((Arc::clone(backend), stream));
            }
            Ok(Err(e)) => {
                tracing::warn!(%peer, backend = %backend.config.name, error = %e, "connect failed; trying another backend");
            }
            Err(_) => {
                tracing::warn!(%peer, backend = %backend.config.name, timeout = ?config.connect_timeout, "connect timed out; trying another backend");
            }
        }
        backend.connect_errors.fetch_add(1, Relaxed);
        backend.observe_connect(None, pool.decay());
        tried.push(index);
    }
    Err(Rejection::BackendUnreachable)
}

/// The index of `peer`'s sticky backend, if its session is live and that
/// backend can take a connection now.
fn sticky_choice(shared: &Shared, pool: &Pool, peer: SocketAddr) -> Option<usize> {
    let address = shared.sticky.get(peer.ip(), Instant::now())?;
    pool.backends()
        .iter()
        .position(|b| b.config.address == address && b.view().eligible())
}

/// Resolves once the connection has carried nothing for `timeout`; never
/// without one.
async fn idle(activity: &Activity, timeout: Option<Duration>) {
    let Some(timeout) = timeout else {
        return std::future::pending().await;
    };
    loop {
        let deadline = activity.last() + timeout;
        if Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep_until(deadline.into()).await;
    }
}

/// Writes the 503 answer, closes the write side and discards whatever the
/// client still sends for a moment, so the answer is read, not reset.
async fn answer_503<S: AsyncRead + AsyncWrite + Unpin>(mut client: S) {
    if client.write_all(RESPONSE_503).await.is_err() || client.shutdown().await.is_err() {
        return;
    }
    let mut sink = [0u8; 1024];
    let _ = tokio::time::timeout(LINGER_AFTER_503, async {
        while matches!(client.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}
