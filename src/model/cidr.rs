//! IPv4 prefixes written in CIDR notation, such as `10.0.0.0/8`.

use super::Ip;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Why a text is not a CIDR prefix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    /// Nothing was written.
    #[error("empty address; expected a.b.c.d or a.b.c.d/len")]
    Empty,
    /// Not four dotted parts.
    #[error("{text}: expected four dotted octets, as in 10.0.0.0/8")]
    NotFourOctets {
        /// The text as written.
        text: String,
    },
    /// An octet that is not a decimal number.
    #[error("{text}: octet \"{octet}\" is not a number from 0 to 255")]
    OctetNotANumber {
        /// The text as written.
        text: String,
        /// The offending octet.
        octet: String,
    },
    /// An octet with a leading zero, which some tools read as octal.
    #[error("{text}: octet \"{octet}\" has a leading zero (octal or decimal?)")]
    LeadingZero {
        /// The text as written.
        text: String,
        /// The offending octet.
        octet: String,
    },
    /// An octet above 255.
    #[error("{text}: octet {octet} is out of range (0 to 255)")]
    OctetOutOfRange {
        /// The text as written.
        text: String,
        /// The offending octet.
        octet: String,
    },
    /// A prefix length that is not a decimal number.
    #[error("{text}: prefix length \"{len}\" is not a number from 0 to 32")]
    LenNotANumber {
        /// The text as written.
        text: String,
        /// The length as written.
        len: String,
    },
    /// A prefix length above 32.
    #[error("{text}: prefix length {len} is out of range (0 to 32)")]
    LenOutOfRange {
        /// The text as written.
        text: String,
        /// The length as written.
        len: String,
    },
    /// Bits set beyond the prefix.
    #[error("{text} has host bits set; did you mean {masked}/{len}?")]
    HostBits {
        /// The text as written.
        text: String,
        /// The network with the host bits cleared.
        masked: Ip,
        /// The prefix length.
        len: u8,
    },
}

/// An IPv4 prefix such as `10.0.0.0/8`: the addresses whose first `len` bits
/// equal the network's. Host bits beyond the prefix are always zero.
///
/// Serialises as its text form, so a lab writes `"10.0.0.0/8"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    // Field order matters: the derived ordering sorts by network, then wider
    // prefixes first, which is the order the filter's index is built in.
    network: u32,
    len: u8,
}

/// The netmask of a `len`-bit prefix (`len` in 0..=32).
#[inline]
const fn mask(len: u8) -> u32 {
    // A shift by 32 is out of range for u32: /0 masks nothing.
    match u32::MAX.checked_shl(32 - len as u32) {
        Some(m) => m,
        None => 0,
    }
}

impl Cidr {
    /// Every IPv4 address: `0.0.0.0/0`.
    pub const ANY: Cidr = Cidr { network: 0, len: 0 };

    /// The single address `ip`, as a `/32`.
    pub const fn host(ip: Ip) -> Cidr {
        Cidr {
            network: ip.0,
            len: 32,
        }
    }

    /// The prefix `network/len`; refuses a length over 32 and a network with
    /// host bits set.
    pub fn new(network: Ip, len: u8) -> Result<Cidr, CidrError> {
        let text = || format!("{network}/{len}");
        if len > 32 {
            return Err(CidrError::LenOutOfRange {
                text: text(),
                len: len.to_string(),
            });
        }
        let masked = Ip(network.0 & mask(len));
        if masked != network {
            return Err(CidrError::HostBits {
                text: text(),
                masked,
                len,
            });
        }
        Ok(Cidr {
            network: network.0,
            len,
        })
    }

    /// Parses `a.b.c.d/len` (len 0 to 32) or a bare `a.b.c.d` (a `/32`).
    /// Octets are decimal without leading zeros, so `010` cannot be misread
    /// as octal.
    pub fn parse(text: &str) -> Result<Cidr, CidrError> {
        if text.is_empty() {
            return Err(CidrError::Empty);
        }
        let (addr, len) = match text.split_once('/') {
            Some((addr, len)) => (addr, Some(len)),
            None => (text, None),
        };
        let mut octets = [0u8; 4];
        let mut parts = addr.split('.');
        for octet in octets.iter_mut() {
            let part = parts.next().ok_or_else(|| four_octets(text))?;
            *octet = parse_octet(text, part)?;
        }
        if parts.next().is_some() {
            return Err(four_octets(text));
        }
        let len = match len {
            None => 32,
            Some(len) => parse_len(text, len)?,
        };
        let network = Ip(u32::from_be_bytes(octets));
        let masked = Ip(network.0 & mask(len));
        if masked != network {
            return Err(CidrError::HostBits {
                text: text.to_string(),
                masked,
                len,
            });
        }
        Ok(Cidr {
            network: network.0,
            len,
        })
    }

