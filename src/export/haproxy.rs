//! A lab's balancer as an HAProxy configuration in TCP mode: a frontend on
//! the VIP with the lab's source filter and per-source rate limit (a stick
//! table), a backend with the algorithm, health checks, server weights and
//! limits, slow start, queueing, redispatch and stickiness.

use super::{Addresses, ident, one_line, time};
use crate::model::SimDuration;
use crate::spec::{Algorithm, CookieMode, Lab, OnBackendDown};

/// HAProxy's highest server weight.
const MAX_WEIGHT: u32 = 256;

/// The configuration's text and what it could not express.
pub(super) fn config(lab: &Lab, at: &Addresses) -> (String, Vec<String>) {
    let b = &lab.balancer;
    let mut notes = Vec::new();
    let mut out = String::new();
    let (balance, weighted) = algorithm(b.algorithm, &mut notes);

    out.push_str("global\n    maxconn 100000\n\n");
    out.push_str("defaults\n    mode tcp\n");
    out.push_str(&format!(
        "    # The lab forgets a half-open entry after {} and an idle one after {}.\n",
        time(b.half_open_timeout.get()),
        time(b.established_timeout.get())
    ));
    out.push_str(&format!(
        "    timeout connect {}\n",
        time(b.half_open_timeout.get())
    ));
    out.push_str(&format!(
        "    timeout client {}\n    timeout server {}\n",
        time(b.established_timeout.get()),
        time(b.established_timeout.get())
    ));
    out.push_str(&format!(
        "    timeout check {}\n",
        time(b.health.timeout.get())
    ));
    if let Some(q) = &b.resilience.queue {
        out.push_str(&format!("    timeout queue {}\n", time(q.timeout.get())));
    }
    out.push('\n');

    frontend(lab, at, &mut out, &mut notes);
    backend(lab, at, &balance, weighted, &mut out, &mut notes);
    unsupported_defences(lab, &mut notes);
    (out, notes)
}

/// The frontend: the VIP, the source filter, the per-source rate limit.
fn frontend(lab: &Lab, at: &Addresses, out: &mut String, notes: &mut Vec<String>) {
    let d = &lab.balancer.defences;
    out.push_str("frontend vip\n");
    out.push_str(&format!("    bind {}\n", at.listen));
    if !d.filter.allow.is_empty() {
        let nets: Vec<String> = d.filter.allow.iter().map(|c| c.to_string()).collect();
        out.push_str(&format!("    acl allowed src {}\n", nets.join(" ")));
    }
    if !d.filter.deny.is_empty() {
        let nets: Vec<String> = d.filter.deny.iter().map(|c| c.to_string()).collect();
        out.push_str(&format!("    acl denied src {}\n", nets.join(" ")));
        out.push_str("    tcp-request connection reject if denied\n");
    }
    if !d.filter.allow.is_empty() {
        out.push_str("    tcp-request connection reject unless allowed\n");
    }
    if let Some(r) = &d.rate_limit {
        out.push_str(&format!(
            "    # At most {} new connections per {} from one source.\n",
            r.rate.get(),
            time(r.per.get())
        ));
        out.push_str(&format!(
            "    stick-table type ip size {} expire {} store conn_rate({})\n",
            r.sources.get(),
            time(SimDuration(r.per.get().0.saturating_mul(10))),
            time(r.per.get())
        ));
        out.push_str("    tcp-request connection track-sc0 src\n");
        out.push_str(&format!(
            "    tcp-request connection reject if {{ sc_conn_rate(0) gt {} }}\n",
            r.rate.get()
        ));
        notes.push(format!(
            "the rate limit's burst of {}: HAProxy counts connections over a sliding period, with no separate burst",
            r.burst.get()
        ));
    }
    out.push_str("    default_backend servers\n\n");
}

