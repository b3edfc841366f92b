//! Commands: the one way to change a running World. A key press, a lab
//! timeline entry and a script line all become one of these, applied at a
//! simulated time, so a run is fully described by (lab, seed, commands).

use super::algorithm::Algorithm;
use super::balancer::{CookieMode, FilterSpec, HealthSpec, OnBackendDown, RateLimitSpec};
use super::clients::{AttackKind, FloodSpec, RetransmitMode};
use super::network::LinkSpec;
use super::resilience::{OutlierSpec, Percent, QueueSpec};
use super::servers::ServerSpec;
use super::values::{Dur, Positive, Rate};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A timeout or limit that commands can change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Timeout {
    /// Client wait for SYN|ACK before resending the SYN.
    Syn,
    /// Client wait for an ACK before resending a segment or FIN.
    Segment,
    /// Balancer idle timeout of half-open entries.
    HalfOpenIdle,
    /// Balancer idle timeout of established entries.
    EstablishedIdle,
    /// Time between health probes.
    HealthInterval,
    /// Time a health probe may take.
    HealthTimeout,
}

impl Timeout {
    /// Name for logs and editors.
    pub const fn name(self) -> &'static str {
        match self {
            Timeout::Syn => "SYN timeout",
            Timeout::Segment => "segment timeout",
            Timeout::HalfOpenIdle => "half-open idle timeout",
            Timeout::EstablishedIdle => "established idle timeout",
            Timeout::HealthInterval => "health interval",
            Timeout::HealthTimeout => "health timeout",
        }
    }
}

/// Which link a command changes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LinkTarget {
    /// The shared link between clients and the balancer.
    Clients,
    /// The link from the balancer to one server, by name.
    Backend(String),
    /// Every balancer-to-server link.
    AllBackends,
}

/// Whose packets the connection inspector keeps (the dashboard's ladder).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Inspect {
    /// Nobody's: the inspector is off.
    Off,
    /// Client number `n` (from 0).
    Client(u32),
    /// The client behind the newest pick of the server with this name.
    LastPickOf(String),
}

/// A change to the World.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Kill a server by name: it drops everything until revived.
    KillServer(String),
    /// Revive a killed server (and stop draining it).
    ReviveServer(String),
    /// Kill a random running server.
    KillRandomServer,
    /// Stop sending new connections to a server; existing ones continue.
    DrainServer(String),
    /// Set a server's weight.
    SetWeight(String, u32),
    /// Add a server to the pool.
    AddServer(ServerSpec),
    /// Take a server out of the pool for good (it is killed too).
    RemoveServer(String),
    /// Kill one client by index: its connection vanishes without FIN or RST.
    KillClient(u32),
    /// Kill a random live client.
    KillRandomClient,
    /// Switch the balancing algorithm.
    SetAlgorithm(Algorithm),
    /// Change a timeout.
    SetTimeout(Timeout, Dur),
    /// Change how many times clients retransmit before failing.
    SetMaxRetransmissions(u32),
    /// Switch clients between fixed and RFC 6298 retransmission timeouts.
    SetRetransmitMode(RetransmitMode),
    /// Replace all health-check parameters.
    SetHealth(HealthSpec),
    /// Set every backend's half-open admission limit at the balancer.
    SetMaxHalfOpen(u32),
    /// Choose what happens to connections of a backend marked down.
    SetOnBackendDown(OnBackendDown),
    /// Change a link's delay, jitter and loss.
    SetLink(LinkTarget, LinkSpec),
    /// Grow or shrink the closed client population.
    SetPopulation(u32),
    /// Change the open-arrival rate (new connections per second).
    SetArrivalRate(Rate),
    /// Start a SYN flood.
    StartFlood(FloodSpec),
    /// Stop every running flood.
    StopFlood,
    /// Set (or, with `None`, lift) the per-source limit on new connections.
    SetRateLimit(Option<RateLimitSpec>),
    /// Replace the source allow/deny lists.
    SetFilter(FilterSpec),
    /// Turn dropping of packets with impossible flags on or off.
    SetPacketValidation(bool),
    /// Turn early drop of the oldest half-open entries on or off.
    SetEarlyDrop(bool),
    /// Choose when SYNs are answered with cookies.
    SetSynCookies(CookieMode),
    /// Set (or, with `None`, turn off) slow start's ramp.
    SetSlowStart(Option<Dur>),
    /// Set (or turn off) passive outlier ejection.
    SetOutlierEjection(Option<OutlierSpec>),
    /// Set (or turn off) the per-backend connection cap and its queue.
    SetQueue(Option<QueueSpec>),
    /// Set (or turn off) the panic threshold.
    SetPanicThreshold(Option<Percent>),
    /// Set (or turn off) redispatch after this many unanswered SYNs.
    SetRedispatch(Option<Positive>),
    /// Set (or turn off) sticky sessions by source address.
    SetSticky(Option<Dur>),
    /// Choose whose packets the connection inspector keeps: changes
    /// nothing the World does, only what its Snapshot shows.
    Inspect(Inspect),
}

