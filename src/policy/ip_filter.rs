//! Source address allow and deny lists, written as CIDR prefixes.
//!
//! Precedence, as in most firewalls' "deny first" mode: a source inside any
//! deny range is refused, even if an allow range also covers it. An empty
//! allow list allows every source not denied; a non-empty one allows only
//! sources inside one of its ranges.

use crate::model::Ip;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

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
    pub fn new(network: Ip, len: u8) -> Result<Cidr, String> {
        if len > 32 {
            return Err(format!(
                "{network}/{len}: prefix length {len} is out of range (0 to 32)"
            ));
        }
        let masked = Ip(network.0 & mask(len));
        if masked != network {
            return Err(format!(
                "{network}/{len} has host bits set; did you mean {masked}/{len}?"
            ));
        }
        Ok(Cidr {
            network: network.0,
            len,
        })
    }

    /// Parses `a.b.c.d/len` (len 0 to 32) or a bare `a.b.c.d` (a `/32`).
    /// Octets are decimal without leading zeros, so `010` cannot be misread
    /// as octal.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        if text.is_empty() {
            return Err("empty address; expected a.b.c.d or a.b.c.d/len".into());
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
            return Err(format!(
                "{text} has host bits set; did you mean {masked}/{len}?"
            ));
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

fn four_octets(text: &str) -> String {
    format!("{text}: expected four dotted octets, as in 10.0.0.0/8")
}

fn parse_octet(text: &str, part: &str) -> Result<u8, String> {
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{text}: octet \"{part}\" is not a number from 0 to 255"
        ));
    }
    if part.len() > 1 && part.starts_with('0') {
        return Err(format!(
            "{text}: octet \"{part}\" has a leading zero (octal or decimal?)"
        ));
    }
    // At most three digits fit; longer runs are out of range, not numbers
    // to overflow on.
    match part.parse::<u8>() {
        Ok(n) if part.len() <= 3 => Ok(n),
        _ => Err(format!("{text}: octet {part} is out of range (0 to 255)")),
    }
}

fn parse_len(text: &str, len: &str) -> Result<u8, String> {
    if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{text}: prefix length \"{len}\" is not a number from 0 to 32"
        ));
    }
    match len.parse::<u8>() {
        Ok(n) if n <= 32 => Ok(n),
        _ => Err(format!(
            "{text}: prefix length {len} is out of range (0 to 32)"
        )),
    }
}

impl fmt::Display for Cidr {
    /// `10.0.0.0/8`; a single address still prints its `/32`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network(), self.len)
    }
}

impl FromStr for Cidr {
    type Err = String;
    fn from_str(text: &str) -> Result<Cidr, String> {
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

/// Why the filter refused a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DenyReason {
    /// The source lies in this deny range (the widest one, when deny ranges
    /// nest).
    DenyListed(Cidr),
    /// The allow list is non-empty and no range on it holds the source.
    NotAllowListed,
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DenyReason::DenyListed(range) => write!(f, "in deny range {range}"),
            DenyReason::NotAllowListed => f.write_str("outside every allow range"),
        }
    }
}

/// The filter's answer for one source address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterVerdict {
    /// The source may connect.
    Allowed,
    /// The source is refused, and why.
    Denied(DenyReason),
}

impl FilterVerdict {
    /// True for [`FilterVerdict::Allowed`].
    pub const fn is_allowed(&self) -> bool {
        matches!(self, FilterVerdict::Allowed)
    }
}

/// A list of prefixes made searchable in O(log n).
///
/// Two CIDR prefixes are either disjoint or one holds the other, so once
/// every prefix nested inside another is dropped, the rest are disjoint and
/// sorted by network address. The only one that can hold an address is then
/// the last whose network is at or below it: one binary search and one mask.
/// Overlaps (duplicates, a /24 inside a /8) cost nothing at lookup time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct PrefixIndex {
    disjoint: Vec<Cidr>,
}

impl PrefixIndex {
    fn new(list: &[Cidr]) -> PrefixIndex {
        let mut sorted = list.to_vec();
        // By network, then wider first: a prefix always comes before the
        // prefixes nested inside it.
        sorted.sort_unstable();
        let mut disjoint: Vec<Cidr> = Vec::with_capacity(sorted.len());
        for cidr in sorted {
            match disjoint.last() {
                Some(outer) if outer.contains(cidr.network()) => {}
                _ => disjoint.push(cidr),
            }
        }
        PrefixIndex { disjoint }
    }

    /// The outermost prefix holding `ip`, if any.
    #[inline]
    fn find(&self, ip: Ip) -> Option<Cidr> {
        let after = self.disjoint.partition_point(|c| c.network <= ip.0);
        let candidate = *self.disjoint.get(after.checked_sub(1)?)?;
        candidate.contains(ip).then_some(candidate)
    }
}

