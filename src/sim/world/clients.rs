//! Client connections as the World drives them: timers, packets in,
//! outcomes counted, and what each workload does next.

use super::streams::{Streams, mix};
use super::{ClientSlot, Dest, Event, Life, Workload, World};
use crate::engine::Sample;
use crate::model::{Packet, SimDuration, SimTime};
use crate::sim::addressing::{self, VIP};
use crate::sim::client::{Io, Outcome, TcpState, Timer};
use crate::sim::dist::{sample, sample_duration};
use crate::spec::DropReason;
use rand::Rng;

impl World {
    pub(super) fn connect(&mut self, c: u32) {
        // Each connection draws from its own keyed stream (see `streams`).
        let identity = match self.clients[c as usize].meta.workload {
            Workload::Closed => self
                .streams
                .closed_identity(c, self.counts[c as usize].made),
            Workload::Open => self.clients[c as usize].meta.identity,
            Workload::Attack(_) => self.streams.floods.next_u64(),
        };
        let m = &mut self.clients[c as usize].meta;
        m.identity = identity;
        m.drawn = 0;
        let segments = sample(&self.segments_dist(c), &mut self.conn_rng(c)).max(1);
        let iss = self.conn_rng(c).next_u32();
        let counts = &mut self.counts[c as usize];
        let port = addressing::ephemeral_port(counts.made);
        counts.made += 1;
        if !self.clients[c as usize].meta.workload.is_attack() {
            self.metrics.attempted();
        }
        let mut out = std::mem::take(&mut self.out);
        let mut io = Io {
            cfg: &self.tcp,
            vip: VIP,
            out: &mut out,
            book: &mut self.client_states,
        };
        self.clients[c as usize]
            .tcp
            .connect(self.now, port, iss, segments, &mut io);
        self.flush_client(c, &mut out);
        self.out = out;
    }

    #[inline(always)]
    pub(super) fn flush_client(&mut self, c: u32, out: &mut Vec<Packet>) {
        // An indexed loop and a clear: see `flush_server`.
        for &p in out.iter() {
            self.send(Dest::Balancer, p);
        }
        out.clear();
        self.sync_timers(c);
    }

    /// Schedules a timer event for any deadline that moved earlier than the
    /// event already queued for it (later ones are found when that fires).
    #[inline(always)]
    pub(super) fn sync_timers(&mut self, c: u32) {
        let client = &mut self.clients[c as usize].tcp;
        for timer in Timer::ALL {
            let due = client.deadline(timer);
            if due < client.pending[timer.index()] {
                client.pending[timer.index()] = due;
                self.queue
                    .push_with(due, || Event::ClientTimer { client: c, timer });
            }
        }
    }

    pub(super) fn on_client_timer(&mut self, c: u32, timer: Timer) {
        let now = self.now;
        let client = &mut self.clients[c as usize].tcp;
        if client.pending[timer.index()] != now {
            return; // superseded by an earlier event for the same timer
        }
        client.pending[timer.index()] = SimTime::MAX;
        let due = client.deadline(timer);
        if due > now {
            self.sync_timers(c);
            return;
        }
        if self.clients[c as usize].meta.life != Life::Active {
            return;
        }
        let mut out = std::mem::take(&mut self.out);
        match timer {
            Timer::Retransmit => {
                let mut io = Io {
                    cfg: &self.tcp,
                    vip: VIP,
                    out: &mut out,
                    book: &mut self.client_states,
                };
                let o = self.clients[c as usize]
                    .tcp
                    .on_retransmit_timer(now, &mut io);
                self.flush_client(c, &mut out);
                self.on_outcome(c, o);
            }
            Timer::Wake => {
                let client = &mut self.clients[c as usize].tcp;
                client.wake_at(SimTime::MAX);
                if client.state == TcpState::Closed {
                    self.out = out;
                    self.connect(c);
                    return;
                }
                self.send_next_segment(c, &mut out);
            }
        }
        self.out = out;
    }

    pub(super) fn send_next_segment(&mut self, c: u32, out: &mut Vec<Packet>) {
        let now = self.now;
        let len = if self.clients[c as usize].tcp.segments_left == 0 {
            None
        } else {
            Some(self.segment_size(c))
        };
        let mut io = Io {
            cfg: &self.tcp,
            vip: VIP,
            out,
            book: &mut self.client_states,
        };
        let client = &mut self.clients[c as usize].tcp;
        match len {
            None => client.close(now, &mut io),
            Some(len) => client.send_segment(now, len, &mut io),
        };
        self.flush_client(c, out);
    }

