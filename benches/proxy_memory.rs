//! Memory per idle proxied connection with 10 000 open at once.
//!
//! Echo backends, the proxy and the clients all live in this process, so
//! the figure is measured twice, each time in a fresh child process (so
//! that memory the allocator kept from one run cannot hide the next):
//!
//! * `proxy`: 10 000 clients connect through an in-process [`Proxy`] to 3
//!   echo backends, each sends one byte and reads its echo (so every
//!   connection is proxied and has touched its copy buffers), then the
//!   process's growth is read;
//! * `direct`: the same clients straight to the echo backends.
//!
//! The difference is the proxy's share per connection: its task, its two
//! sockets, its copy buffers. Growth is read two ways: resident memory
//! (`VmRSS` in `/proc/self/status`, pages actually touched) and live heap
//! bytes (a counting allocator: buffers count in full even where untouched).
//! Kernel socket memory is not in either; the system-wide `TCP mem` pages
//! of `/proc/net/sockstat` are shown for reference (other programs on the
//! machine move it too). The target is at most 32 KiB per connection.
//!
//! The proxied run holds 4 descriptors per connection (client, the proxy's
//! two, the backend's), so `RLIMIT_NOFILE` is raised first; if it cannot
//! reach about 41 000 the bench says so and exits 0. Where the hard limit
//! is lower and cannot be raised, a smaller count that fits still gives a
//! per-connection figure:
//! `LBLAB_PROXY_MEMORY_CONNECTIONS=4500 cargo bench --bench proxy_memory`.
//!
//! Run with `cargo bench --bench proxy_memory`; it prints the figures.

use lblab::backends::{BackendOptions, DemoBackend, Mode, spawn_many};
use lblab::proxy::Proxy;
use lblab::proxy::config::{Format, load_str};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Read;
use std::net::SocketAddr;
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

/// Connections open at once, unless [`COUNT`] says otherwise.
const CONNECTIONS: usize = 10_000;
/// The environment variable that overrides [`CONNECTIONS`].
const COUNT: &str = "LBLAB_PROXY_MEMORY_CONNECTIONS";
/// Echo backends behind the proxy.
const BACKENDS: usize = 3;
/// Connections being opened at once (listen backlogs are 1024).
const OPENING: usize = 256;
/// Descriptors the proxied run holds per connection.
const FDS_PER_CONNECTION: u64 = 4;
/// Descriptors beyond the connections: listeners, runtime, health checks.
const FDS_SPARE: u64 = 1_000;
/// The environment variable that makes this process a measuring child.
const PHASE: &str = "LBLAB_PROXY_MEMORY_PHASE";
/// The most one child may take, all steps included.
const CHILD_LIMIT: Duration = Duration::from_secs(120);
/// The most one step inside a child (opening, closing) may take.
const STEP_LIMIT: Duration = Duration::from_secs(60);

/// Counts the heap bytes currently allocated.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; the
// counter is only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() -> ExitCode {
    match std::env::var(PHASE).as_deref() {
        Ok("proxy") => child(true),
        Ok("direct") => child(false),
        _ => parent(),
    }
}

// ---------------------------------------------------------------- parent

/// Connections to open: [`CONNECTIONS`] or what [`COUNT`] says.
fn connections() -> Result<usize, String> {
    match std::env::var(COUNT) {
        Err(_) => Ok(CONNECTIONS),
        Ok(text) => match text.trim().parse::<usize>() {
            Ok(n) if (1..=100_000).contains(&n) => Ok(n),
            _ => Err(format!(
                "{COUNT} must be a number of connections from 1 to 100000, not \"{text}\""
            )),
        },
    }
}

