//! The source design's `config.json` (document 004), read exactly as that
//! document writes it, plus a few optional keys of lblab's own for what
//! the Go design did not have (weights, names, HTTP probes, stickiness).
//! Times are in seconds, as numbers.

use super::load::{Draft, DraftBackend, Field};
use super::{HealthConfig, ProbeKind};
use crate::lab::locate::Seg;
use crate::model::Cidr;
use crate::spec::{Algorithm, FilterSpec, Positive, RateLimitSpec, parse_duration};
use serde::Deserialize;
use std::time::Duration;

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct JsonConfig {
    listen_addr: String,
    #[serde(default)]
    accept_tls: bool,
    #[serde(default)]
    tls_cert_file: Option<String>,
    #[serde(default)]
    tls_key_file: Option<String>,
    #[serde(default)]
    algorithm: Option<JsonAlgorithm>,
    #[serde(default)]
    health_check_interval: Option<Seconds>,
    #[serde(default)]
    request_timeout: Option<Seconds>,
    #[serde(default)]
    max_concurrent_connections: Option<u32>,
    #[serde(default)]
    max_connections_per_minute: Option<u32>,
    #[serde(default)]
    ip_filter_mode: Option<FilterMode>,
    #[serde(default)]
    ip_filter_list: Vec<Cidr>,
    servers: Vec<JsonServer>,
    // lblab's own additions, all optional.
    #[serde(default)]
    health_check_path: Option<String>,
    #[serde(default)]
    health_check_timeout: Option<Seconds>,
    #[serde(default)]
    health_check_rise: Option<Positive>,
    #[serde(default)]
    health_check_fall: Option<Positive>,
    #[serde(default)]
    connect_tries: Option<Positive>,
    #[serde(default)]
    idle_timeout: Option<Seconds>,
    #[serde(default)]
    sticky_session_timeout: Option<Seconds>,
    #[serde(default)]
    respond_503: bool,
    #[serde(default)]
    drain_timeout: Option<Seconds>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonServer {
    address: String,
    #[serde(default)]
    weight: Option<u32>,
    #[serde(default)]
    name: Option<String>,
}

/// The algorithm names of the Go design, and lblab's own (those that take
/// numbers take their defaults here; the RON configuration sets them).
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum JsonAlgorithm {
    RoundRobin,
    Random,
    WeightedRoundRobin,
    LeastConnections,
    WeightedLeastConnections,
    ShortestExpectedDelay,
    NeverQueue,
    LeastRequests,
    #[serde(alias = "power_of_two_choices")]
    PowerOfTwo,
    PowerOfChoices,
    PeakEwma,
    SourceHash,
    RingHash,
    Maglev,
    Score,
}

impl From<JsonAlgorithm> for Algorithm {
    fn from(a: JsonAlgorithm) -> Algorithm {
        let named = |name: &str| {
            Algorithm::ALL
                .into_iter()
                .find(|a| a.name() == name)
                .unwrap_or_default()
        };
        match a {
            JsonAlgorithm::RoundRobin => Algorithm::RoundRobin,
            JsonAlgorithm::Random => Algorithm::Random,
            JsonAlgorithm::WeightedRoundRobin => Algorithm::WeightedRoundRobin,
            JsonAlgorithm::LeastConnections => Algorithm::LeastConnections,
            JsonAlgorithm::WeightedLeastConnections => Algorithm::WeightedLeastConnections,
            JsonAlgorithm::ShortestExpectedDelay => Algorithm::ShortestExpectedDelay,
            JsonAlgorithm::NeverQueue => Algorithm::NeverQueue,
            JsonAlgorithm::LeastRequests => Algorithm::LeastRequests,
            JsonAlgorithm::PowerOfTwo => Algorithm::PowerOfTwoChoices,
            JsonAlgorithm::PowerOfChoices => named("power-of-d"),
            JsonAlgorithm::PeakEwma => named("peak-ewma"),
            JsonAlgorithm::SourceHash => Algorithm::SourceHash,
            JsonAlgorithm::RingHash => named("ring-hash"),
            JsonAlgorithm::Maglev => named("maglev"),
            JsonAlgorithm::Score => named("score"),
        }
    }
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum FilterMode {
    Allow,
    Deny,
}

/// A time in seconds, as the Go design writes it: a non-negative number.
#[derive(Clone, Copy, Debug)]
struct Seconds(Duration);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Seconds, D::Error> {
        let n = f64::deserialize(d)?;
        if !n.is_finite() || n < 0.0 {
            return Err(serde::de::Error::custom(format!(
                "expected a number of seconds, zero or more, found {n}"
            )));
        }
        // parse_duration bounds the value the same way lab files are bounded.
        parse_duration(&format!("{n}s"))
            .map(|d| Seconds(Duration::from_nanos(d.as_nanos())))
            .map_err(serde::de::Error::custom)
    }
}

impl JsonConfig {
    /// The values, before addresses are resolved and relations checked.
    pub(super) fn into_draft(self) -> Result<Draft, (Field, String)> {
        let defaults = HealthConfig::default();
        let interval = self
            .health_check_interval
            .map_or(defaults.interval, |s| s.0);
        let request_timeout = self.request_timeout.map(|s| s.0);
        // The Go design's one timeout bounds both a dial and a probe; a
        // probe may not outlast its interval.
        let probe_timeout = self
            .health_check_timeout
            .map(|s| s.0)
            .or(request_timeout)
            .unwrap_or(defaults.timeout)
            .min(interval);
        let tls = match (self.accept_tls, self.tls_cert_file, self.tls_key_file) {
            (false, _, _) => None,
            (true, Some(cert), Some(key)) => Some((cert, key)),
            (true, None, _) => {
                return Err((Field::TlsCert, "accept_tls needs tls_cert_file".into()));
            }
            (true, _, None) => {
                return Err((Field::TlsKey, "accept_tls needs tls_key_file".into()));
            }
        };
        let rate_limit = match self.max_connections_per_minute {
            None | Some(0) => None,
            Some(n) => Some(per_minute(n)),
        };
        let filter = match self.ip_filter_mode {
            None if !self.ip_filter_list.is_empty() => {
                return Err((
                    Field::Filter,
                    "ip_filter_list needs ip_filter_mode \"allow\" or \"deny\"".into(),
                ));
            }
            None => FilterSpec::default(),
            Some(FilterMode::Allow) => FilterSpec {
                allow: self.ip_filter_list,
                deny: Vec::new(),
            },
            Some(FilterMode::Deny) => FilterSpec {
                allow: Vec::new(),
                deny: self.ip_filter_list,
            },
        };
        Ok(Draft {
            listen: self.listen_addr,
            tls,
            algorithm: self
                .algorithm
                .map_or(Algorithm::RoundRobin, Algorithm::from),
            backends: self
                .servers
                .into_iter()
                .map(|s| DraftBackend {
                    address: s.address,
                    weight: s.weight.unwrap_or(1),
                    name: s.name,
                })
                .collect(),
            health: HealthConfig {
                kind: match self.health_check_path {
                    Some(path) => ProbeKind::Http { path },
                    None => ProbeKind::Tcp,
                },
                interval,
                timeout: probe_timeout,
                rise: self.health_check_rise.map_or(defaults.rise, Positive::get),
                fall: self.health_check_fall.map_or(defaults.fall, Positive::get),
                jitter: Duration::ZERO,
            },
            connect_timeout: request_timeout.unwrap_or(Duration::from_secs(1)),
            connect_tries: self.connect_tries.map_or(3, Positive::get),
            idle_timeout: self
                .idle_timeout
                .map_or(Some(Duration::from_secs(300)), |s| Some(s.0)),
            max_connections: self.max_concurrent_connections.filter(|&n| n > 0),
            rate_limit,
            filter,
            sticky: self.sticky_session_timeout.map(|s| s.0),
            respond_503: self.respond_503,
            drain_timeout: self.drain_timeout.map_or(Duration::from_secs(10), |s| s.0),
        })
    }
}

/// `n` connections a minute from one source, `n` of them back to back.
fn per_minute(n: u32) -> RateLimitSpec {
    let n = Positive::new_const(n);
    RateLimitSpec {
        rate: n,
        per: crate::spec::Dur::from_secs(60),
        burst: n,
        sources: Positive::new_const(65_536),
    }
}

/// Where a field may be written in a `config.json`, most specific first:
/// a probe's timeout comes from the Go design's one `request_timeout` when
/// the file sets no `health_check_timeout`, and from the interval's cap.
pub(super) fn paths(field: Field) -> Vec<Vec<Seg<'static>>> {
    let mut found = vec![path(field)];
    if field == Field::HealthTimeout {
        found.push(vec![Seg::Field("request_timeout")]);
        found.push(vec![Seg::Field("health_check_interval")]);
    }
    found
}

/// Where a field is written in a `config.json`.
fn path(field: Field) -> Vec<Seg<'static>> {
    match field {
        Field::Listen => vec![Seg::Field("listen_addr")],
        Field::TlsCert => vec![Seg::Field("tls_cert_file")],
        Field::TlsKey => vec![Seg::Field("tls_key_file")],
        Field::Backends => vec![Seg::Field("servers")],
        Field::BackendAddress(i) => {
            vec![Seg::Field("servers"), Seg::Item(i), Seg::Field("address")]
        }
        Field::BackendName(i) => vec![Seg::Field("servers"), Seg::Item(i), Seg::Field("name")],
        Field::HealthInterval | Field::HealthJitter => vec![Seg::Field("health_check_interval")],
        Field::HealthTimeout => vec![Seg::Field("health_check_timeout")],
        Field::IdleTimeout => vec![Seg::Field("idle_timeout")],
        Field::HealthPath => vec![Seg::Field("health_check_path")],
        Field::RateLimit => vec![Seg::Field("max_connections_per_minute")],
        Field::Filter => vec![Seg::Field("ip_filter_list")],
    }
}
