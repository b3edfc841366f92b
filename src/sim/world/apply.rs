//! Applying Commands to the World. Each command is logged; one that names
//! something that does not exist is logged as an error and changes nothing.

use super::{Dest, Event, Life, OpenState, Workload, World};
use crate::engine::LogKind;
use crate::model::SimDuration;
use crate::policy::{IpFilter, RateLimit, RateLimitError, RateLimiter};
use crate::sim::addressing::MAX_CLIENTS;
use crate::sim::client::TcpState;
use crate::spec::limits::{self, MAX_SERVERS};
use crate::spec::{ClosedSpec, Command, LinkTarget, OpenSpec, Origin, RetransmitMode, Timeout};
use rand::Rng;

/// Why a command changed nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// The command names a server the pool does not have.
    #[error("no server is named \"{0}\"")]
    NoSuchServer(String),
    /// The server to kill is not running.
    #[error("{0} is already down")]
    AlreadyDown(String),
    /// No server is left to kill.
    #[error("every server is already down")]
    AllDown,
    /// The server to revive is running (and not draining).
    #[error("it is running")]
    Running,
    /// The name of a server to add is taken.
    #[error("a server is already named \"{0}\"")]
    NameTaken(String),
    /// The client to kill is not running.
    #[error("client {0} is not running")]
    ClientNotRunning(u32),
    /// No client is left to kill.
    #[error("no client is running")]
    NoClientRunning,
    /// A value outside the bounds every way in shares (`spec::limits`).
    #[error("{0}")]
    OutOfBounds(String),
    /// RFC 6298 bounds the wrong way round.
    #[error("min_rto is larger than max_rto")]
    MinRtoAboveMax,
    /// Every client address is in use.
    #[error("client address space exhausted")]
    AddressSpaceExhausted,
    /// The connection inspector has no such client to watch.
    #[error("{0}")]
    NothingToInspect(String),
    /// The pool already has the most servers a lab may have.
    #[error("the pool already has the most servers, {MAX_SERVERS}")]
    TooManyServers,
    /// The rate limit's numbers make no limit.
    #[error(transparent)]
    RateLimit(#[from] RateLimitError),
    /// `StopFlood` with no flood running.
    #[error("no flood is running")]
    NoFlood,
}

/// What applying a command did: `Some(text)` replaces the default log line.
type Applied = Result<Option<String>, ApplyError>;

impl World {
    /// Applies `cmd` now, as a person's command.
    pub fn apply(&mut self, cmd: Command) {
        self.apply_from(cmd, Origin::User);
    }

