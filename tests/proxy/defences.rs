//! Admission: the allow list, the per-source rate limit, the cap on open
//! connections.

use crate::support::*;
use lblab::model::Cidr;
use lblab::model::SimDuration;
use lblab::policy::RateLimit;
use lblab::proxy::stats::Rejection;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_allow_list_refuses_a_source_outside_it() {
    let backends = http_backends(1).await;
    let mut cfg = config(&addrs(&backends));
    cfg.filter.allow = vec![Cidr::parse("10.0.0.0/8").expect("cidr")];
    let refusing = proxy(cfg.clone()).await;
    let mut s = TcpStream::connect(refusing.local_addr())
        .await
        .expect("connect");
    assert!(closed_without_answer(&mut s).await);
    assert_eq!(refusing.shared().stats.rejected(Rejection::Filtered), 1);
    // Health probes connect too; only a proxied client sends a request.
    assert_eq!(backends[0].served(), 0);
    cfg.filter.allow = vec![Cidr::parse("127.0.0.0/8").expect("cidr")];
    let allowing = proxy(cfg).await;
    let a = within("request", get(allowing.local_addr(), "/")).await;
    assert_eq!(a.map(|a| a.status), Some(200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_of_three_a_minute_refuses_the_fourth() {
    let backends = http_backends(1).await;
    let mut cfg = config(&addrs(&backends));
    cfg.rate_limit = Some(RateLimit::new(3, SimDuration::from_secs(60), 3).expect("limit"));
    let proxy = proxy(cfg).await;
    for i in 0..3 {
        let a = within("request", get(proxy.local_addr(), "/")).await;
        assert_eq!(a.map(|a| a.status), Some(200), "connection {}", i + 1);
    }
    let mut s = TcpStream::connect(proxy.local_addr())
        .await
        .expect("connect");
    assert!(closed_without_answer(&mut s).await);
    assert_eq!(proxy.shared().stats.rejected(Rejection::RateLimited), 1);
    assert_eq!(proxy.shared().stats.proxied.load(Relaxed), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_connections_refuses_the_excess_and_frees_a_place_on_close() {
    let backends = echo_backends(1).await;
    let mut cfg = config(&addrs(&backends));
    cfg.max_connections = Some(2);
    let proxy = proxy(cfg).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(proxy.local_addr())
            .await
            .expect("connect");
        // An echoed byte proves the connection is proxied and counted.
        s.write_all(b"x").await.expect("write");
        let mut b = [0u8; 1];
        within("echo", s.read_exact(&mut b)).await.expect("echo");
        held.push(s);
    }
    let mut third = TcpStream::connect(proxy.local_addr())
        .await
        .expect("connect");
    assert!(closed_without_answer(&mut third).await);
    let stats = &proxy.shared().stats;
    assert_eq!(stats.rejected(Rejection::TooManyConnections), 1);
    drop(held.pop());
    wait_for("a place freed", Duration::from_secs(2), || {
        proxy.shared().open.load(Relaxed) == 1
    })
    .await;
    let mut fourth = TcpStream::connect(proxy.local_addr())
        .await
        .expect("connect");
    fourth.write_all(b"y").await.expect("write");
    let mut b = [0u8; 1];
    within("echo", fourth.read_exact(&mut b))
        .await
        .expect("echo");
    assert_eq!(&b, b"y");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_the_cap_refuses_uses_no_rate_limit_token() {
    let backends = echo_backends(1).await;
    let mut cfg = config(&addrs(&backends));
    cfg.max_connections = Some(1);
    cfg.rate_limit = Some(RateLimit::new(2, SimDuration::from_secs(60), 2).expect("limit"));
    let proxy = proxy(cfg).await;
    let echo = |mut s: TcpStream| async move {
        s.write_all(b"x").await.expect("write");
        let mut b = [0u8; 1];
        within("echo", s.read_exact(&mut b)).await.expect("echo");
        s
    };
    let held = echo(
        TcpStream::connect(proxy.local_addr())
            .await
            .expect("connect"),
    )
    .await;
    let mut over_cap = TcpStream::connect(proxy.local_addr())
        .await
        .expect("connect");
    assert!(closed_without_answer(&mut over_cap).await);
    drop(held);
    wait_for("the place freed", Duration::from_secs(2), || {
        proxy.shared().open.load(Relaxed) == 0
    })
    .await;
    // The source's second token is still there.
    echo(
        TcpStream::connect(proxy.local_addr())
            .await
            .expect("connect"),
    )
    .await;
    let stats = &proxy.shared().stats;
    assert_eq!(stats.rejected(Rejection::TooManyConnections), 1);
    assert_eq!(stats.rejected(Rejection::RateLimited), 0);
}
