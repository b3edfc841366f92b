//! Who sends traffic: closed populations, open arrivals and attacks, and
//! how every client's TCP retransmits.

use super::dist::Dist;
use super::values::{Dur, Positive, Rate};
use serde::{Deserialize, Serialize};

/// The most closed-population clients a lab may ask for: far beyond any
/// useful lab, and well short of exhausting memory at start-up.
pub const MAX_POPULATION: u32 = 10_000_000;

/// Spoofed flood sources come from 198.18.0.0/15, which holds this many
/// addresses.
pub const MAX_FLOOD_SOURCES: u32 = 1 << 17;

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
