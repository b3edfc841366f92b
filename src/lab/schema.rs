//! The lab file schema: what a `.ron` lab may say, with the source design's
//! defaults for everything it leaves out.
//!
//! Range checks live in the value types (`Dur`, `Probability`, `Rate`,
//! `Positive`), so a bad value fails while RON is still parsing and the error
//! carries the line and column of the offending value.
//!
//! Every struct, and every enum with struct variants, denies unknown fields:
//! a misspelt field is an error, never a silently kept default.

use super::lesson::{Lesson, Objective, TimedCommand};
use super::values::{Dur, Positive, Probability, Rate};
use crate::policy::{Algorithm, IpFilter, RateLimit};
use crate::sim::CookieMode;
use serde::{Deserialize, Serialize};

/// A complete lab: network, balancer, servers, clients and seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lab {
    /// Short name shown in the header and reports.
    pub name: String,
    /// One line on what the lab shows.
    #[serde(default)]
    pub summary: String,
    /// Seed of the World's random stream; `--seed` overrides it.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// How long a headless run lasts; `None` runs until every finite
    /// workload has finished.
    #[serde(default)]
    pub duration: Option<Dur>,
    /// Links between clients, balancer and servers.
    #[serde(default)]
    pub network: NetworkSpec,
    /// The NAT balancer in front of the servers.
    #[serde(default)]
    pub balancer: BalancerSpec,
    /// The backend servers.
    #[serde(default)]
    pub servers: ServersSpec,
    /// Who sends traffic, and how their TCP behaves.
    #[serde(default)]
    pub clients: ClientsSpec,
    /// What the lab teaches: paragraphs and numbered steps.
    #[serde(default, skip_serializing_if = "Lesson::is_empty")]
    pub lesson: Lesson,
    /// Commands applied at set times.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<TimedCommand>,
    /// Claims about the run, checked live and in reports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objectives: Vec<Objective>,
}

impl Lab {
    /// A lab called `name` with every other field at its default: the
    /// source design's classic scenario.
    pub fn named(name: &str) -> Lab {
        Lab {
            name: name.to_string(),
            summary: String::new(),
            seed: default_seed(),
            duration: None,
            network: NetworkSpec::default(),
            balancer: BalancerSpec::default(),
            servers: ServersSpec::default(),
            clients: ClientsSpec::default(),
            lesson: Lesson::default(),
            timeline: Vec::new(),
            objectives: Vec::new(),
        }
    }
}

fn default_seed() -> u64 {
    1
}

/// The two link classes: clients to balancer, and balancer to each server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkSpec {
    /// The shared link between all clients and the balancer's VIP.
    pub client_link: LinkSpec,
    /// The link from the balancer to each server (one per server, each
    /// changeable on its own at run time).
    pub backend_link: LinkSpec,
}

/// One-way behaviour of a link, applied to each direction.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinkSpec {
    /// Fixed one-way propagation delay.
    pub delay: Dur,
    /// Extra delay drawn uniformly from `[0, jitter)` per packet.
    pub jitter: Dur,
    /// Probability that a packet is lost, from 0 to 1.
    pub loss: Probability,
}

impl Default for LinkSpec {
    fn default() -> Self {
        LinkSpec {
            delay: Dur::from_millis(1),
            jitter: Dur::ZERO,
            loss: Probability::ZERO,
        }
    }
}

/// What the balancer does to live connections when health checks mark
/// their backend down.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OnBackendDown {
    /// Forget the conn-table entries silently; clients find out by timing out
    /// (the source design's behaviour).
    #[default]
    Timeout,
    /// Send an RST to every client of the backend and forget the entries, so
    /// clients fail fast and can reconnect elsewhere.
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
    pub filter: IpFilter,
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
            filter: IpFilter::default(),
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

impl RateLimitSpec {
    /// The policy's limit, or why these numbers make none.
    pub fn limit(&self) -> Result<RateLimit, String> {
        RateLimit::new(self.rate.get(), self.per.get(), self.burst.get())
    }
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

/// The servers: an explicit list, or one template replicated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ServersSpec {
    /// Each server written out.
    List(Vec<ServerSpec>),
    /// `count` copies of `template`, named `<template name>-1` ...
    Replicate {
        /// How many servers.
        count: Positive,
        /// The server every copy is made from.
        template: ServerSpec,
    },
}

