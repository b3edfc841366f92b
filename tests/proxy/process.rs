//! `lblab proxy` as a process: signals, configuration files and their
//! errors, the source design's config.json.

use crate::support::*;
use lblab::proxy::config::{Format, load_str};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A proxy process, killed by its pid when the test ends however it ends.
struct ProxyProcess {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ProxyProcess {
    /// Starts `lblab proxy --config path` and waits for its listening line.
    fn start(config: &Path, log: &Path) -> ProxyProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lblab"))
            .args(["proxy", "--config"])
            .arg(config)
            .arg("--log")
            .arg(log)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("lblab proxy starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let addr = line.trim().rsplit(' ').next().and_then(|a| a.parse().ok());
        let mut p = ProxyProcess {
            child,
            addr: "127.0.0.1:1".parse().expect("addr"),
            log: log.to_path_buf(),
        };
        match (read, addr) {
            (Ok(_), Some(addr)) => p.addr = addr,
            _ => panic!("no listening line from the proxy: {line:?}"),
        }
        p
    }

    fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid");
        // SAFETY: kill(2) with a pid this test started and still owns.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }

    /// Waits for the process to exit; its exit code.
    fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let start = std::time::Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the proxy did not exit within {limit:?}");
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A scratch folder for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("lblab-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ron_config(backends: &[SocketAddr], drain: &str) -> String {
    let list: Vec<String> = backends
        .iter()
        .enumerate()
        .map(|(i, a)| format!("(address: \"{a}\", name: Some(\"web-{}\"))", i + 1))
        .collect();
    format!(
        "(\n    listen: \"127.0.0.1:0\",\n    backends: [{}],\n    health: (interval: \"100ms\", timeout: \"50ms\"),\n    drain_timeout: \"{drain}\",\n)\n",
        list.join(", ")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_transfer_lets_it_finish_and_exits_zero() {
    let dir = Scratch::new("sigterm");
    let backends = echo_backends(1).await;
    let config = dir.write("p.ron", &ron_config(&addrs(&backends), "10s"));
    let mut proxy = ProxyProcess::start(&config, &dir.0.join("log"));
    let mut s = TcpStream::connect(proxy.addr).await.expect("connect");
    let chunk = vec![7u8; 64 * 1024];
    let mut sent = 0usize;
    let mut back = Vec::new();
    for i in 0..16 {
        if i == 4 {
            proxy.signal(libc::SIGTERM);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        s.write_all(&chunk).await.expect("write after SIGTERM");
        sent += chunk.len();
        let mut buf = vec![0u8; chunk.len()];
        within("echo", s.read_exact(&mut buf))
            .await
            .expect("echo after SIGTERM");
        back.extend_from_slice(&buf);
    }
    s.shutdown().await.expect("half-close");
    let mut rest = Vec::new();
    within("end", s.read_to_end(&mut rest))
        .await
        .expect("read end");
    assert_eq!(back.len() + rest.len(), sent, "bytes lost");
    assert!(back.iter().all(|&b| b == 7));
    // New connections are no longer accepted while it drains or after.
    drop(s);
    let code = proxy.wait_exit(Duration::from_secs(5));
    assert_eq!(code, Some(0), "log:\n{}", proxy.log_text());
    assert!(TcpStream::connect(proxy.addr).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_adds_a_backend_and_live_connections_survive() {
    let dir = Scratch::new("sighup");
    let echo = echo_backends(1).await;
    let web = http_backends(1).await;
    let config = dir.write("p.ron", &ron_config(&addrs(&echo), "5s"));
    let proxy = ProxyProcess::start(&config, &dir.0.join("log"));
    let mut live = TcpStream::connect(proxy.addr).await.expect("connect");
    live.write_all(b"before").await.expect("write");
    let mut b = [0u8; 6];
    within("echo", live.read_exact(&mut b)).await.expect("echo");
    dir.write("p.ron", &ron_config(&[echo[0].addr(), web[0].addr()], "5s"));
    proxy.signal(libc::SIGHUP);
    let mut reached_new = false;
    for _ in 0..50 {
        // Round robin alternates: the new HTTP backend answers one of two.
        if let Some(a) = within("request", get(proxy.addr, "/")).await
            && a.status == 200
        {
            reached_new = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        reached_new,
        "the added backend never answered; log:\n{}",
        proxy.log_text()
    );
    live.write_all(b"after!").await.expect("write after reload");
    within("echo", live.read_exact(&mut b))
        .await
        .expect("live connection survives");
    assert_eq!(&b, b"after!");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_reload_is_refused_with_its_place_and_the_old_config_stays() {
    let dir = Scratch::new("badreload");
    let web = http_backends(1).await;
    let config = dir.write("p.ron", &ron_config(&addrs(&web), "5s"));
    let proxy = ProxyProcess::start(&config, &dir.0.join("log"));
    dir.write(
        "p.ron",
        "(\n    listen: \"127.0.0.1:0\",\n    backends: [(adress: \"x\")],\n)\n",
    );
    proxy.signal(libc::SIGHUP);
    let expected = format!("{}:3:17", config.display());
    let mut logged = false;
    for _ in 0..100 {
        if proxy.log_text().contains(&expected) {
            logged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(logged, "no {expected} in the log:\n{}", proxy.log_text());
    let a = within("request", get(proxy.addr, "/")).await;
    assert_eq!(a.map(|a| a.status), Some(200));
}

#[test]
fn a_bad_config_is_reported_at_file_line_col() {
    let dir = Scratch::new("badconfig");
    let cases = [
        (
            "bad.ron",
            "(\n    listen: \"127.0.0.1:0\",\n    backends: [],\n    colour: 3,\n)\n",
            ":4:5:",
        ),
        (
            "bad.json",
            "{\n  \"listen_addr\": \":0\",\n  \"servers\": [],\n  \"colour\": 3\n}\n",
            ":4:",
        ),
        (
            "addr.json",
            "{\n  \"listen_addr\": \":0\",\n  \"servers\": [\n    { \"address\": \"nohost\" }\n  ]\n}\n",
            ":4:18:",
        ),
        (
            "port0.json",
            "{\n  \"listen_addr\": \":0\",\n  \"servers\": [\n    { \"address\": \"127.0.0.1:0\" }\n  ]\n}\n",
            ":4:18:",
        ),
        (
            "interval.json",
            "{\n  \"listen_addr\": \":0\",\n  \"health_check_interval\": 0,\n  \"servers\": [{ \"address\": \"127.0.0.1:1\" }]\n}\n",
            ":3:28:",
        ),
        (
            "idle.ron",
            "(\n    listen: \"127.0.0.1:0\",\n    backends: [(address: \"127.0.0.1:1\")],\n    idle_timeout: Some(\"1ms\"),\n)\n",
            ":4:19:",
        ),
    ];
    for (name, text, place) in cases {
        let path = dir.write(name, text);
        let out = Command::new(env!("CARGO_BIN_EXE_lblab"))
            .args(["proxy", "--check", "--config"])
            .arg(&path)
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name} accepted");
        let expected = format!("{}{place}", path.display());
        assert!(
            err.starts_with(&expected),
            "{name}: {err:?} does not start with {expected}"
        );
    }
}

/// The source design's file, exactly as document 004 prints it.
const SOURCE_DESIGN_JSON: &str = include_str!("../../assets/proxy/config.json");

#[test]
fn the_source_design_config_json_reads_unchanged() {
    let c = load_str(SOURCE_DESIGN_JSON, "config.json", Format::Json).expect("reads");
    assert_eq!(
        c.listen,
        "0.0.0.0:8080".parse::<SocketAddr>().expect("addr")
    );
    let ports: Vec<u16> = c.backends.iter().map(|b| b.address.port()).collect();
    assert_eq!(ports, [9001, 9002, 9003]);
    assert!(c.backends.iter().all(|b| b.address.ip().is_loopback()));
    assert_eq!(c.max_connections, Some(10));
    let limit = c.rate_limit.expect("a rate limit");
    assert_eq!((limit.rate(), limit.burst()), (50, 50));
    assert_eq!(c.health.interval, Duration::from_secs(10));
    assert_eq!(c.connect_timeout, Duration::from_secs(5));
    assert_eq!(c.filter.allow.len(), 1);
    assert!(c.tls.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_source_design_config_json_runs_with_only_its_ports_moved() {
    let dir = Scratch::new("json");
    let web = http_backends(3).await;
    // Tests bind ephemeral ports only, so the fixed ports are swapped for
    // free ones; every other byte is the document's.
    let mut text = SOURCE_DESIGN_JSON.replace("\":8080\"", "\"127.0.0.1:0\"");
    for (i, b) in web.iter().enumerate() {
        text = text.replace(
            &format!("localhost:{}", 9001 + i),
            &format!("localhost:{}", b.addr().port()),
        );
    }
    let config = dir.write("config.json", &text);
    let proxy = ProxyProcess::start(&config, &dir.0.join("log"));
    let names = within("requests", who_answers(proxy.addr, 3)).await;
    assert_eq!(names, ["web-1", "web-2", "web-3"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_and_sigint_together_still_drain() {
    let dir = Scratch::new("twosignals");
    let backends = echo_backends(1).await;
    let config = dir.write("p.ron", &ron_config(&addrs(&backends), "10s"));
    let mut proxy = ProxyProcess::start(&config, &dir.0.join("log"));
    let mut s = TcpStream::connect(proxy.addr).await.expect("connect");
    s.write_all(b"one").await.expect("write");
    let mut b = [0u8; 3];
    within("echo", s.read_exact(&mut b)).await.expect("echo");
    // What a supervisor signalling a process group does.
    proxy.signal(libc::SIGTERM);
    proxy.signal(libc::SIGINT);
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.write_all(b"two").await.expect("write while draining");
    within("echo", s.read_exact(&mut b))
        .await
        .expect("echo while draining");
    assert_eq!(&b, b"two");
    drop(s);
    let code = proxy.wait_exit(Duration::from_secs(5));
    assert_eq!(code, Some(0), "log:\n{}", proxy.log_text());
}
