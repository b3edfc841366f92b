//! What a lab will cost before it runs: its peak memory and the events it
//! needs per simulated second, from its populations, rates and times.
//!
//! The figures are estimates with the constants below, calibrated against
//! measured runs (`cargo bench --bench memory`, the events the built-in
//! labs process, and the largest lab of each kind, in the README). They
//! err high: memory up to 5 times the peak measured, events up to 10
//! times (for connections that outlive the run). That is enough to tell a
//! lab that fits from one that cannot, and to say how long one will take.

use crate::spec::{AttackKind, Dist, Dur, Lab, ServerSpec, ServersSpec};

/// Events the core processes per second of wall time on a laptop-class
/// core (`cargo bench --bench events`), for turning events into waiting.
pub const SIMULATED_EVENTS_PER_SECOND: f64 = 10e6;

/// Memory a lab may need at its peak; `check` refuses labs estimated
/// above it. A 24 GiB machine keeps half for everything else.
pub const MEMORY_BUDGET: u64 = 12_000_000_000;

/// Bytes the whole World holds per concurrent client: its state machine,
/// workload record, conn-table entries and queued events (575 B measured
/// at a million connections).
const BYTES_PER_CLIENT: f64 = 600.0;

/// Bytes per server: its tables, the balancer's view and history.
pub const BYTES_PER_SERVER: f64 = 16.0 * 1024.0;

/// Bytes per half-open entry a spoofed flood keeps in the conn table.
const BYTES_PER_HALF_OPEN: f64 = 128.0;

/// Bytes any World holds before its first client.
const BASE_BYTES: f64 = 16.0 * 1024.0 * 1024.0;

/// Events of one connection besides its segments: handshake, close and
/// their timers, over both links.
const EVENTS_PER_CONNECTION: f64 = 16.0;

/// Events per segment: the data and its acknowledgement over both links,
/// the service, the timers.
const EVENTS_PER_SEGMENT: f64 = 6.0;

/// Events per spoofed SYN: its arrival, the answer, the entry's expiry.
const EVENTS_PER_SPOOFED_SYN: f64 = 3.0;

/// Events per health probe: send, arrival, answer, result.
const EVENTS_PER_PROBE: f64 = 4.0;

/// What a lab is expected to cost.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Peak memory, bytes.
    pub peak_bytes: f64,
    /// Events per simulated second once the lab is in full swing.
    pub events_per_second: f64,
    /// Clients alive at once at the peak.
    pub clients: f64,
}

impl Estimate {
    /// One line for `lblab check`: "about 120 MB at peak, 2.3 M events per
    /// simulated second".
    pub fn describe(&self) -> String {
        let mut line = format!(
            "about {} at peak, {} events per simulated second",
            bytes(self.peak_bytes),
            count(self.events_per_second)
        );
        // Beyond what the core runs in a second, say what waiting means.
        if self.events_per_second > SIMULATED_EVENTS_PER_SECOND {
            line.push_str(&format!(
                " (about {:.0} s of wall time per simulated second)",
                self.events_per_second / SIMULATED_EVENTS_PER_SECOND
            ));
        }
        line
    }
}

/// Bytes as people read them.
pub fn bytes(b: f64) -> String {
    const UNITS: [(&str, f64); 3] = [("GB", 1e9), ("MB", 1e6), ("kB", 1e3)];
    for (unit, scale) in UNITS {
        if b >= scale {
            return format!("{:.1} {unit}", b / scale);
        }
    }
    format!("{b:.0} B")
}

/// A count as people read it: 950, 12 k, 2.3 M.
pub fn count(n: f64) -> String {
    if n >= 1e9 {
        format!("{:.1} G", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.1} M", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.0} k", n / 1e3)
    } else {
        format!("{n:.0}")
    }
}

fn secs(d: Dur) -> f64 {
    d.get().as_secs_f64()
}

fn mean_secs(dist: &Dist<Dur>) -> f64 {
    match *dist {
        Dist::Constant(v) | Dist::Exponential(v) => secs(v),
        Dist::Uniform(a, b) => (secs(a) + secs(b)) / 2.0,
        Dist::LogNormal { median, sigma } => secs(median) * (sigma * sigma / 2.0).exp(),
    }
}

fn mean_count(dist: &Dist<u64>) -> f64 {
    match *dist {
        Dist::Constant(v) | Dist::Exponential(v) => v as f64,
        Dist::Uniform(a, b) => (a as f64 + b as f64) / 2.0,
        Dist::LogNormal { median, sigma } => median as f64 * (sigma * sigma / 2.0).exp(),
    }
}

/// The sum of `f` over the lab's servers, without making them.
fn over_servers(lab: &Lab, f: impl Fn(&ServerSpec) -> f64) -> f64 {
    match &lab.servers {
        ServersSpec::List(list) => list.iter().map(f).sum(),
        ServersSpec::Replicate { count, template } => f64::from(count.get()) * f(template),
    }
}

