//! The settings in force, typed, as a Snapshot carries them: what the
//! timeouts editor starts from, what the header lists, what a key toggles.

use crate::model::SimDuration;
use crate::spec::{
    Algorithm, CookieMode, FilterSpec, HealthSpec, OnBackendDown, RateLimitSpec, ResilienceSpec,
    RetransmitMode, Timeout,
};
use serde::{Deserialize, Serialize};

/// Every setting a command can change, as it stands now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// The algorithm in use.
    pub algorithm: Algorithm,
    /// Client wait for SYN|ACK before resending the SYN.
    pub syn_timeout: SimDuration,
    /// Client wait for an ACK before resending a segment or FIN.
    pub segment_timeout: SimDuration,
    /// Client retransmissions before failure.
    pub max_retransmissions: u32,
    /// Fixed or RFC 6298.
    pub retransmit: RetransmitMode,
    /// Balancer idle timeout of half-open entries.
    pub half_open_timeout: SimDuration,
    /// Balancer idle timeout of established entries.
    pub established_timeout: SimDuration,
    /// Health checks.
    pub health: HealthSpec,
    /// The half-open limit of the first backend (all share one by command).
    pub max_half_open: u32,
    /// What happens to connections of a dead backend.
    pub on_backend_down: OnBackendDown,
    /// What a SYN must pass before it takes a half-open slot.
    pub defences: Defences,
    /// Slow start, outlier ejection, the queue, panic, redispatch and
    /// sticky sessions.
    #[serde(default)]
    pub resilience: ResilienceSpec,
}

impl Settings {
    /// The settings a lab starts with, as its file gives them: what an
    /// engine that cannot be asked (a daemon) shows.
    pub fn of_lab(lab: &crate::spec::Lab) -> Settings {
        let b = &lab.balancer;
        let tcp = &lab.clients.tcp;
        Settings {
            algorithm: b.algorithm,
            syn_timeout: tcp.syn_timeout.get(),
            segment_timeout: tcp.segment_timeout.get(),
            max_retransmissions: tcp.max_retransmissions,
            retransmit: tcp.retransmit,
            half_open_timeout: b.half_open_timeout.get(),
            established_timeout: b.established_timeout.get(),
            health: b.health,
            max_half_open: lab
                .servers
                .expand()
                .first()
                .map_or(0, |s| s.max_half_open.get()),
            on_backend_down: b.on_backend_down,
            defences: Defences {
                validate_packets: b.defences.validate_packets,
                filter: b.defences.filter.clone(),
                rate_limit: b.defences.rate_limit.map(|spec| RateLimitState {
                    spec,
                    sources: 0,
                    evictions: 0,
                }),
                early_drop: b.defences.early_drop,
                syn_cookies: b.defences.syn_cookies,
            },
            resilience: b.resilience,
        }
    }

    /// The value of one timeout.
    pub fn timeout(&self, which: Timeout) -> SimDuration {
        match which {
            Timeout::Syn => self.syn_timeout,
            Timeout::Segment => self.segment_timeout,
            Timeout::HalfOpenIdle => self.half_open_timeout,
            Timeout::EstablishedIdle => self.established_timeout,
            Timeout::HealthInterval => self.health.interval.get(),
            Timeout::HealthTimeout => self.health.timeout.get(),
        }
    }

    /// Sets one timeout (for editors that keep their own copy).
    pub fn set_timeout(&mut self, which: Timeout, to: SimDuration) {
        let dur = crate::spec::Dur(to);
        match which {
            Timeout::Syn => self.syn_timeout = to,
            Timeout::Segment => self.segment_timeout = to,
            Timeout::HalfOpenIdle => self.half_open_timeout = to,
            Timeout::EstablishedIdle => self.established_timeout = to,
            Timeout::HealthInterval => self.health.interval = dur,
            Timeout::HealthTimeout => self.health.timeout = dur,
        }
    }
}

/// The balancer's defences in force.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Defences {
    /// Packets with impossible flags are dropped.
    pub validate_packets: bool,
    /// Source allow and deny lists.
    pub filter: FilterSpec,
    /// The per-source rate limit, if one is set.
    pub rate_limit: Option<RateLimitState>,
    /// Early drop of the oldest half-open entry at the limit.
    pub early_drop: bool,
    /// When SYNs are answered with cookies.
    pub syn_cookies: CookieMode,
}

/// A rate limit in force and how its source table is doing.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateLimitState {
    /// The limit as set.
    pub spec: RateLimitSpec,
    /// Sources remembered now.
    pub sources: usize,
    /// Sources forgotten to make room (each starts over with a full burst).
    pub evictions: u64,
}

impl RateLimitState {
    /// The state of a running limiter, as any engine shows it.
    pub fn of(limiter: &crate::policy::RateLimiter) -> RateLimitState {
        let limit = limiter.limit();
        RateLimitState {
            spec: RateLimitSpec {
                rate: crate::spec::Positive::new_const(limit.rate()),
                per: crate::spec::Dur(limit.per()),
                burst: crate::spec::Positive::new_const(limit.burst()),
                sources: crate::spec::Positive::new_const(
                    u32::try_from(limiter.capacity()).unwrap_or(u32::MAX),
                ),
            },
            sources: limiter.len(),
            evictions: limiter.evictions(),
        }
    }
}
