//! The simulated TCP segment.

use super::{Flags, FourTuple};
use serde::{Deserialize, Serialize};
use std::fmt;

/// One simulated TCP segment on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Packet {
    /// The flow, in the direction this packet travels.
    pub key: FourTuple,
    /// Control bits.
    pub flags: Flags,
    /// Sequence number of the first byte (or of the SYN/FIN).
    pub seq: u32,
    /// Next sequence number the sender expects, when ACK is set.
    pub ack: u32,
    /// Payload length in bytes.
    pub len: u32,
}

/// Bytes of TCP and IP header counted on top of the payload, so byte counters
/// show what a link really carries.
pub const HEADER_BYTES: u32 = 40;

impl Packet {
    /// A packet with no payload.
    pub const fn control(key: FourTuple, flags: Flags, seq: u32, ack: u32) -> Packet {
        Packet {
            key,
            flags,
            seq,
            ack,
            len: 0,
        }
    }

    /// Bytes this packet occupies on the wire (payload plus headers).
    pub const fn wire_bytes(&self) -> u64 {
        (self.len + HEADER_BYTES) as u64
    }

    /// Sequence space the segment consumes: its payload, plus one each for
    /// SYN and FIN (RFC 9293 section 3.4).
    pub const fn seq_len(&self) -> u32 {
        let mut n = self.len;
        if self.flags.contains(Flags::SYN) {
            n += 1;
        }
        if self.flags.contains(Flags::FIN) {
            n += 1;
        }
        n
    }
}

impl fmt::Display for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{}] seq={} ack={} len={}",
            self.key, self.flags, self.seq, self.ack, self.len
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Ip};

    fn key() -> FourTuple {
        FourTuple::tcp(
            Endpoint::new(Ip::new(10, 0, 0, 1), 40000),
            Endpoint::new(Ip::new(192, 0, 2, 1), 80),
        )
    }

    #[test]
    fn syn_and_fin_consume_one_sequence_number() {
        assert_eq!(Packet::control(key(), Flags::SYN, 7, 0).seq_len(), 1);
        assert_eq!(
            Packet::control(key(), Flags::FIN | Flags::ACK, 7, 0).seq_len(),
            1
        );
        assert_eq!(Packet::control(key(), Flags::ACK, 7, 0).seq_len(), 0);
        let data = Packet {
            len: 1024,
            ..Packet::control(key(), Flags::PSH | Flags::ACK, 1, 1)
        };
        assert_eq!(data.seq_len(), 1024);
        assert_eq!(data.wire_bytes(), 1064);
    }

    #[test]
    fn packet_stays_small() {
        // Packets ride inside queued events; their size is the queue's speed.
        assert!(std::mem::size_of::<Packet>() <= 32);
    }
}