fn parent() -> ExitCode {
    let n = match connections() {
        Ok(n) => n,
        Err(e) => {
            eprintln!("proxy_memory: {e}");
            return ExitCode::FAILURE;
        }
    };
    let needed = n as u64 * FDS_PER_CONNECTION + FDS_SPARE;
    match raise_nofile(needed) {
        Ok(limit) => println!("open files limit: {limit} (need about {needed})"),
        Err((why, hard)) => {
            let fits = hard.saturating_sub(FDS_SPARE) / FDS_PER_CONNECTION;
            println!("proxy_memory: skipped: {why}");
            println!(
                "  {n} proxied connections hold {FDS_PER_CONNECTION} descriptors each in this \
                 one process; raise the hard limit (ulimit -Hn {needed}) and rerun, or measure \
                 fewer: {COUNT}={fits} cargo bench --bench proxy_memory"
            );
            return ExitCode::SUCCESS;
        }
    }
    println!(
        "proxy memory: {n} idle connections, each with one byte echoed, \
         {BACKENDS} echo backends"
    );
    let direct = match run_child("direct", n) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("proxy_memory: the run without the proxy failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let proxied = match run_child("proxy", n) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("proxy_memory: the run through the proxy failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    report(&proxied, &direct, n);
    ExitCode::SUCCESS
}

/// Raises the soft limit on open files to the hard limit, and the hard
/// limit to `needed` when it is lower and this process may; the soft limit
/// now in force, or why it is too low and the hard limit.
fn raise_nofile(needed: u64) -> Result<u64, (String, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit through a valid pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        let err = std::io::Error::last_os_error();
        return Err((format!("cannot read RLIMIT_NOFILE: {err}"), 0));
    }
    let hard = lim.rlim_max;
    let wanted = if hard == libc::RLIM_INFINITY || hard >= needed {
        libc::rlimit {
            rlim_cur: hard,
            rlim_max: hard,
        }
    } else {
        // Only a privileged process may raise its hard limit; try once.
        libc::rlimit {
            rlim_cur: needed,
            rlim_max: needed,
        }
    };
    // SAFETY: setrlimit reads one rlimit through a valid pointer.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) } == 0 {
        return Ok(wanted.rlim_cur);
    }
    let err = std::io::Error::last_os_error();
    let soft = libc::rlimit {
        rlim_cur: hard,
        rlim_max: hard,
    };
    // SAFETY: as above.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &soft) };
    let why = format!(
        "the hard limit on open files is {hard}, below the {needed} needed, and it cannot be \
         raised ({err})"
    );
    Err((why, hard))
}

/// Runs this program again as a measuring child for `phase`, killing it
/// if it overruns [`CHILD_LIMIT`]; what it measured.
fn run_child(phase: &str, n: usize) -> Result<Sample, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let mut child = Command::new(exe)
        .env(PHASE, phase)
        .env(COUNT, n.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the {phase} run: {e}"))?;
    let mut out = child.stdout.take().ok_or("no pipe from the child")?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = out.read_to_string(&mut text);
        text
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > CHILD_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("the {phase} run took longer than {CHILD_LIMIT:?}"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(format!("cannot wait for the {phase} run: {e}")),
        }
    };
    let text = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("the {phase} run ended with {status}: {text}"));
    }
    text.lines()
        .find_map(Sample::parse)
        .ok_or_else(|| format!("the {phase} run printed no result: {text}"))
}

fn report(proxied: &Sample, direct: &Sample, count: usize) {
    let n = count as f64;
    let kib = |bytes: i64| bytes as f64 / 1024.0 / n;
    let (p_rss, d_rss) = (proxied.rss_growth(), direct.rss_growth());
    let (p_heap, d_heap) = (proxied.heap_growth(), direct.heap_growth());
    println!();
    println!("per connection               resident (VmRSS)   live heap");
    println!(
        "through the proxy (total)    {:>10.2} KiB   {:>9.2} KiB",
        kib(p_rss),
        kib(p_heap)
    );
    println!(
        "without the proxy (baseline) {:>10.2} KiB   {:>9.2} KiB",
        kib(d_rss),
        kib(d_heap)
    );
    let share = kib(p_rss - d_rss);
    let heap_share = kib(p_heap - d_heap);
    println!(
        "proxy's share                {:>10.2} KiB   {:>9.2} KiB   (target <= 32 KiB: {})",
        share,
        heap_share,
        if share.max(heap_share) <= 32.0 {
            "met"
        } else {
            "MISSED"
        }
    );
    println!(
        "kernel TCP memory, system-wide (/proc/net/sockstat), not in the above: \
         {:.2} KiB/conn through the proxy, {:.2} KiB/conn without",
        kib(proxied.sock_growth()),
        kib(direct.sock_growth())
    );
    println!(
        "time to open {count}: {:.2} s through the proxy, {:.2} s without",
        proxied.open_secs, direct.open_secs
    );
}

// ------------------------------------------------------------------ child

/// What one child measured, before and after opening the connections.
#[derive(Debug, Default)]
struct Sample {
    rss_before: i64,
    rss_after: i64,
    heap_before: i64,
    heap_after: i64,
    sock_before: i64,
    sock_after: i64,
    open_secs: f64,
}

impl Sample {
    fn rss_growth(&self) -> i64 {
        self.rss_after - self.rss_before
    }
    fn heap_growth(&self) -> i64 {
        self.heap_after - self.heap_before
    }
    fn sock_growth(&self) -> i64 {
        self.sock_after - self.sock_before
    }

    fn line(&self) -> String {
        format!(
            "RESULT rss_before={} rss_after={} heap_before={} heap_after={} sock_before={} \
             sock_after={} open_secs={}",
            self.rss_before,
            self.rss_after,
            self.heap_before,
            self.heap_after,
            self.sock_before,
            self.sock_after,
            self.open_secs
        )
    }

