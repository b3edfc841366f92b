//! The World's random streams, one per purpose, all derived from the seed.
//!
//! Why split them: with one shared generator, a balancer that draws (P2C,
//! random) or a backend that loses a packet shifts every later draw, so a
//! client's arrivals and a segment's service time would change with the
//! algorithm. Split, each purpose draws the same numbers whatever the
//! others do ("common random numbers"), and `lblab compare` sees only the
//! algorithm's effect in B − A:
//!
//! - open arrivals and the closed population's start times: one stream;
//! - each connection's workload (segments, sizes, gaps, its ISN): a stream
//!   keyed by the connection's identity (the n-th open arrival, or client
//!   i's k-th connection), whichever client slot it lands in;
//! - a closed client's think time: keyed by the same identity;
//! - each segment's service time: keyed by the client's ISN and the
//!   segment's sequence number, so the same segment takes the same time
//!   on any server with the same service-time distribution;
//! - links, balancer, servers' ISNs, floods and commands: their own.

use rand::{SeedableRng, TryRng};
use rand_pcg::Pcg64Mcg;
use std::convert::Infallible;

/// Mixes two words into one (SplitMix64's finaliser over `a` and `b`):
/// nearby inputs give unrelated outputs, so keyed streams do not overlap.
pub(in crate::sim) const fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Tags that keep each purpose's keys apart.
mod tag {
    pub const ARRIVALS: u64 = 1;
    pub const NET: u64 = 2;
    pub const BALANCER: u64 = 3;
    pub const SERVERS: u64 = 4;
    pub const FLOODS: u64 = 5;
    pub const CHAOS: u64 = 6;
    pub const OPEN: u64 = 7;
    pub const CLOSED: u64 = 8;
    pub const THINK: u64 = 9;
    pub const SERVICE: u64 = 10;
}

/// The World's sequential streams, and the seed keyed ones come from.
#[derive(Clone, Debug)]
pub(in crate::sim) struct Streams {
    seed: u64,
    /// Open-arrival gaps and closed clients' start times.
    pub arrivals: Pcg64Mcg,
    /// Link jitter and loss.
    pub net: Pcg64Mcg,
    /// The balancer's random choices.
    pub balancer: Pcg64Mcg,
    /// Servers' initial sequence numbers.
    pub servers: Pcg64Mcg,
    /// Flood timing, spoofed sources and attack connections.
    pub floods: Pcg64Mcg,
    /// Commands that pick at random (kill a random server or client).
    pub chaos: Pcg64Mcg,
}

impl Streams {
    /// Every stream of a World seeded with `seed`.
    pub fn new(seed: u64) -> Streams {
        let stream = |t| Pcg64Mcg::seed_from_u64(mix(seed, t));
        Streams {
            seed,
            arrivals: stream(tag::ARRIVALS),
            net: stream(tag::NET),
            balancer: stream(tag::BALANCER),
            servers: stream(tag::SERVERS),
            floods: stream(tag::FLOODS),
            chaos: stream(tag::CHAOS),
        }
    }

    /// The identity of the `n`-th open arrival.
    pub fn open_identity(&self, n: u64) -> u64 {
        mix(mix(self.seed, tag::OPEN), n)
    }

    /// The identity of closed client `client`'s `k`-th connection.
    pub fn closed_identity(&self, client: u32, k: u64) -> u64 {
        mix(mix(mix(self.seed, tag::CLOSED), u64::from(client)), k)
    }

    /// The stream of the `n`-th draw of the connection with `identity`.
    pub fn connection(identity: u64, n: u64) -> Keyed {
        Keyed::new(identity, n)
    }

    /// The stream a closed client draws its think time from after the
    /// connection with `identity`: apart from the workload's, so a
    /// connection cut short thinks as long as one that finished.
    pub fn think(identity: u64) -> Keyed {
        Keyed::new(identity, tag::THINK)
    }

    /// The seed servers key service draws with (see `service`).
    pub fn service_seed(&self) -> u64 {
        mix(self.seed, tag::SERVICE)
    }

    /// The stream one segment's service time is drawn from: keyed by the
    /// client's initial sequence number and the segment's, which the
    /// connection's own stream fixed, never by the server or the moment.
    pub fn service(service_seed: u64, irs: u32, seq: u32) -> Keyed {
        Keyed::new(service_seed, (u64::from(irs) << 32) | u64::from(seq))
    }
}

/// The stream keyed by `mix(a, b)`, whose key is mixed and generator
/// seeded on its first draw. Most workloads are constants, which draw
/// nothing: three keyed streams a segment, never drawn from in a lab of
/// constants, were about an eighth of its run time when seeded up front,
/// and mixing their keys another 1.5 %. The numbers drawn are the same
/// either way.
#[derive(Clone, Debug)]
pub(in crate::sim) struct Keyed {
    parts: (u64, u64),
    rng: Option<Pcg64Mcg>,
}

impl Keyed {
    /// The stream of `mix(a, b)`, not yet seeded.
    #[inline]
    pub fn new(a: u64, b: u64) -> Keyed {
        Keyed {
            parts: (a, b),
            rng: None,
        }
    }

    /// Whether anything has been drawn.
    #[cfg(test)]
    fn seeded(&self) -> bool {
        self.rng.is_some()
    }

    #[inline]
    fn rng(&mut self) -> &mut Pcg64Mcg {
        let (a, b) = self.parts;
        self.rng
            .get_or_insert_with(|| Pcg64Mcg::seed_from_u64(mix(a, b)))
    }
}

impl TryRng for Keyed {
    type Error = Infallible;

    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        self.rng().try_next_u32()
    }

    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.rng().try_next_u64()
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.rng().try_fill_bytes(dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn purposes_draw_different_numbers() {
        let mut s = Streams::new(1);
        let words = [
            s.arrivals.next_u64(),
            s.net.next_u64(),
            s.balancer.next_u64(),
            s.servers.next_u64(),
            s.floods.next_u64(),
            s.chaos.next_u64(),
        ];
        for (i, a) in words.iter().enumerate() {
            for b in &words[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn keyed_streams_depend_on_their_key_only() {
        let s = Streams::new(7);
        assert_ne!(s.open_identity(0), s.open_identity(1));
        assert_ne!(s.closed_identity(0, 1), s.closed_identity(1, 0));
        assert_ne!(s.open_identity(3), s.closed_identity(0, 3));
        let seed = s.service_seed();
        let a = Streams::service(seed, 5, 6).next_u64();
        assert_eq!(a, Streams::service(seed, 5, 6).next_u64());
        assert_ne!(a, Streams::service(seed, 6, 5).next_u64());
    }

    #[test]
    fn a_keyed_stream_draws_what_its_seeded_generator_draws() {
        let mut lazy = Keyed::new(42, 7);
        let mut eager = Pcg64Mcg::seed_from_u64(mix(42, 7));
        let drawn: Vec<u64> = (0..4).map(|_| lazy.next_u64()).collect();
        let expected: Vec<u64> = (0..4).map(|_| eager.next_u64()).collect();
        assert_eq!(drawn, expected);
        assert_eq!(lazy.next_u32(), eager.next_u32());
    }

    #[test]
    fn a_constant_draw_seeds_nothing() {
        use crate::sim::dist::sample;
        use crate::spec::Dist;
        let mut stream = Keyed::new(7, 1);
        assert_eq!(sample(&Dist::Constant(5u64), &mut stream), 5);
        assert!(!stream.seeded(), "a constant seeded the stream");
        sample(&Dist::Exponential(5u64), &mut stream);
        assert!(stream.seeded());
    }
}
