//! The packet tap: what the World puts on its links, recorded for a pcap
//! file or a ladder diagram. The World only appends plain records to a
//! bounded buffer; whoever drives it drains them and writes files, so the
//! simulation stays free of I/O. Off, a tap costs one branch per packet.

use crate::model::{Ip, Packet, SimDuration, SimTime};
use serde::{Deserialize, Serialize};

/// Which links a tap listens on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TapSides {
    /// Between the clients and the VIP.
    #[default]
    Client,
    /// Between the balancer and the servers, after NAT.
    Backend,
    /// Both of them.
    Both,
}

impl TapSides {
    /// True when packets on `side` are captured.
    pub const fn covers(self, side: Side) -> bool {
        matches!(
            (self, side),
            (TapSides::Both, _)
                | (TapSides::Client, Side::Client)
                | (TapSides::Backend, Side::Backend)
        )
    }
}

/// The link a packet travelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Side {
    /// Client link: clients (and floods) to the VIP and back.
    Client,
    /// A backend link: the balancer (or its health checker) to a server and
    /// back.
    Backend,
}

/// What to capture and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TapSpec {
    /// Which links.
    pub sides: TapSides,
    /// How long from the moment the tap starts.
    pub window: SimDuration,
    /// At most this many packets in all, whatever the window.
    pub max_packets: u64,
}

/// One packet as it was put on a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TapRecord {
    /// When it was sent.
    pub at: SimTime,
    /// The link it was sent on.
    pub side: Side,
    /// It travels toward the balancer (from a client, or from a server),
    /// rather than away from it.
    pub toward_balancer: bool,
    /// The packet, with its addresses as on that link (after NAT on the
    /// backend side).
    pub packet: Packet,
}

/// A running tap: its bounds and the records not yet drained.
#[derive(Clone, Debug)]
pub(crate) struct Tap {
    sides: TapSides,
    until: SimTime,
    left: u64,
    records: Vec<TapRecord>,
}

impl Tap {
    /// A tap started at `now`.
    pub(crate) fn new(spec: TapSpec, now: SimTime) -> Tap {
        Tap {
            sides: spec.sides,
            until: now + spec.window,
            left: spec.max_packets,
            records: Vec::new(),
        }
    }

    /// Records `p` if it falls within the tap's sides and bounds. Kept out
    /// of line so the World's send path stays small when no tap runs.
    #[inline(never)]
    pub(crate) fn offer(&mut self, record: TapRecord) {
        if self.left == 0 || record.at >= self.until || !self.sides.covers(record.side) {
            return;
        }
        self.left -= 1;
        self.records.push(record);
    }

    /// True while packets sent at `now` or later may still be captured.
    pub(crate) fn open(&self, now: SimTime) -> bool {
        self.left > 0 && now < self.until
    }

    /// Moves every record captured so far to the end of `out`.
    pub(crate) fn drain_into(&mut self, out: &mut Vec<TapRecord>) {
        out.append(&mut self.records);
    }
}

/// How many packets of the watched connection the World keeps for the
/// ladder diagram: enough for a handshake, a few dozen segments and the
/// teardown, small enough to copy into every Snapshot.
pub const WATCH_PACKETS: usize = 48;

/// The packets of one client's connections, newest last, bounded.
#[derive(Clone, Debug)]
pub(crate) struct Watch {
    /// The watched client's address.
    pub(crate) ip: Ip,
    /// The newest packets, oldest first.
    pub(crate) recent: std::collections::VecDeque<TapRecord>,
}

impl Watch {
    /// Watches the client at `ip`, with nothing kept yet.
    pub(crate) fn new(ip: Ip) -> Watch {
        Watch {
            ip,
            recent: std::collections::VecDeque::with_capacity(WATCH_PACKETS),
        }
    }

    /// Keeps `p` if the watched client sent it or is its destination
    /// (after NAT the backend side keeps the client's address too).
    #[inline(never)]
    pub(crate) fn offer(&mut self, record: TapRecord) {
        let key = record.packet.key;
        if key.src.ip != self.ip && key.dst.ip != self.ip {
            return;
        }
        if self.recent.len() == WATCH_PACKETS {
            self.recent.pop_front();
        }
        self.recent.push_back(record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Flags, FourTuple};

    fn packet(src: Ip) -> Packet {
        let key = FourTuple::tcp(
            Endpoint::new(src, 40000),
            Endpoint::new(Ip::new(192, 0, 2, 1), 80),
        );
        Packet::control(key, Flags::SYN, 1, 0)
    }

    fn at_ms(ms: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_millis(ms)
    }

    fn record(ms: u64, side: Side, src: Ip) -> TapRecord {
        TapRecord {
            at: at_ms(ms),
            side,
            toward_balancer: true,
            packet: packet(src),
        }
    }

    #[test]
    fn tap_keeps_its_sides_window_and_count() {
        let spec = TapSpec {
            sides: TapSides::Backend,
            window: SimDuration::from_millis(10),
            max_packets: 2,
        };
        let mut tap = Tap::new(spec, at_ms(5));
        let ip = Ip::new(10, 0, 0, 1);
        tap.offer(record(5, Side::Client, ip));
        tap.offer(record(6, Side::Backend, ip));
        tap.offer(record(15, Side::Backend, ip)); // the window is [5, 15) ms
        assert!(tap.open(at_ms(14)));
        assert!(!tap.open(at_ms(15)));
        let mut out = Vec::new();
        tap.drain_into(&mut out);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].at, out[0].side), (at_ms(6), Side::Backend));
        tap.offer(record(7, Side::Backend, ip));
        assert!(!tap.open(at_ms(8)), "two packets were the limit");
        tap.offer(record(8, Side::Backend, ip));
        tap.drain_into(&mut out);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn watch_keeps_the_newest_packets_of_its_client() {
        let ip = Ip::new(10, 0, 0, 7);
        let mut watch = Watch::new(ip);
        watch.offer(record(0, Side::Client, Ip::new(10, 0, 0, 8)));
        for i in 0..(WATCH_PACKETS as u64 + 3) {
            watch.offer(record(i, Side::Client, ip));
        }
        assert_eq!(watch.recent.len(), WATCH_PACKETS);
        assert_eq!(watch.recent[0].at, at_ms(3));
    }
}
