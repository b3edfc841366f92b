//! Building a World from a lab: its servers, clients, objectives and
//! timers, and a server added later by a command.

use super::*;

impl World {
    /// Builds the World a lab describes, seeded with `seed`.
    pub fn new(lab: &Lab, seed: u64) -> World {
        World::new_with(lab, seed, draws::Draws::default())
    }

    /// As [`World::new`], keeping every draw's (key, value) pair from the
    /// first (the closed population's start times are drawn here), for
    /// `lblab compare`'s one-by-one check.
    pub fn new_keeping_draws(lab: &Lab, seed: u64) -> World {
        let mut draws = draws::Draws::default();
        draws.keep();
        World::new_with(lab, seed, draws)
    }

    fn new_with(lab: &Lab, seed: u64, draws: draws::Draws) -> World {
        let mut w = World {
            lab: lab.clone(),
            seed,
            now: SimTime::ZERO,
            queue: EventQueue::default(),
            streams: streams::Streams::new(seed),
            draws,
            averages: averages::Averages::default(),
            series_log: None,
            links: vec![Link::new(lab.network.client_link)],
            clients: Vec::new(),
            counts: Vec::new(),
            free_clients: Vec::new(),
            active_clients: 0,
            servers: Vec::new(),
            history: Vec::new(),
            lb: Balancer::new(&lab.balancer, VIP).with_cookie_seed(seed),
            tcp: TcpConfig::from(&lab.clients.tcp),
            closed: lab.clients.closed.clone(),
            open: None,
            floods: Vec::new(),
            metrics: Metrics::default(),
            log: EventLog::default(),
            scheduled: Vec::new(),
            objectives: Vec::new(),
            events: 0,
            stall: stall::StallWatch::default(),
            addresses_ran_out: None,
            disruptions: Vec::new(),
            client_states: ClientStates::default(),
            clients_done: 0,
            clients_killed: 0,
            conn_hints: Vec::new(),
            tap: None,
            watch: None,
            out: Vec::with_capacity(4),
            sout: Some(Box::default()),
        };
        w.add_initial_servers(lab);
        w.add_initial_clients(lab);
        w.queue
            .push(SimTime::ZERO + SimDuration::from_secs(1), Event::SecondTick);
        // Objective windows first, so a command at a window's edge falls
        // inside it ([start, end)) whether it comes from the timeline or
        // from a script scheduled after construction.
        w.schedule_objectives(lab);
        for entry in &lab.timeline {
            w.schedule_from(
                SimTime::ZERO + entry.at().get(),
                entry.command().clone(),
                Origin::Timeline,
            );
        }
        w
    }

    /// The lab's servers, their probes spread over one interval so they do
    /// not all leave at the same instant.
    fn add_initial_servers(&mut self, lab: &Lab) {
        let specs = lab.servers.expand();
        let n = specs.len().max(1) as u64;
        for (i, spec) in specs.iter().enumerate() {
            let spread =
                u128::from(self.lb.health.interval.get().as_nanos()) * i as u128 / u128::from(n);
            let offset = SimDuration::from_nanos(spread as u64);
            self.add_server(spec, offset);
        }
    }

    /// The closed population, started at random within its spread; open
    /// arrivals; the lab's floods.
    fn add_initial_clients(&mut self, lab: &Lab) {
        if let Some(closed) = lab.clients.closed.clone() {
            for _ in 0..closed.population {
                let spread = closed.start_spread.get().as_nanos();
                let start = if spread > 0 {
                    self.streams.arrivals.next_u64() % spread
                } else {
                    0
                };
                self.spawn_closed_client(SimTime(start));
            }
        }
        if let Some(open) = lab.clients.open.clone() {
            self.open = Some(OpenState {
                rate: open.rate.get(),
                spec: open,
                started: 0,
                epoch: 0,
            });
            self.schedule_next_arrival();
        }
        for flood in &lab.clients.floods {
            self.start_flood(*flood, SimTime::ZERO + flood.start.get(), true);
        }
    }

    /// A tracker per objective, with its window's opening and closing.
    fn schedule_objectives(&mut self, lab: &Lab) {
        for (i, objective) in lab.objectives.iter().enumerate() {
            self.objectives.push(Tracker::new(objective.clone()));
            let index = i as u32;
            let start = SimTime::ZERO + objective.window.start().get();
            if start == SimTime::ZERO {
                self.open_objective(index);
            } else {
                self.queue.push(start, Event::ObjectiveOpen { index });
            }
            if let Some(end) = objective.window.end() {
                self.queue
                    .push(SimTime::ZERO + end.get(), Event::ObjectiveClose { index });
            }
        }
    }

    /// Adds a server with its link, backend entry and timers; returns its index.
    pub(super) fn add_server(&mut self, spec: &ServerSpec, probe_offset: SimDuration) -> u32 {
        let i = self.servers.len();
        let endpoint = addressing::server_endpoint(i);
        let mut server = Server::new(spec, endpoint);
        server.service_seed = self.streams.service_seed();
        self.servers.push(server);
        self.averages.servers.push(averages::ServerAreas::default());
        self.history.push(ServerHistory::default());
        // A new server's link behaves like the backend links do now, which
        // commands may have changed since the lab started.
        let link = self
            .links
            .get(1)
            .map_or(self.lab.network.backend_link, |l| l.spec);
        self.links.push(Link::new(link));
        let b = self
            .lb
            .add_backend(endpoint, spec.weight, spec.max_half_open.get());
        self.queue
            .push(self.now + probe_offset, Event::ProbeSend { server: b });
        self.queue.push(
            self.now + SERVER_SWEEP_INTERVAL,
            Event::ServerSweep { server: b },
        );
        b
    }
}
