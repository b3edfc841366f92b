//! Checks a parsed lab for what its value types cannot see alone: relations
//! between values, and labs that would parse but make no sense to run.
//!
//! Each problem names the field it is about, so the loader can point at the
//! line and column where that field is written.

use super::estimate::{BYTES_PER_SERVER, MEMORY_BUDGET, estimate};
use super::locate::{Path, Seg};
use crate::policy::RateLimit;
use crate::spec::limits::{
    self, MAX_CLIENT_ADDRESSES, MAX_DURATION, MAX_SEGMENT_SIZE, MAX_SERVERS,
};
use crate::spec::{
    Algorithm, ClientsSpec, Dist, Dur, Lab, Metric, RetransmitMode, ServersSpec, Timeout, Window,
    format_duration,
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
    if let Some(d) = lab.duration
        && d.get() > MAX_DURATION
    {
        problem(
            &[Seg::Field("duration")],
            format!(
                "a lab lasts at most {}, found {}",
                format_duration(MAX_DURATION),
                format_duration(d.get())
            ),
        )?;
    }
    check_timers(lab)?;
    check_links(lab)?;
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
    check_resilience(lab)?;
    check_servers(&lab.servers)?;
    check_algorithm(lab)?;
    check_clients(&lab.clients)?;
    super::commands::check_timeline(lab)?;
    check_lesson(lab)?;
    check_objectives(lab)?;
    check_budget(lab)
}

/// A lesson's steps can be followed in order within the lab, and their
/// actions pass what timeline commands pass, against the pool as the
/// timeline and earlier steps leave it at that moment.
fn check_lesson(lab: &Lab) -> Result<(), Problem> {
    let at = |i, tail: &[Seg<'static>]| {
        [
            &[Seg::Field("lesson"), Seg::Field("steps"), Seg::Item(i)],
            tail,
        ]
        .concat()
    };
    if let Err(p) = lab.lesson.check(lab.duration) {
        problem(&at(p.step, &[Seg::Field(p.field)]), p.message)?;
    }
    let timeline = lab.timeline.iter().map(|e| (e.at(), None, e.command()));
    let steps = lab.lesson.steps.iter().enumerate().flat_map(|(i, s)| {
        let t = s.at.unwrap_or_default();
        (s.actions.iter().enumerate()).map(move |(j, c)| (t, Some((i, j)), c))
    });
    let mut all: Vec<_> = timeline.chain(steps).collect();
    // At one moment the timeline's commands come first, as in a run.
    all.sort_by_key(|&(t, from, _)| (t, from.is_some()));
    let known = lab.servers.expand().into_iter().map(|s| s.name).collect();
    let mut pool = super::commands::Pool { known };
    for (_, from, command) in all {
        // The timeline's own problems were reported by its check.
        if let (Err(c), Some((i, j))) = (pool.check(command), from) {
            let path = Path(at(i, &[Seg::Field("actions"), Seg::Item(j)]));
            return Err(Problem {
                path,
                message: c.message,
                needle: c.needle,
            });
        }
    }
    Ok(())
}