    /// Applies `cmd` from `origin` now; the log line says where it came from.
    pub fn apply_from(&mut self, cmd: Command, origin: Origin) {
        let tag = origin.tag();
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
        self.note_disruption();
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

    fn named(&self, name: &str) -> Result<u32, ApplyError> {
        self.server_index(name)
            .ok_or_else(|| ApplyError::NoSuchServer(name.to_string()))
    }

    /// Applies `cmd` through the handler of its group, once its values are
    /// within the bounds a lab file's would be held to.
    fn try_apply(&mut self, cmd: &Command) -> Applied {
        limits::check_command(cmd).map_err(|r| ApplyError::OutOfBounds(r.message))?;
        match cmd {
            Command::KillServer(_)
            | Command::KillRandomServer
            | Command::ReviveServer(_)
            | Command::DrainServer(_)
            | Command::SetWeight(..)
            | Command::AddServer(_)
            | Command::RemoveServer(_) => self.apply_to_servers(cmd),
            Command::KillClient(_)
            | Command::KillRandomClient
            | Command::SetPopulation(_)
            | Command::SetArrivalRate(_) => self.apply_to_clients(cmd),
            Command::SetTimeout(..)
            | Command::SetMaxRetransmissions(_)
            | Command::SetRetransmitMode(_)
            | Command::SetHealth(_) => self.apply_to_timers(cmd),
            Command::SetAlgorithm(_)
            | Command::SetMaxHalfOpen(_)
            | Command::SetOnBackendDown(_)
            | Command::SetLink(..) => self.apply_to_balancer(cmd),
            Command::StartFlood(_)
            | Command::StopFlood
            | Command::SetRateLimit(_)
            | Command::SetFilter(_)
            | Command::SetPacketValidation(_)
            | Command::SetEarlyDrop(_)
            | Command::SetSynCookies(_) => self.apply_to_attacks_and_defences(cmd),
            Command::SetSlowStart(window) => {
                self.lb.set_slow_start(*window);
                Ok(None)
            }
            Command::SetOutlierEjection(spec) => {
                self.lb.set_outlier_ejection(*spec);
                Ok(None)
            }
            Command::SetQueue(spec) => {
                self.lb.set_queue(*spec);
                Ok(None)
            }
            Command::SetPanicThreshold(threshold) => {
                self.lb.set_panic_threshold(*threshold);
                Ok(None)
            }
            Command::SetRedispatch(tries) => {
                self.lb.set_redispatch(*tries);
                Ok(None)
            }
            Command::SetSticky(timeout) => {
                self.lb.set_sticky(*timeout);
                Ok(None)
            }
            Command::Inspect(what) => self.inspect(what).map_err(ApplyError::NothingToInspect),
        }
    }

    fn apply_to_servers(&mut self, cmd: &Command) -> Applied {
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
                    return Err(ApplyError::AllDown);
                }
                let s = alive[(self.streams.chaos.next_u64() % alive.len() as u64) as usize];
                self.kill_server(s)?;
                let name = &self.servers[s as usize].name;
                return Ok(Some(format!("killed {name} (random pick)")));
            }
            Command::ReviveServer(name) => {
                let s = self.named(name)? as usize;
                let was_draining = self.lb.views[s].draining;
                self.lb.set_draining(s, false);
                if self.servers[s].alive {
                    if was_draining {
                        self.history[s].change(self.now, "stops draining");
                        return Ok(Some(format!("{name} stops draining")));
                    }
                    return Err(ApplyError::Running);
                }
                self.servers[s].revive();
                self.history[s].revived_at = Some(self.now);
                self.history[s].change(self.now, "revived");
            }
            Command::DrainServer(name) => {
                let s = self.named(name)? as usize;
                self.lb.set_draining(s, true);
                self.history[s].change(self.now, "draining");
            }
            Command::SetWeight(name, w) => {
                let s = self.named(name)? as usize;
                self.lb.set_weight(s, *w);
                self.history[s].change(self.now, format!("weight {w}"));
            }
            Command::AddServer(spec) => {
                if self.server_index(&spec.name).is_some() {
                    return Err(ApplyError::NameTaken(spec.name.clone()));
                }
                if self.servers.len() >= MAX_SERVERS as usize {
                    return Err(ApplyError::TooManyServers);
                }
                let before = self.lb.rotation_before_change();
                self.add_server(spec, SimDuration::ZERO);
                self.lb.rotation_changed(before);
                self.lb.backend_came_up(self.servers.len() - 1, self.now);
            }
            Command::RemoveServer(name) => {
                let s = self.named(name)?;
                self.servers[s as usize].kill();
                self.note_server(s);
                self.lb.remove_backend(s as usize);
                self.history[s as usize].change(self.now, "removed");
                // Taken out by hand, not by health checks: its connections
                // are treated as if checks had marked it down.
                for rst in self.lb.backend_went_down(s) {
                    self.send(Dest::Client, rst);
                }
            }
            _ => unreachable!("not a server command: {cmd}"),
        }
        Ok(None)
    }

    fn apply_to_clients(&mut self, cmd: &Command) -> Applied {
        match cmd {
            Command::KillClient(c) => {
                let c = *c;
                let live = self
                    .clients
                    .get(c as usize)
                    .is_some_and(|r| r.meta.life == Life::Active);
                if !live {
                    return Err(ApplyError::ClientNotRunning(c));
                }
                self.kill_client(c);
            }
            Command::KillRandomClient => return self.kill_random_client().map(Some),
            Command::SetPopulation(n) => self.set_population(*n)?,
            Command::SetArrivalRate(rate) => {
                let open = self.open.get_or_insert_with(|| OpenState {
                    spec: OpenSpec::default(),
                    rate: 0.0,
                    started: 0,
                    epoch: 0,
                });
                open.rate = rate.get();
                open.epoch = open.epoch.wrapping_add(1);
                self.schedule_next_arrival();
            }
            _ => unreachable!("not a client command: {cmd}"),
        }
        Ok(None)
    }

    fn apply_to_timers(&mut self, cmd: &Command) -> Applied {
        match cmd {
            Command::SetTimeout(t, d) => {
                let d = d.get();
                match t {
                    Timeout::Syn => self.tcp.syn_timeout = d,
                    Timeout::Segment => self.tcp.segment_timeout = d,
                    Timeout::HalfOpenIdle => {
                        self.lb.idle.half_open = d;
                        self.rearm_idle_timers();
                    }
                    Timeout::EstablishedIdle => {
                        self.lb.idle.established = d;
                        self.rearm_idle_timers();
                    }
                    Timeout::HealthInterval => self.lb.health.interval = crate::spec::Dur(d),
                    Timeout::HealthTimeout => self.lb.health.timeout = crate::spec::Dur(d),
                }
            }
            Command::SetMaxRetransmissions(n) => self.tcp.max_retransmissions = *n,
            Command::SetRetransmitMode(mode) => {
                if let RetransmitMode::Rfc6298 { min_rto, max_rto } = mode
                    && min_rto > max_rto
                {
                    return Err(ApplyError::MinRtoAboveMax);
                }
                self.tcp.mode = *mode;
            }
            Command::SetHealth(h) => {
                self.lb.health = *h;
            }
            _ => unreachable!("not a timer command: {cmd}"),
        }
        Ok(None)
    }

    fn apply_to_balancer(&mut self, cmd: &Command) -> Applied {
        match cmd {
            Command::SetAlgorithm(a) => self.lb.set_algorithm(*a),
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
            _ => unreachable!("not a balancer command: {cmd}"),
        }
        Ok(None)
    }

    fn apply_to_attacks_and_defences(&mut self, cmd: &Command) -> Applied {
        match cmd {
            Command::StartFlood(spec) => {
                let at = self.now + spec.start.get();
                self.start_flood(*spec, at, false);
            }
            Command::StopFlood => {
                if !self.floods.iter().any(|f| f.active) {
                    return Err(ApplyError::NoFlood);
                }
                for f in &mut self.floods {
                    f.active = false;
                }
            }
            Command::SetRateLimit(spec) => {
                self.lb.limiter = match spec {
                    None => None,
                    Some(r) => Some(RateLimiter::new(
                        RateLimit::from_spec(r)?,
                        r.sources.get() as usize,
                    )),
                };
            }
            Command::SetFilter(filter) => self.lb.filter = IpFilter::from(filter),
            Command::SetPacketValidation(on) => self.lb.validate_packets = *on,
            Command::SetEarlyDrop(on) => self.lb.set_early_drop(*on),
            Command::SetSynCookies(mode) => self.lb.cookies = *mode,
            _ => unreachable!("not an attack or defence command: {cmd}"),
        }
        Ok(None)
    }

    fn kill_server(&mut self, s: u32) -> Result<(), ApplyError> {
        let server = &mut self.servers[s as usize];
        if !server.alive {
            return Err(ApplyError::AlreadyDown(server.name.clone()));
        }
        server.kill();
        self.note_server(s);
        self.history[s as usize].killed_at = Some(self.now);
        self.history[s as usize].change(self.now, "killed");
        Ok(())
    }

    /// Kills a running client, every one equally likely; says which.
    fn kill_random_client(&mut self) -> Result<String, ApplyError> {
        if self.active_clients == 0 {
            return Err(ApplyError::NoClientRunning);
        }
        // Draw a rank among the running clients.
        let k = self.streams.chaos.next_u64() % self.active_clients;
        let c = (0..self.clients.len())
            .filter(|&c| {
                self.clients[c].meta.life == Life::Active
                    && !self.clients[c].meta.workload.is_attack()
            })
            .nth(k as usize)
            .ok_or(ApplyError::NoClientRunning)?;
        let state = self.clients[c].tcp.state;
        self.kill_client(c as u32);
        let ip = self.clients[c].tcp.local.ip;
        Ok(format!("killed client {c} ({ip}) in {state}"))
    }

    fn rearm_idle_timers(&mut self) {
        for (slot, generation, due) in self.lb.rearm_idle_timers(self.now) {
            self.queue.push(due, Event::ConnIdle { slot, generation });
        }
    }

    fn set_population(&mut self, n: u32) -> Result<(), ApplyError> {
        if self.closed.is_none() {
            self.closed = Some(ClosedSpec {
                population: 0,
                ..Default::default()
            });
        }
        let running: Vec<u32> = (0..self.clients.len() as u32)
            .filter(|&c| {
                let m = &self.clients[c as usize].meta;
                m.workload == Workload::Closed && m.life == Life::Active && !m.retire
            })
            .collect();
        let have = running.len() as u32;
        if n > have {
            // All or nothing: a population that cannot be reached in full
            // is refused before a single client is added.
            let free = MAX_CLIENTS.saturating_sub(self.clients.len());
            if (n - have) as usize > free {
                return Err(ApplyError::AddressSpaceExhausted);
            }
            for _ in have..n {
                self.spawn_closed_client(self.now);
            }
        } else {
            // The newest clients leave first, after their current connection.
            for &c in running.iter().rev().take((have - n) as usize) {
                self.clients[c as usize].meta.retire = true;
                if self.clients[c as usize].tcp.state == TcpState::Closed {
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
