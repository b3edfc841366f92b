//! SYN cookies: the initial sequence number a SYN proxy answers with when it
//! keeps no state for a SYN. The cookie is a keyed hash of the 4-tuple, the
//! client's ISN, a coarse time counter and a 2-bit MSS index, laid out as in
//! Linux (`net/ipv4/syncookies.c`):
//!
//! ```text
//! cookie = H1(tuple) + isn + (count << 24) + ((H2(tuple, count) + mss) mod 2^24)
//! ```
//!
//! The ACK that completes the handshake carries `cookie + 1`; subtracting
//! H1 and the ISN recovers `count` (the top 8 bits) and, once H2 is
//! subtracted, the MSS index. A cookie older than [`MAX_AGE`] periods is
//! refused. What a cookie cannot carry (window scale, SACK, any option
//! beyond the MSS index) is lost, as in real stacks.

use crate::model::{FourTuple, SimDuration, SimTime};
use siphasher::sip::SipHasher13;

/// Length of one step of the time counter (Linux: 60 s).
pub const PERIOD: SimDuration = SimDuration::from_secs(64);

/// Periods a cookie stays valid after the one it was made in (Linux: 2).
pub const MAX_AGE: u32 = 2;

/// The MSS values a cookie can carry, by index.
pub const MSS_TABLE: [u16; 4] = [536, 1300, 1440, 1460];

/// Bits of the cookie below the counter: the MAC and the MSS index.
const LOW_BITS: u32 = 24;
const LOW_MASK: u32 = (1 << LOW_BITS) - 1;

/// Why an ACK's cookie was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CookieError {
    /// A cookie of this connection, but made more than [`MAX_AGE`] periods
    /// ago (or the counter field is from the future).
    #[error("SYN cookie expired")]
    Expired,
    /// Not a cookie this balancer made for this connection.
    #[error("SYN cookie does not match")]
    Forged,
}

/// Makes and checks cookies with secrets that derive from the World's seed.
#[derive(Clone, Debug)]
pub struct CookieJar {
    h1: SipHasher13,
    h2: SipHasher13,
    /// Low bits that must decode to a valid MSS index: 24 in real use;
    /// fewer only to measure how often forgeries pass.
    check_bits: u32,
}

impl CookieJar {
    /// A jar whose secrets derive from `seed`.
    pub fn new(seed: u64) -> CookieJar {
        let mut x = seed ^ 0x5eed_c00c_1e5a_17ed;
        let mut next = || {
            // splitmix64: spreads any seed into independent keys.
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        CookieJar {
            h1: SipHasher13::new_with_keys(next(), next()),
            h2: SipHasher13::new_with_keys(next(), next()),
            check_bits: LOW_BITS,
        }
    }

    /// The same jar checking only `bits` low bits (1..=24): a deliberately
    /// weakened cookie whose forgery rate is large enough to measure.
    pub fn with_check_bits(mut self, bits: u32) -> CookieJar {
        self.check_bits = bits.clamp(1, LOW_BITS);
        self
    }

    /// The counter period `now` falls in.
    pub fn count(now: SimTime) -> u32 {
        (now.as_nanos() / PERIOD.as_nanos()) as u32
    }

    fn tuple_bytes(t: &FourTuple, extra: u32) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[0..4].copy_from_slice(&t.src.ip.0.to_le_bytes());
        b[4..8].copy_from_slice(&t.dst.ip.0.to_le_bytes());
        b[8..10].copy_from_slice(&t.src.port.to_le_bytes());
        b[10..12].copy_from_slice(&t.dst.port.to_le_bytes());
        b[12..16].copy_from_slice(&extra.to_le_bytes());
        b
    }

    #[inline]
    fn hash1(&self, t: &FourTuple) -> u32 {
        self.h1.hash(&Self::tuple_bytes(t, 0)) as u32
    }