    fn parse(line: &str) -> Option<Sample> {
        let mut s = Sample::default();
        for field in line.strip_prefix("RESULT ")?.split(' ') {
            let (key, value) = field.split_once('=')?;
            match key {
                "open_secs" => s.open_secs = value.parse().ok()?,
                _ => {
                    let v = value.parse().ok()?;
                    match key {
                        "rss_before" => s.rss_before = v,
                        "rss_after" => s.rss_after = v,
                        "heap_before" => s.heap_before = v,
                        "heap_after" => s.heap_after = v,
                        "sock_before" => s.sock_before = v,
                        "sock_after" => s.sock_after = v,
                        _ => return None,
                    }
                }
            }
        }
        Some(s)
    }
}

fn child(proxied: bool) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async {
        match tokio::time::timeout(CHILD_LIMIT, measure(proxied)).await {
            Ok(Ok(())) => ExitCode::SUCCESS,
            Ok(Err(e)) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
            Err(_) => {
                eprintln!("the run took longer than {CHILD_LIMIT:?}");
                ExitCode::FAILURE
            }
        }
    });
    runtime.shutdown_timeout(Duration::from_secs(2));
    code
}

async fn measure(proxied: bool) -> Result<(), String> {
    let options = BackendOptions {
        mode: Mode::Echo,
        ..BackendOptions::default()
    };
    let backends = spawn_many(BACKENDS, 0, options)
        .await
        .map_err(|e| format!("cannot start the echo backends: {e}"))?;
    let proxy = if proxied {
        Some(start_proxy(&backends).await?)
    } else {
        None
    };
    let targets: Vec<SocketAddr> = match &proxy {
        Some(p) => vec![p.local_addr()],
        None => backends.iter().map(DemoBackend::addr).collect(),
    };
    // A first round warms up what is allocated once (runtime slabs,
    // listener state, the proxy's first-use tables) so that it is not
    // counted against the connections.
    drop(open(&targets, 200).await?);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut sample = Sample {
        rss_before: rss_bytes()?,
        heap_before: LIVE.load(Ordering::Relaxed) as i64,
        sock_before: kernel_tcp_bytes(),
        ..Sample::default()
    };
    let started = Instant::now();
    let streams = open(&targets, connections()?).await?;
    sample.open_secs = started.elapsed().as_secs_f64();
    // Let the last connections' tasks settle in their idle await.
    tokio::time::sleep(Duration::from_millis(300)).await;
    sample.rss_after = rss_bytes()?;
    sample.heap_after = LIVE.load(Ordering::Relaxed) as i64;
    sample.sock_after = kernel_tcp_bytes();
    println!("{}", sample.line());

    drop(streams);
    if let Some(proxy) = proxy {
        let shutdown = proxy.shutdown(Duration::from_secs(2));
        if tokio::time::timeout(STEP_LIMIT, shutdown).await.is_err() {
            return Err("the proxy did not shut down in time".into());
        }
    }
    for b in &backends {
        b.kill();
    }
    Ok(())
}

async fn start_proxy(backends: &[DemoBackend]) -> Result<Proxy, String> {
    let list: Vec<String> = backends
        .iter()
        .map(|b| format!("(address: \"{}\")", b.addr()))
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

/// Opens `n` connections spread over `targets`, each having sent one byte
/// and read its echo; at most [`OPENING`] are being opened at once.
async fn open(targets: &[SocketAddr], n: usize) -> Result<Vec<TcpStream>, String> {
    let work = async {
        let mut streams = Vec::with_capacity(n);
        let mut opening = JoinSet::new();
        for i in 0..n {
            if opening.len() >= OPENING {
                streams.push(joined(opening.join_next().await)?);
            }
            opening.spawn(one(targets[i % targets.len()]));
        }
        while let Some(done) = opening.join_next().await {
            streams.push(joined(Some(done))?);
        }
        Ok(streams)
    };
    match tokio::time::timeout(STEP_LIMIT, work).await {
        Ok(result) => result,
        Err(_) => Err(format!("opening {n} connections took over {STEP_LIMIT:?}")),
    }
}

fn joined(
    done: Option<Result<Result<TcpStream, String>, tokio::task::JoinError>>,
) -> Result<TcpStream, String> {
    match done {
        Some(Ok(result)) => result,
        Some(Err(e)) => Err(format!("a client task failed: {e}")),
        None => Err("no client task left".into()),
    }
}

/// One client: connect, send a byte, read it back.
async fn one(target: SocketAddr) -> Result<TcpStream, String> {
    let mut s = TcpStream::connect(target)
        .await
        .map_err(|e| format!("connect to {target}: {e}"))?;
    s.write_all(b"x")
        .await
        .map_err(|e| format!("write to {target}: {e}"))?;
    let mut byte = [0u8; 1];
    s.read_exact(&mut byte)
        .await
        .map_err(|e| format!("read the echo from {target}: {e}"))?;
    Ok(s)
}

/// This process's resident memory in bytes.
fn rss_bytes() -> Result<i64, String> {
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
fn kernel_tcp_bytes() -> i64 {
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
