//! Nanoseconds per defence decision: a rate-limit check in steady state over
//! 10 000 sources with about half refused, a check that must evict because
//! every source is new, and a filter verdict against 1 000 allow and 1 000
//! deny prefixes.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lblab::model::Cidr;
use lblab::model::{Ip, SimDuration, SimTime};
use lblab::policy::{IpFilter, RateLimit, RateLimiter};
use std::hint::black_box;

/// A cheap deterministic stream, as the World's generator would supply.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A value in `0..n`, without division.
    fn below(&mut self, n: u32) -> u32 {
        ((self.next() as u32 as u64 * n as u64) >> 32) as u32
    }
}

const SOURCES: u32 = 10_000;
const BASE: Ip = Ip::new(10, 0, 0, 0);

fn rate_limit(c: &mut Criterion) {
    // Each source asks about every 10 ms (one check per simulated µs, spread
    // over 10 000 sources) and may have 50 per second: about half refused.
    let limit = RateLimit::new(50, SimDuration::from_secs(1), 5).expect("valid limit");
    let mut limiter = RateLimiter::new(limit, SOURCES as usize);
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut now = SimTime::ZERO;
    let mut allowed = 0u32;
    const WARM: u32 = 1_000_000;
    for _ in 0..WARM {
        now += SimDuration::from_micros(1);
        let key = BASE.offset(rng.below(SOURCES));
        allowed += u32::from(limiter.check(key, now).is_allow());
    }
    eprintln!(
        "rate-limit steady state: {:.0}% of checks allowed, {} sources tracked",
        100.0 * f64::from(allowed) / f64::from(WARM),
        limiter.len()
    );

    let mut group = c.benchmark_group("defences");
    group.throughput(Throughput::Elements(1));
    group.bench_function("rate-limit check, 10k sources", |b| {
        b.iter(|| {
            now += SimDuration::from_micros(1);
            let key = BASE.offset(rng.below(SOURCES));
            black_box(limiter.check(black_box(key), now))
        })
    });

    // Every check is a source never seen, so the full table evicts each time.
    let mut churn = RateLimiter::new(limit, SOURCES as usize);
    let mut next = 0u32;
    let mut now = SimTime::ZERO;
    group.bench_function("rate-limit check, new source evicts", |b| {
        b.iter(|| {
            now += SimDuration::from_micros(1);
            next = next.wrapping_add(1);
            black_box(churn.check(black_box(Ip(next)), now))
        })
    });
    group.finish();
}

fn random_prefix(rng: &mut XorShift, shortest: u8, longest: u8) -> Cidr {
    let len = shortest + rng.below(u32::from(longest - shortest) + 1) as u8;
    let host_bits = 32 - u32::from(len);
    // Callers ask for lengths of at least 8, so the shift stays in range.
    let network = (rng.next() as u32) >> host_bits << host_bits;
    Cidr::new(Ip(network), len).expect("masked network")
}

fn filter(c: &mut Criterion) {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let allow = (0..1000).map(|_| random_prefix(&mut rng, 8, 24)).collect();
    let deny = (0..1000).map(|_| random_prefix(&mut rng, 12, 32)).collect();
    let filter = IpFilter::new(allow, deny);
    let allowed = (0..100_000)
        .filter(|_| filter.verdict(Ip(rng.next() as u32)).is_allowed())
        .count();
    eprintln!(
        "filter: {:.1}% of random sources allowed",
        100.0 * allowed as f64 / 100_000.0
    );

    let mut group = c.benchmark_group("defences");
    group.throughput(Throughput::Elements(1));
    group.bench_function("filter verdict, 1k allow + 1k deny", |b| {
        b.iter(|| black_box(filter.verdict(black_box(Ip(rng.next() as u32)))))
    });
    group.finish();
}

criterion_group!(benches, rate_limit, filter);
criterion_main!(benches);
