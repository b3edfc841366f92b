//! Source address allow and deny lists, written as CIDR prefixes.
//!
//! Precedence, as in most firewalls' "deny first" mode: a source inside any
//! deny range is refused, even if an allow range also covers it. An empty
//! allow list allows every source not denied; a non-empty one allows only
//! sources inside one of its ranges.

use crate::model::{Cidr, Ip};
use crate::spec::FilterSpec;
use std::fmt;

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
        let after = self.disjoint.partition_point(|c| c.network().0 <= ip.0);
        let candidate = *self.disjoint.get(after.checked_sub(1)?)?;
        candidate.contains(ip).then_some(candidate)
    }
}

/// Source allow and deny lists, indexed for lookups. Deny beats allow; an
/// empty allow list allows every source not denied. See the module docs for
/// the full rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IpFilter {
    lists: FilterSpec,
    allow_index: PrefixIndex,
    deny_index: PrefixIndex,
}

impl From<&FilterSpec> for IpFilter {
    fn from(lists: &FilterSpec) -> IpFilter {
        IpFilter::new(lists.allow.clone(), lists.deny.clone())
    }
}

impl IpFilter {
    /// A filter from its allow and deny lists, kept as given for display and
    /// indexed for lookups.
    pub fn new(allow: Vec<Cidr>, deny: Vec<Cidr>) -> IpFilter {
        IpFilter {
            allow_index: PrefixIndex::new(&allow),
            deny_index: PrefixIndex::new(&deny),
            lists: FilterSpec { allow, deny },
        }
    }

    /// The lists as given.
    pub fn lists(&self) -> &FilterSpec {
        &self.lists
    }

    /// The allow list as given.
    pub fn allow(&self) -> &[Cidr] {
        &self.lists.allow
    }

    /// The deny list as given.
    pub fn deny(&self) -> &[Cidr] {
        &self.lists.deny
    }

    /// Whether `ip` may connect: O(log n) in the number of prefixes.
    #[inline]
    pub fn verdict(&self, ip: Ip) -> FilterVerdict {
        if let Some(range) = self.deny_index.find(ip) {
            return FilterVerdict::Denied(DenyReason::DenyListed(range));
        }
        if self.lists.allow.is_empty() || self.allow_index.find(ip).is_some() {
            FilterVerdict::Allowed
        } else {
            FilterVerdict::Denied(DenyReason::NotAllowListed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::cidr_test_support::{cidr, ip, naive_contains};
    use proptest::prelude::*;

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
