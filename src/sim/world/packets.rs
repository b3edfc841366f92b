//! Packets on the move: links, delivery to the balancer, the servers and
//! the clients, and drops with their reason.

use super::{Dest, Event, World};
use crate::engine::LogKind;
use crate::model::Packet;
use crate::sim::addressing::{HEALTH_SOURCE, client_index};
use crate::sim::balancer::{Backward, Draw, Forward};
use crate::sim::server::{Job, ServerOut};
use crate::spec::DropReason;

impl World {
    /// Puts `p` on the link toward `to`; a lost packet is counted as dropped.
    #[inline(always)]
    pub(super) fn send(&mut self, to: Dest, p: Packet) {
        if self.tap.is_some() || self.watch.is_some() {
            self.capture(to, &p);
        }
        let link = to.link();
        match self.links[link].transmit(p.wire_bytes(), &mut self.streams.net) {
            Some(delay) => self
                .queue
                .push_with(self.now + delay, || Event::Deliver { to, packet: p }),
            None => {
                if let Dest::Server(s) | Dest::BalancerFrom(s) = to {
                    self.history[s as usize].drops += 1;
                }
                self.drop_packet(DropReason::LinkLoss);
            }
        }
    }

    pub(super) fn drop_packet(&mut self, reason: DropReason) {
        if self.metrics.dropped(reason) {
            self.log.push(
                self.now,
                LogKind::Drop,
                format!("first packet dropped: {reason}"),
            );
        }
    }

    /// Hands `p` to where it arrived; true if that was the balancer (and
    /// its conn table may have changed).
    #[inline(always)]
    pub(super) fn deliver(&mut self, to: Dest, p: &Packet) -> bool {
        self.links[to.link()].arrived();
        match to {
            Dest::Balancer => self.balancer_from_client(p),
            Dest::BalancerFrom(s) => self.balancer_from_server(s, p),
            Dest::Server(s) => self.server_receive(s, p),
            Dest::Client => self.client_receive(p),
        }
        matches!(to, Dest::Balancer | Dest::BalancerFrom(_))
    }

    pub(super) fn balancer_from_client(&mut self, p: &Packet) {
        let forward = self
            .lb
            .from_client(p, self.now, &mut Draw(&mut self.streams.balancer));
        // A scripted algorithm's fault, as the selector hands it over (the
        // first, a retirement, and at 10, 100, 1000... faults).
        if let Some(fault) = self.lb.selector.take_script_fault() {
            self.log.push(self.now, LogKind::Error, fault);
        }
        match forward {
            Forward::ToBackend {
                backend,
                packet,
                new_entry,
            } => {
                if let Some((slot, due)) = new_entry {
                    self.queue.push(
                        due,
                        Event::ConnIdle {
                            slot,
                            generation: self.lb.table.generation(slot),
                        },
                    );
                }
                self.metrics.consumed += 1;
                self.send(Dest::Server(backend), packet);
            }
            Forward::Reply(answer) => {
                self.metrics.consumed += 1;
                self.send(Dest::Client, answer);
            }
            // Held at the balancer: released later as a send of its own.
            Forward::Queued => self.metrics.consumed += 1,
            Forward::Drop(reason) => self.drop_packet(reason),
        }
    }

    /// Sends what the balancer released from its queue: each SYN to its
    /// backend, with its conn-table entry's idle timer.
    pub(super) fn send_released(&mut self, released: Vec<Forward>) {
        for f in released {
            if let Forward::ToBackend {
                backend,
                packet,
                new_entry,
            } = f
            {
                if let Some((slot, due)) = new_entry {
                    self.queue.push(
                        due,
                        Event::ConnIdle {
                            slot,
                            generation: self.lb.table.generation(slot),
                        },
                    );
                }
                self.send(Dest::Server(backend), packet);
            } else if let Forward::Reply(answer) = f {
                self.send(Dest::Client, answer);
            }
        }
    }

    pub(super) fn balancer_from_server(&mut self, s: u32, p: &Packet) {
        if p.key.dst.ip == HEALTH_SOURCE {
            self.on_probe_reply(s, p);
            return;
        }
        match self.lb.from_backend(s, p, self.now) {
            Backward::ToClient(out) => {
                self.metrics.consumed += 1;
                self.send(Dest::Client, out);
            }
            Backward::ToBackend(ack, held) => {
                self.metrics.consumed += 1;
                self.send(Dest::Server(s), ack);
                if let Some(h) = held {
                    self.send(Dest::Server(s), h);
                }
            }
            Backward::Drop(reason) => self.drop_packet(reason),
        }
    }

    pub(super) fn server_receive(&mut self, s: u32, p: &Packet) {
        let mut out = self.sout.take().unwrap_or_default();
        let server = &mut self.servers[s as usize];
        let client = client_index(p.key.src.ip);
        let result = if p.key.src.ip == HEALTH_SOURCE {
            server.on_probe(p, &mut out)
        } else {
            let hint = client
                .and_then(|c| self.conn_hints.get(c))
                .and_then(|&h| h.checked_sub(1));
            server.on_packet(p, self.now, &mut self.streams.servers, &mut out, hint)
        };
        if let (Some(c), Some(slot)) = (client, out.slot.take()) {
            if c >= self.conn_hints.len() {
                self.conn_hints.resize(c + 1, 0);
            }
            self.conn_hints[c] = slot + 1;
        }
        match result {
            Ok(()) => self.metrics.consumed += 1,
            Err(reason) => {
                self.history[s as usize].drops += 1;
                self.drop_packet(reason);
            }
        }
        self.flush_server(s, &mut out);
        self.sout = Some(out);
    }

    #[inline(always)]
    pub(super) fn flush_server(&mut self, s: u32, out: &mut ServerOut) {
        let epoch = self.servers[s as usize].epoch;
        self.note_server(s);
        // Indexed loops and a clear, rather than `drain`: these vectors
        // hold one item or none at almost every call, where a drain's
        // set-up and tail-moving drop cost more than the items themselves.
        for &(service, job) in &out.jobs {
            self.draws.service(job.irs, job.seq, service.as_nanos());
            self.queue
                .push_with(self.now + service, || Event::ServiceDone {
                    server: s,
                    epoch,
                    job,
                });
        }
        out.jobs.clear();
        for &p in &out.packets {
            self.send(Dest::BalancerFrom(s), p);
        }
        out.packets.clear();
    }

    pub(super) fn on_service_done(&mut self, s: u32, epoch: u32, job: Job) {
        let server = &mut self.servers[s as usize];
        if server.epoch != epoch {
            return; // served in a life the server no longer has
        }
        let mut out = self.sout.take().unwrap_or_default();
        let ack = server.on_service_done(&job, &mut out);
        self.flush_server(s, &mut out);
        self.sout = Some(out);
        if let Some(ack) = ack {
            self.send(Dest::BalancerFrom(s), ack);
        }
    }
}