/// Source allow and deny lists. Deny beats allow; an empty allow list allows
/// every source not denied. See the module docs for the full rule.
///
/// Serialises as `(allow: [..], deny: [..])`, both lists optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "FilterLists", into = "FilterLists")]
pub struct IpFilter {
    allow: Vec<Cidr>,
    deny: Vec<Cidr>,
    allow_index: PrefixIndex,
    deny_index: PrefixIndex,
}

/// The serialised form of an [`IpFilter`]: just its lists, as written.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilterLists {
    #[serde(default)]
    allow: Vec<Cidr>,
    #[serde(default)]
    deny: Vec<Cidr>,
}

impl From<FilterLists> for IpFilter {
    fn from(lists: FilterLists) -> IpFilter {
        IpFilter::new(lists.allow, lists.deny)
    }
}

impl From<IpFilter> for FilterLists {
    fn from(filter: IpFilter) -> FilterLists {
        FilterLists {
            allow: filter.allow,
            deny: filter.deny,
        }
    }
}

impl IpFilter {
    /// A filter from its allow and deny lists, kept as given for display and
    /// indexed for lookups.
    pub fn new(allow: Vec<Cidr>, deny: Vec<Cidr>) -> IpFilter {
        IpFilter {
            allow_index: PrefixIndex::new(&allow),
            deny_index: PrefixIndex::new(&deny),
            allow,
            deny,
        }
    }

    /// The allow list as given.
    pub fn allow(&self) -> &[Cidr] {
        &self.allow
    }

    /// The deny list as given.
    pub fn deny(&self) -> &[Cidr] {
        &self.deny
    }