impl Command {
    /// The server the command names, if it names one.
    pub fn server_name(&self) -> Option<&str> {
        match self {
            Command::KillServer(s)
            | Command::ReviveServer(s)
            | Command::DrainServer(s)
            | Command::SetWeight(s, _)
            | Command::RemoveServer(s)
            | Command::SetLink(LinkTarget::Backend(s), _) => Some(s),
            Command::AddServer(spec) => Some(&spec.name),
            _ => None,
        }
    }
}

impl fmt::Display for Command {
    /// A short human description for the event log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::KillServer(s) => write!(f, "kill {s}"),
            Command::ReviveServer(s) => write!(f, "revive {s}"),
            Command::KillRandomServer => f.write_str("kill a random server"),
            Command::DrainServer(s) => write!(f, "drain {s}"),
            Command::SetWeight(s, w) => write!(f, "set weight of {s} to {w}"),
            Command::AddServer(s) => write!(f, "add server {}", s.name),
            Command::RemoveServer(s) => write!(f, "remove {s}"),
            Command::KillClient(c) => write!(f, "kill client {c}"),
            Command::Inspect(Inspect::Off) => f.write_str("inspector off"),
            Command::Inspect(Inspect::Client(c)) => write!(f, "inspect client {c}"),
            Command::Inspect(Inspect::LastPickOf(s)) => write!(f, "inspect {s}'s last pick"),
            Command::KillRandomClient => f.write_str("kill a random client"),
            Command::SetAlgorithm(a) => write!(f, "algorithm -> {a}"),
            Command::SetTimeout(t, d) => write!(f, "{} -> {d}", t.name()),
            Command::SetMaxRetransmissions(n) => write!(f, "max retransmissions -> {n}"),
            Command::SetRetransmitMode(RetransmitMode::Fixed) => {
                f.write_str("retransmit timeouts -> fixed")
            }
            Command::SetRetransmitMode(RetransmitMode::Rfc6298 { .. }) => {
                f.write_str("retransmit timeouts -> RFC 6298 backoff")
            }
            Command::SetHealth(h) => write_health(f, h),
            Command::SetMaxHalfOpen(n) => write!(f, "max half-open -> {n}"),
            Command::SetOnBackendDown(OnBackendDown::Reset) => {
                f.write_str("on backend down -> reset")
            }
            Command::SetOnBackendDown(OnBackendDown::Timeout) => {
                f.write_str("on backend down -> leave to time out")
            }
            Command::SetLink(target, l) => write_link(f, target, l),
            Command::SetPopulation(n) => write!(f, "population -> {n} clients"),
            Command::SetArrivalRate(r) => write!(f, "arrival rate -> {}/s", r.get()),
            Command::StartFlood(fl) => write_flood(f, fl),
            Command::StopFlood => f.write_str("stop every flood"),
            Command::SetRateLimit(None) => f.write_str("rate limit off"),
            Command::SetRateLimit(Some(r)) => write_rate_limit(f, r),
            Command::SetFilter(filter) => {
                let ranges = |n: usize| if n == 1 { "range" } else { "ranges" };
                let (allow, deny) = (filter.allow.len(), filter.deny.len());
                write!(
                    f,
                    "source filter -> allow {allow} {}, deny {deny} {}",
                    ranges(allow),
                    ranges(deny)
                )
            }
            Command::SetSynCookies(mode) => write!(f, "SYN cookies -> {}", mode.name()),
            Command::SetEarlyDrop(on) => {
                write!(f, "early drop {}", if *on { "on" } else { "off" })
            }
            Command::SetPacketValidation(on) => {
                write!(f, "packet validation {}", if *on { "on" } else { "off" })
            }
            Command::SetSlowStart(None) => f.write_str("slow start off"),
            Command::SetSlowStart(Some(d)) => write!(f, "slow start over {d}"),
            Command::SetOutlierEjection(None) => f.write_str("outlier ejection off"),
            Command::SetOutlierEjection(Some(o)) => write!(
                f,
                "outlier ejection after {} failures in a row, for {} x times ejected (at most {}, {} of the pool)",
                o.consecutive_failures.get(),
                o.base_ejection,
                o.max_ejection,
                o.max_ejected_percent
            ),
            Command::SetQueue(None) => f.write_str("connection cap and queue off"),
            Command::SetQueue(Some(q)) => write!(
                f,
                "at most {} connections per backend, {} SYNs waiting up to {}",
                q.max_connections.get(),
                q.size.get(),
                q.timeout
            ),
            Command::SetPanicThreshold(None) => f.write_str("panic threshold off"),
            Command::SetPanicThreshold(Some(p)) => {
                write!(f, "panic below {p} of backends eligible")
            }
            Command::SetRedispatch(None) => f.write_str("redispatch off"),
            Command::SetRedispatch(Some(n)) if n.get() == 1 => {
                f.write_str("redispatch after 1 unanswered SYN")
            }
            Command::SetRedispatch(Some(n)) => {
                write!(f, "redispatch after {} unanswered SYNs", n.get())
            }
            Command::SetSticky(None) => f.write_str("sticky sessions off"),
            Command::SetSticky(Some(d)) => write!(f, "sticky sessions for {d}"),
        }
    }
}

