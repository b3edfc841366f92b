//! The admin endpoint (`--admin ADDR`): Prometheus text at `/metrics`,
//! built at each scrape from the proxy's own counters, so counting costs
//! the data path nothing beyond its atomics.

use super::shared::Shared;
use super::stats::Rejection;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// Labels of a per-backend series.
type BackendLabels = Vec<(String, String)>;

/// The largest request head the endpoint reads.
const MAX_HEAD: usize = 8 * 1024;

/// How long a scraper has to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves `/metrics` on `listener` until `stop`.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>, stop: CancellationToken) {
    loop {
        let (stream, _) = tokio::select! {
            () = stop.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let _ = tokio::time::timeout(READ_TIMEOUT, answer(stream, &shared)).await;
        });
    }
}

async fn answer(mut stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let (status, kind, body) = if line.starts_with(b"GET /metrics ") {
        (
            "200 OK",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            metrics_text(shared),
        )
    } else {
        ("404 Not Found", "text/plain", "try /metrics\n".to_string())
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

/// Every metric, in the OpenMetrics text format.
pub fn metrics_text(shared: &Shared) -> String {
    let mut registry = Registry::with_prefix("lblab_proxy");
    register_backends(&mut registry, shared);
    let stats = &shared.stats;
    let accepted = Counter::<u64>::default();
    accepted.inc_by(stats.accepted.load(Relaxed));
    registry.register("accepted", "Client connections accepted", accepted);
    let proxied = Counter::<u64>::default();
    proxied.inc_by(stats.proxied.load(Relaxed));
    registry.register(
        "proxied",
        "Client connections proxied to a backend",
        proxied,
    );
    let open = Gauge::<i64>::default();
    open.set(i64::from(shared.open.load(Relaxed)));
    registry.register("open_connections", "Client connections open now", open);
    let rejected = Family::<Vec<(String, String)>, Counter<u64>>::default();
    for why in Rejection::ALL {
        rejected
            .get_or_create(&vec![("reason".to_string(), why.name().to_string())])
            .inc_by(stats.rejected(why));
    }
    registry.register(
        "rejected",
        "Client connections refused, by reason",
        rejected,
    );
    registry.register(
        "pick_seconds",
        "Time to pick a backend for a new connection",
        shared.pick_seconds.clone(),
    );
    let mut text = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut text, &registry);
    text
}

fn register_backends(registry: &mut Registry, shared: &Shared) {
    let active = Family::<BackendLabels, Gauge<i64>>::default();
    let healthy = Family::<BackendLabels, Gauge<i64>>::default();
    let total = Family::<BackendLabels, Counter<u64>>::default();
    let bytes_to = Family::<BackendLabels, Counter<u64>>::default();
    let bytes_from = Family::<BackendLabels, Counter<u64>>::default();
    let errors = Family::<BackendLabels, Counter<u64>>::default();
    let pool = shared.pool.load_full();
    let retired: Vec<_> = {
        let mut retired = shared.retired.lock().unwrap_or_else(|p| p.into_inner());
        retired.retain(|b| b.active.load(Relaxed) > 0);
        // One series per label set: a backend added back under the same
        // name and address shows as the one in the pool.
        let in_pool = |b: &Arc<super::pool::Backend>| {
            pool.backends()
                .iter()
                .any(|p| p.config.name == b.config.name && p.config.address == b.config.address)
        };
        retired.iter().filter(|b| !in_pool(b)).cloned().collect()
    };
    for b in pool.backends().iter().chain(&retired) {
        let labels = vec![
            ("backend".to_string(), b.config.name.clone()),
            ("address".to_string(), b.config.address.to_string()),
        ];
        active
            .get_or_create(&labels)
            .set(i64::from(b.active.load(Relaxed)));
        healthy
            .get_or_create(&labels)
            .set(i64::from(b.healthy.load(Relaxed)));
        total.get_or_create(&labels).inc_by(b.total.load(Relaxed));
        bytes_to
            .get_or_create(&labels)
            .inc_by(b.bytes_to.load(Relaxed));
        bytes_from
            .get_or_create(&labels)
            .inc_by(b.bytes_from.load(Relaxed));
        errors
            .get_or_create(&labels)
            .inc_by(b.connect_errors.load(Relaxed));
    }
    registry.register(
        "backend_active_connections",
        "Connections proxied to the backend now",
        active,
    );
    registry.register(
        "backend_healthy",
        "1 if health checks say the backend is up",
        healthy,
    );
    registry.register(
        "backend_connections",
        "Connections the backend has taken",
        total,
    );
    registry.register(
        "backend_bytes_to",
        "Bytes from clients to the backend",
        bytes_to,
    );
    registry.register(
        "backend_bytes_from",
        "Bytes from the backend to clients",
        bytes_from,
    );
    registry.register(
        "backend_connect_errors",
        "Connects to the backend that failed or timed out",
        errors,
    );
}
