//! What `lblab proxy` runs with: one typed, checked configuration, read
//! from lblab's own RON format or from the source design's `config.json`,
//! chosen by the file's extension. Both formats report a bad key or value
//! as `FILE:LINE:COL: MESSAGE`, as lab files do.

mod json;
mod json_locate;
mod load;
mod ron_file;

pub use load::{Format, MIN_IDLE_TIMEOUT, load_file, load_str};

use crate::policy::RateLimit;
use crate::spec::{Algorithm, FilterSpec};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The checked configuration of a running proxy.
#[derive(Clone, Debug, PartialEq)]
pub struct ProxyConfig {
    /// Where clients connect.
    pub listen: SocketAddr,
    /// TLS termination, when clients speak TLS.
    pub tls: Option<TlsFiles>,
    /// How a backend is chosen for each new connection.
    pub algorithm: Algorithm,
    /// The backends, in the order algorithms see them.
    pub backends: Vec<BackendConfig>,
    /// Active health checks of every backend.
    pub health: HealthConfig,
    /// How long one connect to a backend may take.
    pub connect_timeout: Duration,
    /// Backends tried for one client before giving up (at least 1).
    pub connect_tries: u32,
    /// A connection with no byte either way for this long is closed.
    pub idle_timeout: Option<Duration>,
    /// Client connections open at once; past it new ones are refused.
    pub max_connections: Option<u32>,
    /// New connections allowed per source address (GCRA).
    pub rate_limit: Option<RateLimit>,
    /// Sources the rate limiter remembers at once.
    pub rate_limit_sources: usize,
    /// Source addresses allowed and denied.
    pub filter: FilterSpec,
    /// Keep a source on the backend it last used for this long.
    pub sticky: Option<Duration>,
    /// With no healthy backend, answer `HTTP/1.1 503` before closing.
    pub respond_503: bool,
    /// On SIGTERM or SIGINT, how long live connections may take to finish.
    pub drain_timeout: Duration,
}

impl ProxyConfig {
    /// Checks the rules every running configuration keeps (at least one
    /// backend, probe timing, the idle timeout's floor), for changes that
    /// come from somewhere other than a file: a reload built in code, the
    /// dashboard.
    pub fn validate(&self) -> Result<(), String> {
        load::check_rules(self).map_err(|(_, message)| message)
    }
}

/// A certificate chain and its private key, both PEM files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key of the leaf certificate.
    pub key: PathBuf,
}

/// One backend as configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendConfig {
    /// Its address, resolved when the configuration was read.
    pub address: SocketAddr,
    /// Its address as written (`localhost:9001`), for logs and tables.
    pub written: String,
    /// Its name in logs, metrics and the dashboard.
    pub name: String,
    /// Relative share for weighted algorithms; 0 takes no new connections.
    pub weight: u32,
}

/// How backends are probed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeKind {
    /// A TCP connect that completes is a success.
    Tcp,
    /// `GET path` over HTTP/1.1 answered with status 200 is a success.
    Http {
        /// The path asked for, like `/health`.
        path: String,
    },
}

/// Health-check parameters of every backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthConfig {
    /// What a probe is.
    pub kind: ProbeKind,
    /// Time between the starts of two probes of one backend.
    pub interval: Duration,
    /// How long a probe may take before it counts as failed.
    pub timeout: Duration,
    /// Consecutive successes that bring a down backend up.
    pub rise: u32,
    /// Consecutive failures that take an up backend down.
    pub fall: u32,
    /// Each interval is lengthened by a random part of this, so probes of
    /// many proxies do not march in step.
    pub jitter: Duration,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            kind: ProbeKind::Tcp,
            interval: Duration::from_secs(2),
            timeout: Duration::from_secs(1),
            rise: 2,
            fall: 3,
            jitter: Duration::ZERO,
        }
    }
}
