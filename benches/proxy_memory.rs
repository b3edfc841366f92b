//! Memory per idle proxied connection with (nearly) 10 000 open at once.
//!
//! The bench runs as three processes, so that only the proxy holds two
//! descriptors per connection and the count is bounded by one process's
//! open-files limit rather than four times that:
//!
//! * a `backends` child (this program run again with
//!   `LBLAB_PROXY_MEMORY_PHASE=backends`): 3 echo backends, whose addresses
//!   it prints; it stays until its stdin closes or it is killed;
//! * a `proxy` child (`LBLAB_PROXY_MEMORY_PHASE=proxy`): an in-process
//!   [`Proxy`] in front of those backends, with a counting global
//!   allocator. It raises its soft `RLIMIT_NOFILE` to the hard limit,
//!   reads a baseline once started (before any client connects), prints
//!   its listen address, and on a `measure` line on stdin prints how far
//!   it has grown since that baseline;
//! * this process, the parent: it opens the clients to the proxy on
//!   127.0.0.1 (at most 256 being opened at once), each sends one byte and
//!   reads its echo (so every connection has been proxied and has touched
//!   its copy buffers), waits until all are open and idle, asks the proxy
//!   child to measure, prints the figures, closes the clients and kills
//!   both children (always, also after an error or a timeout).
//!
//! The figure is the proxy process's growth divided by the connections:
//! its task, the user-space side of its two sockets, its copy buffers, and
//! whatever it allocated once on first use (not subtracted, spread over
//! all the connections). Growth is read two ways: resident memory (`VmRSS`
//! in `/proc/self/status`, pages actually touched) and live heap bytes
//! (the counting allocator: buffers count in full even where untouched).
//! Kernel socket memory is in neither; the system-wide `TCP mem` pages of
//! `/proc/net/sockstat` are shown for reference (they cover all four
//! sockets of each connection, and other programs on the machine move them
//! too). The target is at most 32 KiB per connection; the bench says
//! whether it was met and exits 0 either way, unless something failed.
//!
//! The count is 10 000 when the hard open-files limit allows it, otherwise
//! the most that fit through one proxy process (2 descriptors per
//! connection plus a few dozen spare; 9 980 under a hard limit of 20 000),
//! which the bench states. `LBLAB_PROXY_MEMORY_CONNECTIONS` sets another
//! count, up to what fits.
//!
//! Run with `cargo bench --bench proxy_memory`; it prints the figures.

use lblab::backends::{BackendOptions, Mode, spawn_many};
use lblab::proxy::Proxy;
use lblab::proxy::config::{Format, load_str};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio::task::JoinSet;

/// The connections the target is stated at, and the count used whenever
/// the open-files limit allows it.
const TARGET_CONNECTIONS: usize = 10_000;
/// The most resident or heap growth per connection that meets the target.
const TARGET_KIB: f64 = 32.0;
/// The environment variable that overrides the connection count.
const COUNT: &str = "LBLAB_PROXY_MEMORY_CONNECTIONS";
/// Echo backends behind the proxy.
const BACKENDS: usize = 3;
/// Connections being opened at once (listen backlogs are 1024).
const OPENING: usize = 256;
/// Descriptors the proxy holds per connection: the client's and the
/// backend's side.
const FDS_PER_CONNECTION: u64 = 2;
/// Descriptors the proxy holds beyond its connections: stdio and pipes,
/// the listener, the runtime's poller, health-check probes.
const FDS_SPARE: u64 = 40;
/// The environment variable that makes this process a child, and which.
const PHASE: &str = "LBLAB_PROXY_MEMORY_PHASE";
/// The environment variable that hands the backends' addresses, comma
/// separated, to the proxy child.
const BACKEND_ADDRS: &str = "LBLAB_PROXY_MEMORY_BACKENDS";
/// The most the whole run may take, and the most a child may live.
const CHILD_LIMIT: Duration = Duration::from_secs(120);
/// The most one step (a child starting, opening the clients, measuring)
/// may take.
const STEP_LIMIT: Duration = Duration::from_secs(60);
/// Time for the last connections' tasks to settle in their idle await,
/// and for the proxy's first health probes before its baseline.
const SETTLE: Duration = Duration::from_millis(500);

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{Counting, LIVE};

#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() -> ExitCode {
    match std::env::var(PHASE).as_deref() {
        Ok("backends") => in_child("backends", backends_phase()),
        Ok("proxy") => in_child("proxy", proxy_phase()),
        Ok(other) => {
            eprintln!("proxy_memory: unknown {PHASE} \"{other}\" (backends or proxy)");
            ExitCode::FAILURE
        }
        Err(_) => parent(),
    }
}

// ---------------------------------------------------------------- shared

/// Raises the soft limit on open files to the hard limit; the hard limit
/// (`None`: unlimited).
fn raise_nofile() -> Result<Option<u64>, String> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit through a valid pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        let err = std::io::Error::last_os_error();
        return Err(format!("cannot read RLIMIT_NOFILE: {err}"));
    }
    let raised = libc::rlimit {
        rlim_cur: lim.rlim_max,
        rlim_max: lim.rlim_max,
    };
    // SAFETY: setrlimit reads one rlimit through a valid pointer.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        let err = std::io::Error::last_os_error();
        return Err(format!(
            "cannot raise the soft open-files limit to the hard limit {}: {err}",
            lim.rlim_max
        ));
    }
    Ok((lim.rlim_max != libc::RLIM_INFINITY).then_some(lim.rlim_max))
}