    pub(super) fn client_receive(&mut self, p: &Packet) {
        let Some(c) = addressing::client_index(p.key.dst.ip).filter(|&c| c < self.clients.len())
        else {
            self.drop_packet(DropReason::NoSocket);
            return;
        };
        let client = &self.clients[c].tcp;
        if self.clients[c].meta.life != Life::Active
            || client.local.port != p.key.dst.port
            || client.state == TcpState::Closed
        {
            self.drop_packet(DropReason::NoSocket);
            return;
        }
        let c = c as u32;
        let mut out = std::mem::take(&mut self.out);
        let mut io = Io {
            cfg: &self.tcp,
            vip: VIP,
            out: &mut out,
            book: &mut self.client_states,
        };
        let o = self.clients[c as usize].tcp.on_packet(p, self.now, &mut io);
        self.flush_client(c, &mut out);
        self.out = out;
        match o {
            Outcome::Dropped(reason) => self.drop_packet(reason),
            _ => self.metrics.consumed += 1,
        }
        self.on_outcome(c, o);
    }

    /// Counts what a client step did and moves its workload on.
    pub(super) fn on_outcome(&mut self, c: u32, o: Outcome) {
        // Attack connections move on like any other but count nowhere.
        if self.clients[c as usize].meta.workload.is_attack() {
            return self.on_attack_outcome(c, o);
        }
        match o {
            Outcome::Nothing | Outcome::Dropped(_) => {}
            Outcome::Established { handshake } => {
                self.metrics.established(handshake);
                self.sample(Sample::Handshake, handshake);
                let mut out = std::mem::take(&mut self.out);
                self.send_next_segment(c, &mut out);
                self.out = out;
            }
            Outcome::SegmentAcked { latency } => {
                self.metrics.segment_acked(latency);
                self.sample(Sample::Segment, latency);
                if self.clients[c as usize].tcp.segments_left == 0 {
                    let mut out = std::mem::take(&mut self.out);
                    self.send_next_segment(c, &mut out);
                    self.out = out;
                } else {
                    let gap = self.gap(c);
                    self.clients[c as usize].tcp.wake_at(self.now + gap);
                    self.sync_timers(c);
                }
            }
            Outcome::Completed { duration } => {
                self.metrics.completed(duration);
                self.sample(Sample::Completion, duration);
                self.connection_over(c);
            }
            Outcome::Retransmitted(kind) => self.metrics.retransmitted(kind),
            Outcome::Failed(reason) => {
                self.metrics.failed(reason);
                self.connection_over(c);
            }
        }
    }

    pub(super) fn on_attack_outcome(&mut self, c: u32, o: Outcome) {
        match o {
            Outcome::Established { .. } => {
                let mut out = std::mem::take(&mut self.out);
                self.send_next_segment(c, &mut out);
                self.out = out;
            }
            Outcome::SegmentAcked { .. } => {
                let gap = self.gap(c);
                self.clients[c as usize].tcp.wake_at(self.now + gap);
                self.sync_timers(c);
            }
            Outcome::Completed { .. } | Outcome::Failed(_) => self.finish_client(c, Life::Done),
            Outcome::Nothing | Outcome::Dropped(_) | Outcome::Retransmitted(_) => {}
        }
    }

    /// A connection ended: think and go again, or stop.
    pub(super) fn connection_over(&mut self, c: u32) {
        let m = &mut self.clients[c as usize].meta;
        if m.life != Life::Active {
            return;
        }
        let left = &mut self.counts[c as usize].left;
        *left = left.saturating_sub(1);
        if *left == 0 || m.retire {
            self.finish_client(c, Life::Done);
            return;
        }
        let identity = m.identity;
        let think = self.closed.as_ref().map_or(SimDuration::ZERO, |s| {
            sample_duration(&s.think, &mut Streams::think(identity))
        });
        // The think time sets the next connection's arrival.
        self.draws.arrival(mix(identity, 0), think.as_nanos());
        self.clients[c as usize].tcp.wake_at(self.now + think);
        self.sync_timers(c);
    }

    /// Ends a client's life as `life`; open-arrival slots go back to the pool.
    pub(super) fn finish_client(&mut self, c: u32, life: Life) {
        let ClientSlot {
            tcp: client,
            meta: m,
        } = &mut self.clients[c as usize];
        if m.life != Life::Active {
            return;
        }
        if !m.workload.is_attack() {
            self.active_clients -= 1;
            self.client_states.leave(client.state);
            match (life, m.workload) {
                (Life::Done, Workload::Closed) => self.clients_done += 1,
                (Life::Killed, _) => self.clients_killed += 1,
                _ => {}
            }
        }
        if matches!(m.workload, Workload::Open | Workload::Attack(_)) && life == Life::Done {
            m.life = Life::Free;
            self.free_clients.push(c);
        } else {
            m.life = life;
        }
        client.wake_at(SimTime::MAX);
    }

    /// Kills client `c` on the spot (no FIN, no RST).
    pub(super) fn kill_client(&mut self, c: u32) {
        let o = self.clients[c as usize]
            .tcp
            .abort(self.now, &mut self.client_states);
        if let Outcome::Failed(reason) = o {
            self.metrics.failed(reason);
        }
        self.finish_client(c, Life::Killed);
    }
}
