//! Two worlds in lockstep for the dashboard's `--compare`: the lab as it
//! is (A) and the lab with the comparison's commands (B), advanced to the
//! same instant, every key applied to both, B's snapshot carried inside
//! A's so the screen can draw them side by side.

use super::Side;
use crate::engine::{
    Advance, Aim, Engine, LinkStats, MakeEngine, ObjectiveStatus, ServerRow, Snapshot,
};
use crate::model::SimTime;
use crate::sim::World;
use crate::spec::{Command, Lab, Origin};
use std::sync::Arc;

/// The two worlds.
#[derive(Clone)]
pub struct Twin {
    a: World,
    b: World,
    /// How the screen names B.
    label: String,
    /// Which world the keys act on.
    aim: Aim,
}

impl Twin {
    /// The lab with `seed` twice, B with `side`'s commands scheduled.
    pub fn new(lab: &Lab, seed: u64, side: &Side) -> Twin {
        let a = World::new(lab, seed);
        let mut b = World::new(lab, seed);
        for c in &side.commands {
            b.schedule_from(
                SimTime::ZERO + c.at().get(),
                c.command().clone(),
                Origin::Script,
            );
        }
        Twin {
            a,
            b,
            label: side.label.clone(),
            aim: Aim::Both,
        }
    }

    /// The engine maker the dashboard runs: a twin for each (re)start.
    pub fn maker(side: Side) -> MakeEngine {
        Arc::new(move |lab: &Lab, seed: u64| {
            Box::new(Twin::new(lab, seed, &side)) as Box<dyn Engine>
        })
    }
}

impl Engine for Twin {
    fn now(&self) -> SimTime {
        self.a.now()
    }

    fn seed(&self) -> u64 {
        self.a.seed()
    }

    fn events_processed(&self) -> u64 {
        self.a.events_processed() + self.b.events_processed()
    }

    fn apply(&mut self, command: Command, origin: Origin) {
        match self.aim {
            Aim::Both => {
                self.a.apply_from(command.clone(), origin);
                self.b.apply_from(command, origin);
            }
            Aim::A => self.a.apply_from(command, origin),
            Aim::B => self.b.apply_from(command, origin),
        }
    }

    fn aim(&mut self, aim: Aim) -> bool {
        self.aim = aim;
        true
    }

    fn schedule(&mut self, at: SimTime, command: Command, origin: Origin) {
        self.a.schedule_from(at, command.clone(), origin);
        self.b.schedule_from(at, command, origin);
    }

    fn advance(&mut self, until: SimTime, max_events: u64) -> Advance {
        let a = self.a.advance(until, max_events);
        // B goes exactly where A got to, however far that was, so the two
        // are always shown at the same instant.
        let to = self.a.now();
        let mut b = self.b.advance(to, u64::MAX);
        while !b.reached && self.b.stalled().is_none() {
            b = self.b.advance(to, u64::MAX);
        }
        Advance {
            events: a.events + b.events,
            reached: a.reached,
        }
    }

    fn stalled(&self) -> Option<SimTime> {
        self.a.stalled().or(self.b.stalled())
    }

    fn run_to_completion(&mut self, limit: SimTime) -> bool {
        let a = self.a.run_to_completion(limit);
        let b = self.b.run_to_completion(limit);
        a && b
    }

    fn workload_finished(&self) -> bool {
        self.a.workload_finished() && self.b.workload_finished()
    }

    fn workload_is_finite(&self) -> bool {
        self.a.workload_is_finite()
    }

    fn run_over(&self) -> bool {
        self.a.run_over() && self.b.run_over()
    }

    fn note(&mut self, text: String) {
        self.a.note(text.clone());
        self.b.note(text);
    }

    fn snapshot(&self) -> Snapshot {
        let mut a = self.a.snapshot();
        let mut b = self.b.snapshot();
        b.lab = format!("B: {}", self.label);
        a.twin = Some(Box::new(b));
        a
    }

    fn server_rows(&self) -> Vec<ServerRow> {
        self.a.server_rows()
    }

    fn link_stats(&self) -> Vec<LinkStats> {
        Engine::link_stats(&self.a)
    }

    fn objective_statuses(&self, run_over: bool) -> Vec<ObjectiveStatus> {
        self.a.objective_statuses(run_over)
    }

    fn fork(&self) -> Option<Box<dyn Engine>> {
        Some(Box::new(self.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Algorithm;

    fn twin() -> Twin {
        let lab = crate::lab::builtin("round-robin").expect("loads");
        let side = Side::parse("compare", "SetAlgorithm(Random)", &lab).expect("parses");
        Twin::new(&lab, 1, &side)
    }

    #[test]
    fn both_worlds_stand_at_the_same_instant_after_every_advance() {
        let mut t = twin();
        for ms in [1u64, 7, 250, 1000, 5000] {
            let until = t.now() + crate::model::SimDuration::from_millis(ms);
            t.advance(until, 1000);
            assert_eq!(t.a.now(), t.b.now(), "after {ms} ms");
        }
        let s = t.snapshot();
        let b = s.twin.expect("B rides in A's snapshot");
        assert_eq!(s.settings.algorithm, Algorithm::RoundRobin);
        assert_eq!(b.settings.algorithm, Algorithm::Random);
        assert_eq!(s.now, b.now);
    }

    #[test]
    fn aimed_keys_reach_one_world_only() {
        let mut t = twin();
        t.advance(
            SimTime::ZERO + crate::model::SimDuration::from_secs(2),
            u64::MAX,
        );
        assert!(t.aim(Aim::B));
        t.apply(Command::KillServer("srv-3".into()), Origin::User);
        let s = t.snapshot();
        let b = s.twin.expect("a twin");
        assert_eq!(
            s.servers[2].state,
            crate::engine::ServerState::Up,
            "A untouched"
        );
        assert_eq!(b.servers[2].state, crate::engine::ServerState::Killed);
    }

    #[test]
    fn a_key_reaches_both_worlds() {
        let mut t = twin();
        t.advance(
            SimTime::ZERO + crate::model::SimDuration::from_secs(2),
            u64::MAX,
        );
        t.apply(Command::KillServer("srv-2".into()), Origin::User);
        let s = t.snapshot();
        let b = s.twin.expect("a twin");
        for rows in [&s.servers, &b.servers] {
            assert_eq!(rows[1].state, crate::engine::ServerState::Killed);
        }
    }
}
