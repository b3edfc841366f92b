//! How recorded commands replay, and how a key's command is applied so
//! that it can be.
//!
//! The World orders events at one instant by when they were queued, so a
//! command *scheduled* at t runs before any event at t queued after it,
//! while a key applied live at t comes after every event at t the World
//! has already run. Replay must mean the second: a recorded command takes
//! effect at its time after every event due by then. Both sides go
//! through this file, so they cannot drift apart: [`apply_now`] finishes
//! the current instant before applying (a driver's batch may stop in the
//! middle of one), and [`Pending::advance`] runs to each command's time,
//! then applies it.

use crate::engine::{Advance, Engine, MakeEngine};
use crate::model::SimTime;
use crate::spec::{Command, Lab, Origin, TimedCommand};
use std::collections::VecDeque;

/// Applies `cmd` to `engine` as a key does, after every event due at the
/// engine's current instant; returns that instant, the time to record.
pub fn apply_now(engine: &mut dyn Engine, cmd: Command) -> SimTime {
    let now = engine.now();
    engine.advance(now, u64::MAX);
    engine.apply(cmd, Origin::User);
    now
}

/// `cmd` stamped with the simulated time `at` it took effect.
pub fn stamped(at: SimTime, cmd: Command) -> TimedCommand {
    TimedCommand::At(crate::spec::Dur(at.saturating_since(SimTime::ZERO)), cmd)
}

/// The engine of a run: `lab` with `seed`, its `script` scheduled from the
/// start as `lblab run --commands` schedules it.
pub fn start(make: &MakeEngine, lab: &Lab, seed: u64, script: &[TimedCommand]) -> Box<dyn Engine> {
    let mut engine = make(lab, seed);
    for entry in script {
        engine.schedule(
            SimTime::ZERO + entry.at().get(),
            entry.command().clone(),
            Origin::Script,
        );
    }
    engine
}

/// Recorded commands waiting for their moment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pending {
    list: VecDeque<TimedCommand>,
}

impl Pending {
    /// `commands`, in the order they took effect.
    pub fn new(commands: impl IntoIterator<Item = TimedCommand>) -> Pending {
        Pending {
            list: commands.into_iter().collect(),
        }
    }

    /// Commands still to apply.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Nothing left to apply.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Drops every command still to apply (a replay that branches).
    pub fn clear(&mut self) {
        self.list.clear();
    }

    /// The commands still to apply, in order.
    pub fn into_commands(self) -> Vec<TimedCommand> {
        self.list.into()
    }

    /// When the next command applies.
    pub fn next_at(&self) -> Option<SimTime> {
        self.list.front().map(|c| SimTime::ZERO + c.at().get())
    }

    /// Runs `engine` toward `until`, at most `max_events` events, applying
    /// each command whose time comes after every event due by then; the
    /// commands applied are appended to `applied`. `reached` as
    /// [`Engine::advance`] says it.
    pub fn advance(
        &mut self,
        engine: &mut dyn Engine,
        until: SimTime,
        max_events: u64,
        applied: &mut Vec<TimedCommand>,
    ) -> Advance {
        let mut events = 0;
        loop {
            let left = max_events.saturating_sub(events);
            match self.next_at() {
                Some(at) if at <= until => {
                    let a = engine.advance(at, left);
                    events += a.events;
                    if !a.reached || engine.stalled().is_some() {
                        return Advance {
                            events,
                            reached: false,
                        };
                    }
                    if let Some(entry) = self.list.pop_front() {
                        engine.apply(entry.command().clone(), Origin::User);
                        applied.push(entry);
                    }
                }
                _ => {
                    let a = engine.advance(until, left);
                    return Advance {
                        events: events + a.events,
                        reached: a.reached,
                    };
                }
            }
        }
    }
}
