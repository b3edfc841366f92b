//! A lab's servers and clients on real loopback sockets, aimed at any
//! balancer: `lblab proxy` for `--real`, HAProxy or nginx for `lblab
//! conform`. The rig runs them on its own tokio runtime and can kill and
//! revive servers, change the population and start floods while they run.

use super::book::Book;
use super::clients::Workload;
use super::link::LinkDelay;
use super::server::{LabService, ServerStats};
use crate::backends::DemoBackend;
use crate::spec::{Lab, ServerSpec};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// One of the lab's servers, running or killed.
#[derive(Debug)]
pub struct RigServer {
    /// Its spec from the lab.
    pub spec: ServerSpec,
    /// Its listener and connections.
    pub backend: DemoBackend,
    /// Its counters.
    pub stats: Arc<ServerStats>,
    service: Arc<LabService>,
    /// While killed: a listener on its port that accepts nothing, its
    /// queue full, so the kernel drops every SYN (a silent host).
    silence: Mutex<Option<Silence>>,
}

/// What keeps a killed server's port silent.
#[derive(Debug)]
struct Silence {
    _listener: std::net::TcpListener,
    _fillers: Vec<std::net::TcpStream>,
}

impl RigServer {
    /// Running (not killed).
    pub fn is_alive(&self) -> bool {
        self.backend.is_alive()
            && self
                .silence
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_none()
    }
}

/// How long a kill waits for the server's connections to freeze.
const FREEZE_WAIT: Duration = Duration::from_millis(200);

/// The lab's servers, listening; clients start later, once the balancer
/// in front of them is known.
pub struct Rig {
    runtime: Runtime,
    /// The servers, in the lab's order.
    pub servers: Vec<RigServer>,
    /// The clients' counters.
    pub book: Arc<Book>,
    workload: Option<Arc<Workload>>,
    lab: Lab,
    seed: u64,
}

impl Rig {
    /// Starts the lab's servers on ephemeral loopback ports; the clock of
    /// the clients' book starts at `base`.
    pub fn start(lab: &Lab, seed: u64, base: Instant) -> Result<Rig, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("lblab-real")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the runtime: {e}"))?;
        let mut servers = Vec::new();
        for (i, spec) in lab.servers.expand().into_iter().enumerate() {
            servers.push(runtime.block_on(start_server(lab, spec, seed, i as u64))?);
        }
        Ok(Rig {
            runtime,
            servers,
            book: Arc::new(Book::new(base)),
            workload: None,
            lab: lab.clone(),
            seed,
        })
    }

    /// Starts the clients, aimed at `target`.
    pub fn start_clients(&mut self, target: SocketAddr) {
        let n = &self.lab.network;
        let delay = Arc::new(LinkDelay::of_path(
            &n.client_link,
            &n.backend_link,
            self.seed ^ 0xc11e,
        ));
        let workload = Workload::new(&self.lab, self.seed, target, Arc::clone(&self.book), delay);
        workload.start(self.runtime.handle(), &self.lab.clients.floods);
        self.workload = Some(workload);
    }

    /// The clients, once started.
    pub fn workload(&self) -> Option<&Arc<Workload>> {
        self.workload.as_ref()
    }

    /// The runtime's handle, for commands that start tasks.
    pub fn handle(&self) -> &tokio::runtime::Handle {
        self.runtime.handle()
    }

    /// The server named `name`.
    pub fn server(&self, name: &str) -> Option<&RigServer> {
        self.servers.iter().find(|s| s.spec.name == name)
    }

    /// Kills a server as the simulation does: it goes silent. Its
    /// connections stop answering, held open; its port drops every SYN
    /// (a listener that never accepts, its one-place queue filled), so
    /// clients and health probes time out rather than being refused.
    pub fn kill(&self, name: &str) -> Result<(), String> {
        let s = self
            .server(name)
            .ok_or_else(|| format!("no server named {name}"))?;
        if !s.is_alive() {
            return Err(format!("{name} is already dead"));
        }
        s.service.freeze();
        let deadline = Instant::now() + FREEZE_WAIT;
        while s
            .stats
            .established
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        s.backend.kill();
        let silence = self
            .runtime
            .block_on(silence(s.backend.addr()))
            .map_err(|e| format!("cannot silence {name}'s port: {e}"))?;
        *s.silence.lock().unwrap_or_else(PoisonError::into_inner) = Some(silence);
        Ok(())
    }

    /// Reopens a killed server's listener on its port.
    pub fn revive(&self, name: &str) -> Result<(), String> {
        let s = self
            .server(name)
            .ok_or_else(|| format!("no server named {name}"))?;
        let silence = s
            .silence
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop(silence);
        s.service.thaw();
        self.runtime
            .block_on(s.backend.revive())
            .map_err(|e| format!("cannot revive {name}: {e}"))
    }

    /// Stops every client and server.
    pub fn stop(&self) {
        if let Some(w) = &self.workload {
            w.stop.cancel();
        }
        for s in &self.servers {
            s.backend.kill();
        }
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn start_server(lab: &Lab, spec: ServerSpec, seed: u64, i: u64) -> Result<RigServer, String> {
    let n = &lab.network;
    let delay = Arc::new(LinkDelay::of_path(
        &n.client_link,
        &n.backend_link,
        seed ^ (i << 8),
    ));
    let service = Arc::new(LabService::new(
        &spec,
        seed.wrapping_add(i.wrapping_mul(0x5851_f42d)),
        delay,
    ));
    let stats = Arc::clone(&service.stats);
    let at = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let backend =
        DemoBackend::spawn_service(spec.name.clone(), at, service.clone(), spec.backlog.get())
            .await
            .map_err(|e| format!("cannot start server {}: {e}", spec.name))?;
    Ok(RigServer {
        spec,
        backend,
        stats,
        service,
        silence: Mutex::new(None),
    })
}

/// A listener on `addr` that never accepts, with its queue filled: the
/// kernel then drops new SYNs, as a dead host's network would.
async fn silence(addr: SocketAddr) -> std::io::Result<Silence> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    // A backlog of 0 queues one connection; the filler takes that place.
    let listener = socket.listen(0)?.into_std()?;
    let mut fillers = Vec::new();
    for _ in 0..2 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(50)) {
            Ok(s) => fillers.push(s),
            Err(_) => break,
        }
    }
    Ok(Silence {
        _listener: listener,
        _fillers: fillers,
    })
}