    /// The first address of the prefix.
    pub const fn network(&self) -> Ip {
        Ip(self.network)
    }

    /// How many leading bits are fixed (0 to 32).
    pub const fn prefix_len(&self) -> u8 {
        self.len
    }

    /// The last address of the prefix.
    pub const fn last(&self) -> Ip {
        Ip(self.network | !mask(self.len))
    }

    /// True when `ip` lies inside the prefix.
    #[inline]
    pub const fn contains(&self, ip: Ip) -> bool {
        ip.0 & mask(self.len) == self.network
    }
}

fn four_octets(text: &str) -> CidrError {
    CidrError::NotFourOctets {
        text: text.to_string(),
    }
}

fn parse_octet(text: &str, part: &str) -> Result<u8, CidrError> {
    let (text, octet) = (text.to_string(), part.to_string());
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CidrError::OctetNotANumber { text, octet });
    }
    if part.len() > 1 && part.starts_with('0') {
        return Err(CidrError::LeadingZero { text, octet });
    }
    // At most three digits fit; longer runs are out of range, not numbers
    // to overflow on.
    match part.parse::<u8>() {
        Ok(n) if part.len() <= 3 => Ok(n),
        _ => Err(CidrError::OctetOutOfRange { text, octet }),
    }
}

fn parse_len(text: &str, len: &str) -> Result<u8, CidrError> {
    let (text, len_text) = (text.to_string(), len.to_string());
    if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CidrError::LenNotANumber {
            text,
            len: len_text,
        });
    }
    match len.parse::<u8>() {
        Ok(n) if n <= 32 => Ok(n),
        _ => Err(CidrError::LenOutOfRange {
            text,
            len: len_text,
        }),
    }
}

impl fmt::Display for Cidr {
    /// `10.0.0.0/8`; a single address still prints its `/32`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network(), self.len)
    }
}

impl FromStr for Cidr {
    type Err = CidrError;
    fn from_str(text: &str) -> Result<Cidr, CidrError> {
        Cidr::parse(text)
    }
}

impl Serialize for Cidr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Cidr, D::Error> {
        let text = String::deserialize(d)?;
        Cidr::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Helpers for the tests of prefixes and of what is built on them.
#[cfg(test)]
pub(crate) mod test_support {
    use super::{Cidr, Ip};

    /// A prefix written in a test, known to be valid.
    pub fn cidr(text: &str) -> Cidr {
        Cidr::parse(text).unwrap()
    }

    /// An address from its four octets.
    pub fn ip(a: u8, b: u8, c: u8, d: u8) -> Ip {
        Ip::new(a, b, c, d)
    }

