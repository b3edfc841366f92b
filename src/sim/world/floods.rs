//! Attacks: spoofed SYN floods, connection floods and slow senders.

use super::{Dest, Event, Flood, Life, Workload, World};
use crate::engine::LogKind;
use crate::model::{Endpoint, Flags, FourTuple, Packet, SimDuration, SimTime};
use crate::sim::addressing::{self, VIP};
use crate::sim::dist::standard_exponential;
use crate::spec::{AttackKind, Command, FloodSpec};
use rand::Rng;

impl World {
    pub(super) fn start_flood(&mut self, spec: FloodSpec, at: SimTime, announce: bool) {
        let until = spec.duration.map_or(SimTime::MAX, |d| at + d.get());
        let index = self.floods.len() as u32;
        self.floods.push(Flood {
            spec,
            from: at,
            until,
            active: true,
            announce,
        });
        self.queue.push(at, Event::FloodTick { flood: index });
    }

    pub(super) fn on_flood_tick(&mut self, index: u32) {
        let now = self.now;
        let flood = &mut self.floods[index as usize];
        if !flood.active {
            return;
        }
        if now >= flood.until || flood.spec.rate.get() <= 0.0 {
            flood.active = false;
            let ended = format!("{} ended", flood.spec.kind.name());
            self.log.push(now, LogKind::Flood, ended);
            return;
        }
        let (rate, sources) = (flood.spec.rate.get(), flood.spec.sources.get());
        let kind = flood.spec.kind;
        if flood.announce {
            flood.announce = false;
            self.log.push(
                now,
                LogKind::Flood,
                Command::StartFlood(flood.spec).to_string(),
            );
        }
        if kind != AttackKind::SpoofedSyn {
            self.metrics.flood_syns += 1;
            self.spawn_attacker(index);
            let gap = standard_exponential(&mut self.streams.floods) / rate;
            self.queue.push(
                now + SimDuration::from_secs_f64(gap).max(SimDuration::from_nanos(1)),
                Event::FloodTick { flood: index },
            );
            return;
        }
        let word = self.streams.floods.next_u64();
        let src_ip = addressing::FLOOD_BASE.offset((word % u64::from(sources)) as u32);
        let port = addressing::spoofed_port(word >> 32);
        let syn = Packet::control(
            FourTuple::tcp(Endpoint::new(src_ip, port), VIP),
            Flags::SYN,
            (word >> 16) as u32,
            0,
        );
        self.metrics.flood_syns += 1;
        self.send(Dest::Balancer, syn);
        let gap = standard_exponential(&mut self.streams.floods) / rate;
        self.queue.push(
            now + SimDuration::from_secs_f64(gap).max(SimDuration::from_nanos(1)),
            Event::FloodTick { flood: index },
        );
    }

    /// Opens one attack connection for flood `index` from a real address.
    pub(super) fn spawn_attacker(&mut self, index: u32) {
        let Some(i) = self.take_slot(Workload::Attack(index)) else {
            return;
        };
        self.counts[i as usize].left = 1;
        let m = &mut self.clients[i as usize].meta;
        m.life = Life::Active;
        m.retire = false;
        self.connect(i);
    }
}
