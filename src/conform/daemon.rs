//! A production balancer (HAProxy, nginx) running the configuration
//! `lblab export` writes, as a child process on loopback, in front of a
//! lab's real servers. What the daemon decides it keeps to itself: its
//! rows count what the servers received, and it takes no commands.

use crate::engine::{
    ClientCounts, ConnCounters, EventLog, Latencies, LogKind, RetransmitCounters,
    SNAPSHOT_LOG_LINES, SeriesSet, ServerRow, ServerState, Settings, Snapshot,
};
use crate::export::{Addresses, Engine, export_at};
use crate::model::SimTime;
use crate::real::front::Front;
use crate::spec::{Command, DropReason, Lab, Origin};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

/// The connections HAProxy may hold at once here (each takes two file
/// descriptors, and the usual limit is in the thousands).
const CONFORM_MAXCONN: u32 = 4000;

/// How long a daemon may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A daemon running a lab's exported balancer.
pub struct Daemon {
    engine: Engine,
    child: Child,
    dir: PathBuf,
    listen: SocketAddr,
    lab: Lab,
    log: EventLog,
    started: Instant,
    exited: bool,
    /// What the export could not express, one line each.
    pub unsupported: Vec<String>,
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

impl Daemon {
    /// Writes `lab`'s exported configuration for `engine` in front of
    /// `servers`, starts `program` on it and waits until it listens.
    pub fn start(
        engine: Engine,
        program: &Path,
        stream_module: Option<&Path>,
        lab: &Lab,
        servers: &[SocketAddr],
    ) -> Result<Daemon, String> {
        let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()?));
        let dir = std::env::temp_dir().join(format!(
            "lblab-conform-{}-{}-{}",
            std::process::id(),
            engine.to_string().to_lowercase(),
            listen.port()
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        // The clients connect from 127.b.c.d for the simulation's 10.b.c.d:
        // the filter is moved there too.
        let mut on_loopback = lab.clone();
        on_loopback.balancer.defences.filter =
            crate::real::config::on_loopback(&lab.balancer.defences.filter);
        let at = Addresses {
            listen: listen.to_string(),
            servers: servers.iter().map(ToString::to_string).collect(),
        };
        let exported = export_at(&on_loopback, engine, &at);
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text)
                .map(|()| path.clone())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))
        };
        let mut process = Process::new(program);
        match engine {
            Engine::Haproxy => {
                let cfg = write("haproxy.cfg", &exported.text)?;
                // The export asks for the production maxconn; this
                // machine's file limit may be lower, and a loopback lab
                // needs far fewer.
                process
                    .arg("-db")
                    .arg("-n")
                    .arg(CONFORM_MAXCONN.to_string())
                    .arg("-f")
                    .arg(cfg);
            }
            Engine::Nginx => {
                let stream = write("stream.conf", &exported.text)?;
                let load = stream_module
                    .map(|m| format!("load_module {};\n", m.display()))
                    .unwrap_or_default();
                let main = write(
                    "nginx.conf",
                    &format!(
                        "{load}daemon off;\nworker_processes 1;\npid {};\nerror_log {} warn;\nevents {{}}\ninclude {};\n",
                        dir.join("nginx.pid").display(),
                        dir.join("error.log").display(),
                        stream.display()
                    ),
                )?;
                process
                    .arg("-p")
                    .arg(&dir)
                    .arg("-e")
                    .arg("stderr")
                    .arg("-c")
                    .arg(main);
            }
        }
        let output = std::fs::File::create(dir.join("daemon.log"))
            .map_err(|e| format!("cannot write the daemon's log: {e}"))?;
        let errors = output
            .try_clone()
            .map_err(|e| format!("cannot write the daemon's log: {e}"))?;
        let child = process
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(errors)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
        let mut daemon = Daemon {
            engine,
            child,
            dir,
            listen,
            lab: lab.clone(),
            log: EventLog::default(),
            started: Instant::now(),
            exited: false,
            unsupported: exported.unsupported,
        };
        daemon.wait_listening()?;
        let text = format!("{engine} ({}) listening on {listen}", program.display());
        daemon.note_now(LogKind::Info, text);
        Ok(daemon)
    }

    fn wait_listening(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited at start ({status}): {}",
                    self.engine,
                    self.log_tail()
                ));
            }
            if TcpStream::connect_timeout(&self.listen, Duration::from_millis(100)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} did not listen on {} within {START_TIMEOUT:?}: {}",
                    self.engine,
                    self.listen,
                    self.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The end of what the daemon wrote, for an error message.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.join("daemon.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(8)..].join("\n")
    }

    fn now(&self) -> SimTime {
        SimTime(u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // Killed by its pid, whatever happened before.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Front for Daemon {
    fn local_addr(&self) -> SocketAddr {
        self.listen
    }

    fn advance(&mut self, until: SimTime) {
        let now = self.now();
        if until > now {
            std::thread::sleep(Duration::from_nanos(until.0 - now.0).min(Duration::from_millis(5)));
        }
        if !self.exited
            && let Ok(Some(status)) = self.child.try_wait()
        {
            self.exited = true;
            let text = format!("{} exited ({status}): {}", self.engine, self.log_tail());
            self.note_now(LogKind::Error, text);
        }
    }

    fn snapshot(&self) -> Snapshot {
        let servers = self.server_rows();
        Snapshot {
            lab: self.lab.name.clone(),
            seed: self.lab.seed,
            now: self.now(),
            events: 0,
            finished: false,
            settings: Settings::of_lab(&self.lab),
            servers_total: servers.len(),
            servers,
            clients: Some(ClientCounts::default()),
            conns: ConnCounters::default(),
            drops: DropReason::ALL.iter().map(|r| (*r, 0)).collect(),
            retransmits: RetransmitCounters::default(),
            latency: Latencies::default(),
            table_entries: 0,
            half_open: 0,
            floods_active: 0,
            flood_syns: 0,
            series: SeriesSet::default(),
            log: self.log.tail(SNAPSHOT_LOG_LINES),
            log_total: self.log.total(),
            twin: None,
            objectives: Vec::new(),
            addresses_ran_out: None,
            disruptions: Vec::new(),
            inspected: None,
        }
    }

    fn server_rows(&self) -> Vec<ServerRow> {
        self.lab
            .servers
            .expand()
            .into_iter()
            .map(|s| ServerRow {
                name: s.name,
                state: ServerState::Up,
                // The daemon's verdict is its own.
                healthy: true,
                weight: s.weight,
                active: 0,
                half_open: 0,
                max_half_open: 0,
                server_established: None,
                max_connections: None,
                connections: 0,
                new_per_sec: 0,
                packets: None,
                packets_per_sec: None,
                segments_served: None,
                queued: None,
                drops: 0,
                probe_p95: None,
                active_series: Vec::new(),
                bytes_per_sec: None,
                connect_p95: None,
                recent_picks: Vec::new(),
                new_series: Vec::new(),
                probes_failed: 0,
                probes_passed: 0,
                down_since: None,
                probes: Vec::new(),
                changes: Vec::new(),
            })
            .collect()
    }

    fn apply(&mut self, command: Command, origin: Origin) {
        // A revived server is the rig's doing; the daemon's own checks
        // bring it back, with nothing of the daemon's to undo.
        if matches!(command, Command::ReviveServer(_)) {
            return;
        }
        let text = format!(
            "{}{command}: not applied, {} runs the exported configuration unchanged",
            origin.tag(),
            self.engine
        );
        self.note_now(LogKind::Error, text);
    }

    fn note_now(&mut self, kind: LogKind, text: String) {
        let now = self.now();
        self.log.push(now, kind, text);
    }

    fn events_processed(&self) -> u64 {
        0
    }

    fn counts_picks(&self) -> bool {
        false
    }

    fn name(&self) -> String {
        self.engine.to_string()
    }
}
