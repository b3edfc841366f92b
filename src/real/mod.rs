//! A lab on real sockets (`--real`): its servers become real TCP servers
//! on 127.0.0.1, its clients real tokio tasks running its workload, and
//! its balancer `lblab proxy` configured from the lab, with the same
//! policies the simulation runs. The same lab file, the same report.
//!
//! ```text
//! wire.rs        the protocol: length-prefixed segments, one-byte acks
//! server.rs      a lab server: workers, service times, max_connections
//! link.rs        link delay and jitter slept in user space
//! book.rs        what the clients count and the samples they time
//! connection.rs  one client connection, the lab's TCP timers as deadlines
//! clients.rs     closed population, open arrivals, real floods
//! rig.rs         servers and clients on their own runtime, any balancer
//! config.rs      the lab's balancer as proxy configuration
//! front.rs       the balancer in front: lblab proxy, or a daemon
//! engine.rs      RealLab: rig + balancer behind the engine boundary
//! commands.rs    Commands routed to the rig or the proxy
//! view.rs        Snapshots and server rows
//! versus.rs      --vs-real: both ways, two columns, tolerances
//! ```

mod book;
mod clients;
mod commands;
pub mod config;
mod connection;
mod engine;
pub mod front;
mod link;
pub mod rig;
mod server;
pub mod versus;
mod view;
mod wire;

pub use engine::RealLab;
