//! Engine 1: the deterministic discrete-event World. Clients, a NAT
//! balancer and backend servers joined by links, driven by one event queue
//! and one seeded random stream. No clock reads, no I/O, no threads.
//!
//! `sim/` turns the specs of `spec/` into runtime state in `World::new` and
//! implements the engine boundary of `engine/`.

mod addressing;
mod balancer;
mod client;
mod dist;
mod metrics;
mod net;
mod queue;
mod rto;
mod server;
mod tap;
mod world;

pub use addressing::{VIP, client_ip, server_endpoint};
pub use balancer::{Balancer, EntryState};
pub use client::{Client, Outcome, Retransmission, TcpConfig, TcpState};
pub use dist::{mean, sample, standard_exponential};
pub use metrics::{Latency, Metrics};
pub use queue::EventQueue;
pub use rto::RtoEstimator;
pub use server::{Server, ServerStats};
pub use tap::{Side, TapRecord, TapSides, TapSpec, WATCH_PACKETS};
pub use world::{MemoryBreakdown, STALL_CHECK_EVERY, World};
