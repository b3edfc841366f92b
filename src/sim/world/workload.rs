//! Workloads: the closed population, open arrivals, and the draws that
//! shape each connection (segments, sizes, gaps).

use super::streams::{Keyed, Streams};
use super::{ClientMeta, ClientSlot, ConnCounts, Event, Life, Workload, World};
use crate::engine::LogKind;
use crate::model::{Endpoint, SimDuration, SimTime};
use crate::sim::addressing;
use crate::sim::client::{Client, TcpState};
use crate::sim::dist::{sample, sample_duration, standard_exponential};
use crate::spec::{AttackKind, Dist, Dur};

impl World {
    pub(super) fn spawn_closed_client(&mut self, start: SimTime) {
        let connections = self.closed.as_ref().and_then(|c| c.connections);
        let i = self.clients.len();
        let mut tcp = Client::new(Endpoint::new(addressing::client_ip(i), 0));
        tcp.wake_at(start);
        let meta = ClientMeta {
            workload: Workload::Closed,
            life: Life::Active,
            retire: false,
            identity: self.streams.closed_identity(i as u32, 0),
            drawn: 0,
        };
        self.clients.push(ClientSlot { tcp, meta });
        self.counts.push(ConnCounts {
            left: connections.unwrap_or(u64::MAX),
            made: 0,
        });
        // The start time of a closed client is its first arrival.
        self.draws
            .arrival(self.clients[i].meta.identity, start.as_nanos());
        self.active_clients += 1;
        self.client_states.enter(TcpState::Closed);
        self.sync_timers(i as u32);
    }

    pub(super) fn schedule_next_arrival(&mut self) {
        let Some(open) = &self.open else { return };
        if open.rate <= 0.0 || open.spec.limit.is_some_and(|l| open.started >= l) {
            return;
        }
        let (rate, epoch) = (open.rate, open.epoch);
        let gap = standard_exponential(&mut self.streams.arrivals) / rate;
        self.queue.push(
            self.now + SimDuration::from_secs_f64(gap),
            Event::OpenArrival { epoch },
        );
    }

    /// A client slot for a one-shot connection: a free one, or a new one.
    pub(super) fn take_slot(&mut self, workload: Workload) -> Option<u32> {
        if let Some(i) = self.free_clients.pop() {
            self.clients[i as usize].meta.workload = workload;
            self.clients[i as usize].tcp.counted = !workload.is_attack();
            return Some(i);
        }
        let i = self.clients.len();
        if i >= addressing::MAX_CLIENTS {
            // Said once: at the rates that get here, a line per refused
            // arrival would bury the log.
            if self.addresses_ran_out.is_none() {
                self.addresses_ran_out = Some(self.now);
                for objective in &mut self.objectives {
                    objective.invalidate();
                }
                self.log.push(
                    self.now,
                    LogKind::Error,
                    format!(
                        "all {} client addresses are in use: new clients are refused until some finish",
                        addressing::MAX_CLIENTS
                    ),
                );
            }
            return None;
        }
        let mut tcp = Client::new(Endpoint::new(addressing::client_ip(i), 0));
        tcp.counted = !workload.is_attack();
        let meta = ClientMeta {
            workload,
            life: Life::Free,
            retire: false,
            identity: 0,
            drawn: 0,
        };
        self.clients.push(ClientSlot { tcp, meta });
        self.counts.push(ConnCounts::default());
        Some(i as u32)
    }

    pub(super) fn on_open_arrival(&mut self, epoch: u32) {
        let Some(open) = &mut self.open else { return };
        if open.epoch != epoch || open.spec.limit.is_some_and(|l| open.started >= l) {
            return;
        }
        let n = open.started;
        open.started += 1;
        // The n-th arrival is the same connection in every run of the
        // seed, whichever slot it gets.
        let identity = self.streams.open_identity(n);
        self.draws.arrival(identity, self.now.as_nanos());
        let Some(i) = self.take_slot(Workload::Open) else {
            // This arrival is lost, not the ones after it: they come as
            // soon as clients finish and free their addresses.
            self.schedule_next_arrival();
            return;
        };
        self.counts[i as usize].left = 1;
        let m = &mut self.clients[i as usize].meta;
        m.life = Life::Active;
        m.retire = false;
        m.identity = identity;
        self.active_clients += 1;
        self.client_states.enter(TcpState::Closed);
        self.connect(i);
        self.schedule_next_arrival();
    }

    pub(super) fn segments_dist(&self, c: u32) -> Dist<u64> {
        match self.clients[c as usize].meta.workload {
            Workload::Closed => self.closed.as_ref().map(|s| s.segments),
            Workload::Open => self.open.as_ref().map(|o| o.spec.segments),
            // Attackers never finish on their own.
            Workload::Attack(_) => Some(Dist::Constant(u64::MAX / 2)),
        }
        .unwrap_or(Dist::Constant(1))
    }

    pub(super) fn segment_size(&mut self, c: u32) -> u32 {
        let dist = match self.clients[c as usize].meta.workload {
            Workload::Closed => self.closed.as_ref().map(|s| s.segment_size),
            Workload::Open => self.open.as_ref().map(|o| o.spec.segment_size),
            Workload::Attack(_) => Some(Dist::Constant(1)),
        }
        .unwrap_or(Dist::Constant(1024));
        sample(&dist, &mut self.conn_rng(c)).clamp(1, u64::from(u32::MAX / 2)) as u32
    }

    pub(super) fn gap(&mut self, c: u32) -> SimDuration {
        let dist = match self.clients[c as usize].meta.workload {
            Workload::Closed => self.closed.as_ref().map(|s| s.gap),
            Workload::Open => self.open.as_ref().map(|o| o.spec.gap),
            Workload::Attack(f) => Some(Dist::Constant(match self.floods[f as usize].spec.kind {
                AttackKind::SlowSenders => Dur::from_millis(1500),
                _ => Dur::from_secs(3600),
            })),
        };
        dist.map_or(SimDuration::ZERO, |d| {
            sample_duration(&d, &mut self.conn_rng(c))
        })
    }

    /// The stream for client `c`'s next draw: keyed by its connection's
    /// identity and the draw's number, so the j-th draw of a connection is
    /// the same in every run of the seed, whatever came before it.
    pub(super) fn conn_rng(&mut self, c: u32) -> Keyed {
        let m = &mut self.clients[c as usize].meta;
        m.drawn = m.drawn.wrapping_add(1);
        Streams::connection(m.identity, u64::from(m.drawn))
    }
}
