//! A backend server: a listen backlog of half-open connections, a cap on
//! established ones, and `workers` serving data segments first-in first-out
//! for a sampled service time before acknowledging them.
//!
//! A killed server drops everything silently; a revived one starts clean.

use super::dist::sample_duration;
use crate::model::{Endpoint, Flags, FourTuple, Packet, SimDuration, SimTime};
use crate::spec::{Dist, DropReason, Dur, ServerSpec};
use rand::Rng;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// How long a SYN-RECEIVED connection waits for the client's ACK (Linux
/// gives up after about this long with its default SYN|ACK retries off).
pub const SYN_RECEIVED_TIMEOUT: SimDuration = SimDuration::from_secs(3);

/// How long an established connection may stay silent before the server
/// drops it (a typical server-side idle timeout).
pub const SERVER_IDLE_TIMEOUT: SimDuration = SimDuration::from_secs(60);

/// Per-connection state on the server (RFC 9293 names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ConnState {
    /// SYN|ACK sent, waiting for the ACK.
    SynReceived,
    /// Handshake done.
    Established,
    /// FIN|ACK sent, waiting for the final ACK.
    LastAck,
}

#[derive(Clone, Copy, Debug)]
struct Conn {
    state: ConnState,
    /// The client's initial sequence number: a SYN with another one is a new
    /// connection reusing the port.
    irs: u32,
    iss: u32,
    rcv_nxt: u32,
    /// A segment is queued or in service; its retransmissions are ignored.
    busy: bool,
    last_seen: SimTime,
}

/// A segment waiting for, or in, a worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    /// The connection, as the server sees it (client -> server).
    pub key: FourTuple,
    /// First sequence number of the segment.
    pub seq: u32,
    /// Payload length.
    pub len: u32,
}

/// What a server counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerStats {
    /// Packets that reached the server (alive or not).
    pub packets_in: u64,
    /// Packets the server sent.
    pub packets_out: u64,
    /// Payload bytes received in served segments.
    pub bytes_served: u64,
    /// Data segments served by a worker.
    pub segments_served: u64,
    /// Handshakes completed.
    pub accepted: u64,
    /// SYNs refused with RST at `max_connections`.
    pub refused: u64,
    /// Half-open connections that expired without an ACK.
    pub half_open_expired: u64,
    /// Established connections dropped for idleness.
    pub idle_expired: u64,
}

/// Packets to send and jobs started by one server step.
#[derive(Debug, Default)]
pub struct ServerOut {
    /// Packets toward the balancer.
    pub packets: Vec<Packet>,
    /// Jobs that started service, with their service time.
    pub jobs: Vec<(SimDuration, Job)>,
}

/// One backend server.
#[derive(Clone, Debug)]
pub struct Server {
    /// Name used by commands and tables.
    pub name: String,
    /// Address and port the balancer forwards to.
    pub endpoint: Endpoint,
    /// Listen backlog: half-open connections held at most.
    pub backlog: u32,
    /// Established connections accepted at most.
    pub max_connections: u32,
    /// Segments served at once.
    pub workers: u32,
    /// Time one worker spends on one segment.
    pub service_time: Dist<Dur>,
    /// Running (true) or killed.
    pub alive: bool,
    /// Incremented on every kill, so work scheduled in a past life is
    /// recognised and ignored.
    pub epoch: u32,
    conns: FxHashMap<FourTuple, Conn>,
    half_open: u32,
    established: u32,
    busy_workers: u32,
    queue: VecDeque<Job>,
    /// Counters over the server's whole run.
    pub stats: ServerStats,
}

impl Server {
    /// A running server built from its lab description.
    pub fn new(spec: &ServerSpec, endpoint: Endpoint) -> Server {
        Server {
            name: spec.name.clone(),
            endpoint,
            backlog: spec.backlog.get(),
            max_connections: spec.max_connections.get(),
            workers: spec.workers.get(),
            service_time: spec.service_time,
            alive: true,
            epoch: 0,
            conns: FxHashMap::default(),
            half_open: 0,
            established: 0,
            busy_workers: 0,
            queue: VecDeque::new(),
            stats: ServerStats::default(),
        }
    }

    /// Half-open connections held now.
    pub fn half_open(&self) -> u32 {
        self.half_open
    }

    /// Established connections held now (including those closing).
    pub fn established(&self) -> u32 {
        self.established
    }

    /// Segments waiting for a worker.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Workers serving a segment now.
    pub fn busy_workers(&self) -> u32 {
        self.busy_workers
    }

