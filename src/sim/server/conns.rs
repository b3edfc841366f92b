//! A server's connections: found by 4-tuple once per packet, then by slot;
//! work in service carries the slot and its generation, so nothing is
//! looked up twice. Every change of state goes through
//! [`Conns::set_state`], which keeps the counts by state.

use crate::model::{Endpoint, Ip, SimTime};
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

/// One connection: 32 bytes on a 32-byte boundary, so it never spans two
/// cache lines (in a world of a hundred thousand clients each line a
/// segment touches is a miss). It keeps only the client's end: the other
/// end is the server's own address.
#[derive(Clone, Copy, Debug)]
#[repr(align(32))]
pub struct Conn {
    /// The client's address and port.
    client_ip: Ip,
    client_port: u16,
    /// Where it is.
    pub state: ConnState,
    /// [`BUSY`] and [`LIVE`].
    marks: u8,
    /// The client's initial sequence number: a SYN with another one is a new
    /// connection reusing the port.
    pub irs: u32,
    /// Our initial sequence number.
    pub iss: u32,
    /// The next sequence number expected from the client.
    pub rcv_nxt: u32,
    /// Bumped when the slot is freed, so work of an old connection misses.
    pub generation: u32,
    /// Last packet from the client.
    pub last_seen: SimTime,
}

const _: () = assert!(std::mem::size_of::<Conn>() == 32);

/// A segment is queued or in service; its retransmissions are ignored.
const BUSY: u8 = 1;
/// The slot holds a connection (a freed slot keeps its generation).
const LIVE: u8 = 2;

impl Conn {
    /// The client's end of the connection.
    #[inline]
    pub fn client(&self) -> Endpoint {
        Endpoint::new(self.client_ip, self.client_port)
    }

    /// A segment is queued or in service.
    #[inline]
    pub fn busy(&self) -> bool {
        self.marks & BUSY != 0
    }

    /// Marks a segment as queued or in service, or as done.
    #[inline]
    pub fn set_busy(&mut self, busy: bool) {
        self.marks = if busy {
            self.marks | BUSY
        } else {
            self.marks & !BUSY
        };
    }

    #[inline]
    fn live(&self) -> bool {
        self.marks & LIVE != 0
    }
}

/// The connection table.
#[derive(Clone, Debug, Default)]
pub struct Conns {
    /// Slots by the client's end (every connection's other end is the
    /// server).
    index: FxHashMap<Endpoint, u32>,
    slots: Vec<Conn>,
    free: Vec<u32>,
    half_open: u32,
    established: u32,
}

impl Conns {
    /// The slot of the connection from `client`, if the server has it;
    /// `hint`, a slot the caller saw it in before, spares the index when
    /// it still holds.
    #[inline]
    pub fn find(&self, client: &Endpoint, hint: Option<u32>) -> Option<u32> {
        if let Some(slot) = hint
            && let Some(c) = self.slots.get(slot as usize)
            && c.live()
            && c.client_ip == client.ip
            && c.client_port == client.port
        {
            return Some(slot);
        }
        self.index.get(client).copied()
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
            .filter(|c| c.live() && c.generation == generation)
    }

    /// Half-open connections held.
    pub fn half_open(&self) -> u32 {
        self.half_open
    }

    /// Established connections held (including those closing).
    pub fn established(&self) -> u32 {
        self.established
    }

    /// Opens the connection from `client` in SYN-RECEIVED; returns its slot.
    pub fn open(&mut self, client: Endpoint, irs: u32, iss: u32, now: SimTime) -> u32 {
        let conn = Conn {
            client_ip: client.ip,
            client_port: client.port,
            state: ConnState::SynReceived,
            marks: LIVE,
            irs,
            iss,
            rcv_nxt: irs.wrapping_add(1),
            generation: 0,
            last_seen: now,
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
        self.index.insert(client, slot);
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
        if !c.live() {
            return;
        }
        c.marks = 0;
        c.generation = c.generation.wrapping_add(1);
        match c.state {
            ConnState::SynReceived => self.half_open -= 1,
            ConnState::Established | ConnState::LastAck => self.established -= 1,
        }
        let client = c.client();
        self.index.remove(&client);
        self.free.push(slot);
    }

    /// Forgets every connection `expire` picks; returns how many were
    /// half-open and how many established.
    pub fn expire(&mut self, expire: impl Fn(&Conn) -> bool) -> (u32, u32) {
        let (mut half_open, mut established) = (0, 0);
        for slot in 0..self.slots.len() as u32 {
            let c = &self.slots[slot as usize];
            if c.live() && expire(c) {
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
        self.index.capacity() * (std::mem::size_of::<(Endpoint, u32)>() + 1)
            + self.slots.capacity() * std::mem::size_of::<Conn>()
            + self.free.capacity() * 4
    }
}
