//! A backend server: a listen backlog of half-open connections, a cap on
//! established ones, and `workers` serving data segments first-in first-out
//! for a sampled service time before acknowledging them.
//!
//! A killed server drops everything silently; a revived one starts clean.
//! A packet the server has no use for is dropped with a named reason.

pub(crate) mod conns;
#[cfg(test)]
mod tests;

pub use conns::ConnState;

use super::client::RECEIVE_WINDOW;
use super::dist::sample_duration;
use crate::model::{Endpoint, Flags, FourTuple, Packet, SimDuration, SimTime};
use crate::spec::{Dist, DropReason, Dur, ServerSpec};
use conns::Conns;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// How long a SYN-RECEIVED connection waits for the client's ACK (Linux
/// gives up after about this long with its default SYN|ACK retries off).
pub const SYN_RECEIVED_TIMEOUT: SimDuration = SimDuration::from_secs(3);

/// How long an established connection may stay silent before the server
/// drops it (a typical server-side idle timeout).
pub const SERVER_IDLE_TIMEOUT: SimDuration = SimDuration::from_secs(60);

/// A segment waiting for, or in, a worker: the connection's slot and
/// generation, and the segment's place in its byte stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    /// The connection's slot.
    pub slot: u32,
    /// The connection's generation when the segment arrived.
    pub generation: u32,
    /// First sequence number of the segment.
    pub seq: u32,
    /// Payload length.
    pub len: u32,
    /// The client's initial sequence number: with `seq`, the key of the
    /// segment's service-time draw.
    pub irs: u32,
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
    /// Data segments that found every worker busy and waited in the queue.
    #[serde(default)]
    pub segments_queued: u64,
}

/// Packets to send and jobs started by one server step.
#[derive(Clone, Debug, Default)]
pub struct ServerOut {
    /// The slot of the connection the packet belonged to, when it had one:
    /// a hint for the next packet of the same client.
    pub slot: Option<u32>,
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
    conns: Conns,
    busy_workers: u32,
    queue: VecDeque<Job>,
    /// Counters over the server's whole run.
    pub stats: ServerStats,
    /// What service-time draws are keyed with besides the segment (the
    /// World sets it from its seed), so a segment takes the same time on
    /// any server with the same distribution.
    pub service_seed: u64,
}

