//! The event loop: pop the next event due, handle it, repeat. One loop
//! serves every way of running (a budget of events, a time to reach, the
//! workload's end), so the per-event work is the handling alone: the
//! stall watch looks only every [`stall::CHECK_EVERY`] events, and the
//! handler is inlined into the one loop rather than called per event.

use super::{Event, SERVER_SWEEP_INTERVAL, World, stall};
use crate::engine::Advance;
use crate::model::SimTime;
use crate::sim::balancer::IdleCheck;

/// Why [`World::run_events`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    /// It ran its budget of events.
    Budget,
    /// No event is due by the time it was given.
    NoneDue,
    /// The stall watch called a stall.
    Stalled,
    /// The workload finished (when asked to stop there).
    Finished,
}

impl World {
    /// Runs every event due at or before `until`, then sets the clock to
    /// `until`. Returns the number of events processed.
    pub fn run_until(&mut self, until: SimTime) -> u64 {
        self.advance(until, u64::MAX).events
    }

    /// Runs events due at or before `until`, at most `max_events` of them;
    /// when none due by `until` is left, sets the clock to `until`.
    pub fn advance(&mut self, until: SimTime, max_events: u64) -> Advance {
        let start = self.events;
        let stop = if self.stall.stalled().is_some() {
            Stop::Stalled
        } else {
            self.run_events(until, max_events, false)
        };
        let reached = stop == Stop::NoneDue || self.queue.peek_time().is_none_or(|t| t > until);
        if reached && until != SimTime::MAX {
            self.now = self.now.max(until);
        }
        Advance {
            events: self.events - start,
            reached,
        }
    }

    /// Runs until the workload finishes or `limit` is reached; the clock
    /// stops at the last event processed. Returns true if it finished.
    pub fn run_to_completion(&mut self, limit: SimTime) -> bool {
        if self.workload_finished() || self.stall.stalled().is_some() {
            return true;
        }
        if self.run_events(limit, u64::MAX, true) == Stop::NoneDue {
            self.now = self.now.max(limit);
            return false;
        }
        true
    }

    /// Processes the next event; false if the queue is empty.
    pub fn step(&mut self) -> bool {
        self.run_events(SimTime::MAX, 1, false) != Stop::NoneDue
    }

    /// Runs events due at or before `until`, at most `budget` of them,
    /// until the stall watch calls a stall, and, with `until_finished`,
    /// until the workload has finished.
    fn run_events(&mut self, until: SimTime, budget: u64, until_finished: bool) -> Stop {
        let end = self.events.saturating_add(budget);
        while self.events < end {
            let Some((t, ev)) = self.queue.pop_until(until) else {
                return Stop::NoneDue;
            };
            self.now = t;
            self.events += 1;
            let stalled = self.events & (stall::CHECK_EVERY - 1) == 0 && self.stall.look(t);
            self.handle(t, ev);
            if stalled {
                return Stop::Stalled;
            }
            if until_finished && self.workload_finished() {
                return Stop::Finished;
            }
        }
        Stop::Budget
    }

    /// Handles event `ev`, due now (at `t`).
    #[inline(always)]
    fn handle(&mut self, t: SimTime, ev: Event) {
        if self.clients.len() >= super::PREFETCH_FROM_CLIENTS {
            self.prefetch_ahead();
        }
        // Whether the event may have changed the conn table. A client's or
        // a server's own step reaches the balancer only through a link, as
        // a later event, so noting the table's gauges after those (most
        // events) would only find them where they were.
        let table_touched = match ev {
            Event::Deliver { to, ref packet } => self.deliver(to, packet),
            Event::ClientTimer { client, timer } => {
                self.on_client_timer(client, timer);
                false
            }
            Event::ServiceDone { server, epoch, job } => {
                self.on_service_done(server, epoch, job);
                false
            }
            Event::ServerSweep { server } => {
                self.servers[server as usize].sweep(t);
                self.note_server(server);
                if !self.lb.backends[server as usize].removed {
                    self.queue
                        .push(t + SERVER_SWEEP_INTERVAL, Event::ServerSweep { server });
                }
                false
            }
            Event::ConnIdle { slot, generation } => {
                if let IdleCheck::Recheck(due) = self.lb.on_idle_timer(slot, generation, t) {
                    self.queue.push(due, Event::ConnIdle { slot, generation });
                }
                true
            }
            Event::ProbeSend { server } => {
                self.send_probe(server);
                true
            }
            Event::ProbeTimeout { server, id } => {
                self.on_probe_timeout(server, id);
                true
            }
            Event::FloodTick { flood } => {
                self.on_flood_tick(flood);
                true
            }
            Event::OpenArrival { epoch } => {
                self.on_open_arrival(epoch);
                true
            }
            Event::SecondTick => {
                self.on_second();
                true
            }
            Event::Command { index } => {
                if let Some((cmd, origin)) = self
                    .scheduled
                    .get_mut(index as usize)
                    .and_then(Option::take)
                {
                    self.apply_from(cmd, origin);
                }
                true
            }
            Event::ObjectiveOpen { index } => {
                self.open_objective(index);
                true
            }
            Event::ObjectiveClose { index } => {
                self.close_objective(index);
                true
            }
        };
        if self.lb.has_pending() {
            self.balancer_pending();
        } else if !table_touched {
            return;
        }
        self.note_table();
    }
}