/// The lab's estimated peak memory within [`MEMORY_BUDGET`], pointing at
/// the clients (what grows) when it is not.
fn check_budget(lab: &Lab) -> Result<(), Problem> {
    let e = estimate(lab);
    if e.clients > MAX_CLIENT_ADDRESSES as f64 {
        problem(
            &[Seg::Field("clients")],
            format!(
                "this lab would keep {} clients alive at once, more than the {} client addresses the simulation has",
                super::estimate::count(e.clients),
                super::estimate::count(MAX_CLIENT_ADDRESSES as f64)
            ),
        )?;
    }
    if e.peak_bytes > MEMORY_BUDGET as f64 {
        let at = if lab.servers.count() as f64 * BYTES_PER_SERVER > e.peak_bytes / 2.0 {
            Seg::Field("servers")
        } else {
            Seg::Field("clients")
        };
        problem(
            &[at],
            format!(
                "this lab would need {} at its peak ({} clients at once), more than the {} budget",
                super::estimate::bytes(e.peak_bytes),
                super::estimate::count(e.clients),
                super::estimate::bytes(MEMORY_BUDGET as f64)
            ),
        )?;
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

/// Timers below their floor would fire before any round trip completes
/// (or, at zero, in a loop without time passing); see `spec::limits`.
fn check_timers(lab: &Lab) -> Result<(), Problem> {
    const B: Seg<'static> = Seg::Field("balancer");
    const H: Seg<'static> = Seg::Field("health");
    const T: [Seg<'static>; 2] = [Seg::Field("clients"), Seg::Field("tcp")];
    let timers: [(Vec<Seg<'static>>, Timeout, Dur); 6] = [
        (
            vec![B, Seg::Field("half_open_timeout")],
            Timeout::HalfOpenIdle,
            lab.balancer.half_open_timeout,
        ),
        (
            vec![B, Seg::Field("established_timeout")],
            Timeout::EstablishedIdle,
            lab.balancer.established_timeout,
        ),
        (
            vec![B, H, Seg::Field("interval")],
            Timeout::HealthInterval,
            lab.balancer.health.interval,
        ),
        (
            vec![B, H, Seg::Field("timeout")],
            Timeout::HealthTimeout,
            lab.balancer.health.timeout,
        ),
        (
            vec![T[0], T[1], Seg::Field("syn_timeout")],
            Timeout::Syn,
            lab.clients.tcp.syn_timeout,
        ),
        (
            vec![T[0], T[1], Seg::Field("segment_timeout")],
            Timeout::Segment,
            lab.clients.tcp.segment_timeout,
        ),
    ];
    for (at, timeout, d) in timers {
        if let Err(message) = limits::check_timeout(timeout, d) {
            problem(&at, message)?;
        }
    }
    Ok(())
}

/// Both links need a delay, so every round trip takes simulated time.
fn check_links(lab: &Lab) -> Result<(), Problem> {
    let links = [
        ("client_link", &lab.network.client_link),
        ("backend_link", &lab.network.backend_link),
    ];
    for (name, link) in links {
        if let Err(r) = limits::check_link(link) {
            let mut at = vec![Seg::Field("network"), Seg::Field(name)];
            at.extend(r.field.map(Seg::Field));
            problem(&at, r.message)?;
        }
    }
    Ok(())
}

/// The resilience settings' times against their floors.
fn check_resilience(lab: &Lab) -> Result<(), Problem> {
    if let Err((setting, r)) = limits::check_resilience(&lab.balancer.resilience) {
        let mut at = vec![
            Seg::Field("balancer"),
            Seg::Field("resilience"),
            Seg::Field(setting),
        ];
        at.extend(r.field.map(Seg::Field));
        problem(&at, r.message)?;
    }
    Ok(())
}

/// A Maglev table needs a slot for every server, or some take nothing.
fn check_algorithm(lab: &Lab) -> Result<(), Problem> {
    if let Algorithm::Maglev { table_size } = lab.balancer.algorithm {
        let servers = lab.servers.count();
        if (table_size.get() as usize) < servers {
            problem(
                &[Seg::Field("balancer"), Seg::Field("algorithm")],
                format!(
                    "a Maglev table of {table_size} slots cannot give each of {servers} servers \
                     one; use a prime at least 100 times the servers (65537 is usual)"
                ),
            )?;
        }
    }
    Ok(())
}

fn check_servers(servers: &ServersSpec) -> Result<(), Problem> {
    match servers {
        ServersSpec::List(list) => {
            if list.len() > MAX_SERVERS as usize {
                problem(
                    &[Seg::Field("servers")],
                    format!("at most {MAX_SERVERS} servers, found {}", list.len()),
                )?;
            }
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
        ServersSpec::Replicate { template, count } => {
            if count.get() > MAX_SERVERS {
                problem(
                    &[Seg::Field("servers"), Seg::Field("count")],
                    format!("at most {MAX_SERVERS} servers, found {}", count.get()),
                )?;
            }
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
        if let Err(message) = limits::check_population(closed.population) {
            problem(&[C, CL, Seg::Field("population")], message)?;
        }
        check_segments(&[C, CL, Seg::Field("segments")], &closed.segments)?;
        check_segment_size(&[C, CL, Seg::Field("segment_size")], &closed.segment_size)?;
        check_dist(&[C, CL, Seg::Field("gap")], &closed.gap)?;
        check_dist(&[C, CL, Seg::Field("think")], &closed.think)?;
    }
    if let Some(open) = &clients.open {
        const OP: Seg<'static> = Seg::Field("open");
        if let Err(message) = limits::check_arrival_rate(open.rate.get()) {
            problem(&[C, OP, Seg::Field("rate")], message)?;
        }
        check_segments(&[C, OP, Seg::Field("segments")], &open.segments)?;
        check_segment_size(&[C, OP, Seg::Field("segment_size")], &open.segment_size)?;
        check_dist(&[C, OP, Seg::Field("gap")], &open.gap)?;
    }
    for (i, flood) in clients.floods.iter().enumerate() {
        // A flood of rate 0 in the lab itself is allowed (it sends nothing
        // until a command raises it); everything else is as for commands.
        if flood.rate.get() == 0.0 {
            continue;
        }
        if let Err(r) = limits::check_flood(flood) {
            let mut at = vec![C, Seg::Field("floods"), Seg::Item(i)];
            at.extend(r.field.map(Seg::Field));
            problem(&at, r.message)?;
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

/// Segment sizes: the distribution's typical value (its constant, high
/// end, mean or median) within [`MAX_SEGMENT_SIZE`]; the rare draw of an
/// unbounded distribution beyond it is sent at that size, as the README
/// says.
fn check_segment_size(at: &[Seg<'static>], dist: &Dist<u64>) -> Result<(), Problem> {
    check_dist(at, dist)?;
    let typical = match dist {
        Dist::Constant(n) | Dist::Exponential(n) => *n,
        Dist::Uniform(_, high) => *high,
        Dist::LogNormal { median, .. } => *median,
    };
    if typical > MAX_SEGMENT_SIZE {
        problem(
            at,
            format!(
                "a segment is at most {MAX_SEGMENT_SIZE} bytes, found {}",
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
}
