//! TLS termination end to end on loopback: a generated certificate, the
//! proxy's acceptor, and a client that trusts exactly that certificate.

use lblab::proxy::config::TlsFiles;
use lblab::proxy::tls::{acceptor, client_config_trusting, write_self_signed};
use rustls::pki_types::ServerName;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// Long enough for a slow CI machine, short enough that a hang fails.
const LIMIT: Duration = Duration::from_secs(20);

/// A fresh directory under the system temp dir, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Self(std::env::temp_dir().join(format!(
            "lblab-tls-it-{tag}-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        )))
    }

    /// A new self-signed pair for localhost and 127.0.0.1 in `sub`.
    fn pair(&self, sub: &str) -> TlsFiles {
        let names = ["localhost".to_string(), "127.0.0.1".to_string()];
        let (cert, key) = write_self_signed(&self.0.join(sub), &names, false).expect("write pair");
        TlsFiles { cert, key }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Serves one TLS connection on a loopback port, echoing every byte until
/// the client closes. Returns the port and the task, whose result says
/// whether the handshake succeeded.
async fn echo_server(
    acceptor: TlsAcceptor,
) -> (u16, tokio::task::JoinHandle<std::io::Result<u64>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("local addr").port();
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        let tls = acceptor.accept(tcp).await?;
        let (mut r, mut w) = tokio::io::split(tls);
        tokio::io::copy(&mut r, &mut w).await
    });
    (port, task)
}

/// Connects to the echo server trusting `trusted`, naming it `name`.
async fn connect(
    port: u16,
    trusted: &TlsFiles,
    name: &'static str,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let config = client_config_trusting(&trusted.cert).expect("client config");
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    let name = ServerName::try_from(name).expect("server name");
    TlsConnector::from(config).connect(name, tcp).await
}

/// The rustls error inside a failed handshake's io::Error.
fn rustls_error(e: &std::io::Error) -> Option<&rustls::Error> {
    e.get_ref().and_then(|inner| inner.downcast_ref())
}

async fn echo_round_trip(name: &'static str) {
    let dir = Scratch::new("echo");
    let files = dir.pair("certs");
    let (port, server) = echo_server(acceptor(&files).expect("acceptor")).await;
    let mut tls = connect(port, &files, name).await.expect("handshake");
    // More than one TLS record, so the echo is not a single read.
    let sent: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
    tls.write_all(&sent).await.expect("write");
    let mut back = vec![0; sent.len()];
    tls.read_exact(&mut back).await.expect("read back");
    assert_eq!(back, sent);
    tls.shutdown().await.expect("close_notify");
    let echoed = server.await.expect("server task").expect("server echo");
    assert_eq!(echoed, sent.len() as u64);
}

#[tokio::test]
async fn echo_through_the_acceptor_by_dns_name() {
    timeout(LIMIT, echo_round_trip("localhost"))
        .await
        .expect("test timed out");
}

#[tokio::test]
async fn echo_through_the_acceptor_by_ip_address() {
    timeout(LIMIT, echo_round_trip("127.0.0.1"))
        .await
        .expect("test timed out");
}

#[tokio::test]
async fn a_client_trusting_another_certificate_fails_the_handshake() {
    timeout(LIMIT, async {
        let dir = Scratch::new("other");
        let served = dir.pair("served");
        let other = dir.pair("other");
        let (port, server) = echo_server(acceptor(&served).expect("acceptor")).await;
        let e = match connect(port, &other, "localhost").await {
            Ok(_) => panic!("a client trusting another certificate connected"),
            Err(e) => e,
        };
        assert!(
            matches!(rustls_error(&e), Some(rustls::Error::InvalidCertificate(_))),
            "{e:?}"
        );
        let server_side = server.await.expect("server task");
        assert!(server_side.is_err(), "{server_side:?}");
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn a_name_the_certificate_lacks_fails_the_handshake() {
    timeout(LIMIT, async {
        let dir = Scratch::new("name");
        let files = dir.pair("certs");
        let (port, _server) = echo_server(acceptor(&files).expect("acceptor")).await;
        let e = match connect(port, &files, "lb.example.test").await {
            Ok(_) => panic!("a certificate for localhost passed for lb.example.test"),
            Err(e) => e,
        };
        assert!(
            matches!(rustls_error(&e), Some(rustls::Error::InvalidCertificate(_))),
            "{e:?}"
        );
    })
    .await
    .expect("test timed out");
}