impl Default for ServersSpec {
    fn default() -> Self {
        ServersSpec::Replicate {
            count: Positive::new_const(10),
            template: ServerSpec::default(),
        }
    }
}

impl ServersSpec {
    /// The servers this spec describes, with their final names.
    pub fn expand(&self) -> Vec<ServerSpec> {
        match self {
            ServersSpec::List(list) => list.clone(),
            ServersSpec::Replicate { count, template } => (1..=count.get())
                .map(|i| ServerSpec {
                    name: format!("{}-{i}", template.name),
                    ..template.clone()
                })
                .collect(),
        }
    }
}

/// One backend server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSpec {
    /// Name used in commands, tables and logs (`srv-3`).
    pub name: String,
    /// Relative share for weighted algorithms.
    pub weight: Positive,
    /// Half-open connections the balancer lets this backend have before it
    /// drops new SYNs for it (the source design's `MaxHalfOpen`).
    pub max_half_open: Positive,
    /// The server's own listen backlog of half-open connections.
    pub backlog: Positive,
    /// Established connections the server accepts; past it, SYNs are refused
    /// with RST.
    pub max_connections: Positive,
    /// Segments served at once; the rest wait FIFO.
    pub workers: Positive,
    /// Time one worker spends on one segment.
    pub service_time: Dist<Dur>,
}

impl Default for ServerSpec {
    fn default() -> Self {
        ServerSpec {
            name: "srv".to_string(),
            weight: Positive::new_const(1),
            max_half_open: Positive::new_const(64),
            backlog: Positive::new_const(128),
            max_connections: Positive::new_const(10_000),
            workers: Positive::new_const(4),
            service_time: Dist::Constant(Dur::from_micros(100)),
        }
    }
}

/// A distribution of values (durations, sizes or counts).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Dist<T> {
    /// Always the same value.
    Constant(T),
    /// Uniform between the two values.
    Uniform(T, T),
    /// Exponential with this mean (memoryless: Poisson processes).
    Exponential(T),
    /// Log-normal with this median and shape `sigma` (heavy right tail).
    LogNormal {
        /// The median value.
        median: T,
        /// Standard deviation of the underlying normal; 0 is constant.
        sigma: f64,
    },
}

/// Who sends traffic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientsSpec {
    /// How every client's TCP retransmits.
    pub tcp: TcpSpec,
    /// A fixed population that loops connect, send, close, think.
    pub closed: Option<ClosedSpec>,
    /// New connections arriving at random (Poisson).
    pub open: Option<OpenSpec>,
    /// SYN floods from spoofed sources.
    pub floods: Vec<FloodSpec>,
}

impl Default for ClientsSpec {
    fn default() -> Self {
        ClientsSpec {
            tcp: TcpSpec::default(),
            closed: Some(ClosedSpec::default()),
            open: None,
            floods: Vec::new(),
        }
    }
}

/// Client TCP timers (the source design's defaults: 500 ms SYN, 700 ms
/// segment, 3 retransmissions).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TcpSpec {
    /// Wait for SYN|ACK before retransmitting the SYN.
    pub syn_timeout: Dur,
    /// Wait for a segment's ACK (and for FIN|ACK) before retransmitting.
    pub segment_timeout: Dur,
    /// Retransmissions of one segment before the connection fails.
    pub max_retransmissions: u32,
    /// Fixed timeouts, or RFC 6298 estimation with exponential backoff.
    pub retransmit: RetransmitMode,
}

impl Default for TcpSpec {
    fn default() -> Self {
        TcpSpec {
            syn_timeout: Dur::from_millis(500),
            segment_timeout: Dur::from_millis(700),
            max_retransmissions: 3,
            retransmit: RetransmitMode::Fixed,
        }
    }
}