/// The backend: algorithm, health checks, servers and resilience.
fn backend(
    lab: &Lab,
    at: &Addresses,
    balance: &str,
    weighted: bool,
    out: &mut String,
    notes: &mut Vec<String>,
) {
    let b = &lab.balancer;
    let r = &b.resilience;
    out.push_str("backend servers\n");
    out.push_str(&format!("    {balance}\n"));
    out.push_str("    option tcp-check\n");
    if let Some(n) = r.redispatch {
        out.push_str("    option redispatch\n");
        out.push_str(&format!("    retries {}\n", n.get()));
    }
    if let Some(d) = r.sticky {
        out.push_str(&format!(
            "    stick-table type ip size 1m expire {}\n    stick on src\n",
            time(d.get())
        ));
    }
    let mut defaults = format!(
        "    default-server check inter {} rise {} fall {}",
        time(b.health.interval.get()),
        b.health.rise.get(),
        b.health.fall.get()
    );
    if let Some(d) = r.slow_start {
        defaults.push_str(&format!(" slowstart {}", time(d.get())));
    }
    if b.on_backend_down == OnBackendDown::Reset {
        defaults.push_str(" on-marked-down shutdown-sessions");
    }
    if let Some(o) = &r.outlier_ejection {
        defaults.push_str(&format!(
            " observe layer4 error-limit {} on-error mark-down",
            o.consecutive_failures.get()
        ));
        notes.push(format!(
            "outlier ejection for {} (up to {}): HAProxy marks the server down until its health checks bring it back",
            time(o.base_ejection.get()),
            time(o.max_ejection.get())
        ));
    }
    if let Some(q) = &r.queue {
        defaults.push_str(&format!(" maxqueue {}", q.size.get()));
    }
    out.push_str(&defaults);
    out.push('\n');
    for (i, spec) in lab.servers.expand().iter().enumerate() {
        let weight = if weighted { spec.weight } else { 1 };
        if weight > MAX_WEIGHT {
            notes.push(format!(
                "{}'s weight {weight}: HAProxy's weights stop at {MAX_WEIGHT}",
                one_line(&spec.name)
            ));
        }
        let maxconn = match &r.queue {
            Some(q) => q.max_connections.get(),
            None => spec.max_connections.get(),
        };
        out.push_str(&format!(
            "    server {} {} weight {} maxconn {maxconn}\n",
            ident(&spec.name),
            at.servers.get(i).map_or("", String::as_str),
            weight.min(MAX_WEIGHT)
        ));
    }
    if let Some(p) = r.panic_threshold {
        notes.push(format!(
            "the panic threshold of {}%: HAProxy has no panic mode (it never sends to servers it believes down)",
            p.get()
        ));
    }
}

/// The lab's defences that live in the kernel or in no engine at all.
fn unsupported_defences(lab: &Lab, notes: &mut Vec<String>) {
    let d = &lab.balancer.defences;
    notes.push(format!(
        "the per-backend half-open limit ({}): HAProxy keeps no half-open entries; the kernel's SYN backlog (net.ipv4.tcp_max_syn_backlog) does",
        super::half_open_limits(lab)
    ));
    if d.syn_cookies != CookieMode::Off {
        notes.push(format!(
            "SYN cookies {}: the kernel's (net.ipv4.tcp_syncookies=1 is on overflow, 2 always), not HAProxy's",
            d.syn_cookies.name()
        ));
    }
    if d.early_drop {
        notes.push("early drop of half-open entries: the kernel's SYN backlog decides".into());
    }
}

/// HAProxy's `balance` line for `a`, whether it honours the lab's
/// weights, and a note where HAProxy's nearest differs.
fn algorithm(a: Algorithm, notes: &mut Vec<String>) -> (String, bool) {
    let mut near = |what: &str, instead: &str| {
        notes.push(format!(
            "{what}: exported as {instead}, the nearest HAProxy has"
        ));
    };
    match a {
        // The lab's plain round robin, random and least connections ignore
        // weights; HAProxy's honour them, so every weight is exported as 1.
        Algorithm::RoundRobin => ("balance roundrobin".into(), false),
        Algorithm::WeightedRoundRobin => ("balance roundrobin".into(), true),
        Algorithm::Random => ("balance random".into(), false),
        Algorithm::LeastConnections => ("balance leastconn".into(), false),
        Algorithm::WeightedLeastConnections => ("balance leastconn".into(), true),
        Algorithm::PowerOfTwoChoices => ("balance random(2)".into(), false),
        Algorithm::PowerOfChoices { d } => (format!("balance random({})", d.get()), false),
        Algorithm::SourceHash => ("balance source\n    hash-type map-based".into(), true),
        Algorithm::RingHash { bound, .. } => {
            let mut s = "balance source\n    hash-type consistent".to_string();
            if let Some(b) = bound {
                // HAProxy's bounded loads: a server takes at most this per
                // cent of the average load.
                let pct = (b.get() * 100.0).round() as u32;
                s.push_str(&format!("\n    hash-balance-factor {pct}"));
            }
            (s, true)
        }
        Algorithm::Maglev { .. } => {
            near(
                "Maglev",
                "a consistent hash of the source (balance source, hash-type consistent)",
            );
            ("balance source\n    hash-type consistent".into(), true)
        }
        Algorithm::ShortestExpectedDelay | Algorithm::NeverQueue => {
            near(a.name(), "weighted least connections (balance leastconn)");
            ("balance leastconn".into(), true)
        }
        Algorithm::LeastRequests => {
            near(
                "least requests",
                "least connections (an L4 engine sees no requests)",
            );
            ("balance leastconn".into(), false)
        }
        Algorithm::PeakEwma { .. } | Algorithm::Score { .. } => {
            near(
                a.name(),
                "least connections (HAProxy measures no latency to balance on)",
            );
            ("balance leastconn".into(), false)
        }
        Algorithm::Script(_) => {
            near(
                "the lab's own script",
                "round robin (HAProxy runs no such script)",
            );
            ("balance roundrobin".into(), false)
        }
    }
}
