//! The World's side of the balancer's resilience: SYNs released from the
//! queue are sent, and what the balancer did on its own (ejections, panic,
//! queue timeouts) goes to the log.

use super::World;
use crate::engine::LogKind;
use crate::sim::balancer::{Draw, Note};

impl World {
    /// Sends the SYNs the balancer's queue lets go and logs its notes.
    pub(super) fn balancer_pending(&mut self) {
        let released = self
            .lb
            .release_queued(self.now, &mut Draw(&mut self.streams.balancer));
        self.send_released(released);
        for note in self.lb.take_notes() {
            match &note {
                Note::Ejected { backend, .. } => {
                    self.history[*backend as usize].change(self.now, "ejected");
                }
                Note::EjectionOver { backend } => {
                    self.history[*backend as usize].change(self.now, "back from ejection");
                }
                _ => {}
            }
            let (kind, text) = self.describe_note(note);
            self.log.push(self.now, kind, text);
        }
        self.note_disruption();
    }

    fn describe_note(&self, note: Note) -> (LogKind, String) {
        let name = |b: u32| self.servers[b as usize].name.clone();
        match note {
            Note::Ejected {
                backend,
                until,
                ejections,
            } => (
                LogKind::Health,
                format!(
                    "{} ejected for {} after failures in a row (ejection {ejections})",
                    name(backend),
                    until - self.now
                ),
            ),
            Note::EjectionOver { backend } => (
                LogKind::Health,
                format!("{} back from ejection", name(backend)),
            ),
            Note::PanicStarted { eligible, total } => (
                LogKind::Health,
                format!(
                    "PANIC: {eligible} of {total} backends eligible, below the threshold: \
                     balancing over all {total}"
                ),
            ),
            Note::PanicOver { eligible, total } => (
                LogKind::Health,
                format!("panic over: {eligible} of {total} backends eligible"),
            ),
            Note::QueueTimedOut { total } => (
                LogKind::Drop,
                format!("{total} queued SYN(s) waited out the queue timeout and were forgotten"),
            ),
        }
    }
}
