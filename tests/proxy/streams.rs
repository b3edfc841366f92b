//! Bytes: a large payload each way with half-close, TLS termination, the
//! idle timeout.

use crate::support::*;
use lblab::proxy::config::TlsFiles;
use lblab::proxy::tls;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// 1 MiB of bytes that differ from position to position.
fn payload() -> Vec<u8> {
    (0..1 << 20)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect()
}

/// Sends `data` through an echo backend behind the proxy, half-closes, and
/// returns all that came back.
async fn echo_through<S>(stream: S, data: &[u8]) -> Vec<u8>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut r, mut w) = tokio::io::split(stream);
    let writer = async {
        w.write_all(data).await.expect("write");
        w.shutdown().await.expect("half-close");
    };
    let reader = async {
        let mut back = Vec::with_capacity(data.len());
        r.read_to_end(&mut back).await.expect("read");
        back
    };
    let ((), back) = tokio::join!(writer, reader);
    back
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mebibyte_each_way_with_half_close_arrives_intact() {
    let backends = echo_backends(1).await;
    let proxy = proxy(config(&addrs(&backends))).await;
    let data = payload();
    let s = TcpStream::connect(proxy.local_addr())
        .await
        .expect("connect");
    let back = within("echo 1 MiB", echo_through(s, &data)).await;
    assert_eq!(back.len(), data.len());
    assert!(back == data, "the bytes came back changed");
    let pool = proxy.shared().pool.load_full();
    let b = &pool.backends()[0];
    wait_for("counters settle", Duration::from_secs(2), || {
        b.bytes_from.load(Relaxed) == data.len() as u64
    })
    .await;
    assert_eq!(b.bytes_to.load(Relaxed), data.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_is_terminated_with_a_lblab_cert_certificate() {
    let dir = std::env::temp_dir().join(format!("lblab-proxy-tls-{}", std::process::id()));
    let names = ["localhost".to_string(), "127.0.0.1".to_string()];
    let (cert, key) = tls::write_self_signed(&dir, &names, true).expect("certificate");
    let backends = http_backends(1).await;
    let mut cfg = config(&addrs(&backends));
    cfg.tls = Some(TlsFiles {
        cert: cert.clone(),
        key,
    });
    let proxy = proxy(cfg).await;
    let connector =
        tokio_rustls::TlsConnector::from(tls::client_config_trusting(&cert).expect("trust"));
    let tcp = TcpStream::connect(proxy.local_addr())
        .await
        .expect("connect");
    let server = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let mut s = within("handshake", connector.connect(server, tcp))
        .await
        .expect("handshake");
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut raw = Vec::new();
    let _ = within("answer", s.read_to_end(&mut raw)).await;
    let a = parse_answer(&raw).expect("an answer");
    assert_eq!((a.status, a.body.as_str()), (200, "Hello from web-1\n"));
    // A client that speaks plain TCP to the TLS port gets nothing proxied.
    let mut plain = TcpStream::connect(proxy.local_addr())
        .await
        .expect("connect");
    plain
        .write_all(b"GET / HTTP/1.1\r\n\r\n")
        .await
        .expect("write");
    let mut junk = Vec::new();
    let _ = within("refusal", plain.read_to_end(&mut junk)).await;
    assert!(!String::from_utf8_lossy(&junk).contains("Hello"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let backends = echo_backends(1).await;
    let mut cfg = config(&addrs(&backends));
    cfg.idle_timeout = Some(Duration::from_millis(300));
    let proxy = proxy(cfg).await;
    let mut s = TcpStream::connect(proxy.local_addr())
        .await
        .expect("connect");
    // Traffic keeps it open past the timeout...
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        s.write_all(b"k").await.expect("write");
        let mut b = [0u8; 1];
        within("echo", s.read_exact(&mut b))
            .await
            .expect("still open");
    }
    // ...silence closes it.
    let start = std::time::Instant::now();
    let mut b = [0u8; 1];
    let n = within("idle close", s.read(&mut b)).await.unwrap_or(0);
    assert_eq!(n, 0);
    assert!(
        start.elapsed() >= Duration::from_millis(250),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(proxy.shared().stats.idle_closed.load(Relaxed), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_cuts_a_stalled_tls_handshake_at_the_drain_timeout() {
    let dir = std::env::temp_dir().join(format!("lblab-proxy-drain-{}", std::process::id()));
    let names = ["localhost".to_string()];
    let (cert, key) = tls::write_self_signed(&dir, &names, true).expect("certificate");
    let backends = http_backends(1).await;
    let mut cfg = config(&addrs(&backends));
    cfg.tls = Some(TlsFiles { cert, key });
    let proxy = proxy(cfg).await;
    // Connects and never says hello: the handshake would wait 10 s.
    let _silent = TcpStream::connect(proxy.local_addr())
        .await
        .expect("connect");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let start = std::time::Instant::now();
    let report = within("shutdown", proxy.shutdown(Duration::from_millis(200))).await;
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(report.cut, 1);
    let _ = std::fs::remove_dir_all(&dir);
}