/// Estimates what `lab` costs at its peak.
pub fn estimate(lab: &Lab) -> Estimate {
    let servers = lab.servers.count() as f64;
    let service = over_servers(lab, |s| mean_secs(&s.service_time)) / servers.max(1.0);
    let rtt = 2.0 * (secs(lab.network.client_link.delay) + secs(lab.network.backend_link.delay));
    // A connection: handshake and close (two round trips), then each
    // segment a round trip, its service and the gap after it.
    let connection_secs = |segments: f64, gap: f64| {
        2.0 * rtt + segments * (rtt + service) + (segments - 1.0).max(0.0) * gap
    };
    let events_per_connection =
        |segments: f64| EVENTS_PER_CONNECTION + segments * EVENTS_PER_SEGMENT;
    // Segments per second the pool serves, and how long an unserved
    // connection lingers before its client gives up.
    let workers = over_servers(lab, |s| f64::from(s.workers.get()));
    let capacity = workers / service.max(1e-9);
    let tcp = &lab.clients.tcp;
    let give_up_secs = f64::from(tcp.max_retransmissions.saturating_add(1))
        * (secs(tcp.syn_timeout) + secs(tcp.segment_timeout));
    let mut clients = 0.0;
    let mut events = 0.0;
    if let Some(closed) = &lab.clients.closed {
        let population = f64::from(closed.population);
        let segments = mean_count(&closed.segments);
        let busy = connection_secs(segments, mean_secs(&closed.gap));
        let cycle = (busy + mean_secs(&closed.think)).max(1e-9);
        clients += population;
        events += population / cycle * events_per_connection(segments);
    }
    if let Some(open) = &lab.clients.open {
        let rate = open.rate.get();
        let segments = mean_count(&open.segments);
        // Little's law: arrivals per second times how long each stays. A
        // pool that cannot serve the segments offered keeps connections
        // until their retransmissions give up instead.
        let mut stay = connection_secs(segments, mean_secs(&open.gap));
        if rate * segments > capacity {
            stay = stay.max(give_up_secs);
        }
        clients += rate * stay;
        events += rate * events_per_connection(segments);
    }
    let mut half_open = 0.0;
    for flood in &lab.clients.floods {
        let rate = flood.rate.get();
        match flood.kind {
            AttackKind::SpoofedSyn => {
                events += rate * EVENTS_PER_SPOOFED_SYN;
                half_open += rate * secs(lab.balancer.half_open_timeout);
            }
            AttackKind::ConnectionFlood | AttackKind::SlowSenders => {
                // Attackers never close: each lives until the balancer
                // forgets its idle connection.
                clients += rate * secs(lab.balancer.established_timeout);
                events += rate * EVENTS_PER_CONNECTION;
            }
        }
    }
    // The balancer admits at most `max_half_open` half-open entries per
    // backend; a flood's excess is dropped, not kept.
    let half_open = half_open.min(over_servers(lab, |s| f64::from(s.max_half_open.get())));
    events += servers / secs(lab.balancer.health.interval).max(1e-9) * EVENTS_PER_PROBE;
    Estimate {
        peak_bytes: BASE_BYTES
            + clients * BYTES_PER_CLIENT
            + servers * BYTES_PER_SERVER
            + half_open * BYTES_PER_HALF_OPEN,
        events_per_second: events,
        clients,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{ClosedSpec, Positive};

    #[test]
    fn memory_grows_with_the_population() {
        let mut small = Lab::named("s");
        let mut large = Lab::named("l");
        for (lab, n) in [(&mut small, 1_000), (&mut large, 1_000_000)] {
            lab.clients.closed = Some(ClosedSpec {
                population: n,
                ..ClosedSpec::default()
            });
        }
        let (s, l) = (estimate(&small), estimate(&large));
        let per_client = (l.peak_bytes - s.peak_bytes) / 999_000.0;
        assert!((per_client - BYTES_PER_CLIENT).abs() < 1.0, "{per_client}");
        assert!(l.events_per_second > 900.0 * s.events_per_second);
    }

    #[test]
    fn probes_count_per_server_and_interval() {
        let mut lab = Lab::named("p");
        lab.clients.closed = Some(ClosedSpec {
            population: 0,
            ..ClosedSpec::default()
        });
        lab.servers = ServersSpec::Replicate {
            count: Positive::new_const(100),
            template: Default::default(),
        };
        lab.balancer.health.interval = Dur::from_millis(100);
        let e = estimate(&lab);
        assert!((e.events_per_second - 100.0 * 10.0 * EVENTS_PER_PROBE).abs() < 1e-6);
    }

    #[test]
    fn figures_read_as_people_write_them() {
        assert_eq!(bytes(123_456_789.0), "123.5 MB");
        assert_eq!(count(2_345_678.0), "2.3 M");
        assert_eq!(count(950.0), "950");
    }
}
