//! The deterministic discrete-event World: clients, a NAT balancer and
//! backend servers joined by links, driven by one event queue and one seeded
//! random stream. No clock reads, no I/O, no threads.

mod addressing;
mod apply;
mod balancer;
mod client;
mod command;
mod dist;
mod log;
mod metrics;
mod net;
mod objectives;
mod queue;
mod reasons;
mod rto;
mod series;
mod server;
mod snapshot;
mod world;

pub use addressing::{VIP, client_ip};
pub use balancer::{Balancer, CookieMode, EntryState, HealthConfig};
pub use client::{Client, Outcome, Retransmission, TcpConfig, TcpState};
pub use command::{Command, LinkTarget, Timeout};
pub use dist::{mean, sample};
pub use log::{EventLog, LogEntry, LogKind};
pub use metrics::{ConnCounters, Latency, Metrics, Percentiles, RetransmitCounters, SeriesSet};
pub use net::LinkStats;
pub use objectives::{ObjectiveStatus, Verdict};
pub use queue::EventQueue;
pub use reasons::{DropReason, FailReason};
pub use rto::RtoEstimator;
pub use series::{SERIES_LEN, Series};
pub use server::{Server, ServerStats};
pub use snapshot::{
    ClientCounts, Latencies, SNAPSHOT_LOG_LINES, ServerRow, ServerState, Settings, Snapshot,
};
pub use world::{MemoryBreakdown, Origin, TRACKED_SERVERS, World};
