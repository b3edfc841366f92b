//! lblab's own proxy configuration, in RON, with the lab format's value
//! types (durations with units, positive counts, CIDR lists):
//!
//! ```ron
//! (
//!     listen: "127.0.0.1:8080",
//!     algorithm: RoundRobin,
//!     backends: [(address: "127.0.0.1:9001"), (address: "127.0.0.1:9002", weight: 2)],
//!     health: (probe: Http(path: "/health"), interval: "1s", timeout: "500ms"),
//! )
//! ```

use super::load::{Draft, DraftBackend, Field};
use super::{HealthConfig, ProbeKind};
use crate::lab::locate::Seg;
use crate::spec::{Algorithm, Dur, FilterSpec, Positive, RateLimitSpec};
use serde::Deserialize;

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RonConfig {
    listen: String,
    #[serde(default)]
    tls: Option<RonTls>,
    #[serde(default)]
    algorithm: Algorithm,
    backends: Vec<RonBackend>,
    #[serde(default)]
    health: RonHealth,
    #[serde(default = "default_connect_timeout")]
    connect_timeout: Dur,
    #[serde(default = "default_connect_tries")]
    connect_tries: Positive,
    #[serde(default = "default_idle_timeout")]
    idle_timeout: Option<Dur>,
    #[serde(default)]
    max_connections: Option<Positive>,
    #[serde(default)]
    rate_limit: Option<RateLimitSpec>,
    #[serde(default)]
    filter: FilterSpec,
    #[serde(default)]
    sticky: Option<Dur>,
    #[serde(default)]
    respond_503: bool,
    #[serde(default = "default_drain_timeout")]
    drain_timeout: Dur,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RonTls {
    cert: String,
    key: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RonBackend {
    address: String,
    #[serde(default = "one_weight")]
    weight: u32,
    #[serde(default)]
    name: Option<String>,
}

/// What a probe is, as written: `Tcp` or `Http(path: "/health")`.
#[derive(Debug, Deserialize)]
enum RonProbe {
    Tcp,
    Http {
        #[serde(default = "default_path")]
        path: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RonHealth {
    probe: RonProbe,
    interval: Dur,
    timeout: Dur,
    rise: Positive,
    fall: Positive,
    jitter: Dur,
}

impl Default for RonHealth {
    fn default() -> Self {
        let d = HealthConfig::default();
        RonHealth {
            probe: RonProbe::Tcp,
            interval: Dur::from_millis(d.interval.as_millis() as u64),
            timeout: Dur::from_millis(d.timeout.as_millis() as u64),
            rise: Positive::new_const(d.rise),
            fall: Positive::new_const(d.fall),
            jitter: Dur::from_millis(0),
        }
    }
}

fn default_path() -> String {
    "/health".to_string()
}

fn default_connect_timeout() -> Dur {
    Dur::from_secs(1)
}

fn default_connect_tries() -> Positive {
    Positive::new_const(3)
}

fn default_idle_timeout() -> Option<Dur> {
    Some(Dur::from_secs(300))
}

fn default_drain_timeout() -> Dur {
    Dur::from_secs(10)
}

fn std_duration(d: Dur) -> std::time::Duration {
    std::time::Duration::from_nanos(d.get().as_nanos())
}

impl RonConfig {
    /// The values, before addresses are resolved and relations checked.
    pub(super) fn into_draft(self) -> Draft {
        let h = self.health;
        Draft {
            listen: self.listen,
            tls: self.tls.map(|t| (t.cert, t.key)),
            algorithm: self.algorithm,
            backends: self
                .backends
                .into_iter()
                .map(|b| DraftBackend {
                    address: b.address,
                    weight: b.weight,
                    name: b.name,
                })
                .collect(),
            health: HealthConfig {
                kind: match h.probe {
                    RonProbe::Tcp => ProbeKind::Tcp,
                    RonProbe::Http { path } => ProbeKind::Http { path },
                },
                interval: std_duration(h.interval),
                timeout: std_duration(h.timeout),
                rise: h.rise.get(),
                fall: h.fall.get(),
                jitter: std_duration(h.jitter),
            },
            connect_timeout: std_duration(self.connect_timeout),
            connect_tries: self.connect_tries.get(),
            idle_timeout: self.idle_timeout.map(std_duration),
            max_connections: self.max_connections.map(Positive::get),
            rate_limit: self.rate_limit,
            filter: self.filter,
            sticky: self.sticky.map(std_duration),
            respond_503: self.respond_503,
            drain_timeout: std_duration(self.drain_timeout),
        }
    }
}

/// Where a field is written in a RON configuration.
pub(super) fn path(field: Field) -> Vec<Seg<'static>> {
    match field {
        Field::Listen => vec![Seg::Field("listen")],
        Field::TlsCert => vec![Seg::Field("tls"), Seg::Field("cert")],
        Field::TlsKey => vec![Seg::Field("tls"), Seg::Field("key")],
        Field::Backends => vec![Seg::Field("backends")],
        Field::BackendAddress(i) => {
            vec![Seg::Field("backends"), Seg::Item(i), Seg::Field("address")]
        }
        Field::BackendName(i) => vec![Seg::Field("backends"), Seg::Item(i), Seg::Field("name")],
        Field::HealthInterval => vec![Seg::Field("health"), Seg::Field("interval")],
        Field::HealthTimeout => vec![Seg::Field("health"), Seg::Field("timeout")],
        Field::HealthJitter => vec![Seg::Field("health"), Seg::Field("jitter")],
        Field::IdleTimeout => vec![Seg::Field("idle_timeout")],
        Field::HealthPath => vec![Seg::Field("health"), Seg::Field("probe")],
        Field::RateLimit => vec![Seg::Field("rate_limit")],
        Field::Filter => vec![Seg::Field("filter")],
    }
}

/// A backend's weight when the file gives none.
fn one_weight() -> u32 {
    1
}
