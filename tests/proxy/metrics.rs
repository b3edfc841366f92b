//! The admin endpoint's Prometheus text.

use crate::support::*;
use lblab::model::Cidr;

/// The value of the sample line that starts with `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_each_backend_and_each_refusal() {
    let backends = http_backends(2).await;
    let mut cfg = config(&addrs(&backends));
    cfg.filter.deny = vec![Cidr::parse("10.9.9.9").expect("cidr")];
    let proxy = proxy(cfg).await;
    let admin = proxy
        .serve_admin("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("admin");
    within("requests", who_answers(proxy.local_addr(), 3)).await;
    let a = within("scrape", get(admin, "/metrics"))
        .await
        .expect("an answer");
    assert_eq!(a.status, 200);
    let text = a.body;
    let web1 = format!(
        "lblab_proxy_backend_connections_total{{backend=\"web-1\",address=\"{}\"}}",
        backends[0].addr()
    );
    assert_eq!(sample(&text, &web1), Some(2.0), "{text}");
    assert_eq!(
        sample(&text, "lblab_proxy_proxied_total"),
        Some(3.0),
        "{text}"
    );
    let filtered = "lblab_proxy_rejected_total{reason=\"filtered\"}";
    assert_eq!(sample(&text, filtered), Some(0.0), "{text}");
    assert!(text.contains("lblab_proxy_pick_seconds_count 3"), "{text}");
    assert!(text.trim_end().ends_with("# EOF"));
    let missing = within("404", get(admin, "/nothing"))
        .await
        .expect("an answer");
    assert_eq!(missing.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_removed_by_reload_stays_in_metrics_while_it_carries_connections() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let backends = echo_backends(2).await;
    let cfg = config(&addrs(&backends));
    let proxy = proxy(cfg.clone()).await;
    let admin = proxy
        .serve_admin("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("admin");
    // Round robin: the first connection goes to web-1.
    let mut live = tokio::net::TcpStream::connect(proxy.local_addr())
        .await
        .expect("connect");
    live.write_all(b"x").await.expect("write");
    let mut b = [0u8; 1];
    within("echo", live.read_exact(&mut b)).await.expect("echo");
    let mut without_web1 = cfg;
    without_web1.backends.remove(0);
    proxy.reload(without_web1).expect("reload");
    let series = format!(
        "lblab_proxy_backend_active_connections{{backend=\"web-1\",address=\"{}\"}}",
        backends[0].addr()
    );
    let text = within("scrape", get(admin, "/metrics"))
        .await
        .expect("answer")
        .body;
    assert_eq!(sample(&text, &series), Some(1.0), "{text}");
    drop(live);
    let pool_gone = || async {
        let text = get(admin, "/metrics")
            .await
            .map(|a| a.body)
            .unwrap_or_default();
        !text.contains(&series)
    };
    let mut gone = false;
    for _ in 0..100 {
        if pool_gone().await {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(gone, "web-1 still listed after its last connection ended");
}