/// What a server step does with one packet: nothing more to say, or drop
/// it for a reason.
type Fate = Result<(), DropReason>;

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
            conns: Conns::default(),
            busy_workers: 0,
            queue: VecDeque::new(),
            stats: ServerStats::default(),
            service_seed: 0,
        }
    }

    /// Half-open connections held now.
    pub fn half_open(&self) -> u32 {
        self.conns.half_open()
    }

    /// Established connections held now (including those closing).
    pub fn established(&self) -> u32 {
        self.conns.established()
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
        self.conns = Conns::default();
        self.queue = VecDeque::new();
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
    pub fn on_probe(&mut self, p: &Packet, out: &mut ServerOut) -> Fate {
        self.stats.packets_in += 1;
        if !self.alive {
            return Err(DropReason::ServerDown);
        }
        self.reply(p, Flags::SYN | Flags::ACK, 0, p.seq.wrapping_add(1), out);
        Ok(())
    }

    /// The connection in `slot`, if any: for prefetching.
    #[inline]
    pub fn peek_conn(&self, slot: u32) -> Option<&conns::Conn> {
        self.conns.peek(slot)
    }

    /// Handles a packet from the balancer; `hint` is the slot the same
    /// client's last packet was found in (`out.slot` says this one's).
    pub fn on_packet<R: Rng + ?Sized>(
        &mut self,
        p: &Packet,
        now: SimTime,
        rng: &mut R,
        out: &mut ServerOut,
        hint: Option<u32>,
    ) -> Fate {
        self.stats.packets_in += 1;
        if !self.alive {
            return Err(DropReason::ServerDown);
        }
        // The balancer sends to the server's address; anything else would
        // not reach this host.
        if p.key.dst != self.endpoint {
            return Err(DropReason::NoSocket);
        }
        let f = p.flags;
        let Some(slot) = self.conns.find(&p.key.src, hint) else {
            return self.on_unknown(p, now, rng, out);
        };
        out.slot = Some(slot);
        let conn = *self.conns.get(slot);
        // A SYN with a new initial sequence number: the client reused the
        // port for a new connection, so the old one is over.
        if f.contains(Flags::SYN) && !f.contains(Flags::ACK) && p.seq != conn.irs {
            self.conns.forget(slot);
            return self.on_unknown(p, now, rng, out);
        }
        self.conns.get_mut(slot).last_seen = now;
        match conn.state {
            // An RST is believed at the sequence number we expect.
            _ if f.contains(Flags::RST) => self.on_rst(slot, p, out),
            // The client repeated its SYN: our SYN|ACK was lost.
            ConnState::SynReceived if f.contains(Flags::SYN) => {
                self.reply(p, Flags::SYN | Flags::ACK, conn.iss, conn.rcv_nxt, out);
                Ok(())
            }
            // The ACK completing the handshake, possibly with data on it.
            ConnState::SynReceived
                if f.contains(Flags::ACK) && p.ack == conn.iss.wrapping_add(1) =>
            {
                self.stats.accepted += 1;
                self.conns.set_state(slot, now, ConnState::Established);
                if p.len > 0 {
                    return self.on_data(slot, p, out);
                }
                Ok(())
            }
            // An ACK for another SYN|ACK, or data before the handshake.
            ConnState::SynReceived => Err(DropReason::Unexpected),
            // A SYN with the ISN we know: a stale duplicate.
            ConnState::Established if f.contains(Flags::SYN) => Err(DropReason::Duplicate),
            // The client closes: FIN|ACK back, wait for the last ACK.
            ConnState::Established if f.contains(Flags::FIN) => {
                let ack = p.seq.wrapping_add(1);
                self.conns.get_mut(slot).rcv_nxt = ack;
                self.conns.set_state(slot, now, ConnState::LastAck);
                self.reply(
                    p,
                    Flags::FIN | Flags::ACK,
                    conn.iss.wrapping_add(1),
                    ack,
                    out,
                );
                Ok(())
            }
            ConnState::Established if p.len > 0 => self.on_data(slot, p, out),
            // A bare ACK of our handshake: nothing new, nothing wrong.
            ConnState::Established if p.ack == conn.iss.wrapping_add(1) => Ok(()),
            ConnState::Established => Err(DropReason::Unexpected),
            ConnState::LastAck => self.on_last_ack(slot, p, out),
        }
    }

    /// A packet on a connection in LAST-ACK.
    fn on_last_ack(&mut self, slot: u32, p: &Packet, out: &mut ServerOut) -> Fate {
        let conn = *self.conns.get(slot);
        let f = p.flags;
        match () {
            // Our FIN|ACK was lost: the client repeated its FIN.
            _ if f.contains(Flags::FIN) => {
                let fin = conn.iss.wrapping_add(1);
                self.reply(p, Flags::FIN | Flags::ACK, fin, conn.rcv_nxt, out);
                Ok(())
            }
            // The last ACK, acknowledging our FIN: closed.
            _ if f.contains(Flags::ACK) && p.ack == conn.iss.wrapping_add(2) => {
                self.conns.forget(slot);
                Ok(())
            }
            // A late ACK or segment of the closing connection.
            _ => Err(DropReason::Duplicate),
        }
    }

    /// An RST on a connection (RFC 9293 3.10.7.4): at the expected sequence
    /// number it ends the connection, elsewhere in the window it gets a
    /// challenge ACK, outside the window it is dropped.
    fn on_rst(&mut self, slot: u32, p: &Packet, out: &mut ServerOut) -> Fate {
        let conn = *self.conns.get(slot);
        let offset = p.seq.wrapping_sub(conn.rcv_nxt);
        if offset == 0 {
            self.conns.forget(slot);
            Ok(())
        } else if offset < RECEIVE_WINDOW {
            self.reply(p, Flags::ACK, conn.iss.wrapping_add(1), conn.rcv_nxt, out);
            Ok(())
        } else {
            Err(DropReason::RstOutOfWindow)
        }
    }

    /// A packet for no known connection: a SYN opens one, an RST is
    /// discarded, anything else is answered with RST (RFC 9293 3.10.7.1).
    fn on_unknown<R: Rng + ?Sized>(
        &mut self,
        p: &Packet,
        now: SimTime,
        rng: &mut R,
        out: &mut ServerOut,
    ) -> Fate {
        let f = p.flags;
        if f.contains(Flags::RST) {
            return Err(DropReason::NoSocket);
        }
        if !f.contains(Flags::SYN) || f.contains(Flags::ACK) {
            self.reply(p, Flags::RST, p.ack, 0, out);
            return Ok(());
        }
        // Half-open connections count too: each may complete, and the cap
        // is on what the server can hold.
        if self.conns.established() + self.conns.half_open() >= self.max_connections {
            self.stats.refused += 1;
            self.reply(p, Flags::RST | Flags::ACK, 0, p.seq.wrapping_add(1), out);
            return Ok(());
        }
        if self.conns.half_open() >= self.backlog {
            return Err(DropReason::BacklogFull);
        }
        let iss = rng.next_u32();
        let slot = self.conns.open(p.key.src, p.seq, iss, now);
        out.slot = Some(slot);
        let rcv_nxt = self.conns.get(slot).rcv_nxt;
        self.reply(p, Flags::SYN | Flags::ACK, iss, rcv_nxt, out);
        Ok(())
    }

    /// A data segment on connection `slot`.
    #[inline(always)]
    fn on_data(&mut self, slot: u32, p: &Packet, out: &mut ServerOut) -> Fate {
        let conn = self.conns.get_mut(slot);
        if p.seq != conn.rcv_nxt {
            // Already served (our ACK was lost): acknowledge again.
            let (iss, ack) = (conn.iss, conn.rcv_nxt);
            self.reply(p, Flags::ACK, iss.wrapping_add(1), ack, out);
            return Ok(());
        }
        if conn.busy() {
            // A retransmission of the segment being served.
            return Err(DropReason::Duplicate);
        }
        conn.set_busy(true);
        let job = Job {
            slot,
            generation: conn.generation,
            seq: p.seq,
            len: p.len,
            irs: conn.irs,
        };
        if self.busy_workers < self.workers {
            self.busy_workers += 1;
            out.jobs.push((self.service_time_of(&job), job));
        } else {
            self.stats.segments_queued += 1;
            self.queue.push_back(job);
        }
        Ok(())
    }

    /// A worker finished `job`: take the next one (into `out`), and
    /// return the acknowledgement of this one, to be sent after the next
    /// job starts. The ACK is returned rather than queued in `out`, so it
    /// can go from registers straight into the event that carries it: read
    /// back from `out` just after being written field by field, it made the
    /// CPU wait for those stores.
    #[inline(always)]
    pub fn on_service_done(&mut self, job: &Job, out: &mut ServerOut) -> Option<Packet> {
        self.busy_workers = self.busy_workers.saturating_sub(1);
        let mut ack = None;
        if let Some(conn) = self.conns.current(job.slot, job.generation)
            && conn.busy()
            && conn.rcv_nxt == job.seq
        {
            conn.set_busy(false);
            conn.rcv_nxt = job.seq.wrapping_add(job.len);
            let (seq, rcv_nxt, client) = (conn.iss.wrapping_add(1), conn.rcv_nxt, conn.client());
            self.stats.segments_served += 1;
            self.stats.bytes_served += u64::from(job.len);
            self.stats.packets_out += 1;
            let key = FourTuple::tcp(self.endpoint, client);
            ack = Some(Packet::control(key, Flags::ACK, seq, rcv_nxt));
        }
        if let Some(next) = self.queue.pop_front() {
            self.busy_workers += 1;
            out.jobs.push((self.service_time_of(&next), next));
        }
        ack
    }

    /// How long `job` keeps a worker: drawn from a stream keyed by the
    /// segment alone (see `sim::world::streams`), not from the World's
    /// shared draws, so which server serves it and when change nothing.
    fn service_time_of(&self, job: &Job) -> SimDuration {
        let mut rng = crate::sim::world::service_stream(self.service_seed, job.irs, job.seq);
        sample_duration(&self.service_time, &mut rng)
    }

    /// Expires half-open connections older than [`SYN_RECEIVED_TIMEOUT`] and
    /// connections silent for [`SERVER_IDLE_TIMEOUT`].
    pub fn sweep(&mut self, now: SimTime) {
        let (half_open, idle) = self.conns.expire(|c| {
            let idle = now - c.last_seen;
            // LAST-ACK waits as long as SYN-RECEIVED: the final ACK is due
            // one round trip after the FIN|ACK.
            match c.state {
                ConnState::SynReceived | ConnState::LastAck => idle >= SYN_RECEIVED_TIMEOUT,
                ConnState::Established => !c.busy() && idle >= SERVER_IDLE_TIMEOUT,
            }
        });
        self.stats.half_open_expired += u64::from(half_open);
        self.stats.idle_expired += u64::from(idle);
    }

    /// Bytes held per connection, for memory accounting.
    pub fn table_bytes(&self) -> usize {
        self.conns.bytes()
    }
}
