//! Applying Commands to the World. Each command is logged; one that names
//! something that does not exist is logged as an error and changes nothing.

use super::command::{Command, LinkTarget, Timeout};
use super::log::LogKind;
use super::world::{Dest, Life, Origin, Workload, World};
use crate::lab::{OpenSpec, RetransmitMode};
use crate::model::SimDuration;
use rand::Rng;

impl World {
    /// Applies `cmd` now.
    pub fn apply(&mut self, cmd: Command) {
        self.apply_from(cmd, Origin::User);
    }

    /// Applies `cmd` from `origin` now; the log line says where it came from.
    pub fn apply_from(&mut self, cmd: Command, origin: Origin) {
        let tag = match origin {
            Origin::User => "",
            Origin::Timeline => "timeline: ",
            Origin::Script => "script: ",
        };
        let kind = match &cmd {
            Command::KillServer(_)
            | Command::ReviveServer(_)
            | Command::KillRandomServer
            | Command::DrainServer(_)
            | Command::AddServer(_)
            | Command::RemoveServer(_)
            | Command::KillClient(_)
            | Command::KillRandomClient => LogKind::Chaos,
            Command::StartFlood(_) | Command::StopFlood => LogKind::Flood,
            _ => LogKind::Config,
        };
        match self.try_apply(&cmd) {
            Ok(Some(detail)) => self.log.push(self.now, kind, format!("{tag}{detail}")),
            Ok(None) => self.log.push(self.now, kind, format!("{tag}{cmd}")),
            Err(why) => self.log.push(
                self.now,
                LogKind::Error,
                format!("{tag}cannot {cmd}: {why}"),
            ),
        }
    }

    /// The index of the server in the pool called `name` (a removed
    /// server's name may be used again).
    pub fn server_index(&self, name: &str) -> Option<u32> {
        self.servers
            .iter()
            .enumerate()
            .position(|(i, s)| s.name == name && !self.lb.backends[i].removed)
            .map(|i| i as u32)
    }

    fn named(&self, name: &str) -> Result<u32, String> {
        self.server_index(name)
            .ok_or_else(|| format!("no server is named \"{name}\""))
    }

