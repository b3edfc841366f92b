//! What every task of a running proxy reads: the configuration and pool in
//! force (swapped whole on reload, so a pick never waits for one), the
//! defences' state, the counters.

use super::config::ProxyConfig;
use super::pool::{Backend, Pool};
use super::stats::Stats;
use super::sticky::Sticky;
use crate::model::{Ip, SimTime};
use crate::policy::{IpFilter, RateLimiter};
use arc_swap::{ArcSwap, ArcSwapOption};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use std::net::IpAddr;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio_rustls::TlsAcceptor;

/// The state one proxy's tasks share.
pub struct Shared {
    /// The configuration in force.
    pub config: ArcSwap<ProxyConfig>,
    /// The backends in rotation and their algorithm.
    pub pool: ArcSwap<Pool>,
    /// The source filter in force.
    pub filter: ArcSwap<IpFilter>,
    /// The per-source rate limiter, when one is configured.
    pub limiter: Mutex<Option<RateLimiter>>,
    /// Which backend each recent source used, when sessions are sticky.
    pub sticky: Sticky,
    /// TLS termination, when configured.
    pub tls: ArcSwapOption<TlsAcceptor>,
    /// Client connections open now (accepted and not yet closed).
    pub open: AtomicU32,
    /// Proxy-wide counters.
    pub stats: Stats,
    /// When the proxy started: the rate limiter's clock counts from here.
    pub started: Instant,
    /// How long picks take, in seconds.
    pub pick_seconds: Histogram,
    /// Backends a reload removed while they still carried connections:
    /// metrics keep showing them until their last connection ends.
    pub retired: Mutex<Vec<Arc<Backend>>>,
}

impl Shared {
    /// State for `config`, with `backends` built from it.
    pub fn new(config: ProxyConfig, backends: Vec<Arc<Backend>>) -> Shared {
        let pool = Pool::new(backends, config.algorithm);
        Shared {
            filter: ArcSwap::from_pointee(IpFilter::from(&config.filter)),
            limiter: Mutex::new(limiter_for(&config)),
            pool: ArcSwap::from_pointee(pool),
            config: ArcSwap::from_pointee(config),
            sticky: Sticky::default(),
            tls: ArcSwapOption::empty(),
            open: AtomicU32::new(0),
            stats: Stats::default(),
            started: Instant::now(),
            // 50 ns to about 26 µs: a pick is a short lock and a scan.
            pick_seconds: Histogram::new(exponential_buckets(50e-9, 2.0, 10)),
            retired: Mutex::new(Vec::new()),
        }
    }

    /// The proxy's clock as the policies take it.
    pub fn now(&self) -> SimTime {
        SimTime(self.started.elapsed().as_nanos() as u64)
    }
}

/// The rate limiter a configuration asks for.
pub fn limiter_for(config: &ProxyConfig) -> Option<RateLimiter> {
    config
        .rate_limit
        .map(|limit| RateLimiter::new(limit, config.rate_limit_sources))
}

/// A source address as the policies see it. IPv4 (and IPv4-mapped IPv6)
/// is itself; other IPv6 addresses fold into 32 bits, which only the rate
/// limiter uses (the CIDR filter is IPv4 and refuses them when it has an
/// allow list).
pub fn policy_ip(addr: IpAddr) -> (Ip, bool) {
    match addr {
        IpAddr::V4(v4) => (Ip(u32::from(v4)), true),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => (Ip(u32::from(v4)), true),
            None => {
                let b = v6.octets();
                let folded = b.chunks(4).fold(0u32, |h, c| {
                    h.rotate_left(7) ^ u32::from_be_bytes([c[0], c[1], c[2], c[3]])
                });
                (Ip(folded), false)
            }
        },
    }
}
