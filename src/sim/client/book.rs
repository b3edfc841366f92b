//! How many clients are in each TCP state, kept as they move, so a
//! Snapshot costs nothing per client.

use super::TcpState;

/// Counts of running clients by TCP state (attack connections excluded).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientStates {
    counts: [u64; 4],
}

impl ClientStates {
    /// Clients in `state`.
    pub fn get(&self, state: TcpState) -> u64 {
        self.counts[state as usize]
    }

    /// A client moved from one state to another.
    #[inline]
    pub fn moved(&mut self, from: TcpState, to: TcpState) {
        self.counts[from as usize] -= 1;
        self.counts[to as usize] += 1;
    }

    /// A client started running, in `state`.
    pub fn enter(&mut self, state: TcpState) {
        self.counts[state as usize] += 1;
    }

    /// A client stopped running, in `state`.
    pub fn leave(&mut self, state: TcpState) {
        self.counts[state as usize] -= 1;
    }
}
