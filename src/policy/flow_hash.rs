//! The hash a hashing algorithm (source hash, ring hash, Maglev) maps onto
//! a backend.
//!
//! Only the flow's source address is hashed, as IPVS's `sh` and `mh`
//! schedulers hash the client address: every connection a client opens,
//! from whatever source port, reaches the same backend, which is the
//! stickiness these algorithms are chosen for, and the share of clients a
//! change of backends moves elsewhere (see `disruption`) is the lesson they
//! teach. Hashing the ports as well would spread one client's connections
//! over the pool and leave nothing to keep.
//!
//! The hash is fixed (no per-process random key, unlike std's
//! `RandomState`), so a lab maps the same clients the same way on every
//! machine and every run.

use crate::model::{FourTuple, Ip};

/// The hash of `flow`: its source address's, through `of_ip`.
#[inline]
pub fn of(flow: &FourTuple) -> u64 {
    of_ip(flow.src.ip)
}

/// A well-mixed 64-bit hash of a client address: every bit of the address
/// moves about half the bits of the result, so consecutive addresses (as
/// the simulation hands them out) land far apart on a ring and in a table,
/// and both the low bits (read by a modulo) and the high bits (read by a
/// multiply-shift or a ring position) are usable.
#[inline]
pub fn of_ip(ip: Ip) -> u64 {
    mix(u64::from(ip.0) ^ ADDRESS_SALT)
}

/// Keeps the address hashes apart from the backends' ring positions and
/// Maglev offsets, which mix small indices through the same function.
const ADDRESS_SALT: u64 = 0x6c62_6c61_625f_6970; // "lblab_ip"

/// splitmix64's output function (Steele, Lea and Flood, 2014): a bijection
/// on 64-bit words with full avalanche, used wherever policy needs a strong,
/// fixed hash of a small integer.
#[inline]
pub(crate) const fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Endpoint;

    fn tcp(src: Ip, sport: u16, dst: Ip, dport: u16) -> FourTuple {
        FourTuple::tcp(Endpoint::new(src, sport), Endpoint::new(dst, dport))
    }

    #[test]
    fn only_the_source_address_counts() {
        let a = Ip::new(10, 0, 0, 7);
        let h = of(&tcp(a, 40000, Ip::new(192, 0, 2, 1), 80));
        assert_eq!(h, of(&tcp(a, 51234, Ip::new(192, 0, 2, 9), 443)));
        assert_eq!(h, of_ip(a));
        assert_ne!(h, of(&tcp(a.offset(1), 40000, Ip::new(192, 0, 2, 1), 80)));
    }

    #[test]
    fn the_hash_is_fixed_across_runs_and_machines() {
        // A change here remaps every client of every saved lab.
        assert_eq!(mix(0), 0xe220_a839_7b1d_cdaf);
        assert_eq!(of_ip(Ip::new(10, 0, 0, 1)), of_ip(Ip::new(10, 0, 0, 1)));
        assert_eq!(of_ip(Ip::new(10, 0, 0, 1)), mix(0x0a00_0001 ^ ADDRESS_SALT));
    }

    #[test]
    fn consecutive_addresses_spread_over_high_and_low_bits() {
        // 4096 consecutive clients into 64 buckets by the top bits and by
        // the low bits: each bucket should get 64 ± a few standard
        // deviations (8); an identity or weak hash puts them all in one.
        let mut high = [0u32; 64];
        let mut low = [0u32; 64];
        let base = Ip::new(10, 0, 0, 1);
        for i in 0..4096 {
            let h = of_ip(base.offset(i));
            high[(h >> 58) as usize] += 1;
            low[(h & 63) as usize] += 1;
        }
        for (name, buckets) in [("high", high), ("low", low)] {
            let (min, max) = (buckets.iter().min(), buckets.iter().max());
            assert!(
                buckets.iter().all(|&n| (32..=96).contains(&n)),
                "{name} bits: min {min:?} max {max:?}"
            );
        }
    }

    #[test]
    fn one_flipped_address_bit_flips_about_half_the_hash() {
        let base = Ip::new(10, 1, 2, 3);
        let mut total = 0;
        for bit in 0..32 {
            let flipped = Ip(base.0 ^ (1 << bit));
            let d = (of_ip(base) ^ of_ip(flipped)).count_ones();
            assert!((16..=48).contains(&d), "bit {bit}: {d} bits differ");
            total += d;
        }
        let mean = f64::from(total) / 32.0;
        assert!((28.0..=36.0).contains(&mean), "mean {mean}");
    }
}
