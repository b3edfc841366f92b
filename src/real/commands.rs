//! Commands on a lab running on real sockets: server deaths and revivals
//! and everything about the clients happen in the rig; the balancer's
//! settings go to the proxy; what only a simulation can do is said in the
//! log, never silently dropped.

use super::engine::RealLab;
use crate::engine::{Engine, LogKind};
use crate::spec::{AttackKind, Command, LinkTarget, Origin, Timeout};
use rand::RngExt;
use std::time::Duration;

impl RealLab {
    pub(super) fn apply_command(&mut self, command: Command, origin: Origin) {
        let said = match command {
            Command::KillServer(name) => self.kill_server(&name),
            Command::KillRandomServer => {
                let alive: Vec<String> = self
                    .rig
                    .servers
                    .iter()
                    .filter(|s| s.is_alive())
                    .map(|s| s.spec.name.clone())
                    .collect();
                if alive.is_empty() {
                    Err("kill a random server: none is running".to_string())
                } else {
                    let pick = self.chaos.random_range(0..alive.len());
                    self.kill_server(&alive[pick])
                }
            }
            Command::ReviveServer(name) => self.rig.revive(&name).map(|()| {
                // The proxy stops draining it too, as the simulation does.
                self.proxy
                    .apply(Command::ReviveServer(name.clone()), origin);
                format!("{name} revived: listening again; health checks will bring it back")
            }),
            Command::SetPopulation(n) => self.with_workload(|w, rt| {
                w.set_population(rt, n);
                format!("population -> {n} clients")
            }),
            Command::SetArrivalRate(r) => self.with_workload(|w, _| {
                w.set_rate(r.get());
                format!("arrival rate -> {}/s", r.get())
            }),
            Command::KillClient(i) => self.kill_client(Some(i)),
            Command::KillRandomClient => self.kill_client(None),
            Command::StartFlood(f) if f.kind == AttackKind::SpoofedSyn => {
                Err("a spoofed SYN flood needs raw sockets: not on real sockets".to_string())
            }
            Command::StartFlood(f) => self.with_workload(|w, rt| {
                w.flood(rt, f);
                format!("{} started at {}/s", f.kind.name(), f.rate.get())
            }),
            Command::StopFlood => self.with_workload(|w, _| {
                w.stop_floods();
                "every flood stopped".to_string()
            }),
            Command::SetMaxRetransmissions(n) => self.with_workload(|w, _| {
                w.set_tcp(|t| t.max_retransmissions = n);
                format!("clients' deadlines allow {n} retransmissions")
            }),
            Command::SetTimeout(which @ (Timeout::Syn | Timeout::Segment), d) => self
                .with_workload(|w, _| {
                    w.set_tcp(|t| match which {
                        Timeout::Syn => t.syn_timeout = d,
                        _ => t.segment_timeout = d,
                    });
                    format!("{} -> {d} (the clients' deadlines)", which.name())
                }),
            Command::SetLink(LinkTarget::Clients, l) if l.loss.get() == 0.0 => {
                self.with_workload(|w, _| {
                    let to = |d: crate::spec::Dur| Duration::from_nanos(d.get().as_nanos());
                    w.delay.set(to(l.delay), to(l.jitter));
                    format!("client link delay -> {}", l.delay)
                })
            }
            // Everything about the balancer is the proxy's.
            other => {
                self.proxy.apply(other, origin);
                return;
            }
        };
        let (kind, text) = match said {
            Ok(text) => (LogKind::Chaos, text),
            Err(text) => (LogKind::Error, text),
        };
        self.proxy.note_now(kind, format!("{}{text}", origin.tag()));
    }

    fn with_workload(
        &self,
        f: impl FnOnce(&std::sync::Arc<super::clients::Workload>, &tokio::runtime::Handle) -> String,
    ) -> Result<String, String> {
        match self.rig.workload() {
            Some(w) => Ok(f(w, self.rig.handle())),
            None => Err("the clients have not started".to_string()),
        }
    }

    fn kill_server(&mut self, name: &str) -> Result<String, String> {
        self.rig.kill(name)?;
        // It is dead to the network once its port is silent: the moment a
        // detection delay counts from.
        let now = self.now();
        self.killed_at.insert(name.to_string(), now);
        Ok(format!(
            "{name} killed: it goes silent (SYNs dropped, connections unanswered); health checks will notice"
        ))
    }

    fn kill_client(&mut self, which: Option<u32>) -> Result<String, String> {
        let w = self.rig.workload().ok_or("the clients have not started")?;
        let i = match which {
            Some(i) => i,
            None => {
                let alive = w.alive();
                if alive.is_empty() {
                    return Err("kill a random client: none is alive".to_string());
                }
                alive[self.chaos.random_range(0..alive.len())]
            }
        };
        if w.kill(i) {
            Ok(format!("client {i} killed"))
        } else {
            Err(format!("client {i} is not alive"))
        }
    }
}