    /// Stops the server: every connection and queued segment is forgotten.
    pub fn kill(&mut self) {
        self.alive = false;
        self.epoch = self.epoch.wrapping_add(1);
        self.conns = FxHashMap::default();
        self.queue = VecDeque::new();
        self.half_open = 0;
        self.established = 0;
        self.busy_workers = 0;
    }

    /// Starts a killed server again, empty.
    pub fn revive(&mut self) {
        self.alive = true;
    }

    fn reply(&mut self, to: &Packet, flags: Flags, seq: u32, ack: u32, out: &mut ServerOut) {
        self.stats.packets_out += 1;
        out.packets
            .push(Packet::control(to.key.reversed(), flags, seq, ack));
    }

    /// Answers a health probe: alive servers reply at once.
    pub fn on_probe(&mut self, p: &Packet, out: &mut ServerOut) -> Result<(), DropReason> {
        self.stats.packets_in += 1;
        if !self.alive {
            return Err(DropReason::ServerDown);
        }
        self.reply(p, Flags::SYN | Flags::ACK, 0, p.seq.wrapping_add(1), out);
        Ok(())
    }

    /// Handles a packet from the balancer.
    pub fn on_packet<R: Rng + ?Sized>(
        &mut self,
        p: &Packet,
        now: SimTime,
        rng: &mut R,
        out: &mut ServerOut,
    ) -> Result<(), DropReason> {
        self.stats.packets_in += 1;
        if !self.alive {
            return Err(DropReason::ServerDown);
        }
        let f = p.flags;
        let Some(conn) = self.conns.get_mut(&p.key) else {
            return self.on_unknown(p, now, rng, out);
        };
        // A SYN with a new initial sequence number: the client reused the
        // port for a new connection, so the old one is over.
        if f.contains(Flags::SYN) && !f.contains(Flags::ACK) && p.seq != conn.irs {
            let state = conn.state;
            self.forget(&p.key, state);
            return self.on_unknown(p, now, rng, out);
        }
        conn.last_seen = now;
        let conn = *conn;
        match conn.state {
            // RST from the client: forget the connection.
            _ if f.contains(Flags::RST) => self.forget(&p.key, conn.state),
            // The client repeated its SYN: our SYN|ACK was lost.
            ConnState::SynReceived if f.contains(Flags::SYN) => {
                self.reply(p, Flags::SYN | Flags::ACK, conn.iss, conn.rcv_nxt, out);
            }
            // The ACK completing the handshake, possibly with data on it.
            ConnState::SynReceived
                if f.contains(Flags::ACK) && p.ack == conn.iss.wrapping_add(1) =>
            {
                self.half_open -= 1;
                self.established += 1;
                self.stats.accepted += 1;
                if let Some(c) = self.conns.get_mut(&p.key) {
                    c.state = ConnState::Established;
                }
                if p.len > 0 {
                    self.on_data(p, rng, out);
                }
            }
            ConnState::SynReceived => {}
            // A new SYN on an open connection: a stale duplicate; ignore.
            ConnState::Established if f.contains(Flags::SYN) => {}
            // The client closes: FIN|ACK back, wait for the last ACK.
            ConnState::Established if f.contains(Flags::FIN) => {
                let ack = p.seq.wrapping_add(1);
                if let Some(c) = self.conns.get_mut(&p.key) {
                    c.state = ConnState::LastAck;
                    c.rcv_nxt = ack;
                }
                self.reply(
                    p,
                    Flags::FIN | Flags::ACK,
                    conn.iss.wrapping_add(1),
                    ack,
                    out,
                );
            }
            ConnState::Established if p.len > 0 => self.on_data(p, rng, out),
            ConnState::Established => {}
            // Our FIN|ACK was lost: the client repeated its FIN.
            ConnState::LastAck if f.contains(Flags::FIN) => {
                self.reply(
                    p,
                    Flags::FIN | Flags::ACK,
                    conn.iss.wrapping_add(1),
                    conn.rcv_nxt,
                    out,
                );
            }
            // The last ACK: closed.
            ConnState::LastAck if f.contains(Flags::ACK) => self.forget(&p.key, conn.state),
            ConnState::LastAck => {}
        }
        Ok(())
    }

