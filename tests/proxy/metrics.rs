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