/// A runtime like the proxy's own on this machine: two worker threads.
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}

/// Hands the lines read from `input` to the returned receiver, from a
/// thread of their own; the receiver ends when `input` does.
fn forward_lines(input: impl Read + Send + 'static) -> UnboundedReceiver<String> {
    let (tx, rx) = unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(input).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

// ---------------------------------------------------------------- parent

/// The most connections one proxy process fits under the hard open-files
/// limit `hard` (`None`: unlimited), capped at [`TARGET_CONNECTIONS`].
fn fitting(hard: Option<u64>) -> usize {
    match hard {
        None => TARGET_CONNECTIONS,
        Some(hard) => {
            let fits = hard.saturating_sub(FDS_SPARE) / FDS_PER_CONNECTION;
            usize::try_from(fits).map_or(TARGET_CONNECTIONS, |f| f.min(TARGET_CONNECTIONS))
        }
    }
}

/// Connections to open: `fits`, or what [`COUNT`] says if that fits too.
fn connections(fits: usize, hard: Option<u64>) -> Result<usize, String> {
    let Ok(text) = std::env::var(COUNT) else {
        return Ok(fits);
    };
    let n = match text.trim().parse::<usize>() {
        Ok(n) if (1..=100_000).contains(&n) => n,
        _ => {
            return Err(format!(
                "{COUNT} must be a number of connections from 1 to 100000, not \"{text}\""
            ));
        }
    };
    if let Some(hard) = hard
        && n > fits
    {
        return Err(format!(
            "{COUNT}={n} does not fit: the proxy holds {FDS_PER_CONNECTION} descriptors per \
             connection plus about {FDS_SPARE}, and the hard open-files limit of {hard} allows \
             at most {fits}"
        ));
    }
    Ok(n)
}

fn parent() -> ExitCode {
    let hard = match raise_nofile() {
        Ok(hard) => hard,
        Err(e) => {
            eprintln!("proxy_memory: {e}");
            return ExitCode::FAILURE;
        }
    };
    let fits = fitting(hard);
    if fits == 0 {
        eprintln!(
            "proxy_memory: the hard open-files limit of {} leaves no room for a connection",
            hard.unwrap_or_default()
        );
        return ExitCode::FAILURE;
    }
    let n = match connections(fits, hard) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("proxy_memory: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "proxy memory: idle connections through one proxy process to {BACKENDS} echo \
         backends, each with one byte echoed"
    );
    let why = match hard {
        _ if std::env::var_os(COUNT).is_some() => {
            format!("set by {COUNT}; the open-files limit allows up to {fits}")
        }
        Some(hard) if n < TARGET_CONNECTIONS => format!(
            "the hard open-files limit of {hard} allows at most {n} through one proxy process; \
             the target is stated at 10 000"
        ),
        Some(hard) => format!("the hard open-files limit is {hard}"),
        None => "no hard open-files limit".to_string(),
    };
    println!("at {n} connections ({why})");

    let runtime = match runtime() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("proxy_memory: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut children = Children::default();
    let outcome = runtime.block_on(async {
        match tokio::time::timeout(CHILD_LIMIT, run(n, &mut children)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!("the run took longer than {CHILD_LIMIT:?}")),
        }
    });
    // The clients are closed by now (they lived in `run`); the children go
    // next, whatever happened.
    drop(children);
    runtime.shutdown_timeout(Duration::from_secs(2));
    match outcome {
        Ok(figures) => {
            figures.report(n);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("proxy_memory: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The children started so far; dropping this kills each by its pid and
/// reaps it.
#[derive(Default)]
struct Children {
    started: Vec<Child>,
}

/// A started child's stdin and the lines it prints.
struct Started {
    /// Its stdin: a `measure` line asks the proxy to measure; closing it
    /// asks either child to end.
    stdin: ChildStdin,
    /// The lines it prints on stdout.
    lines: UnboundedReceiver<String>,
    /// The phase, for messages.
    phase: &'static str,
}

impl Children {
    /// Runs this program again as the `phase` child, with `env` set too.
    fn start(&mut self, phase: &'static str, env: &[(&str, String)]) -> Result<Started, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
        let mut command = Command::new(exe);
        command
            .env(PHASE, phase)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start the {phase} child: {e}"))?;
        let pipes = child.stdin.take().zip(child.stdout.take());
        self.started.push(child);
        let (stdin, stdout) = pipes.ok_or_else(|| format!("no pipes to the {phase} child"))?;
        Ok(Started {
            stdin,
            lines: forward_lines(stdout),
            phase,
        })
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.started {
            // Fails only if it was reaped already, which it cannot be.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Started {
    /// The rest of the next line that starts with `prefix`, within
    /// [`STEP_LIMIT`]; other lines are passed on to stderr.
    async fn expect(&mut self, prefix: &str) -> Result<String, String> {
        let phase = self.phase;
        let wait = async {
            loop {
                match self.lines.recv().await {
                    Some(line) => match line.strip_prefix(prefix) {
                        Some(rest) => return Ok(rest.to_string()),
                        None => eprintln!("{phase} child: {line}"),
                    },
                    None => return Err(format!("the {phase} child ended early")),
                }
            }
        };
        tokio::time::timeout(STEP_LIMIT, wait)
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "the {phase} child printed no \"{prefix}\" line within {STEP_LIMIT:?}"
                ))
            })
    }

    /// Sends one line to its stdin.
    fn send(&mut self, line: &str) -> Result<(), String> {
        writeln!(self.stdin, "{line}")
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("cannot write to the {} child: {e}", self.phase))
    }
}

/// Starts the children, opens `n` clients through the proxy and has the
/// proxy measure itself; the clients are closed on return.
async fn run(n: usize, children: &mut Children) -> Result<Figures, String> {
    let mut backends = children.start("backends", &[])?;
    let mut addrs = Vec::with_capacity(BACKENDS);
    loop {
        let line = backends.expect("").await?;
        if line == "READY" {
            break;
        }
        match line.strip_prefix("BACKEND ") {
            Some(addr) => addrs.push(addr.to_string()),
            None => eprintln!("backends child: {line}"),
        }
    }
    let mut proxy = children.start("proxy", &[(BACKEND_ADDRS, addrs.join(","))])?;
    let listen = proxy.expect("LISTEN ").await?;
    let listen: SocketAddr = listen
        .parse()
        .map_err(|e| format!("the proxy child printed a bad address \"{listen}\": {e}"))?;

    let sock_before = kernel_tcp_bytes();
    let started = Instant::now();
    let streams = open(listen, n).await?;
    let open_secs = started.elapsed().as_secs_f64();
    // Let the last connections' tasks settle in their idle await.
    tokio::time::sleep(SETTLE).await;
    proxy.send("measure")?;
    let growth = Growth::parse(&proxy.expect("GROWTH ").await?)?;
    let sock_growth = kernel_tcp_bytes() - sock_before;
    drop(streams);
    Ok(Figures {
        growth,
        sock_growth,
        open_secs,
    })
}

/// Opens `n` connections to `target`, each having sent one byte and read
/// its echo; at most [`OPENING`] are being opened at once.
async fn open(target: SocketAddr, n: usize) -> Result<Vec<TcpStream>, String> {
    let work = async {
        let mut streams = Vec::with_capacity(n);
        let mut opening = JoinSet::new();
        for _ in 0..n {
            if opening.len() >= OPENING {
                streams.push(joined(opening.join_next().await)?);
            }
            opening.spawn(one(target));
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

/// The stream a finished client task opened, or why it has none.
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

/// What the parent learned from one run.
struct Figures {
    /// The proxy process's growth over its baseline.
    growth: Growth,
    /// Growth of the kernel's TCP memory, system-wide, in bytes.
    sock_growth: i64,
    /// Seconds taken to open the clients.
    open_secs: f64,
}

impl Figures {
    /// Prints the figures for `count` connections.
    fn report(&self, count: usize) {
        let n = count as f64;
        let kib = |bytes: i64| bytes as f64 / 1024.0 / n;
        let mib = |bytes: i64| bytes as f64 / 1024.0 / 1024.0;
        let (rss, heap) = (kib(self.growth.rss), kib(self.growth.heap));
        println!();
        println!("proxy process growth over its baseline, per connection (total):");
        println!(
            "  resident (VmRSS)  {rss:>8.2} KiB   ({:.1} MiB)",
            mib(self.growth.rss)
        );
        println!(
            "  live heap         {heap:>8.2} KiB   ({:.1} MiB)",
            mib(self.growth.heap)
        );
        println!(
            "  descriptors       {:>8.2}       ({})",
            self.growth.fds as f64 / n,
            self.growth.fds
        );
        let expected = count as i64 * FDS_PER_CONNECTION as i64;
        if self.growth.fds != expected {
            println!(
                "  note: {} descriptors more in the proxy, not the {expected} that {count} \
                 connections hold",
                self.growth.fds
            );
        }
        if rss.max(heap) <= TARGET_KIB {
            println!(
                "target <= {TARGET_KIB} KiB per connection: PASS ({rss:.2} KiB resident, \
                 {heap:.2} KiB heap)"
            );
        } else {
            println!(
                "target <= {TARGET_KIB} KiB per connection: OVER TARGET ({rss:.2} KiB \
                 resident, {heap:.2} KiB heap)"
            );
        }
        println!(
            "kernel TCP memory, system-wide (/proc/net/sockstat `TCP mem`, not in the above; \
             all four sockets of each connection, and anything else on the machine): \
             {:.2} KiB/conn",
            kib(self.sock_growth)
        );
        println!("time to open {count}: {:.2} s", self.open_secs);
    }
}

// The children's side: the backends and the measured proxy.
#[path = "support/proxy_memory_children.rs"]
mod children;
use children::*;
