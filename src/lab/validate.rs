//! Checks a parsed lab for what its value types cannot see alone: relations
//! between values, and labs that would parse but make no sense to run.
//!
//! Each problem names the field it is about, so the loader can point at the
//! line and column where that field is written.

use super::locate::{Path, Seg};
use crate::policy::RateLimit;
use crate::spec::{
    ClientsSpec, Command, Dist, Dur, Lab, MAX_FLOOD_SOURCES, MAX_POPULATION, Metric,
    RetransmitMode, ServersSpec, TimedCommand, Window, format_duration,
};
use std::collections::HashMap;

/// A lab that parsed but cannot run as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    /// The field the problem is about.
    pub path: Path<'static>,
    /// What is wrong, without the path.
    pub message: String,
    /// Text to point at within the field's value, when the field is a list
    /// whose items have no field names of their own.
    pub needle: Option<String>,
}

fn problem(path: &[Seg<'static>], message: String) -> Result<(), Problem> {
    Err(Problem {
        path: Path(path.to_vec()),
        message,
        needle: None,
    })
}

/// The first problem with `lab`, in the order the fields are written.
pub(crate) fn check(lab: &Lab) -> Result<(), Problem> {
    if lab.name.trim().is_empty() {
        problem(&[Seg::Field("name")], "the lab needs a name".to_string())?;
    }
    check_timers(lab)?;
    if let Some(r) = &lab.balancer.defences.rate_limit
        && let Err(why) = RateLimit::from_spec(r)
    {
        problem(
            &[
                Seg::Field("balancer"),
                Seg::Field("defences"),
                Seg::Field("rate_limit"),
            ],
            why.to_string(),
        )?;
    }
    check_servers(&lab.servers)?;
    check_clients(&lab.clients)?;
    check_timeline(lab)?;
    check_objectives(lab)
}

/// Every server a timeline entry names must exist: in the lab, or added by
/// an earlier `AddServer` entry.
fn check_timeline(lab: &Lab) -> Result<(), Problem> {
    let mut known: Vec<String> = lab.servers.expand().into_iter().map(|s| s.name).collect();
    let mut entries: Vec<(usize, &TimedCommand)> = lab.timeline.iter().enumerate().collect();
    entries.sort_by_key(|(_, e)| e.at());
    for (i, entry) in entries {
        let at = [Seg::Field("timeline"), Seg::Item(i)];
        if let Command::AddServer(spec) = entry.command() {
            known.push(spec.name.clone());
            continue;
        }
        if let Some(name) = entry.command().server_name()
            && !known.iter().any(|k| k == name)
        {
            let mut names = known.clone();
            names.truncate(12);
            return Err(Problem {
                path: Path(at.to_vec()),
                message: format!(
                    "no server is named \"{name}\"; the lab's servers are {}",
                    names.join(", ")
                ),
                needle: Some(format!("\"{name}\"")),
            });
        }
    }
    Ok(())
}

/// Objectives must be answerable: a threshold in range and a window that
/// opens before it closes (and before the lab ends).
fn check_objectives(lab: &Lab) -> Result<(), Problem> {
    for (i, o) in lab.objectives.iter().enumerate() {
        let at = |f: &'static str| [Seg::Field("objectives"), Seg::Item(i), Seg::Field(f)];
        if o.name.trim().is_empty() {
            problem(&at("name"), "an objective needs a name".to_string())?;
        }
        let percent = matches!(o.metric, Metric::SuccessRate | Metric::MaxShare);
        if !o.value.is_finite() || o.value < 0.0 || (percent && o.value > 100.0) {
            let range = if percent {
                "from 0 to 100 (percent)"
            } else {
                "of 0 or more"
            };
            problem(
                &at("value"),
                format!("expected a threshold {range}, found {}", o.value),
            )?;
        }
        if let Window::Between(start, end) = o.window
            && start >= end
        {
            problem(
                &at("window"),
                format!("the window opens at {start} but closes at {end}; it must open first"),
            )?;
        }
        if let Some((d, end)) = lab.duration.zip(o.window.end())
            && end > d
        {
            problem(
                &at("window"),
                format!("the window closes at {end} but the lab lasts {d}"),
            )?;
        }
        if let Some(d) = lab.duration
            && o.window.start() >= d
        {
            problem(
                &at("window"),
                format!(
                    "the window opens at {} but the lab lasts {d}",
                    o.window.start()
                ),
            )?;
        }
    }
    Ok(())
}

/// Timers of zero length would fire in a loop without time passing (a
/// probe every 0 s) or expire everything at once, so each must be positive.
fn check_timers(lab: &Lab) -> Result<(), Problem> {
    const B: Seg<'static> = Seg::Field("balancer");
    const H: Seg<'static> = Seg::Field("health");
    const T: [Seg<'static>; 2] = [Seg::Field("clients"), Seg::Field("tcp")];
    let timers: [(Vec<Seg<'static>>, Dur); 6] = [
        (
            vec![B, Seg::Field("half_open_timeout")],
            lab.balancer.half_open_timeout,
        ),
        (
            vec![B, Seg::Field("established_timeout")],
            lab.balancer.established_timeout,
        ),
        (
            vec![B, H, Seg::Field("interval")],
            lab.balancer.health.interval,
        ),
        (
            vec![B, H, Seg::Field("timeout")],
            lab.balancer.health.timeout,
        ),
        (
            vec![T[0], T[1], Seg::Field("syn_timeout")],
            lab.clients.tcp.syn_timeout,
        ),
        (
            vec![T[0], T[1], Seg::Field("segment_timeout")],
            lab.clients.tcp.segment_timeout,
        ),
    ];
    for (at, d) in timers {
        if d.get().as_nanos() == 0 {
            problem(&at, "this timer must be longer than zero".to_string())?;
        }
    }
    Ok(())
}

fn check_servers(servers: &ServersSpec) -> Result<(), Problem> {
    match servers {
        ServersSpec::List(list) => {
            if list.is_empty() {
                problem(
                    &[Seg::Field("servers")],
                    "the server list is empty; a lab needs at least one server".to_string(),
                )?;
            }
            let mut first_use: HashMap<&str, usize> = HashMap::new();
            for (i, server) in list.iter().enumerate() {
                let name = [Seg::Field("servers"), Seg::Item(i), Seg::Field("name")];
                if server.name.trim().is_empty() {
                    problem(&name, "a server needs a name".to_string())?;
                }
                if let Some(first) = first_use.insert(&server.name, i) {
                    problem(
                        &name,
                        format!(
                            "server name \"{}\" is already used by servers[{first}]",
                            server.name
                        ),
                    )?;
                }
                let service = [
                    Seg::Field("servers"),
                    Seg::Item(i),
                    Seg::Field("service_time"),
                ];
                check_dist(&service, &server.service_time)?;
            }
            Ok(())
        }
        ServersSpec::Replicate { template, .. } => {
            let at = [Seg::Field("servers"), Seg::Field("template")];
            if template.name.trim().is_empty() {
                problem(
                    &[at[0], at[1], Seg::Field("name")],
                    "the server template needs a name".to_string(),
                )?;
            }
            check_dist(
                &[at[0], at[1], Seg::Field("service_time")],
                &template.service_time,
            )
        }
    }
}

fn check_clients(clients: &ClientsSpec) -> Result<(), Problem> {
    const C: Seg<'static> = Seg::Field("clients");
    if let RetransmitMode::Rfc6298 { min_rto, max_rto } = clients.tcp.retransmit
        && min_rto > max_rto
    {
        problem(
            &[C, Seg::Field("tcp"), Seg::Field("retransmit")],
            format!(
                "min_rto \"{}\" is above max_rto \"{}\"",
                format_duration(min_rto.get()),
                format_duration(max_rto.get())
            ),
        )?;
    }
    if let Some(closed) = &clients.closed {
        const CL: Seg<'static> = Seg::Field("closed");
        if closed.population > MAX_POPULATION {
            problem(
                &[C, CL, Seg::Field("population")],
                format!(
                    "at most {MAX_POPULATION} clients, found {}",
                    closed.population
                ),
            )?;
        }
        check_segments(&[C, CL, Seg::Field("segments")], &closed.segments)?;
        check_dist(&[C, CL, Seg::Field("segment_size")], &closed.segment_size)?;
        check_dist(&[C, CL, Seg::Field("gap")], &closed.gap)?;
        check_dist(&[C, CL, Seg::Field("think")], &closed.think)?;
    }
    if let Some(open) = &clients.open {
        const OP: Seg<'static> = Seg::Field("open");
        check_segments(&[C, OP, Seg::Field("segments")], &open.segments)?;
        check_dist(&[C, OP, Seg::Field("segment_size")], &open.segment_size)?;
        check_dist(&[C, OP, Seg::Field("gap")], &open.gap)?;
    }
    for (i, flood) in clients.floods.iter().enumerate() {
        if flood.sources.get() > MAX_FLOOD_SOURCES {
            problem(
                &[C, Seg::Field("floods"), Seg::Item(i), Seg::Field("sources")],
                format!(
                    "at most {MAX_FLOOD_SOURCES} spoofed sources (the 198.18.0.0/15 range), found {}",
                    flood.sources.get()
                ),
            )?;
        }
    }
    check_someone_sends(clients)
}

/// A lab where no client and no flood ever sends a packet would run and
/// show nothing, which is always a mistake in the file.
fn check_someone_sends(clients: &ClientsSpec) -> Result<(), Problem> {
    const C: Seg<'static> = Seg::Field("clients");
    let closed = match &clients.closed {
        None => Err((
            vec![C, Seg::Field("closed")],
            "there is no closed population",
        )),
        Some(c) if c.population == 0 => Err((
            vec![C, Seg::Field("closed"), Seg::Field("population")],
            "the closed population is 0",
        )),
        Some(c) if c.connections == Some(0) => Err((
            vec![C, Seg::Field("closed"), Seg::Field("connections")],
            "closed clients make 0 connections",
        )),
        Some(_) => Ok(()),
    };
    let open = match &clients.open {
        None => Err("no open arrivals"),
        Some(o) if o.rate.get() <= 0.0 => Err("the open arrival rate is 0"),
        Some(o) if o.limit == Some(0) => Err("the open arrival limit is 0"),
        Some(_) => Ok(()),
    };
    let floods = if clients.floods.is_empty() {
        Err("no floods")
    } else if clients.floods.iter().all(|f| f.rate.get() <= 0.0) {
        Err("every flood has rate 0")
    } else {
        Ok(())
    };
    match (closed, open, floods) {
        (Err((at, closed)), Err(open), Err(floods)) => problem(
            &at,
            format!("nothing would send traffic: {closed}, {open} and {floods}"),
        ),
        _ => Ok(()),
    }
}

/// Segments per connection: a connection that sends nothing is not a
/// workload, so even the smallest value a distribution gives must be 1.
fn check_segments(at: &[Seg<'static>], dist: &Dist<u64>) -> Result<(), Problem> {
    check_dist(at, dist)?;
    let least = match dist {
        Dist::Constant(n) | Dist::Uniform(n, _) | Dist::Exponential(n) => *n,
        Dist::LogNormal { median, .. } => *median,
    };
    if least == 0 {
        problem(
            at,
            format!(
                "a connection needs at least 1 segment, found {}",
                show_dist(dist)
            ),
        )?;
    }
    Ok(())
}

/// A value a distribution is made of, written as in a lab file.
trait LabValue: PartialOrd {
    fn show(&self) -> String;
}

impl LabValue for u64 {
    fn show(&self) -> String {
        self.to_string()
    }
}

impl LabValue for Dur {
    fn show(&self) -> String {
        format!("\"{}\"", format_duration(self.get()))
    }
}

fn show_dist<T: LabValue>(dist: &Dist<T>) -> String {
    match dist {
        Dist::Constant(v) => format!("Constant({})", v.show()),
        Dist::Uniform(a, b) => format!("Uniform({}, {})", a.show(), b.show()),
        Dist::Exponential(v) => format!("Exponential({})", v.show()),
        Dist::LogNormal { median, sigma } => {
            format!("LogNormal(median: {}, sigma: {sigma})", median.show())
        }
    }
}

fn check_dist<T: LabValue>(at: &[Seg<'static>], dist: &Dist<T>) -> Result<(), Problem> {
    match dist {
        Dist::Uniform(low, high) if low > high => problem(
            at,
            format!(
                "Uniform needs its low end at most its high end, found {}",
                show_dist(dist)
            ),
        ),
        Dist::LogNormal { sigma, .. } if !(sigma.is_finite() && *sigma >= 0.0) => problem(
            at,
            format!("LogNormal sigma must be a finite number of 0 or more, found {sigma}"),
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::ServerSpec;

    fn lab() -> Lab {
        Lab::named("t")
    }

    fn fails(lab: &Lab) -> String {
        let p = check(lab).unwrap_err();
        format!("{}: {}", p.path, p.message)
    }

    #[test]
    fn the_default_lab_is_valid() {
        assert_eq!(check(&lab()), Ok(()));
    }

    #[test]
    fn duplicate_server_names_point_at_the_second() {
        let mut l = lab();
        let s = ServerSpec::default();
        l.servers = ServersSpec::List(vec![s.clone(), s.clone(), s]);
        assert_eq!(
            fails(&l),
            "servers[1].name: server name \"srv\" is already used by servers[0]"
        );
    }

    #[test]
    fn distributions_are_checked_wherever_they_are() {
        let mut l = lab();
        if let Some(c) = l.clients.closed.as_mut() {
            c.think = Dist::Uniform(Dur::from_secs(2), Dur::from_secs(1));
        }
        assert_eq!(
            fails(&l),
            "clients.closed.think: Uniform needs its low end at most its high end, \
             found Uniform(\"2s\", \"1s\")"
        );
        let mut l = lab();
        l.servers = ServersSpec::List(vec![ServerSpec {
            service_time: Dist::LogNormal {
                median: Dur::from_millis(1),
                sigma: f64::NAN,
            },
            ..ServerSpec::default()
        }]);
        assert!(fails(&l).starts_with("servers[0].service_time: LogNormal sigma"));
    }

    #[test]
    fn a_silent_lab_is_refused() {
        let mut l = lab();
        l.clients.closed = None;
        assert_eq!(
            fails(&l),
            "clients.closed: nothing would send traffic: there is no closed population, \
             no open arrivals and no floods"
        );
        l.clients.floods.push(Default::default());
        assert_eq!(check(&l), Ok(()));
    }

    #[test]
    fn population_is_capped() {
        let mut l = lab();
        if let Some(c) = l.clients.closed.as_mut() {
            c.population = MAX_POPULATION + 1;
        }
        assert!(fails(&l).starts_with("clients.closed.population: at most"));
    }
}
