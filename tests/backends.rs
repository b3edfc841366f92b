//! The demo backends as a client sees them, on 127.0.0.1 with ephemeral
//! ports: answers, keep-alive, kill and revive, echo, failures.

use lblab::backends::{BackendOptions, BackendsArgs, DemoBackend, Mode, run_cli, spawn_many};
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Every test ends well within this, or fails instead of hanging.
const LIMIT: Duration = Duration::from_secs(10);

async fn within<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("test timed out")
}

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

async fn backend(name: &str, options: BackendOptions) -> DemoBackend {
    DemoBackend::spawn(name, any_port(), options).await.unwrap()
}

async fn http_backend(name: &str) -> DemoBackend {
    backend(name, BackendOptions::default()).await
}

/// Waits until `check` holds: counters move just after the client has
/// its answer.
async fn eventually(check: impl Fn() -> bool) {
    while !check() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        let mut found = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name));
        let value = found.next().map(|(_, v)| v.as_str());
        assert!(found.next().is_none(), "header {name} twice");
        value
    }
}

type Conn = BufReader<TcpStream>;

async fn connect(addr: SocketAddr) -> Conn {
    BufReader::new(TcpStream::connect(addr).await.unwrap())
}

async fn send(conn: &mut Conn, bytes: &[u8]) {
    conn.get_mut().write_all(bytes).await.unwrap();
}

/// Reads exactly one response; a HEAD response has no body to read.
async fn read_response(conn: &mut Conn, head_only: bool) -> Response {
    let mut line = String::new();
    conn.read_line(&mut line).await.unwrap();
    assert!(
        line.starts_with("HTTP/1.1 ") && line.ends_with("\r\n"),
        "{line:?}"
    );
    let status = line[9..12].parse().unwrap();
    let mut headers = Vec::new();
    loop {
        line.clear();
        conn.read_line(&mut line).await.unwrap();
        assert!(line.ends_with("\r\n"), "unterminated header {line:?}");
        if line == "\r\n" {
            break;
        }
        let (name, value) = line.trim_end().split_once(": ").unwrap();
        headers.push((name.to_string(), value.to_string()));
    }
    let mut response = Response {
        status,
        headers,
        body: String::new(),
    };
    if !head_only {
        let len: usize = response.header("Content-Length").unwrap().parse().unwrap();
        let mut body = vec![0; len];
        conn.read_exact(&mut body).await.unwrap();
        response.body = String::from_utf8(body).unwrap();
    }
    response
}

/// True when the server has closed its side: nothing more arrives.
async fn closed_by_server(conn: &mut Conn) -> bool {
    let mut rest = Vec::new();
    match conn.read_to_end(&mut rest).await {
        Ok(_) => rest.is_empty(),
        Err(e) => e.kind() == ErrorKind::ConnectionReset,
    }
}

/// One GET on its own connection, closed after the answer.
async fn get(addr: SocketAddr, path: &str) -> Response {
    let mut conn = connect(addr).await;
    let request = format!("GET {path} HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n");
    send(&mut conn, request.as_bytes()).await;
    read_response(&mut conn, false).await
}

#[tokio::test]
async fn hello_names_the_backend_in_body_and_header() {
    within(async {
        let b = http_backend("alpha").await;
        let r = get(b.addr(), "/").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body, "Hello from alpha\n");
        assert_eq!(r.header("X-Backend"), Some("alpha"));
        assert_eq!(r.header("Content-Type"), Some("text/plain"));
        assert_eq!(r.header("Content-Length"), Some("17"));
        assert_eq!(b.name(), "alpha");
        assert_ne!(b.addr().port(), 0, "the real port is remembered");
        eventually(|| b.served() == 1).await;
    })
    .await;
}

