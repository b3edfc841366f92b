//! What a balancer wraps around its algorithm so the pool survives its
//! backends, as HAProxy, Envoy and nginx do: slow start, passive outlier
//! ejection, a connection limit with a queue, the panic threshold,
//! redispatch of unanswered handshakes, and sticky sessions. Every one is
//! off by default (the source design has none).

use super::values::{Dur, Positive};
use serde::{Deserialize, Serialize};

/// The resilience settings of a balancer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResilienceSpec {
    /// A backend that comes up takes new connections gradually: its share
    /// ramps linearly from nothing to all of it over this window.
    pub slow_start: Option<Dur>,
    /// Backends that fail connections in a row are taken out for a while.
    pub outlier_ejection: Option<OutlierSpec>,
    /// A cap on each backend's connections, with a queue at the balancer
    /// for the SYNs that find their backend full.
    pub queue: Option<QueueSpec>,
    /// Below this percentage of backends eligible, balance over every
    /// backend in the pool, healthy or not (Envoy's panic mode).
    pub panic_threshold: Option<Percent>,
    /// Unanswered SYNs of one connection a backend gets before the next
    /// is sent to another backend (HAProxy's `option redispatch`).
    pub redispatch: Option<Positive>,
    /// New connections from a source address go to its last backend
    /// while that is eligible, until the source has been quiet this long.
    pub sticky: Option<Dur>,
}

/// Passive outlier ejection (Envoy's consecutive-failure detector): a
/// backend with `consecutive_failures` failed connects or resets in a row
/// is ejected for `base_ejection` × the times it has been ejected, at most
/// `max_ejection`; never more than `max_ejected_percent` of the pool (but
/// always one when any may go), and never the last eligible backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutlierSpec {
    /// Failures in a row that eject a backend.
    #[serde(default = "default_failures")]
    pub consecutive_failures: Positive,
    /// The first ejection's length; the n-th lasts n times as long.
    #[serde(default = "default_base_ejection")]
    pub base_ejection: Dur,
    /// The longest an ejection lasts.
    #[serde(default = "default_max_ejection")]
    pub max_ejection: Dur,
    /// The most of the pool ejected at once, in per cent.
    #[serde(default = "default_max_percent")]
    pub max_ejected_percent: Percent,
}

fn default_failures() -> Positive {
    Positive::new_const(5)
}
fn default_base_ejection() -> Dur {
    Dur::from_secs(10)
}
fn default_max_ejection() -> Dur {
    Dur::from_secs(300)
}
fn default_max_percent() -> Percent {
    Percent::new_const(10)
}

impl Default for OutlierSpec {
    fn default() -> Self {
        OutlierSpec {
            consecutive_failures: default_failures(),
            base_ejection: default_base_ejection(),
            max_ejection: default_max_ejection(),
            max_ejected_percent: default_max_percent(),
        }
    }
}

/// HAProxy's `maxconn` and `maxqueue` with `timeout queue`: a backend with
/// `max_connections` connections takes no new one, and a SYN for it waits
/// at the balancer (at most `size` wait) until a connection anywhere ends,
/// or for `timeout`, after which it is dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSpec {
    /// Connections (half-open and established) a backend may hold.
    pub max_connections: Positive,
    /// SYNs that may wait at once.
    #[serde(default = "default_queue_size")]
    pub size: Positive,
    /// How long a SYN may wait.
    #[serde(default = "default_queue_timeout")]
    pub timeout: Dur,
}

fn default_queue_size() -> Positive {
    Positive::new_const(1024)
}
fn default_queue_timeout() -> Dur {
    Dur::from_secs(5)
}

/// A whole percentage from 0 to 100.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Percent(u8);

impl Percent {
    /// A percentage known to be in range; above 100 becomes 100.
    pub const fn new_const(p: u8) -> Percent {
        Percent(if p > 100 { 100 } else { p })
    }
    /// `p`, if it is at most 100.
    pub const fn new(p: u8) -> Option<Percent> {
        if p <= 100 { Some(Percent(p)) } else { None }
    }
    /// The percentage.
    pub const fn get(self) -> u8 {
        self.0
    }
    /// `of` × this percentage, rounded down.
    pub const fn of(self, of: usize) -> usize {
        of * self.0 as usize / 100
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Percent, D::Error> {
        let n = i64::deserialize(d)?;
        u8::try_from(n).ok().and_then(Percent::new).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "expected a whole percentage from 0 to 100, found {n}"
            ))
        })
    }
}

impl std::fmt::Display for Percent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}%", self.0)
    }
}
