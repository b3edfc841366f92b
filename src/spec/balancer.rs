//! The balancer: algorithm, conn-table timeouts, health checks, and the
//! defences a SYN must pass before it takes a half-open slot.

use super::algorithm::Algorithm;
use super::resilience::ResilienceSpec;
use super::values::{Dur, Positive};
use crate::model::Cidr;
use serde::{Deserialize, Serialize};

/// What the balancer does to live connections when health checks mark
/// their backend down.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OnBackendDown {
    /// Forget the conn-table entries silently; clients find out by timing out
    /// (the source design's behaviour).
    #[default]
    Timeout,
    /// Forget the entries and send an RST to every client the backend had
    /// answered, so they fail fast and can reconnect elsewhere; a client
    /// still waiting for its SYN|ACK retries, and its SYN goes to a healthy
    /// backend.
    Reset,
}

/// The NAT balancer: algorithm, conn-table timeouts and health checks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BalancerSpec {
    /// How a backend is chosen for each new connection.
    pub algorithm: Algorithm,
    /// Idle time after which a half-open conn-table entry is swept.
    pub half_open_timeout: Dur,
    /// Idle time after which an established conn-table entry is swept.
    pub established_timeout: Dur,
    /// What happens to live connections when their backend is marked down.
    pub on_backend_down: OnBackendDown,
    /// Active health checking of every backend.
    pub health: HealthSpec,
    /// What the balancer checks before a new connection may take a
    /// half-open slot.
    pub defences: DefencesSpec,
    /// Slow start, outlier ejection, a queue, the panic threshold,
    /// redispatch and sticky sessions.
    pub resilience: ResilienceSpec,
}

/// Checks a SYN must pass before it takes a half-open slot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DefencesSpec {
    /// Drop packets with flags no TCP stack sends together (SYN with FIN or
    /// RST, FIN with RST, or no flag at all).
    pub validate_packets: bool,
    /// Source addresses allowed and denied (CIDR; deny beats allow; an
    /// empty allow list allows every source not denied).
    pub filter: FilterSpec,
    /// New connections allowed per source address.
    pub rate_limit: Option<RateLimitSpec>,
    /// At a backend's half-open limit, forget its oldest half-open entry to
    /// admit the new SYN (IPVS's drop_entry) instead of dropping the SYN.
    pub early_drop: bool,
    /// When the balancer answers SYNs with SYN cookies and keeps no state:
    /// `Off`, `OnOverflow` (only at a backend's half-open limit), `Always`.
    pub syn_cookies: CookieMode,
}

impl Default for DefencesSpec {
    fn default() -> Self {
        DefencesSpec {
            validate_packets: true,
            filter: FilterSpec::default(),
            rate_limit: None,
            early_drop: false,
            syn_cookies: CookieMode::Off,
        }
    }
}

/// A per-source limit on new connections (GCRA): `rate` per `per`, with
/// bursts of up to `burst`, remembering at most `sources` addresses.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSpec {
    /// Connections allowed per period.
    pub rate: Positive,
    /// The period.
    pub per: Dur,
    /// Connections allowed back to back.
    #[serde(default = "default_burst")]
    pub burst: Positive,
    /// Sources remembered at once; past it the one closest to good standing
    /// is forgotten.
    #[serde(default = "default_sources")]
    pub sources: Positive,
}

fn default_burst() -> Positive {
    Positive::new_const(1)
}

fn default_sources() -> Positive {
    Positive::new_const(65_536)
}

impl Default for BalancerSpec {
    fn default() -> Self {
        BalancerSpec {
            algorithm: Algorithm::RoundRobin,
            half_open_timeout: Dur::from_secs(2),
            established_timeout: Dur::from_secs(2),
            on_backend_down: OnBackendDown::Timeout,
            health: HealthSpec::default(),
            defences: DefencesSpec::default(),
            resilience: ResilienceSpec::default(),
        }
    }
}

/// Health-check parameters: a probe every `interval`, failed after
/// `timeout`; `rise` successes mark a backend up, `fall` failures down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthSpec {
    /// Time between probes to one backend.
    pub interval: Dur,
    /// How long a probe may take before it counts as failed.
    pub timeout: Dur,
    /// Consecutive successes that bring a down backend up.
    pub rise: Positive,
    /// Consecutive failures that take an up backend down.
    pub fall: Positive,
}

impl Default for HealthSpec {
    fn default() -> Self {
        HealthSpec {
            interval: Dur::from_millis(500),
            timeout: Dur::from_millis(250),
            rise: Positive::new_const(2),
            fall: Positive::new_const(3),
        }
    }
}

/// Source addresses allowed and denied, as CIDR prefixes: deny beats allow,
/// and an empty allow list allows every source not denied.
///
/// Written `(allow: ["10.0.0.0/8"], deny: ["10.0.0.1/32"])`, both lists
/// optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilterSpec {
    /// Prefixes allowed; empty allows every source not denied.
    pub allow: Vec<Cidr>,
    /// Prefixes denied, whatever the allow list says.
    pub deny: Vec<Cidr>,
}

impl FilterSpec {
    /// Neither list has a prefix: every source passes.
    pub fn is_empty(&self) -> bool {
        self.allow.is_empty() && self.deny.is_empty()
    }
}

/// When the balancer answers SYNs with cookies instead of keeping state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CookieMode {
    /// Never.
    #[default]
    Off,
    /// Only for a SYN whose backend is at its half-open limit.
    OnOverflow,
    /// For every SYN.
    Always,
}

impl CookieMode {
    /// Short name for headers and logs.
    pub const fn name(self) -> &'static str {
        match self {
            CookieMode::Off => "off",
            CookieMode::OnOverflow => "on overflow",
            CookieMode::Always => "always",
        }
    }

    /// The next mode in the order the dashboard key cycles through.
    pub const fn next(self) -> CookieMode {
        match self {
            CookieMode::Off => CookieMode::OnOverflow,
            CookieMode::OnOverflow => CookieMode::Always,
            CookieMode::Always => CookieMode::Off,
        }
    }
}
