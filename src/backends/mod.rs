//! Demo backends for local experiments: small real TCP servers to put
//! behind the proxy, kill and revive while traffic flows.
//!
//! Each [`DemoBackend`] answers either a minimal hand-written HTTP/1.1
//! (`Hello from <name>`, `GET /health`, an optional delay and failure
//! rate) or echoes bytes back. [`spawn_many`] starts a numbered pool, and
//! [`cli`] is the `lblab backends` command around it.
//!
//! ```text
//! mod.rs      Mode, BackendOptions, spawn_many
//! backend.rs  DemoBackend: bind, accept, kill, revive
//! shared.rs   what every connection of one backend shares: counters, RNG
//! http.rs     request heads parsed and responses written, no I/O
//! http_conn.rs  one HTTP connection: keep-alive, pipelining, bodies
//! echo.rs     one echo connection
//! service.rs  a protocol of the caller's (a lab's server on real sockets)
//! cli.rs      BackendsArgs and run_cli
//! console.rs  stdin commands: toggle a backend, quit
//! signal.rs   Ctrl-C and SIGTERM
//! ```

mod backend;
pub mod cli;
mod console;
mod echo;
mod http;
mod http_conn;
mod service;
mod shared;
mod signal;

pub use backend::DemoBackend;
pub use cli::{BackendsArgs, run_cli};
pub use service::{Service, Serving};

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// What a demo backend speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Minimal HTTP/1.1: `Hello from <name>` and `GET /health`.
    #[default]
    Http,
    /// Every byte back until the client half-closes.
    Echo,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Http => "http",
            Mode::Echo => "echo",
        })
    }
}

/// How a demo backend behaves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackendOptions {
    /// What it speaks.
    pub mode: Mode,
    /// Sleep before each answer (each HTTP response, each echoed chunk).
    pub delay: Duration,
    /// Fraction of HTTP requests, from 0 to 1, answered `500`; `/health`
    /// is never failed so that health checks see the backend as up.
    pub fail_rate: f64,
}

impl Default for BackendOptions {
    fn default() -> Self {
        BackendOptions {
            mode: Mode::Http,
            delay: Duration::ZERO,
            fail_rate: 0.0,
        }
    }
}

/// Starts `n` backends named `web-1`, `web-2`, … on 127.0.0.1, on
/// `first_port` and the ports after it (with `first_port` 0, each on an
/// ephemeral port).
pub async fn spawn_many(
    n: usize,
    first_port: u16,
    options: BackendOptions,
) -> io::Result<Vec<DemoBackend>> {
    spawn_many_on(IpAddr::V4(Ipv4Addr::LOCALHOST), n, first_port, options).await
}

/// [`spawn_many`] on any local address. If one backend cannot start, those
/// already started are closed again and the error names the address.
pub async fn spawn_many_on(
    ip: IpAddr,
    n: usize,
    first_port: u16,
    options: BackendOptions,
) -> io::Result<Vec<DemoBackend>> {
    let mut backends = Vec::with_capacity(n);
    for i in 0..n {
        let port = port_of(first_port, i).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{n} backends from port {first_port} run past port 65535"),
            )
        })?;
        let name = format!("web-{}", i + 1);
        backends.push(DemoBackend::spawn(name, SocketAddr::new(ip, port), options).await?);
    }
    Ok(backends)
}

/// The port of the `i`-th backend of a pool; port 0 stays 0 so that the
/// system picks a free one for each.
fn port_of(first_port: u16, i: usize) -> Option<u16> {
    if first_port == 0 {
        return Some(0);
    }
    u16::try_from(i)
        .ok()
        .and_then(|i| first_port.checked_add(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_ports_count_up_and_stop_at_the_last_port() {
        assert_eq!(port_of(9001, 0), Some(9001));
        assert_eq!(port_of(9001, 3), Some(9004));
        assert_eq!(port_of(65535, 0), Some(65535));
        assert_eq!(port_of(65535, 1), None);
        assert_eq!(port_of(0, 5), Some(0));
    }
}