    /// Applies `cmd`; `Ok(Some(text))` replaces the default log line.
    fn try_apply(&mut self, cmd: &Command) -> Result<Option<String>, String> {
        match cmd {
            Command::KillServer(name) => {
                let s = self.named(name)?;
                self.kill_server(s)?;
            }
            Command::KillRandomServer => {
                let alive: Vec<u32> = (0..self.servers.len() as u32)
                    .filter(|&s| {
                        self.servers[s as usize].alive && !self.lb.backends[s as usize].removed
                    })
                    .collect();
                if alive.is_empty() {
                    return Err("every server is already down".into());
                }
                let s = alive[(self.rng.next_u64() % alive.len() as u64) as usize];
                self.kill_server(s)?;
                return Ok(Some(format!(
                    "killed {} (random pick)",
                    self.servers[s as usize].name
                )));
            }
            Command::ReviveServer(name) => {
                let s = self.named(name)? as usize;
                let was_draining = self.lb.views[s].draining;
                self.lb.views[s].draining = false;
                if self.servers[s].alive {
                    if was_draining {
                        return Ok(Some(format!("{name} stops draining")));
                    }
                    return Err("it is running".into());
                }
                self.servers[s].revive();
                self.history[s].revived_at = Some(self.now);
            }
            Command::DrainServer(name) => {
                let s = self.named(name)? as usize;
                self.lb.views[s].draining = true;
            }
            Command::SetWeight(name, w) => {
                let s = self.named(name)? as usize;
                self.lb.views[s].weight = *w;
            }
            Command::AddServer(spec) => {
                if self.server_index(&spec.name).is_some() {
                    return Err(format!("a server is already named \"{}\"", spec.name));
                }
                self.add_server(spec, SimDuration::ZERO);
            }
            Command::RemoveServer(name) => {
                let s = self.named(name)?;
                self.servers[s as usize].kill();
                self.lb.backends[s as usize].removed = true;
                self.lb.views[s as usize].healthy = false;
                // Taken out by hand, not by health checks: its connections
                // are treated as if checks had marked it down.
                for rst in self.lb.backend_went_down(s) {
                    self.send(Dest::Client, rst);
                }
            }
            Command::KillClient(c) => {
                let c = *c;
                let live = self
                    .meta
                    .get(c as usize)
                    .is_some_and(|m| m.life == Life::Active);
                if !live {
                    return Err(format!("client {c} is not running"));
                }
                self.kill_client(c);
            }
            Command::KillRandomClient => {
                if self.active_clients == 0 {
                    return Err("no client is running".into());
                }
                // Every running client equally likely: draw a rank among them.
                let k = self.rng.next_u64() % self.active_clients;
                let c = (0..self.meta.len())
                    .filter(|&c| {
                        self.meta[c].life == Life::Active && !self.meta[c].workload.is_attack()
                    })
                    .nth(k as usize)
                    .ok_or("no client is running")?;
                let state = self.clients[c].state;
                self.kill_client(c as u32);
                return Ok(Some(format!(
                    "killed client {} ({}) in {state}",
                    c, self.clients[c].local.ip
                )));
            }
            Command::SetAlgorithm(a) => self.lb.selector.set_algorithm(*a),
            Command::SetTimeout(t, d) => {
                let d = d.get();
                if d == SimDuration::ZERO {
                    return Err("a timeout must be longer than zero".into());
                }
                match t {
                    Timeout::Syn => self.tcp.syn_timeout = d,
                    Timeout::Segment => self.tcp.segment_timeout = d,
                    Timeout::HalfOpenIdle => {
                        self.lb.half_open_timeout = d;
                        self.rearm_idle_timers();
                    }
                    Timeout::EstablishedIdle => {
                        self.lb.established_timeout = d;
                        self.rearm_idle_timers();
                    }
                    Timeout::HealthInterval => self.lb.health.interval = d,
                    Timeout::HealthTimeout => self.lb.health.timeout = d,
                }
            }
            Command::SetMaxRetransmissions(n) => self.tcp.max_retransmissions = *n,
            Command::SetRetransmitMode(mode) => {
                if let RetransmitMode::Rfc6298 { min_rto, max_rto } = mode
                    && min_rto > max_rto
                {
                    return Err("min_rto is larger than max_rto".into());
                }
                self.tcp.mode = *mode;
            }
            Command::SetHealth(h) => {
                if h.interval.get() == SimDuration::ZERO || h.timeout.get() == SimDuration::ZERO {
                    return Err("health interval and timeout must be longer than zero".into());
                }
                self.lb.health = h.into();
            }
            Command::SetMaxHalfOpen(n) => {
                for b in &mut self.lb.backends {
                    b.max_half_open = *n;
                }
            }
            Command::SetOnBackendDown(mode) => self.lb.on_backend_down = *mode,
            Command::SetLink(target, spec) => match target {
                LinkTarget::Clients => self.links[0].spec = *spec,
                LinkTarget::Backend(name) => {
                    let s = self.named(name)? as usize;
                    self.links[1 + s].spec = *spec;
                }
                LinkTarget::AllBackends => {
                    for l in self.links.iter_mut().skip(1) {
                        l.spec = *spec;
                    }
                }
            },
            Command::SetPopulation(n) => self.set_population(*n)?,
            Command::SetArrivalRate(rate) => {
                let open = self.open.get_or_insert_with(|| super::world::OpenState {
                    spec: OpenSpec::default(),
                    rate: 0.0,
                    started: 0,
                    epoch: 0,
                });
                open.rate = rate.get();
                open.epoch = open.epoch.wrapping_add(1);
                self.schedule_next_arrival();
            }
            Command::StartFlood(spec) => {
                if spec.rate.get() <= 0.0 {
                    return Err("a flood needs a rate above zero".into());
                }
                if spec.sources.get() > crate::lab::MAX_FLOOD_SOURCES {
                    return Err(format!(
                        "at most {} spoofed sources fit in 198.18.0.0/15",
                        crate::lab::MAX_FLOOD_SOURCES
                    ));
                }
                let at = self.now + spec.start.get();
                self.start_flood(*spec, at, false);
            }
            Command::SetRateLimit(spec) => {
                self.lb.limiter = match spec {
                    None => None,
                    Some(r) => {
                        let limit = r.limit()?;
                        Some(crate::policy::RateLimiter::new(
                            limit,
                            r.sources.get() as usize,
                        ))
                    }
                };
            }
            Command::SetFilter(filter) => self.lb.filter = filter.clone(),
            Command::SetPacketValidation(on) => self.lb.validate_packets = *on,
            Command::SetEarlyDrop(on) => self.lb.set_early_drop(*on),
            Command::SetSynCookies(mode) => self.lb.cookies = *mode,
            Command::StopFlood => {
                let running = self.floods.iter().filter(|f| f.active).count();
                if running == 0 {
                    return Err("no flood is running".into());
                }
                for f in &mut self.floods {
                    f.active = false;
                }
            }
        }
        Ok(None)
    }

    fn kill_server(&mut self, s: u32) -> Result<(), String> {
        let server = &mut self.servers[s as usize];
        if !server.alive {
            return Err(format!("{} is already down", server.name));
        }
        server.kill();
        self.history[s as usize].killed_at = Some(self.now);
        Ok(())
    }

    fn rearm_idle_timers(&mut self) {
        for (slot, generation, due) in self.lb.rearm_idle_timers(self.now) {
            self.queue
                .push(due, super::world::Event::ConnIdle { slot, generation });
        }
    }

    fn set_population(&mut self, n: u32) -> Result<(), String> {
        if self.closed.is_none() {
            self.closed = Some(crate::lab::ClosedSpec {
                population: 0,
                ..Default::default()
            });
        }
        let running: Vec<u32> = (0..self.meta.len() as u32)
            .filter(|&c| {
                let m = &self.meta[c as usize];
                m.workload == Workload::Closed && m.life == Life::Active && !m.retire
            })
            .collect();
        let have = running.len() as u32;
        if n > have {
            for _ in have..n {
                if self.clients.len() >= super::addressing::MAX_CLIENTS {
                    return Err("client address space exhausted".into());
                }
                self.spawn_closed_client(self.now);
            }
        } else {
            // The newest clients leave first, after their current connection.
            for &c in running.iter().rev().take((have - n) as usize) {
                self.meta[c as usize].retire = true;
                if self.clients[c as usize].state == super::client::TcpState::Closed {
                    self.finish_client(c, Life::Done);
                }
            }
        }
        if let Some(closed) = &mut self.closed {
            closed.population = n;
        }
        Ok(())
    }
}
