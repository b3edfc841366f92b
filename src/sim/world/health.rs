//! Health checks: a probe to every backend each interval, a verdict after
//! rise or fall results, and the detection delay of every death.

use super::{Dest, Event, World};
use crate::engine::LogKind;
use crate::engine::Sample;
use crate::model::{Endpoint, Flags, FourTuple, Packet, SimDuration};
use crate::policy::HealthTransition;
use crate::sim::addressing::{self, HEALTH_SOURCE};
use crate::spec::DropReason;

impl World {
    pub(super) fn send_probe(&mut self, s: u32) {
        let b = &mut self.lb.backends[s as usize];
        if b.removed {
            return;
        }
        if b.probe_out.is_some() {
            // The previous probe is still out when the next is due: it failed.
            b.probe_out = None;
            self.probe_result(s, false, None);
        }
        let b = &mut self.lb.backends[s as usize];
        b.probe_seq = b.probe_seq.wrapping_add(1);
        let id = b.probe_seq;
        b.probe_out = Some((id, self.now));
        let src = Endpoint::new(HEALTH_SOURCE, addressing::ephemeral_port(u64::from(id)));
        let probe = Packet::control(FourTuple::tcp(src, b.endpoint), Flags::SYN, id, 0);
        self.send(Dest::Server(s), probe);
        let health = self.lb.health;
        self.queue.push(
            self.now + health.timeout.get(),
            Event::ProbeTimeout { server: s, id },
        );
        self.queue.push(
            self.now + health.interval.get(),
            Event::ProbeSend { server: s },
        );
    }

    pub(super) fn on_probe_reply(&mut self, s: u32, p: &Packet) {
        let id = p.ack.wrapping_sub(1);
        let b = &mut self.lb.backends[s as usize];
        match b.probe_out {
            Some((out_id, sent)) if out_id == id => {
                b.probe_out = None;
                self.metrics.consumed += 1;
                let rtt = self.now - sent;
                self.probe_result(s, true, Some(rtt));
            }
            // The answer to a probe already counted as failed.
            _ => self.drop_packet(DropReason::StaleProbe),
        }
    }

    pub(super) fn on_probe_timeout(&mut self, s: u32, id: u32) {
        let b = &mut self.lb.backends[s as usize];
        if b.probe_out.is_some_and(|(out_id, _)| out_id == id) {
            b.probe_out = None;
            self.probe_result(s, false, None);
        }
    }

    pub(super) fn probe_result(&mut self, s: u32, ok: bool, rtt: Option<SimDuration>) {
        // A failed probe has no round trip worth showing, whatever came.
        let shown = if ok {
            rtt.or(Some(SimDuration::ZERO))
        } else {
            None
        };
        self.history[s as usize].probe(self.now, shown);
        let Some(flip) = self.lb.record_probe(s, ok, rtt, self.now) else {
            return;
        };
        let name = self.servers[s as usize].name.clone();
        let h = &self.history[s as usize];
        match flip {
            HealthTransition::WentDown => {
                let delay = h
                    .killed_at
                    .filter(|_| !self.servers[s as usize].alive)
                    .map(|k| self.now - k);
                if let Some(d) = delay {
                    self.metrics.detection.record(d);
                    self.sample(Sample::Detection, d);
                }
                let since = delay
                    .map(|d| format!(", {d} after it died"))
                    .unwrap_or_default();
                self.log.push(
                    self.now,
                    LogKind::Health,
                    format!(
                        "{name} marked DOWN after {} failed probes{since}",
                        self.lb.health.fall.get()
                    ),
                );
                let h = &mut self.history[s as usize];
                h.down_since = Some(self.now);
                h.change(self.now, "marked DOWN by health checks");
                for rst in self.lb.backend_went_down(s) {
                    self.send(Dest::Client, rst);
                }
                self.note_disruption();
            }
            HealthTransition::WentUp => {
                let since = h
                    .revived_at
                    .filter(|_| self.servers[s as usize].alive)
                    .map(|r| format!(", {} after it came back", self.now - r))
                    .unwrap_or_default();
                self.log.push(
                    self.now,
                    LogKind::Health,
                    format!(
                        "{name} marked UP after {} good probes{since}",
                        self.lb.health.rise.get()
                    ),
                );
                let h = &mut self.history[s as usize];
                h.down_since = None;
                h.change(self.now, "marked UP by health checks");
                self.note_disruption();
            }
        }
    }
}