#[tokio::test]
async fn health_answers_ok_and_head_sends_no_body() {
    within(async {
        let b = http_backend("alpha").await;
        let r = get(b.addr(), "/health").await;
        assert_eq!((r.status, r.body.as_str()), (200, "ok\n"));
        assert_eq!(r.header("X-Backend"), Some("alpha"));

        // If HEAD sent a body, it would be read as the next status line.
        let mut conn = connect(b.addr()).await;
        send(
            &mut conn,
            b"HEAD /health HTTP/1.1\r\n\r\nGET /health HTTP/1.1\r\n\r\n",
        )
        .await;
        let head = read_response(&mut conn, true).await;
        assert_eq!(
            (head.status, head.header("Content-Length")),
            (200, Some("3"))
        );
        let next = read_response(&mut conn, false).await;
        assert_eq!(next.body, "ok\n");
    })
    .await;
}

#[tokio::test]
async fn connection_close_closes_after_the_answer() {
    within(async {
        let b = http_backend("alpha").await;
        let mut conn = connect(b.addr()).await;
        send(&mut conn, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").await;
        let r = read_response(&mut conn, false).await;
        assert_eq!(r.header("Connection"), Some("close"));
        assert!(closed_by_server(&mut conn).await);
    })
    .await;
}

#[tokio::test]
async fn http10_closes_unless_kept_alive() {
    within(async {
        let b = http_backend("alpha").await;
        let mut conn = connect(b.addr()).await;
        send(&mut conn, b"GET / HTTP/1.0\r\n\r\n").await;
        assert_eq!(read_response(&mut conn, false).await.status, 200);
        assert!(closed_by_server(&mut conn).await);

        let mut conn = connect(b.addr()).await;
        for _ in 0..2 {
            send(
                &mut conn,
                b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            )
            .await;
            let r = read_response(&mut conn, false).await;
            assert_eq!(r.header("Connection"), Some("keep-alive"));
        }
    })
    .await;
}

#[tokio::test]
async fn keep_alive_serves_two_requests_on_one_connection() {
    within(async {
        let b = http_backend("alpha").await;
        let mut conn = connect(b.addr()).await;
        send(&mut conn, b"GET /first HTTP/1.1\r\nHost: lab\r\n\r\n").await;
        let first = read_response(&mut conn, false).await;
        assert_eq!(first.header("Connection"), Some("keep-alive"));
        send(&mut conn, b"GET /second HTTP/1.1\r\nHost: lab\r\n\r\n").await;
        let second = read_response(&mut conn, false).await;
        assert_eq!((first.status, second.status), (200, 200));
        eventually(|| b.served() == 2).await;
        assert_eq!(b.connections(), 1);
    })
    .await;
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order_and_bodies_skipped() {
    within(async {
        let b = backend(
            "alpha",
            BackendOptions {
                fail_rate: 1.0,
                ..Default::default()
            },
        )
        .await;
        let mut conn = connect(b.addr()).await;
        // One write: a body that must not be read as a request, then two
        // requests whose answers differ, so their order shows.
        let batch = b"POST /upload HTTP/1.1\r\nContent-Length: 9\r\n\r\nGET / bad\
                      GET /health HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nConnection: close\r\n\r\n";
        send(&mut conn, batch).await;
        let statuses = [
            read_response(&mut conn, false).await,
            read_response(&mut conn, false).await,
            read_response(&mut conn, false).await,
        ]
        .map(|r| (r.status, r.body));
        assert_eq!(statuses[0].0, 500);
        assert_eq!(statuses[1], (200, "ok\n".to_string()));
        assert_eq!(statuses[2].0, 500);
        assert!(closed_by_server(&mut conn).await);
    })
    .await;
}

#[tokio::test]
async fn bad_and_oversized_requests_get_400_and_a_close() {
    within(async {
        let b = http_backend("alpha").await;
        let mut conn = connect(b.addr()).await;
        send(&mut conn, b"NONSENSE\r\n\r\n").await;
        let r = read_response(&mut conn, false).await;
        assert_eq!((r.status, r.header("X-Backend")), (400, Some("alpha")));
        assert!(closed_by_server(&mut conn).await);

        let mut conn = connect(b.addr()).await;
        let pad = "a".repeat(20 * 1024);
        send(
            &mut conn,
            format!("GET / HTTP/1.1\r\nX-Pad: {pad}\r\n\r\n").as_bytes(),
        )
        .await;
        assert_eq!(read_response(&mut conn, false).await.status, 400);
        assert!(closed_by_server(&mut conn).await);
    })
    .await;
}

#[tokio::test]
async fn kill_refuses_connections_and_closes_live_ones_and_revive_serves_again() {
    within(async {
        let b = http_backend("alpha").await;
        let addr = b.addr();
        let mut idle = connect(addr).await;
        send(&mut idle, b"GET / HTTP/1.1\r\n\r\n").await;
        read_response(&mut idle, false).await;

        b.kill();
        assert!(!b.is_alive());
        let refused = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
        assert!(closed_by_server(&mut idle).await);

        b.revive().await.unwrap();
        assert!(b.is_alive());
        assert_eq!(b.addr(), addr);
        assert_eq!(get(addr, "/").await.body, "Hello from alpha\n");
        eventually(|| b.served() == 2).await;
    })
    .await;
}

#[tokio::test]
async fn kill_cuts_a_request_that_is_still_waiting_for_its_answer() {
    within(async {
        let slow = BackendOptions {
            delay: Duration::from_secs(30),
            ..Default::default()
        };
        let b = backend("slow", slow).await;
        let mut conn = connect(b.addr()).await;
        send(&mut conn, b"GET / HTTP/1.1\r\n\r\n").await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        let killed = Instant::now();
        b.kill();
        assert!(closed_by_server(&mut conn).await);
        assert!(killed.elapsed() < Duration::from_secs(5));
        assert_eq!(b.served(), 0);
    })
    .await;
}

#[tokio::test]
async fn dropping_a_backend_frees_its_port_and_its_connections() {
    within(async {
        let b = http_backend("alpha").await;
        let addr = b.addr();
        let mut idle = connect(addr).await;
        send(&mut idle, b"GET / HTTP/1.1\r\n\r\n").await;
        read_response(&mut idle, false).await;
        drop(b);
        let refused = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
        assert!(closed_by_server(&mut idle).await);
        let again = DemoBackend::spawn("beta", addr, BackendOptions::default()).await;
        assert_eq!(again.unwrap().addr(), addr);
    })
    .await;
}

#[tokio::test]
async fn echo_returns_a_mebibyte_intact_and_half_closes_back() {
    within(async {
        let echo = BackendOptions {
            mode: Mode::Echo,
            ..Default::default()
        };
        let b = backend("echo", echo).await;
        let data: Vec<u8> = (0..1024 * 1024).map(|i| (i * 7 % 251) as u8).collect();
        let (mut rx, mut tx) = TcpStream::connect(b.addr()).await.unwrap().into_split();
        let sent = data.clone();
        let writer = tokio::spawn(async move {
            tx.write_all(&sent).await.unwrap();
            tx.shutdown().await.unwrap();
            tx
        });
        let mut back = Vec::new();
        // read_to_end returns only on the server's FIN: its half-close.
        rx.read_to_end(&mut back).await.unwrap();
        let _tx = writer.await.unwrap();
        assert_eq!(back.len(), data.len());
        assert!(back == data, "echoed bytes differ");
        eventually(|| b.served() == 1).await;
    })
    .await;
}

#[tokio::test]
async fn echo_answers_each_chunk_before_the_client_closes() {
    within(async {
        let echo = BackendOptions {
            mode: Mode::Echo,
            ..Default::default()
        };
        let b = backend("echo", echo).await;
        let mut conn = TcpStream::connect(b.addr()).await.unwrap();
        for word in [&b"ping"[..], b"pong"] {
            conn.write_all(word).await.unwrap();
            let mut back = [0; 4];
            conn.read_exact(&mut back).await.unwrap();
            assert_eq!(&back, word);
        }
        assert_eq!(
            b.served(),
            0,
            "an echo is served only once the client is done"
        );
        conn.shutdown().await.unwrap();
        let mut rest = Vec::new();
        conn.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
        eventually(|| b.served() == 1).await;
    })
    .await;
}

#[tokio::test]
async fn fail_rate_one_fails_requests_but_never_health() {
    within(async {
        let b = backend(
            "flaky",
            BackendOptions {
                fail_rate: 1.0,
                ..Default::default()
            },
        )
        .await;
        let r = get(b.addr(), "/").await;
        assert_eq!((r.status, r.header("X-Backend")), (500, Some("flaky")));
        assert_eq!(get(b.addr(), "/health").await.status, 200);
    })
    .await;
}

#[tokio::test]
async fn fail_rate_half_fails_some_and_serves_some() {
    within(async {
        let b = backend(
            "flaky",
            BackendOptions {
                fail_rate: 0.5,
                ..Default::default()
            },
        )
        .await;
        let mut conn = connect(b.addr()).await;
        let mut failed = 0;
        for _ in 0..200 {
            send(&mut conn, b"GET / HTTP/1.1\r\n\r\n").await;
            if read_response(&mut conn, false).await.status == 500 {
                failed += 1;
            }
        }
        assert!((60..=140).contains(&failed), "{failed} of 200 failed");
    })
    .await;
}

#[tokio::test]
async fn delay_holds_each_answer() {
    within(async {
        let delay = Duration::from_millis(200);
        let b = backend(
            "slow",
            BackendOptions {
                delay,
                ..Default::default()
            },
        )
        .await;
        let start = Instant::now();
        assert_eq!(get(b.addr(), "/").await.status, 200);
        assert!(
            start.elapsed() >= delay,
            "answered after {:?}",
            start.elapsed()
        );
    })
    .await;
}

#[tokio::test]
async fn spawn_many_names_web_n_on_distinct_ports() {
    within(async {
        let pool = spawn_many(3, 0, BackendOptions::default()).await.unwrap();
        let names: Vec<&str> = pool.iter().map(|b| b.name()).collect();
        assert_eq!(names, ["web-1", "web-2", "web-3"]);
        let mut ports: Vec<u16> = pool.iter().map(|b| b.addr().port()).collect();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), 3);
        for b in &pool {
            assert_eq!(
                get(b.addr(), "/").await.body,
                format!("Hello from {}\n", b.name())
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_port_in_use_is_a_clear_error() {
    within(async {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let err = DemoBackend::spawn("web-1", addr, BackendOptions::default())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
    })
    .await;
}

#[tokio::test]
async fn nonsense_options_and_names_are_refused() {
    within(async {
        for fail_rate in [1.5, -0.1, f64::NAN] {
            let options = BackendOptions {
                fail_rate,
                ..Default::default()
            };
            let err = DemoBackend::spawn("web-1", any_port(), options)
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{fail_rate}");
        }
        for name in ["", "web\r\nX-Evil: 1"] {
            let err = DemoBackend::spawn(name, any_port(), BackendOptions::default())
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name:?}");
        }
    })
    .await;
}

#[test]
fn the_command_exits_1_when_its_port_is_taken() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let args = BackendsArgs {
        count: 1,
        port: taken.local_addr().unwrap().port(),
        delay: Duration::ZERO,
        fail_rate: 0.0,
        echo: false,
        bind: "127.0.0.1".parse().unwrap(),
    };
    // On its own thread, so that a run that wrongly starts serving fails
    // the test instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(run_cli(args)));
    let code = rx.recv_timeout(LIMIT).expect("lblab backends kept running");
    assert_eq!(code, ExitCode::FAILURE);
}
