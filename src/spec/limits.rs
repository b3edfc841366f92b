//! The bounds that keep every world finite: the simulated clock always
//! advances, and nothing allocates without limit.
//!
//! One table for every way a value gets in (a lab's fields, its timeline,
//! a command script, the dashboard's editors): the lab checker, the script
//! checker and the World's `apply` all call [`check_command`] and the
//! `check_*` helpers here, so a value refused in one place is refused in
//! all, with the same words.

use super::balancer::HealthSpec;
use super::clients::{AttackKind, FloodSpec, MAX_FLOOD_SOURCES, MAX_POPULATION};
use super::command::{Command, Timeout};
use super::network::LinkSpec;
use super::values::{Dur, format_duration};
use crate::model::SimDuration;

/// The shortest link delay: with every delay at zero a round trip takes no
/// simulated time and the clock can stop while events pile up.
pub const MIN_LINK_DELAY: SimDuration = SimDuration::from_micros(1);

/// The shortest timeout (SYN, segment, idle, health probe): a shorter one
/// fires before any round trip can complete.
pub const MIN_TIMEOUT: SimDuration = SimDuration::from_millis(1);

/// The shortest time between two health probes to one backend: below it
/// probes alone outnumber every other event.
pub const MIN_HEALTH_INTERVAL: SimDuration = SimDuration::from_millis(10);

/// The longest a lab may last (`duration`, and the time of any timeline
/// entry): a day of simulated time.
pub const MAX_DURATION: SimDuration = SimDuration::from_secs(24 * 3600);

/// The most servers in a pool, from the lab or added later.
pub const MAX_SERVERS: u32 = 10_000;

/// The fastest open-arrival rate, new connections per second. Every
/// arrival takes a client address for good, so even at this rate the 16.7
/// million addresses last 16 s.
pub const MAX_ARRIVAL_RATE: f64 = 1_000_000.0;

/// The fastest flood, packets or connections per second.
pub const MAX_FLOOD_RATE: f64 = 10_000_000.0;

/// Client addresses the simulation can hand out (10.0.0.0/8 less two):
/// the most clients alive at once, whatever their workload.
pub const MAX_CLIENT_ADDRESSES: usize = (1 << 24) - 2;

/// The largest segment a client sends, in bytes (a sequence-number window
/// of 2³¹ keeps it unambiguous).
pub const MAX_SEGMENT_SIZE: u64 = (u32::MAX / 2) as u64;

/// A value out of its bounds: which part of the command it is in (a field
/// name, for pointing into a file) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The field within the command's value, when it has one.
    pub field: Option<&'static str>,
    /// What is wrong.
    pub message: String,
}

impl Refusal {
    fn whole(message: String) -> Refusal {
        Refusal {
            field: None,
            message,
        }
    }

    fn at(field: &'static str, message: String) -> Refusal {
        Refusal {
            field: Some(field),
            message,
        }
    }
}

fn show(d: SimDuration) -> String {
    format_duration(d)
}

/// A rate as people write it: `2500`, `0.5`, or `1e308` rather than three
/// hundred digits.
pub fn show_rate(rate: f64) -> String {
    let plain = format!("{rate}");
    if plain.len() > 15 {
        format!("{rate:e}")
    } else {
        plain
    }
}

/// The shortest value `timeout` may take.
pub const fn min_timeout(timeout: Timeout) -> SimDuration {
    match timeout {
        Timeout::HealthInterval => MIN_HEALTH_INTERVAL,
        _ => MIN_TIMEOUT,
    }
}

/// A timeout's value against its floor.
pub fn check_timeout(timeout: Timeout, d: Dur) -> Result<(), String> {
    let min = min_timeout(timeout);
    if d.get() < min {
        return Err(format!(
            "the {} must be at least {}, found {}",
            timeout.name(),
            show(min),
            show(d.get())
        ));
    }
    if d.get() > MAX_DURATION {
        return Err(format!(
            "the {} must be at most {}, found {}",
            timeout.name(),
            show(MAX_DURATION),
            show(d.get())
        ));
    }
    Ok(())
}

