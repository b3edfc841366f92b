//! The child processes of `benches/proxy_memory.rs`: the echo backends,
//! and the proxy whose growth is measured.

use super::*;

// --------------------------------------------------------------- children

/// Runs a child's `work` on a fresh runtime within [`CHILD_LIMIT`]; its
/// exit code.
pub(super) fn in_child(
    phase: &str,
    work: impl std::future::Future<Output = Result<(), String>>,
) -> ExitCode {
    let result = raise_nofile().and_then(|_| runtime());
    let runtime = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("proxy_memory {phase} child: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async {
        match tokio::time::timeout(CHILD_LIMIT, work).await {
            Ok(Ok(())) => ExitCode::SUCCESS,
            Ok(Err(e)) => {
                eprintln!("proxy_memory {phase} child: {e}");
                ExitCode::FAILURE
            }
            Err(_) => {
                eprintln!("proxy_memory {phase} child: ran longer than {CHILD_LIMIT:?}");
                ExitCode::FAILURE
            }
        }
    });
    runtime.shutdown_timeout(Duration::from_secs(2));
    code
}

/// The backends child: starts the echo backends, prints `BACKEND <addr>`
/// for each and then `READY`, and serves until its stdin closes.
pub(super) async fn backends_phase() -> Result<(), String> {
    let options = BackendOptions {
        mode: Mode::Echo,
        ..BackendOptions::default()
    };
    let backends = spawn_many(BACKENDS, 0, options)
        .await
        .map_err(|e| format!("cannot start the echo backends: {e}"))?;
    for b in &backends {
        println!("BACKEND {}", b.addr());
    }
    println!("READY");
    let mut stdin = forward_lines(std::io::stdin());
    while stdin.recv().await.is_some() {}
    for b in &backends {
        b.kill();
    }
    Ok(())
}

/// The proxy child: starts the proxy in front of the backends named in
/// [`BACKEND_ADDRS`], reads its baseline, prints `LISTEN <addr>`, answers
/// each `measure` line with a `GROWTH` line, and ends when stdin closes.
pub(super) async fn proxy_phase() -> Result<(), String> {
    let addrs = std::env::var(BACKEND_ADDRS).map_err(|_| format!("{BACKEND_ADDRS} is not set"))?;
    let proxy = start_proxy(&addrs).await?;
    // Let the first health probes run before the baseline.
    tokio::time::sleep(SETTLE).await;
    let baseline = Usage::now()?;
    println!("LISTEN {}", proxy.local_addr());
    let mut stdin = forward_lines(std::io::stdin());
    while let Some(line) = stdin.recv().await {
        match line.trim() {
            "measure" => println!("GROWTH {}", Usage::now()?.since(&baseline).line()),
            other => return Err(format!("unknown request \"{other}\" (measure)")),
        }
    }
    let shutdown = proxy.shutdown(Duration::from_secs(2));
    tokio::time::timeout(STEP_LIMIT, shutdown)
        .await
        .map(drop)
        .map_err(|_| "the proxy did not shut down in time".to_string())
}

/// Starts the proxy on 127.0.0.1 in front of `addrs` (comma separated).
pub(super) async fn start_proxy(addrs: &str) -> Result<Proxy, String> {
    let list: Vec<String> = addrs
        .split(',')
        .map(|a| format!("(address: \"{}\")", a.trim()))
        .collect();
    // Defaults for everything else: round robin, TCP health checks.
    let text = format!(
        "(listen: \"127.0.0.1:0\", backends: [{}], idle_timeout: None)",
        list.join(", ")
    );
    let config = load_str(&text, "proxy_memory", Format::Ron).map_err(|e| e.to_string())?;
    Proxy::start(config)
        .await
        .map_err(|e| format!("the proxy cannot start: {e}"))
}

/// This process's memory and descriptors at one moment.
pub(super) struct Usage {
    /// Resident bytes.
    rss: i64,
    /// Live heap bytes.
    heap: i64,
    /// Open descriptors.
    fds: i64,
}

/// How far the proxy process grew since its baseline.
#[derive(Debug, Default)]
pub(super) struct Growth {
    /// Resident bytes.
    pub(super) rss: i64,
    /// Live heap bytes.
    pub(super) heap: i64,
    /// Descriptors.
    pub(super) fds: i64,
}

impl Usage {
    /// Reads this process's usage now.
    fn now() -> Result<Usage, String> {
        let fds = std::fs::read_dir("/proc/self/fd")
            .map_err(|e| format!("cannot read /proc/self/fd: {e}"))?
            .count();
        Ok(Usage {
            rss: rss_bytes()?,
            heap: LIVE.load(Ordering::Relaxed) as i64,
            fds: fds as i64,
        })
    }

    /// The growth from `baseline` to this.
    fn since(&self, baseline: &Usage) -> Growth {
        Growth {
            rss: self.rss - baseline.rss,
            heap: self.heap - baseline.heap,
            fds: self.fds - baseline.fds,
        }
    }
}

impl Growth {
    /// As printed after `GROWTH `.
    pub(super) fn line(&self) -> String {
        format!("rss={} heap={} fds={}", self.rss, self.heap, self.fds)
    }

    /// Reads what [`line`](Self::line) printed.
    pub(super) fn parse(line: &str) -> Result<Growth, String> {
        let mut g = Growth::default();
        for field in line.split_whitespace() {
            let value = |v: &str| {
                v.parse::<i64>()
                    .map_err(|e| format!("bad figure in \"{line}\": {e}"))
            };
            match field.split_once('=') {
                Some(("rss", v)) => g.rss = value(v)?,
                Some(("heap", v)) => g.heap = value(v)?,
                Some(("fds", v)) => g.fds = value(v)?,
                _ => return Err(format!("the proxy child measured \"{line}\"")),
            }
        }
        Ok(g)
    }
}

/// This process's resident memory in bytes.
pub(super) fn rss_bytes() -> Result<i64, String> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("cannot read /proc/self/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(|kb| kb * 1024)
        .ok_or_else(|| "no VmRSS line in /proc/self/status".into())
}

/// Kernel memory held by all TCP sockets on the machine, in bytes (0 when
/// unknown).
pub(super) fn kernel_tcp_bytes() -> i64 {
    let Ok(text) = std::fs::read_to_string("/proc/net/sockstat") else {
        return 0;
    };
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as i64;
    text.lines()
        .find_map(|l| l.strip_prefix("TCP: "))
        .and_then(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            words
                .windows(2)
                .find(|w| w[0] == "mem")
                .and_then(|w| w[1].parse::<i64>().ok())
        })
        .map_or(0, |pages| pages * page)
}
