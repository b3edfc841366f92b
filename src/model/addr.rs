//! IPv4 addresses, endpoints and the 4-tuple that keys a connection.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An IPv4 address held as its 32-bit value, so it hashes and compares fast.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Ip(pub u32);

impl Ip {
    /// Builds an address from its four dotted octets.
    pub const fn new(a: u8, b: u8, c: u8, d: u8) -> Ip {
        Ip(u32::from_be_bytes([a, b, c, d]))
    }

    /// The address `offset` places after this one (wrapping), used to hand
    /// out consecutive client and server addresses.
    pub const fn offset(self, offset: u32) -> Ip {
        Ip(self.0.wrapping_add(offset))
    }
}

impl fmt::Display for Ip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0.to_be_bytes();
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

/// An address and port: one end of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Endpoint {
    /// The host address.
    pub ip: Ip,
    /// The TCP port.
    pub port: u16,
}

impl Endpoint {
    /// An endpoint from an address and a port.
    pub const fn new(ip: Ip, port: u16) -> Endpoint {
        Endpoint { ip, port }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.ip, self.port)
    }
}

/// The transport protocol of a flow. Only TCP is simulated today; the field
/// exists so the 4-tuple keeps the shape the field uses (IPVS keys on it too).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub enum Protocol {
    /// Transmission Control Protocol.
    #[default]
    Tcp,
}

/// Source endpoint, destination endpoint and protocol: the key of a flow as
/// seen on the wire, in the direction the packet travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FourTuple {
    /// Where the packet comes from.
    pub src: Endpoint,
    /// Where the packet goes.
    pub dst: Endpoint,
    /// The transport protocol.
    pub proto: Protocol,
}

impl FourTuple {
    /// A TCP flow from `src` to `dst`.
    pub const fn tcp(src: Endpoint, dst: Endpoint) -> FourTuple {
        FourTuple {
            src,
            dst,
            proto: Protocol::Tcp,
        }
    }

    /// The same flow seen from the other end: source and destination swapped.
    pub const fn reversed(self) -> FourTuple {
        FourTuple {
            src: self.dst,
            dst: self.src,
            proto: self.proto,
        }
    }
}

impl fmt::Display for FourTuple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {}", self.src, self.dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_displays_dotted_quad() {
        assert_eq!(Ip::new(10, 0, 1, 254).to_string(), "10.0.1.254");
        assert_eq!(Ip::new(10, 0, 0, 255).offset(1).to_string(), "10.0.1.0");
    }

    #[test]
    fn tuple_reverses_both_ends() {
        let a = Endpoint::new(Ip::new(10, 0, 0, 1), 40000);
        let b = Endpoint::new(Ip::new(192, 0, 2, 1), 80);
        let t = FourTuple::tcp(a, b);
        assert_eq!(t.reversed().src, b);
        assert_eq!(t.reversed().reversed(), t);
        assert_eq!(t.to_string(), "10.0.0.1:40000 -> 192.0.2.1:80");
    }

    #[test]
    fn tuple_is_sixteen_bytes() {
        // The conn table stores one per entry; keeping it small keeps the
        // per-connection memory budget.
        assert!(std::mem::size_of::<FourTuple>() <= 16);
    }
}