/// A command applied at a simulated time: `At("30s", KillServer("srv-3"))`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TimedCommand {
    /// Apply the command at this time after the start.
    At(Dur, Command),
}

impl TimedCommand {
    /// When it applies.
    pub fn at(&self) -> Dur {
        match self {
            TimedCommand::At(d, _) => *d,
        }
    }

    /// What it applies.
    pub fn command(&self) -> &Command {
        match self {
            TimedCommand::At(_, c) => c,
        }
    }
}

/// Where a command came from, for the event log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Origin {
    /// Typed or pressed by a person (or sent by a program).
    User,
    /// The lab's timeline.
    Timeline,
    /// A command script given to `lblab run --commands`.
    Script,
}

impl Origin {
    /// The prefix its log lines carry (`timeline: `).
    pub const fn tag(self) -> &'static str {
        match self {
            Origin::User => "",
            Origin::Timeline => "timeline: ",
            Origin::Script => "script: ",
        }
    }
}

/// A flood by its kind's own name, with what it sends: only a spoofed SYN
/// flood has spoofed sources (the other kinds open real connections from
/// real client addresses, and ignore `sources`).
fn write_flood(f: &mut fmt::Formatter<'_>, fl: &FloodSpec) -> fmt::Result {
    let (kind, rate) = (fl.kind.name(), fl.rate.get());
    match fl.kind {
        AttackKind::SpoofedSyn => {
            let n = fl.sources.get();
            let plural = if n == 1 { "" } else { "s" };
            write!(f, "start {kind}: {rate} SYNs/s from {n} source{plural}")
        }
        AttackKind::ConnectionFlood => {
            write!(f, "start {kind}: {rate} connections/s, each held open idle")
        }
        AttackKind::SlowSenders => write!(
            f,
            "start {kind}: {rate} connections/s, each trickling a segment every 1.5s"
        ),
    }
}

fn write_health(f: &mut fmt::Formatter<'_>, h: &HealthSpec) -> fmt::Result {
    write!(
        f,
        "health checks -> every {} timeout {} rise {} fall {}",
        h.interval,
        h.timeout,
        h.rise.get(),
        h.fall.get()
    )
}

fn write_link(f: &mut fmt::Formatter<'_>, target: &LinkTarget, l: &LinkSpec) -> fmt::Result {
    let name = match target {
        LinkTarget::Clients => "client link".to_string(),
        LinkTarget::Backend(s) => format!("link to {s}"),
        LinkTarget::AllBackends => "backend links".to_string(),
    };
    write!(
        f,
        "{name} -> delay {} jitter {} loss {:.1}%",
        l.delay,
        l.jitter,
        l.loss.get() * 100.0
    )
}

fn write_rate_limit(f: &mut fmt::Formatter<'_>, r: &RateLimitSpec) -> fmt::Result {
    write!(
        f,
        "rate limit -> {} new connections per {} per source, burst {}",
        r.rate.get(),
        r.per,
        r.burst.get()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip_through_ron() {
        let cmds = vec![
            Command::KillServer("srv-3".into()),
            Command::SetTimeout(Timeout::Syn, Dur::from_millis(250)),
            Command::SetAlgorithm(Algorithm::LeastConnections),
            Command::SetLink(LinkTarget::Clients, LinkSpec::default()),
            Command::StartFlood(FloodSpec::default()),
        ];
        let text = ron::to_string(&cmds).unwrap();
        let back: Vec<Command> = ron::from_str(&text).unwrap();
        assert_eq!(back, cmds);
        let one: Command = ron::from_str(r#"SetTimeout(Syn, "1s")"#).unwrap();
        assert_eq!(one, Command::SetTimeout(Timeout::Syn, Dur::from_secs(1)));
    }

    #[test]
    fn commands_describe_themselves() {
        assert_eq!(
            Command::KillServer("srv-3".into()).to_string(),
            "kill srv-3"
        );
        assert_eq!(
            Command::SetTimeout(Timeout::Segment, Dur::from_millis(700)).to_string(),
            "segment timeout -> 700ms"
        );
    }

    #[test]
    fn each_attack_kind_is_logged_by_its_own_name() {
        let flood = |kind| {
            Command::StartFlood(FloodSpec {
                kind,
                ..FloodSpec::default()
            })
            .to_string()
        };
        // Only the spoofed kind may say "spoofed": the others were once
        // logged as "SYN flood ... from 1000 spoofed sources" too.
        assert_eq!(
            flood(AttackKind::SpoofedSyn),
            "start spoofed SYN flood: 1000 SYNs/s from 1000 sources"
        );
        assert_eq!(
            flood(AttackKind::ConnectionFlood),
            "start connection flood: 1000 connections/s, each held open idle"
        );
        assert_eq!(
            flood(AttackKind::SlowSenders),
            "start slow senders: 1000 connections/s, each trickling a segment every 1.5s"
        );
        assert_eq!(Command::StopFlood.to_string(), "stop every flood");
    }
}