    /// Prefix membership computed the slow, obvious way.
    pub fn naive_contains(network: u32, len: u8, ip: u32) -> bool {
        (u64::from(ip ^ network) >> (32 - u32::from(len))) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{cidr, ip, naive_contains};
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn slash_zero_matches_everything() {
        let any = cidr("0.0.0.0/0");
        assert_eq!(any, Cidr::ANY);
        for x in [0, 1, 0x7fff_ffff, 0x8000_0000, u32::MAX] {
            assert!(any.contains(Ip(x)), "{}", Ip(x));
        }
        assert_eq!(any.last(), ip(255, 255, 255, 255));
    }

    #[test]
    fn slash_32_matches_exactly_one_address() {
        let one = cidr("192.0.2.7/32");
        assert_eq!(cidr("192.0.2.7"), one, "bare address is a /32");
        assert_eq!(Cidr::host(ip(192, 0, 2, 7)), one);
        assert!(one.contains(ip(192, 0, 2, 7)));
        assert!(!one.contains(ip(192, 0, 2, 6)));
        assert!(!one.contains(ip(192, 0, 2, 8)));
        assert_eq!(one.last(), one.network());
    }

    #[test]
    fn parse_errors_say_what_is_wrong() {
        let err = |text: &str| Cidr::parse(text).unwrap_err().to_string();
        assert_eq!(
            err("10.0.0.1/8"),
            "10.0.0.1/8 has host bits set; did you mean 10.0.0.0/8?"
        );
        assert_eq!(
            err("10.0.0.256/24"),
            "10.0.0.256/24: octet 256 is out of range (0 to 255)"
        );
        assert_eq!(
            err("1000.0.0.0"),
            "1000.0.0.0: octet 1000 is out of range (0 to 255)"
        );
        assert_eq!(
            err("10.0.0.0/33"),
            "10.0.0.0/33: prefix length 33 is out of range (0 to 32)"
        );
        assert_eq!(
            err("10.0.0.0/999"),
            "10.0.0.0/999: prefix length 999 is out of range (0 to 32)"
        );
        assert_eq!(
            err("10.0.0.0/"),
            "10.0.0.0/: prefix length \"\" is not a number from 0 to 32"
        );
        assert_eq!(
            err("10.0.0.0/8/9"),
            "10.0.0.0/8/9: prefix length \"8/9\" is not a number from 0 to 32"
        );
        assert_eq!(
            err("10.0.0"),
            "10.0.0: expected four dotted octets, as in 10.0.0.0/8"
        );
        assert_eq!(
            err("10.0.0.0.0"),
            "10.0.0.0.0: expected four dotted octets, as in 10.0.0.0/8"
        );
        assert_eq!(
            err("10.x.0.0"),
            "10.x.0.0: octet \"x\" is not a number from 0 to 255"
        );
        assert_eq!(
            err("10..0.0"),
            "10..0.0: octet \"\" is not a number from 0 to 255"
        );
        assert_eq!(
            err("-1.0.0.0"),
            "-1.0.0.0: octet \"-1\" is not a number from 0 to 255"
        );
        assert_eq!(
            err("010.0.0.0"),
            "010.0.0.0: octet \"010\" has a leading zero (octal or decimal?)"
        );
        assert_eq!(err(""), "empty address; expected a.b.c.d or a.b.c.d/len");
        assert_eq!(
            Cidr::new(ip(10, 0, 0, 0), 40).unwrap_err().to_string(),
            "10.0.0.0/40: prefix length 40 is out of range (0 to 32)"
        );
        assert_eq!(
            Cidr::new(ip(192, 168, 1, 1), 16).unwrap_err().to_string(),
            "192.168.1.1/16 has host bits set; did you mean 192.168.0.0/16?"
        );
    }

    #[test]
    fn display_is_the_parse_form() {
        for text in ["0.0.0.0/0", "10.0.0.0/8", "192.0.2.7/32", "10.0.0.128/25"] {
            assert_eq!(cidr(text).to_string(), text);
        }
        assert_eq!(cidr("192.0.2.7").to_string(), "192.0.2.7/32");
    }

    #[test]
    fn cidrs_round_trip_through_ron() {
        let c: Cidr = ron::from_str("\"10.0.0.0/8\"").unwrap();
        assert_eq!(c, cidr("10.0.0.0/8"));
        assert_eq!(ron::to_string(&c).unwrap(), "\"10.0.0.0/8\"");
        let bad = ron::from_str::<Cidr>("\"10.0.0.1/8\"").unwrap_err();
        assert!(
            bad.to_string()
                .contains("10.0.0.1/8 has host bits set; did you mean 10.0.0.0/8?"),
            "{bad}"
        );
    }

    proptest! {
        #[test]
        fn contains_agrees_with_a_naive_mask(addr in any::<u32>(), len in 0u8..=32, probe in any::<u32>()) {
            let network = (u64::from(addr) >> (32 - u32::from(len)) << (32 - u32::from(len))) as u32;
            let c = Cidr::new(Ip(network), len).unwrap();
            // Probe both a random address and one sharing the prefix.
            for x in [probe, addr, network, c.last().0] {
                prop_assert_eq!(c.contains(Ip(x)), naive_contains(network, len, x), "{} in {}", Ip(x), c);
            }
        }
    }
}