/// A link's delay against its floor.
pub fn check_link(link: &LinkSpec) -> Result<(), Refusal> {
    if link.delay.get() < MIN_LINK_DELAY {
        return Err(Refusal::at(
            "delay",
            format!(
                "a link's delay must be at least {}, found {} (a round trip must take time)",
                show(MIN_LINK_DELAY),
                show(link.delay.get())
            ),
        ));
    }
    if link.delay.get() > MAX_DURATION || link.jitter.get() > MAX_DURATION {
        return Err(Refusal::at(
            "delay",
            format!(
                "a link's delay and jitter must be at most {}",
                show(MAX_DURATION)
            ),
        ));
    }
    Ok(())
}

/// Health-check timers against their floors.
pub fn check_health(health: &HealthSpec) -> Result<(), Refusal> {
    check_timeout(Timeout::HealthInterval, health.interval)
        .map_err(|m| Refusal::at("interval", m))?;
    check_timeout(Timeout::HealthTimeout, health.timeout).map_err(|m| Refusal::at("timeout", m))
}

/// A resilience time against the 1 ms floor: shorter would make the
/// setting a no-op or a storm of events.
fn check_floor(what: &str, d: super::Dur) -> Result<(), String> {
    if d.get() < MIN_TIMEOUT {
        return Err(format!(
            "{what} must be at least {}, found {}",
            show(MIN_TIMEOUT),
            show(d.get())
        ));
    }
    Ok(())
}

/// Outlier ejection's times: each at least the floor, and the longest
/// ejection no shorter than the first.
pub fn check_outlier(o: &super::OutlierSpec) -> Result<(), Refusal> {
    check_floor("an ejection", o.base_ejection).map_err(|m| Refusal::at("base_ejection", m))?;
    if o.max_ejection.get() < o.base_ejection.get() {
        return Err(Refusal::at(
            "max_ejection",
            format!(
                "the longest ejection ({}) must be at least the first ({})",
                show(o.max_ejection.get()),
                show(o.base_ejection.get())
            ),
        ));
    }
    Ok(())
}

/// Every resilience setting of a lab: the name of the setting at fault and
/// what is wrong within it.
pub fn check_resilience(r: &super::ResilienceSpec) -> Result<(), (&'static str, Refusal)> {
    if let Some(d) = r.slow_start {
        check_floor("slow start", d).map_err(|m| ("slow_start", Refusal::whole(m)))?;
    }
    if let Some(d) = r.sticky {
        check_floor("a sticky session", d).map_err(|m| ("sticky", Refusal::whole(m)))?;
    }
    if let Some(q) = r.queue {
        check_floor("the queue timeout", q.timeout)
            .map_err(|m| ("queue", Refusal::at("timeout", m)))?;
    }
    if let Some(o) = &r.outlier_ejection {
        check_outlier(o).map_err(|e| ("outlier_ejection", e))?;
    }
    Ok(())
}

/// A flood's rate and sources.
pub fn check_flood(flood: &FloodSpec) -> Result<(), Refusal> {
    let rate = flood.rate.get();
    if rate <= 0.0 {
        return Err(Refusal::at(
            "rate",
            "a flood needs a rate above 0 per second".to_string(),
        ));
    }
    if rate > MAX_FLOOD_RATE {
        return Err(Refusal::at(
            "rate",
            format!(
                "a flood's rate must be at most {MAX_FLOOD_RATE:.0} per second, found {}",
                show_rate(rate)
            ),
        ));
    }
    if flood.kind == AttackKind::SpoofedSyn && flood.sources.get() > MAX_FLOOD_SOURCES {
        return Err(Refusal::at(
            "sources",
            format!(
                "at most {MAX_FLOOD_SOURCES} spoofed sources (the 198.18.0.0/15 range), found {}",
                flood.sources.get()
            ),
        ));
    }
    Ok(())
}

/// An open-arrival rate.
pub fn check_arrival_rate(rate: f64) -> Result<(), String> {
    if rate > MAX_ARRIVAL_RATE {
        return Err(format!(
            "the arrival rate must be at most {MAX_ARRIVAL_RATE:.0} per second, found {}",
            show_rate(rate)
        ));
    }
    Ok(())
}

/// A closed population.
pub fn check_population(n: u32) -> Result<(), String> {
    if n > MAX_POPULATION {
        return Err(format!("at most {MAX_POPULATION} clients, found {n}"));
    }
    Ok(())
}