    /// A packet for no known connection: a SYN opens one, anything else but
    /// an RST is answered with RST (RFC 9293 3.10.7.1).
    fn on_unknown<R: Rng + ?Sized>(
        &mut self,
        p: &Packet,
        now: SimTime,
        rng: &mut R,
        out: &mut ServerOut,
    ) -> Result<(), DropReason> {
        let f = p.flags;
        if f.contains(Flags::RST) {
            return Ok(());
        }
        if !f.contains(Flags::SYN) || f.contains(Flags::ACK) {
            self.reply(p, Flags::RST, p.ack, 0, out);
            return Ok(());
        }
        // Half-open connections count too: each may complete, and the cap
        // is on what the server can hold.
        if self.established + self.half_open >= self.max_connections {
            self.stats.refused += 1;
            self.reply(p, Flags::RST | Flags::ACK, 0, p.seq.wrapping_add(1), out);
            return Ok(());
        }
        if self.half_open >= self.backlog {
            return Err(DropReason::BacklogFull);
        }
        let iss = rng.next_u32();
        let rcv_nxt = p.seq.wrapping_add(1);
        self.conns.insert(
            p.key,
            Conn {
                state: ConnState::SynReceived,
                irs: p.seq,
                iss,
                rcv_nxt,
                busy: false,
                last_seen: now,
            },
        );
        self.half_open += 1;
        self.reply(p, Flags::SYN | Flags::ACK, iss, rcv_nxt, out);
        Ok(())
    }

    fn on_data<R: Rng + ?Sized>(&mut self, p: &Packet, rng: &mut R, out: &mut ServerOut) {
        let Some(conn) = self.conns.get_mut(&p.key) else {
            return;
        };
        if p.seq == conn.rcv_nxt {
            if conn.busy {
                return; // a retransmission of the segment being served
            }
            conn.busy = true;
            let job = Job {
                key: p.key,
                seq: p.seq,
                len: p.len,
            };
            if self.busy_workers < self.workers {
                self.busy_workers += 1;
                out.jobs
                    .push((sample_duration(&self.service_time, rng), job));
            } else {
                self.queue.push_back(job);
            }
        } else {
            // Already served (our ACK was lost): acknowledge again.
            let (iss, ack) = (conn.iss, conn.rcv_nxt);
            self.reply(p, Flags::ACK, iss.wrapping_add(1), ack, out);
        }
    }

    /// A worker finished `job`: acknowledge it and take the next one.
    pub fn on_service_done<R: Rng + ?Sized>(
        &mut self,
        job: &Job,
        rng: &mut R,
        out: &mut ServerOut,
    ) {
        self.busy_workers = self.busy_workers.saturating_sub(1);
        if let Some(conn) = self.conns.get_mut(&job.key)
            && conn.busy
            && conn.rcv_nxt == job.seq
        {
            conn.busy = false;
            conn.rcv_nxt = job.seq.wrapping_add(job.len);
            let (seq, ack) = (conn.iss.wrapping_add(1), conn.rcv_nxt);
            self.stats.segments_served += 1;
            self.stats.bytes_served += u64::from(job.len);
            self.stats.packets_out += 1;
            out.packets
                .push(Packet::control(job.key.reversed(), Flags::ACK, seq, ack));
        }
        if let Some(next) = self.queue.pop_front() {
            self.busy_workers += 1;
            out.jobs
                .push((sample_duration(&self.service_time, rng), next));
        }
    }

    fn forget(&mut self, key: &FourTuple, state: ConnState) {
        if self.conns.remove(key).is_some() {
            match state {
                ConnState::SynReceived => self.half_open -= 1,
                ConnState::Established | ConnState::LastAck => self.established -= 1,
            }
        }
    }

    /// Expires half-open connections older than [`SYN_RECEIVED_TIMEOUT`] and
    /// connections silent for [`SERVER_IDLE_TIMEOUT`].
    pub fn sweep(&mut self, now: SimTime) {
        let mut half_open_expired = 0;
        let mut idle_expired = 0;
        self.conns.retain(|_, c| {
            let idle = now - c.last_seen;
            // LAST-ACK waits as long as SYN-RECEIVED: the final ACK is due
            // one round trip after the FIN|ACK.
            let expire = match c.state {
                ConnState::SynReceived | ConnState::LastAck => idle >= SYN_RECEIVED_TIMEOUT,
                ConnState::Established => !c.busy && idle >= SERVER_IDLE_TIMEOUT,
            };
            if expire {
                if c.state == ConnState::SynReceived {
                    half_open_expired += 1;
                } else {
                    idle_expired += 1;
                }
            }
            !expire
        });
        self.half_open -= half_open_expired;
        self.established -= idle_expired;
        self.stats.half_open_expired += u64::from(half_open_expired);
        self.stats.idle_expired += u64::from(idle_expired);
    }

    /// Bytes held per connection, for memory accounting.
    pub fn table_bytes(&self) -> usize {
        self.conns.capacity() * (std::mem::size_of::<(FourTuple, Conn)>() + 1)
    }
}

#[cfg(test)]
mod tests;