    /// Whether `ip` may connect: O(log n) in the number of prefixes.
    #[inline]
    pub fn verdict(&self, ip: Ip) -> FilterVerdict {
        if let Some(range) = self.deny_index.find(ip) {
            return FilterVerdict::Denied(DenyReason::DenyListed(range));
        }
        if self.allow.is_empty() || self.allow_index.find(ip).is_some() {
            FilterVerdict::Allowed
        } else {
            FilterVerdict::Denied(DenyReason::NotAllowListed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cidr(text: &str) -> Cidr {
        Cidr::parse(text).unwrap()
    }

    fn ip(a: u8, b: u8, c: u8, d: u8) -> Ip {
        Ip::new(a, b, c, d)
    }

    /// Prefix membership computed the slow, obvious way.
    fn naive_contains(network: u32, len: u8, ip: u32) -> bool {
        (u64::from(ip ^ network) >> (32 - u32::from(len))) == 0
    }

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
    fn adjacent_halves_cover_the_block_without_overlap() {
        let low = cidr("10.0.0.0/25");
        let high = cidr("10.0.0.128/25");
        for d in 0..=255u8 {
            let a = ip(10, 0, 0, d);
            assert!(low.contains(a) != high.contains(a), "{a}");
        }
        assert!(low.contains(ip(10, 0, 0, 127)));
        assert!(high.contains(ip(10, 0, 0, 128)));
        assert!(!low.contains(ip(9, 255, 255, 255)));
        assert!(!high.contains(ip(10, 0, 1, 0)));
        let both = IpFilter::new(vec![low, high], vec![]);
        assert!(both.verdict(ip(10, 0, 0, 0)).is_allowed());
        assert!(both.verdict(ip(10, 0, 0, 255)).is_allowed());
        assert!(!both.verdict(ip(10, 0, 1, 0)).is_allowed());
        assert!(!both.verdict(ip(9, 255, 255, 255)).is_allowed());
    }

    #[test]
    fn the_ends_of_the_address_space() {
        let top = cidr("255.255.255.255/32");
        let bottom = cidr("0.0.0.0/32");
        assert!(top.contains(Ip(u32::MAX)));
        assert!(!top.contains(Ip(u32::MAX - 1)));
        assert!(bottom.contains(Ip(0)));
        assert!(!bottom.contains(Ip(1)));
        let f = IpFilter::new(vec![], vec![top, bottom]);
        assert!(!f.verdict(Ip(u32::MAX)).is_allowed());
        assert!(!f.verdict(Ip(0)).is_allowed());
        assert!(f.verdict(Ip(1)).is_allowed());
        assert!(f.verdict(Ip(u32::MAX - 1)).is_allowed());
    }

    #[test]
    fn deny_beats_allow() {
        let f = IpFilter::new(vec![cidr("10.0.0.0/8")], vec![cidr("10.66.0.0/16")]);
        assert_eq!(f.verdict(ip(10, 1, 2, 3)), FilterVerdict::Allowed);
        assert_eq!(
            f.verdict(ip(10, 66, 0, 1)),
            FilterVerdict::Denied(DenyReason::DenyListed(cidr("10.66.0.0/16")))
        );
        assert_eq!(
            f.verdict(ip(11, 0, 0, 1)),
            FilterVerdict::Denied(DenyReason::NotAllowListed)
        );
        // Even an exact allow of the same address loses to the deny.
        let f = IpFilter::new(vec![cidr("10.0.0.1")], vec![cidr("10.0.0.1")]);
        assert!(!f.verdict(ip(10, 0, 0, 1)).is_allowed());
    }

    #[test]
    fn an_empty_allow_list_allows_all_but_the_denied() {
        assert!(IpFilter::default().verdict(ip(203, 0, 113, 9)).is_allowed());
        let f = IpFilter::new(vec![], vec![cidr("203.0.113.0/24")]);
        assert!(f.verdict(ip(198, 51, 100, 1)).is_allowed());
        assert_eq!(
            f.verdict(ip(203, 0, 113, 9)),
            FilterVerdict::Denied(DenyReason::DenyListed(cidr("203.0.113.0/24")))
        );
    }

    #[test]
    fn nested_deny_ranges_name_the_widest() {
        let f = IpFilter::new(
            vec![],
            vec![
                cidr("10.1.2.0/24"),
                cidr("10.0.0.0/8"),
                cidr("10.1.0.0/16"),
                cidr("10.0.0.0/8"),
            ],
        );
        assert_eq!(
            f.verdict(ip(10, 1, 2, 3)),
            FilterVerdict::Denied(DenyReason::DenyListed(cidr("10.0.0.0/8")))
        );
        assert_eq!(f.deny().len(), 4, "the lists stay as written");
    }

    #[test]
    fn parse_errors_say_what_is_wrong() {
        let err = |text: &str| Cidr::parse(text).unwrap_err();
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
            Cidr::new(ip(10, 0, 0, 0), 40).unwrap_err(),
            "10.0.0.0/40: prefix length 40 is out of range (0 to 32)"
        );
        assert_eq!(
            Cidr::new(ip(192, 168, 1, 1), 16).unwrap_err(),
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
    fn cidrs_and_filters_round_trip_through_ron() {
        let c: Cidr = ron::from_str("\"10.0.0.0/8\"").unwrap();
        assert_eq!(c, cidr("10.0.0.0/8"));
        assert_eq!(ron::to_string(&c).unwrap(), "\"10.0.0.0/8\"");

        let f = IpFilter::new(
            vec![cidr("10.0.0.0/8"), cidr("192.0.2.7")],
            vec![cidr("10.66.0.0/16")],
        );
        let text = ron::to_string(&f).unwrap();
        assert_eq!(
            text,
            "(allow:[\"10.0.0.0/8\",\"192.0.2.7/32\"],deny:[\"10.66.0.0/16\"])"
        );
        let back: IpFilter = ron::from_str(&text).unwrap();
        assert_eq!(back, f);
        assert!(!back.verdict(ip(10, 66, 1, 1)).is_allowed());

        let deny_only: IpFilter = ron::from_str("(deny: [\"203.0.113.0/24\"])").unwrap();
        assert!(deny_only.allow().is_empty());

        let bad = ron::from_str::<IpFilter>("(allow: [\"10.0.0.1/8\"])").unwrap_err();
        assert!(
            bad.to_string()
                .contains("10.0.0.1/8 has host bits set; did you mean 10.0.0.0/8?"),
            "{bad}"
        );
    }

    /// Random prefixes with lengths spread over 0..=32.
    fn prefix() -> impl Strategy<Value = Cidr> {
        (any::<u32>(), 0u8..=32).prop_map(|(addr, len)| {
            let network = if len == 0 {
                0
            } else {
                addr >> (32 - len) << (32 - len)
            };
            Cidr::new(Ip(network), len).unwrap()
        })
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

        #[test]
        fn verdict_agrees_with_a_scan_of_the_lists(
            allow in prop::collection::vec(prefix(), 0..20),
            deny in prop::collection::vec(prefix(), 0..20),
            probes in prop::collection::vec(any::<u32>(), 1..50),
        ) {
            let f = IpFilter::new(allow.clone(), deny.clone());
            // Probe the edges of every range too, where off-by-ones live.
            let edges = allow.iter().chain(&deny).flat_map(|c| {
                [c.network().0, c.last().0, c.network().0.wrapping_sub(1), c.last().0.wrapping_add(1)]
            });
            for x in probes.into_iter().chain(edges) {
                let ip = Ip(x);
                let denied = deny.iter().any(|c| naive_contains(c.network().0, c.prefix_len(), x));
                let allowed = allow.is_empty()
                    || allow.iter().any(|c| naive_contains(c.network().0, c.prefix_len(), x));
                let verdict = f.verdict(ip);
                prop_assert_eq!(verdict.is_allowed(), !denied && allowed, "{}", ip);
                if let FilterVerdict::Denied(DenyReason::DenyListed(range)) = verdict {
                    prop_assert!(deny.contains(&range) && range.contains(ip));
                }
            }
        }
    }
}