/// A server's name.
pub fn check_server_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("a server needs a name".to_string());
    }
    Ok(())
}

/// The values inside `cmd` against their bounds. Whether a named server
/// exists at that moment is for the caller, who knows the pool.
pub fn check_command(cmd: &Command) -> Result<(), Refusal> {
    match cmd {
        Command::SetTimeout(timeout, d) => check_timeout(*timeout, *d).map_err(Refusal::whole),
        Command::SetHealth(health) => check_health(health),
        Command::SetLink(_, link) => check_link(link),
        Command::StartFlood(flood) => check_flood(flood),
        Command::SetArrivalRate(rate) => check_arrival_rate(rate.get()).map_err(Refusal::whole),
        Command::SetPopulation(n) => check_population(*n).map_err(Refusal::whole),
        Command::SetSlowStart(Some(d)) => check_floor("slow start", *d).map_err(Refusal::whole),
        Command::SetSticky(Some(d)) => check_floor("a sticky session", *d).map_err(Refusal::whole),
        Command::SetQueue(Some(q)) => {
            check_floor("the queue timeout", q.timeout).map_err(|m| Refusal::at("timeout", m))
        }
        Command::SetOutlierEjection(Some(o)) => check_outlier(o),
        Command::AddServer(spec) => {
            check_server_name(&spec.name).map_err(|m| Refusal::at("name", m))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Positive, Rate, ServerSpec};

    fn refused(cmd: Command) -> String {
        match check_command(&cmd) {
            Ok(()) => panic!("{cmd:?} was accepted"),
            Err(r) => match r.field {
                Some(f) => format!("{f}: {}", r.message),
                None => r.message,
            },
        }
    }

    #[test]
    fn zero_timers_are_refused_with_their_floor() {
        assert_eq!(
            refused(Command::SetTimeout(Timeout::Syn, Dur::ZERO)),
            "the SYN timeout must be at least 1ms, found 0ns"
        );
        assert_eq!(
            refused(Command::SetTimeout(
                Timeout::HealthInterval,
                Dur::from_millis(5)
            )),
            "the health interval must be at least 10ms, found 5ms"
        );
        assert!(check_command(&Command::SetTimeout(Timeout::Syn, Dur::from_millis(1))).is_ok());
    }

    #[test]
    fn floods_need_a_rate_within_bounds_and_sources_that_fit() {
        let flood = |rate: f64, sources: u32| {
            Command::StartFlood(FloodSpec {
                rate: Rate::new(rate).unwrap_or(Rate::new_const(0.0)),
                sources: Positive::new_const(sources),
                ..FloodSpec::default()
            })
        };
        assert_eq!(
            refused(flood(0.0, 10)),
            "rate: a flood needs a rate above 0 per second"
        );
        assert_eq!(
            refused(flood(1e308, 10)),
            "rate: a flood's rate must be at most 10000000 per second, found 1e308"
        );
        assert_eq!(
            refused(flood(100.0, u32::MAX)),
            "sources: at most 131072 spoofed sources (the 198.18.0.0/15 range), found 4294967295"
        );
        assert!(check_command(&flood(MAX_FLOOD_RATE, MAX_FLOOD_SOURCES)).is_ok());
    }

    #[test]
    fn populations_and_rates_are_capped() {
        assert_eq!(
            refused(Command::SetPopulation(20_000_000)),
            "at most 10000000 clients, found 20000000"
        );
        assert_eq!(
            refused(Command::SetArrivalRate(Rate::new_const(1e9))),
            "the arrival rate must be at most 1000000 per second, found 1000000000"
        );
    }

    #[test]
    fn a_server_added_needs_a_name() {
        let spec = ServerSpec {
            name: " ".to_string(),
            ..ServerSpec::default()
        };
        assert_eq!(
            refused(Command::AddServer(spec)),
            "name: a server needs a name"
        );
    }

    #[test]
    fn a_link_without_delay_is_refused() {
        let link = LinkSpec {
            delay: Dur::ZERO,
            ..LinkSpec::default()
        };
        assert_eq!(
            refused(Command::SetLink(crate::spec::LinkTarget::Clients, link)),
            "delay: a link's delay must be at least 1us, found 0ns (a round trip must take time)"
        );
    }
}