/// How the retransmission timeout is chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum RetransmitMode {
    /// Always `syn_timeout` / `segment_timeout` (the source design).
    #[default]
    Fixed,
    /// RFC 6298: RTO from smoothed RTT and its variance, doubled on each
    /// retransmission (Karn's rule: no samples from retransmitted segments),
    /// starting at the fixed timeouts, clamped to `[min_rto, max_rto]`.
    Rfc6298 {
        /// Lower bound of the RTO (RFC 6298 says 1 s; Linux uses 200 ms).
        min_rto: Dur,
        /// Upper bound of the RTO.
        max_rto: Dur,
    },
}

/// A closed population: each client connects, sends `segments` segments
/// with `gap` between them (stop-and-wait), closes, thinks, and repeats.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClosedSpec {
    /// Number of clients.
    pub population: u32,
    /// Segments per connection.
    pub segments: Dist<u64>,
    /// Payload bytes per segment.
    pub segment_size: Dist<u64>,
    /// Pause between an ACK and the next segment.
    pub gap: Dist<Dur>,
    /// Pause between closing and the next connection.
    pub think: Dist<Dur>,
    /// Connections each client makes; `None` repeats for ever.
    pub connections: Option<u64>,
    /// Client start times are spread uniformly over `[0, start_spread)`.
    pub start_spread: Dur,
}

impl Default for ClosedSpec {
    fn default() -> Self {
        ClosedSpec {
            population: 100,
            segments: Dist::Constant(5000),
            segment_size: Dist::Constant(1024),
            gap: Dist::Constant(Dur::from_millis(100)),
            think: Dist::Constant(Dur::from_secs(1)),
            connections: Some(1),
            start_spread: Dur::from_millis(100),
        }
    }
}

/// Open arrivals: new one-shot connections at a Poisson rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpenSpec {
    /// New connections per second.
    pub rate: Rate,
    /// Segments per connection.
    pub segments: Dist<u64>,
    /// Payload bytes per segment.
    pub segment_size: Dist<u64>,
    /// Pause between an ACK and the next segment.
    pub gap: Dist<Dur>,
    /// Stop after this many connections; `None` never stops.
    pub limit: Option<u64>,
}

impl Default for OpenSpec {
    fn default() -> Self {
        OpenSpec {
            rate: Rate::new_const(100.0),
            segments: Dist::Constant(10),
            segment_size: Dist::Constant(1024),
            gap: Dist::Constant(Dur::from_millis(10)),
            limit: None,
        }
    }
}

/// A SYN flood: SYNs from spoofed source addresses that never complete the
/// handshake.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FloodSpec {
    /// What the attack does.
    pub kind: AttackKind,
    /// SYNs (or new connections) per second.
    pub rate: Rate,
    /// Distinct spoofed source addresses.
    pub sources: Positive,
    /// When the flood starts.
    pub start: Dur,
    /// How long it lasts; `None` lasts until stopped.
    pub duration: Option<Dur>,
}

/// The kinds of attack a flood makes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AttackKind {
    /// SYNs from spoofed addresses that never complete the handshake.
    #[default]
    SpoofedSyn,
    /// Real connections from real addresses that complete the handshake,
    /// send one segment and then hold the connection idle.
    ConnectionFlood,
    /// Real connections that trickle one small segment every 1.5 s, just
    /// inside the default idle timeout, and never finish.
    SlowSenders,
}

impl AttackKind {
    /// Every kind, in the order the flood popup cycles through.
    pub const ALL: [AttackKind; 3] = [
        AttackKind::SpoofedSyn,
        AttackKind::ConnectionFlood,
        AttackKind::SlowSenders,
    ];

    /// Short name for popups and logs.
    pub const fn name(self) -> &'static str {
        match self {
            AttackKind::SpoofedSyn => "spoofed SYN flood",
            AttackKind::ConnectionFlood => "connection flood",
            AttackKind::SlowSenders => "slow senders",
        }
    }
}

impl Default for FloodSpec {
    fn default() -> Self {
        FloodSpec {
            kind: AttackKind::SpoofedSyn,
            rate: Rate::new_const(1000.0),
            sources: Positive::new_const(1000),
            start: Dur::ZERO,
            duration: None,
        }
    }
}
