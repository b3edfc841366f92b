//! A server's connections: found by 4-tuple once per packet, then by slot;
//! work in service carries the slot and its generation, so nothing is
//! looked up twice. Every change of state goes through
//! [`Conns::set_state`], which keeps the counts by state.

use crate::model::{FourTuple, SimTime};
use rustc_hash::FxHashMap;
use std::fmt;

/// Per-connection state on the server (RFC 9293 names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnState {
    /// SYN|ACK sent, waiting for the ACK.
    SynReceived,
    /// Handshake done.
    Established,
    /// FIN|ACK sent, waiting for the final ACK.
    LastAck,
}

impl fmt::Display for ConnState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnState::SynReceived => "SYN-RECEIVED",
            ConnState::Established => "ESTABLISHED",
            ConnState::LastAck => "LAST-ACK",
        })
    }
}

/// One connection.
#[derive(Clone, Copy, Debug)]
pub struct Conn {
    /// The connection as the server sees it (client -> server).
    pub key: FourTuple,
    /// Where it is.
    pub state: ConnState,
    /// The client's initial sequence number: a SYN with another one is a new
    /// connection reusing the port.
    pub irs: u32,
    /// Our initial sequence number.
    pub iss: u32,
    /// The next sequence number expected from the client.
    pub rcv_nxt: u32,
    /// A segment is queued or in service; its retransmissions are ignored.
    pub busy: bool,
    /// Last packet from the client.
    pub last_seen: SimTime,
    /// Bumped when the slot is freed, so work of an old connection misses.
    pub generation: u32,
    live: bool,
}

/// The connection table.
#[derive(Clone, Debug, Default)]
pub struct Conns {
    index: FxHashMap<FourTuple, u32>,
    slots: Vec<Conn>,
    free: Vec<u32>,
    half_open: u32,
    established: u32,
}

impl Conns {
    /// The slot of connection `key`, if the server has it; `hint`, a slot
    /// the caller saw it in before, spares the index when it still holds.
    #[inline]
    pub fn find(&self, key: &FourTuple, hint: Option<u32>) -> Option<u32> {
        if let Some(slot) = hint
            && let Some(c) = self.slots.get(slot as usize)
            && c.live
            && c.key == *key
        {
            return Some(slot);
        }
        self.index.get(key).copied()
    }

    /// The connection in `slot` if there is one: for prefetching.
    #[inline]
    pub fn peek(&self, slot: u32) -> Option<&Conn> {
        self.slots.get(slot as usize)
    }

    /// The connection in `slot`.
    #[inline]
    pub fn get(&self, slot: u32) -> &Conn {
        &self.slots[slot as usize]
    }

    /// The connection in `slot`, to change anything but its state.
    #[inline]
    pub fn get_mut(&mut self, slot: u32) -> &mut Conn {
        &mut self.slots[slot as usize]
    }

    /// The connection in `slot` if it is still the one of `generation`.
    #[inline]
    pub fn current(&mut self, slot: u32, generation: u32) -> Option<&mut Conn> {
        self.slots
            .get_mut(slot as usize)
            .filter(|c| c.live && c.generation == generation)
    }

    /// Half-open connections held.
    pub fn half_open(&self) -> u32 {
        self.half_open
    }

    /// Established connections held (including those closing).
    pub fn established(&self) -> u32 {
        self.established
    }

    /// Opens connection `key` in SYN-RECEIVED; returns its slot.
    pub fn open(&mut self, key: FourTuple, irs: u32, iss: u32, now: SimTime) -> u32 {
        let conn = Conn {
            key,
            state: ConnState::SynReceived,
            irs,
            iss,
            rcv_nxt: irs.wrapping_add(1),
            busy: false,
            last_seen: now,
            generation: 0,
            live: true,
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                let generation = self.slots[slot as usize].generation;
                self.slots[slot as usize] = Conn { generation, ..conn };
                slot
            }
            None => {
                self.slots.push(conn);
                (self.slots.len() - 1) as u32
            }
        };
        self.index.insert(key, slot);
        self.half_open += 1;
        tracing::trace!(slot, at = %now, to = %ConnState::SynReceived, "server connection");
        slot
    }

    /// Moves the connection in `slot` to `to`, keeping the counts.
    pub fn set_state(&mut self, slot: u32, now: SimTime, to: ConnState) {
        let c = &mut self.slots[slot as usize];
        let from = c.state;
        c.state = to;
        if from == ConnState::SynReceived && to != ConnState::SynReceived {
            self.half_open -= 1;
            self.established += 1;
        }
        tracing::trace!(slot, at = %now, %from, %to, "server connection");
    }

    /// Forgets the connection in `slot`.
    pub fn forget(&mut self, slot: u32) {
        let c = &mut self.slots[slot as usize];
        if !c.live {
            return;
        }
        c.live = false;
        c.generation = c.generation.wrapping_add(1);
        match c.state {
            ConnState::SynReceived => self.half_open -= 1,
            ConnState::Established | ConnState::LastAck => self.established -= 1,
        }
        let key = c.key;
        self.index.remove(&key);
        self.free.push(slot);
    }

    /// Forgets every connection `expire` picks; returns how many were
    /// half-open and how many established.
    pub fn expire(&mut self, expire: impl Fn(&Conn) -> bool) -> (u32, u32) {
        let (mut half_open, mut established) = (0, 0);
        for slot in 0..self.slots.len() as u32 {
            let c = &self.slots[slot as usize];
            if c.live && expire(c) {
                if c.state == ConnState::SynReceived {
                    half_open += 1;
                } else {
                    established += 1;
                }
                self.forget(slot);
            }
        }
        (half_open, established)
    }

    /// Bytes held, for memory accounting.
    pub fn bytes(&self) -> usize {
        self.index.capacity() * (std::mem::size_of::<(FourTuple, u32)>() + 1)
            + self.slots.capacity() * std::mem::size_of::<Conn>()
            + self.free.capacity() * 4
    }
}
