//! Picks, health and failover on real backends.

use crate::support::*;
use lblab::proxy::stats::Rejection;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_robin_takes_three_backends_in_order() {
    let backends = http_backends(3).await;
    let proxy = proxy(config(&addrs(&backends))).await;
    let names = within("six requests", who_answers(proxy.local_addr(), 6)).await;
    assert_eq!(
        names,
        ["web-1", "web-2", "web-3", "web-1", "web-2", "web-3"]
    );
    let a = within("hello", get(proxy.local_addr(), "/"))
        .await
        .expect("answer");
    assert_eq!(
        a.body,
        format!("Hello from {}\n", a.backend.expect("header"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_backend_leaves_rotation_in_time_and_returns_after_rise() {
    let backends = http_backends(3).await;
    let cfg = config(&addrs(&backends));
    let h = cfg.health.clone();
    let proxy = proxy(cfg).await;
    let pool = proxy.shared().pool.load_full();
    let web2 = std::sync::Arc::clone(&pool.backends()[1]);
    backends[1].kill();
    // The next probe starts within one interval of the kill, and `fall`
    // failures take `fall - 1` more: fall × interval + timeout at most.
    let limit = h.interval * h.fall + h.timeout;
    // For timers that fire late on a loaded machine; one probe too many
    // would be a whole interval (100 ms) late.
    let slack = Duration::from_millis(80);
    let took = wait_for("web-2 marked down", limit + Duration::from_secs(1), || {
        !web2.healthy.load(Relaxed)
    })
    .await;
    assert!(
        took <= limit + slack,
        "down after {took:?}, limit {limit:?}"
    );
    let names = within("requests", who_answers(proxy.local_addr(), 6)).await;
    assert!(!names.iter().any(|n| n == "web-2"), "{names:?}");
    within("revive", backends[1].revive())
        .await
        .expect("revive");
    let took = wait_for("web-2 back up", h.interval * (h.rise + 2), || {
        web2.healthy.load(Relaxed)
    })
    .await;
    assert!(took >= h.interval * (h.rise - 1), "up after only {took:?}");
    let names = within("requests", who_answers(proxy.local_addr(), 6)).await;
    assert!(names.iter().any(|n| n == "web-2"), "{names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_connect_fails_over_to_another_backend() {
    let backends = http_backends(2).await;
    let dead = closed_port();
    let mut cfg = config(&[dead, backends[0].addr(), backends[1].addr()]);
    // Probes too slow to notice in time: only failover can save the client.
    cfg.health.interval = Duration::from_secs(60);
    cfg.health.timeout = Duration::from_secs(1);
    let proxy = proxy(cfg).await;
    for _ in 0..6 {
        let a = within("request", get(proxy.local_addr(), "/")).await;
        assert_eq!(a.map(|a| a.status), Some(200));
    }
    let pool = proxy.shared().pool.load_full();
    // Round robin lands on the dead backend every third pick.
    assert!(pool.backends()[0].connect_errors.load(Relaxed) >= 2);
    assert_eq!(pool.backends()[0].total.load(Relaxed), 0);
    assert_eq!(proxy.shared().stats.proxied.load(Relaxed), 6);
}

/// A proxy whose every backend is down (health checks have said so).
async fn proxy_with_no_healthy_backend(respond_503: bool) -> lblab::proxy::Proxy {
    let mut cfg = config(&[closed_port(), closed_port()]);
    cfg.health.fall = 1;
    cfg.respond_503 = respond_503;
    let proxy = proxy(cfg).await;
    let pool = proxy.shared().pool.load_full();
    wait_for("every backend down", Duration::from_secs(2), || {
        pool.backends().iter().all(|b| !b.healthy.load(Relaxed))
    })
    .await;
    proxy
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_healthy_backend_the_client_is_closed_at_once() {
    let proxy = proxy_with_no_healthy_backend(false).await;
    let mut s = TcpStream::connect(proxy.local_addr())
        .await
        .expect("connect");
    let start = std::time::Instant::now();
    assert!(closed_without_answer(&mut s).await);
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "{:?}",
        start.elapsed()
    );
    let stats = &proxy.shared().stats;
    assert_eq!(stats.rejected(Rejection::NoBackend), 1);
    assert_eq!(stats.proxied.load(Relaxed), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_respond_503_the_client_reads_service_unavailable() {
    let proxy = proxy_with_no_healthy_backend(true).await;
    let a = within("request", get(proxy.local_addr(), "/"))
        .await
        .expect("an answer");
    assert_eq!(a.status, 503);
    assert_eq!(a.backend, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sticky_sessions_keep_a_source_on_one_backend() {
    let backends = http_backends(3).await;
    let mut cfg = config(&addrs(&backends));
    let plain = proxy(cfg.clone()).await;
    let names = within("requests", who_answers(plain.local_addr(), 3)).await;
    assert_eq!(names, ["web-1", "web-2", "web-3"], "without stickiness");
    cfg.sticky = Some(Duration::from_secs(60));
    let sticky = proxy(cfg).await;
    let names = within("requests", who_answers(sticky.local_addr(), 6)).await;
    assert!(names.iter().all(|n| *n == names[0]), "{names:?}");
    // Its backend dies: the source moves on, and sticks to the new one.
    let first = names[0].clone();
    let index = backends
        .iter()
        .position(|b| b.name() == first)
        .expect("known");
    backends[index].kill();
    let names = within("requests", who_answers(sticky.local_addr(), 4)).await;
    assert!(
        names.iter().all(|n| *n == names[0] && *n != first),
        "{names:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_renames_a_backend_and_refuses_a_config_without_backends() {
    let backends = http_backends(2).await;
    let cfg = config(&addrs(&backends));
    let proxy = proxy(cfg.clone()).await;
    let mut renamed = cfg.clone();
    renamed.backends[0].name = "renamed".into();
    proxy.reload(renamed).expect("reload");
    let pool = proxy.shared().pool.load_full();
    let names: Vec<_> = pool
        .backends()
        .iter()
        .map(|b| b.config.name.clone())
        .collect();
    assert_eq!(names, ["renamed", "web-2"]);
    let mut empty = cfg;
    empty.backends.clear();
    assert!(proxy.reload(empty).is_err());
    assert_eq!(
        proxy.shared().pool.load().backends().len(),
        2,
        "the old pool stays"
    );
}
