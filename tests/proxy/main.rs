//! `lblab proxy` on real loopback sockets: each test starts demo backends
//! and a proxy on ephemeral ports of 127.0.0.1 and asserts what a client
//! sees. Every test is bounded in time.

mod support;

mod balancing;
mod defences;
mod engine;
mod metrics;
mod process;
mod streams;
