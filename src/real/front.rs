//! The balancer in front of a lab's real servers: `lblab proxy` for
//! `--real`, or a production daemon for `lblab conform`. The real-socket
//! engine asks it only for what any balancer can answer.

use crate::engine::{Engine, LogKind, ServerRow, Snapshot};
use crate::model::SimTime;
use crate::proxy::engine::ProxyEngine;
use crate::spec::{Command, Origin};
use std::net::SocketAddr;

/// A balancer the rig's clients connect to.
pub trait Front: Send {
    /// Where clients connect.
    fn local_addr(&self) -> SocketAddr;
    /// Waits a little toward `until` (a few milliseconds at most) and
    /// takes in what changed.
    fn advance(&mut self, until: SimTime);
    /// The balancer now; the engine puts in what the rig measured.
    fn snapshot(&self) -> Snapshot;
    /// A row per backend, in the lab's order.
    fn server_rows(&self) -> Vec<ServerRow>;
    /// Applies a command about the balancer; one it cannot carry out is
    /// said in the log.
    fn apply(&mut self, command: Command, origin: Origin);
    /// Adds a line to the event log.
    fn note_now(&mut self, kind: LogKind, text: String);
    /// Client connections it accepted.
    fn events_processed(&self) -> u64;
    /// Its rows count the connections it assigned; false when only the
    /// servers can say (a daemon), which the engine then asks.
    fn counts_picks(&self) -> bool {
        true
    }
    /// Its name in reports.
    fn name(&self) -> String {
        "lblab proxy".into()
    }
}

impl Front for ProxyEngine {
    fn local_addr(&self) -> SocketAddr {
        ProxyEngine::local_addr(self)
    }
    fn advance(&mut self, until: SimTime) {
        Engine::advance(self, until, u64::MAX);
    }
    fn snapshot(&self) -> Snapshot {
        Engine::snapshot(self)
    }
    fn server_rows(&self) -> Vec<ServerRow> {
        Engine::server_rows(self)
    }
    fn apply(&mut self, command: Command, origin: Origin) {
        Engine::apply(self, command, origin);
    }
    fn note_now(&mut self, kind: LogKind, text: String) {
        ProxyEngine::note_now(self, kind, text);
    }
    fn events_processed(&self) -> u64 {
        Engine::events_processed(self)
    }
}