    #[inline]
    fn hash2(&self, t: &FourTuple, count: u32) -> u32 {
        self.h2.hash(&Self::tuple_bytes(t, count)) as u32
    }

    /// The cookie to send as the SYN|ACK's sequence number for a SYN on
    /// `tuple` (client to VIP) with initial sequence number `isn`, carrying
    /// MSS index `mss` (0..=3; larger values are taken modulo 4).
    #[inline]
    pub fn make(&self, tuple: &FourTuple, isn: u32, mss: u8, now: SimTime) -> u32 {
        let count = Self::count(now);
        let low = self.hash2(tuple, count).wrapping_add(u32::from(mss & 3)) & LOW_MASK;
        self.hash1(tuple)
            .wrapping_add(isn)
            .wrapping_add(count << LOW_BITS)
            .wrapping_add(low)
    }

    /// Checks the cookie an ACK returns: `ack` is the ACK's acknowledgement
    /// number (cookie + 1) and `seq` its sequence number (the client's ISN
    /// + 1). Returns the MSS index the cookie carried.
    #[inline]
    pub fn check(
        &self,
        tuple: &FourTuple,
        seq: u32,
        ack: u32,
        now: SimTime,
    ) -> Result<u8, CookieError> {
        let cookie = ack.wrapping_sub(1);
        let isn = seq.wrapping_sub(1);
        let c = cookie.wrapping_sub(self.hash1(tuple)).wrapping_sub(isn);
        let now_count = Self::count(now);
        // Only the counter's low 8 bits travel; the age is their distance
        // back from now, modulo 256.
        let age = now_count.wrapping_sub(c >> LOW_BITS) & 0xff;
        if age > MAX_AGE {
            return Err(CookieError::Expired);
        }
        let made_in = now_count.wrapping_sub(age);
        let check_mask = (1u32 << self.check_bits) - 1;
        let mss = c.wrapping_sub(self.hash2(tuple, made_in)) & LOW_MASK & check_mask;
        if mss < MSS_TABLE.len() as u32 {
            Ok(mss as u8)
        } else {
            Err(CookieError::Forged)
        }
    }

