//! Engine 2: a real Layer-4 load balancer on tokio sockets. It accepts
//! client connections, checks them against the same `policy/` defences the
//! simulation runs (CIDR filter, per-source GCRA rate limit), picks a
//! healthy backend with the same `policy/` algorithms, connects (failing
//! over to another backend when a connect fails), and copies bytes both
//! ways with half-close until either side is done.

mod accept;
mod activity;
pub mod admin;
mod admit;
mod buffers;
pub mod cli;
pub mod config;
mod conn;
pub mod engine;
pub mod health;
pub mod pool;
mod pump;
pub mod samples;
mod server;
pub mod shared;
pub mod stats;
mod sticky;
pub mod tls;
mod workers;

pub use conn::RESPONSE_503;
pub use server::{Proxy, ShutdownReport, StartError};
