//! Nanoseconds to make one SYN cookie and to check one.

use criterion::{Criterion, criterion_group, criterion_main};
use lblab::model::{Endpoint, FourTuple, Ip, SimTime};
use lblab::policy::CookieJar;
use std::hint::black_box;

fn cookies(c: &mut Criterion) {
    let jar = CookieJar::new(42);
    let now = SimTime(90_000_000_000);
    let mut port: u16 = 1024;
    c.bench_function("cookie_make", |b| {
        b.iter(|| {
            port = port.wrapping_add(1);
            let t = FourTuple::tcp(
                Endpoint::new(Ip::new(10, 0, 0, 1), port),
                Endpoint::new(Ip::new(192, 0, 2, 1), 80),
            );
            black_box(jar.make(black_box(&t), 12345, 3, now))
        })
    });
    let t = FourTuple::tcp(
        Endpoint::new(Ip::new(10, 0, 0, 1), 40000),
        Endpoint::new(Ip::new(192, 0, 2, 1), 80),
    );
    let ack = jar.make(&t, 12345, 3, now).wrapping_add(1);
    c.bench_function("cookie_check", |b| {
        b.iter(|| black_box(jar.check(black_box(&t), 12346, black_box(ack), now)))
    });
}

criterion_group!(benches, cookies);
criterion_main!(benches);
