//! Backends, proxies and clients for the proxy's tests.

use lblab::backends::{BackendOptions, DemoBackend, Mode, spawn_many};
use lblab::proxy::Proxy;
use lblab::proxy::config::{BackendConfig, HealthConfig, ProbeKind, ProxyConfig};
use lblab::spec::{Algorithm, FilterSpec};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The most any one step of a test may take.
pub const STEP: Duration = Duration::from_secs(10);

/// Runs `f`, failing the test if it takes longer than [`STEP`].
pub async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(STEP, f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: took longer than {STEP:?}"),
    }
}

/// `n` HTTP demo backends on ephemeral ports.
pub async fn http_backends(n: usize) -> Vec<DemoBackend> {
    spawn_many(n, 0, BackendOptions::default())
        .await
        .expect("backends start")
}

/// `n` echo demo backends on ephemeral ports.
pub async fn echo_backends(n: usize) -> Vec<DemoBackend> {
    let options = BackendOptions {
        mode: Mode::Echo,
        ..BackendOptions::default()
    };
    spawn_many(n, 0, options).await.expect("backends start")
}

/// A free port on 127.0.0.1 that nothing listens on (bound, then closed).
pub fn closed_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

/// A configuration over `backends` on an ephemeral port, with fast TCP
/// health checks (every 100 ms, 50 ms timeout, rise 2, fall 2).
pub fn config(backends: &[SocketAddr]) -> ProxyConfig {
    ProxyConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        tls: None,
        algorithm: Algorithm::RoundRobin,
        backends: backends
            .iter()
            .enumerate()
            .map(|(i, a)| BackendConfig {
                address: *a,
                written: a.to_string(),
                name: format!("web-{}", i + 1),
                weight: 1,
            })
            .collect(),
        health: HealthConfig {
            kind: ProbeKind::Tcp,
            interval: Duration::from_millis(100),
            timeout: Duration::from_millis(50),
            rise: 2,
            fall: 2,
            jitter: Duration::ZERO,
        },
        connect_timeout: Duration::from_millis(500),
        connect_tries: 3,
        idle_timeout: Some(Duration::from_secs(30)),
        max_connections: None,
        rate_limit: None,
        rate_limit_sources: 1024,
        filter: FilterSpec::default(),
        sticky: None,
        respond_503: false,
        drain_timeout: Duration::from_secs(5),
    }
}

/// Addresses of demo backends.
pub fn addrs(backends: &[DemoBackend]) -> Vec<SocketAddr> {
    backends.iter().map(DemoBackend::addr).collect()
}

/// Starts a proxy with `config`.
pub async fn proxy(config: ProxyConfig) -> Proxy {
    Proxy::start(config).await.expect("proxy starts")
}

/// An HTTP answer as a client sees it.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The `X-Backend` header, if any.
    pub backend: Option<String>,
    /// The body.
    pub body: String,
}

/// `GET path` with `Connection: close` through `proxy`; `None` if the
/// connection closed with no answer at all.
pub async fn get(proxy: SocketAddr, path: &str) -> Option<Answer> {
    let mut s = TcpStream::connect(proxy).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    s.write_all(request.as_bytes()).await.ok()?;
    // Half-closing says the client is done, so even a backend that only
    // echoes ends the exchange.
    s.shutdown().await.ok()?;
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw).await;
    parse_answer(&raw)
}

/// Reads an HTTP/1.1 answer from raw bytes.
pub fn parse_answer(raw: &[u8]) -> Option<Answer> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let backend = lines
        .filter_map(|l| l.split_once(": "))
        .find(|(k, _)| k.eq_ignore_ascii_case("x-backend"))
        .map(|(_, v)| v.to_string());
    Some(Answer {
        status,
        backend,
        body: body.to_string(),
    })
}

/// Which backend answered each of `n` requests.
pub async fn who_answers(proxy: SocketAddr, n: usize) -> Vec<String> {
    let mut names = Vec::with_capacity(n);
    for _ in 0..n {
        let a = get(proxy, "/").await.expect("an answer");
        assert_eq!(a.status, 200, "{a:?}");
        names.push(a.backend.expect("an X-Backend header"));
    }
    names
}

/// Polls `cond` every 10 ms until it holds; the time it took, or a
/// failure after `limit`.
pub async fn wait_for(what: &str, limit: Duration, cond: impl Fn() -> bool) -> Duration {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    start.elapsed()
}

/// True if the server closes `s` without sending a byte.
pub async fn closed_without_answer(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}