    /// The chance that a random ACK for a tuple passes [`CookieJar::check`]:
    /// the counter lands within the age window and the MAC field decodes to
    /// a valid MSS index.
    pub fn forgery_probability(&self) -> f64 {
        f64::from(MAX_AGE + 1) / 256.0 * MSS_TABLE.len() as f64 / f64::from(1u32 << self.check_bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Ip};
    use proptest::prelude::*;

    fn tuple(a: u32, pa: u16, b: u32, pb: u16) -> FourTuple {
        FourTuple::tcp(Endpoint::new(Ip(a), pa), Endpoint::new(Ip(b), pb))
    }

    fn secs(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    #[test]
    fn a_cookie_round_trips_with_its_mss_index() {
        let jar = CookieJar::new(1);
        let t = tuple(0x0a00_0001, 40000, 0xc000_0201, 80);
        for mss in 0..4 {
            let cookie = jar.make(&t, 1000, mss, secs(10));
            assert_eq!(
                jar.check(&t, 1001, cookie.wrapping_add(1), secs(11)),
                Ok(mss)
            );
        }
    }

    #[test]
    fn a_cookie_lives_max_age_periods_then_expires() {
        let jar = CookieJar::new(7);
        let t = tuple(1, 2, 3, 4);
        let made = secs(100);
        let cookie = jar.make(&t, 5, 2, made);
        let ack = cookie.wrapping_add(1);
        // Made in period 1 (64 s to 128 s): good through period 3.
        assert_eq!(jar.check(&t, 6, ack, secs(64 * 4 - 1)), Ok(2));
        assert_eq!(
            jar.check(&t, 6, ack, secs(64 * 4)),
            Err(CookieError::Expired)
        );
        // A cookie from the future (counter ahead of now) is refused too.
        assert_eq!(
            jar.check(&t, 6, ack, SimTime::ZERO),
            Err(CookieError::Expired)
        );
    }

    #[test]
    fn different_seeds_make_different_cookies() {
        let t = tuple(1, 2, 3, 4);
        assert_ne!(
            CookieJar::new(1).make(&t, 9, 0, secs(1)),
            CookieJar::new(2).make(&t, 9, 0, secs(1))
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 100_000, ..ProptestConfig::default() })]

        #[test]
        fn a_cookie_validates_for_its_own_tuple_and_isn_within_its_window(
            seed: u64, a: u32, pa: u16, b: u32, pb: u16, isn: u32, mss in 0u8..4,
            made in 0u64..1_000_000, later in 0u64..(64 * 2)
        ) {
            let jar = CookieJar::new(seed);
            let t = tuple(a, pa, b, pb);
            let at = secs(made);
            let cookie = jar.make(&t, isn, mss, at);
            // Still inside the window: the same period or up to two after.
            let check_at = SimTime::ZERO + PERIOD * CookieJar::count(at) as u64 + SimDuration::from_secs(later);
            prop_assert_eq!(jar.check(&t, isn.wrapping_add(1), cookie.wrapping_add(1), check_at), Ok(mss));
        }

        #[test]
        fn a_cookie_fails_for_any_other_tuple_isn_or_time(
            seed: u64, a: u32, pa: u16, b: u32, pb: u16, isn: u32, mss in 0u8..4,
            made in 0u64..1_000_000, which in 0usize..6, delta in 1u32..u32::MAX
        ) {
            let jar = CookieJar::new(seed);
            let t = tuple(a, pa, b, pb);
            let at = secs(made);
            let ack = jar.make(&t, isn, mss, at).wrapping_add(1);
            let mut other = t;
            let mut seq = isn.wrapping_add(1);
            let mut when = at;
            match which {
                0 => other.src.ip = Ip(a.wrapping_add(delta)),
                1 => other.src.port = pa.wrapping_add(delta as u16 | 1),
                2 => other.dst.ip = Ip(b.wrapping_add(delta)),
                3 => other.dst.port = pb.wrapping_add(delta as u16 | 1),
                4 => seq = seq.wrapping_add(delta),
                _ => when = at + PERIOD * 3 + SimDuration::from_secs(u64::from(delta % 1_000_000)),
            }
            // A change passes only by a collision, with probability about
            // 2.8e-9 per case: over 100 000 cases, about 0.0003 expected.
            prop_assert!(jar.check(&other, seq, ack, when).is_err());
        }
    }

    #[test]
    fn forged_acks_pass_at_the_rate_the_check_width_predicts() {
        // With the full 24-bit check the predicted rate (2.8e-9) is too small
        // to see, so the check is narrowed to 8 bits: 3/256 * 4/256.
        let jar = CookieJar::new(11).with_check_bits(8);
        let p = jar.forgery_probability();
        assert!((p - 3.0 / 256.0 * 4.0 / 256.0).abs() < 1e-12);
        let t = tuple(0x0a00_0001, 40000, 0xc000_0201, 80);
        let n = 2_000_000u64;
        let mut x: u64 = 0x1234_5678_9abc_def1;
        let mut passed = 0u64;
        for _ in 0..n {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if jar
                .check(&t, x as u32, (x >> 32) as u32, secs(1000))
                .is_ok()
            {
                passed += 1;
            }
        }
        let expected = p * n as f64;
        let sd = expected.sqrt();
        assert!(
            (passed as f64 - expected).abs() < 5.0 * sd,
            "{passed} forgeries passed, {expected:.0} expected"
        );
        // And with the real 24-bit check, none of the same forgeries pass.
        let real = CookieJar::new(11);
        let mut x: u64 = 0x1234_5678_9abc_def1;
        for _ in 0..n {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            assert!(
                real.check(&t, x as u32, (x >> 32) as u32, secs(1000))
                    .is_err()
            );
        }
    }
}
