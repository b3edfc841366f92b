//! A lab's balancer as an nginx `stream` block: an upstream with the
//! algorithm, weights and limits, a server on the VIP with the source
//! filter and timeouts. Open-source nginx checks backends only passively
//! (max_fails within fail_timeout); active health checks are NGINX Plus's.

use super::{Addresses, one_line, time};
use crate::spec::{Algorithm, CookieMode, Lab};

/// The configuration's text and what it could not express.
pub(super) fn config(lab: &Lab, at: &Addresses) -> (String, Vec<String>) {
    let b = &lab.balancer;
    let r = &b.resilience;
    let mut notes = Vec::new();
    let (method, weighted) = algorithm(b.algorithm, &mut notes);
    let mut out = String::from(
        "# Include this file at the top level of nginx.conf (outside http {}),\n\
         # with the stream module loaded.\n\
         stream {\n",
    );
    out.push_str("    upstream servers {\n");
    if let Some(m) = method {
        out.push_str(&format!("        {m};\n"));
    }
    // Passive checks: `fall` failed connects within one health interval
    // take a server out for that long; nginx has no rise count.
    let fails = b.health.fall.get();
    // nginx takes whole seconds here; rounded up.
    let window_ns = b.health.interval.get().0.saturating_mul(u64::from(fails));
    let window = format!("{}s", window_ns.div_ceil(1_000_000_000).max(1));
    for (i, spec) in lab.servers.expand().iter().enumerate() {
        let weight = if weighted { spec.weight } else { 1 };
        let max_conns = r
            .queue
            .as_ref()
            .map_or(spec.max_connections.get(), |q| q.max_connections.get());
        let mut line = format!(
            "        server {} max_conns={max_conns} max_fails={fails} fail_timeout={window}",
            at.servers.get(i).map_or("", String::as_str)
        );
        if weight == 0 {
            // nginx refuses weight=0; `down` takes no new connections.
            line.push_str(" down");
        } else {
            line.push_str(&format!(" weight={weight}"));
        }
        line.push_str(&format!(";  # {}\n", one_line(&spec.name)));
        out.push_str(&line);
    }
    out.push_str("    }\n\n");
    if let Some(d) = r.slow_start {
        notes.push(format!(
            "slow start over {}: slow_start= is NGINX Plus's",
            time(d.get())
        ));
    }

    let d = &b.defences;
    if let Some(rl) = &d.rate_limit {
        out.push_str("    limit_conn_zone $binary_remote_addr zone=per_source:10m;\n\n");
        notes.push(format!(
            "the rate limit of {} new connections per {} (burst {}): nginx's stream module limits concurrent connections per source (limit_conn), not their rate; exported as at most {} at once",
            rl.rate.get(),
            time(rl.per.get()),
            rl.burst.get(),
            rl.burst.get()
        ));
    }
    out.push_str("    server {\n");
    out.push_str(&format!("        listen {};\n", at.listen));
    for c in &d.filter.deny {
        out.push_str(&format!("        deny {c};\n"));
    }
    for c in &d.filter.allow {
        out.push_str(&format!("        allow {c};\n"));
    }
    if !d.filter.allow.is_empty() {
        out.push_str("        deny all;\n");
    }
    if let Some(rl) = &d.rate_limit {
        out.push_str(&format!(
            "        limit_conn per_source {};\n",
            rl.burst.get()
        ));
    }
    out.push_str(&format!(
        "        proxy_connect_timeout {};\n",
        time(b.half_open_timeout.get())
    ));
    out.push_str(&format!(
        "        proxy_timeout {};\n",
        time(b.established_timeout.get())
    ));
    match r.redispatch {
        Some(n) => out.push_str(&format!(
            "        proxy_next_upstream on;\n        proxy_next_upstream_tries {};\n",
            n.get() + 1
        )),
        None => out.push_str("        proxy_next_upstream off;\n"),
    }
    out.push_str("        proxy_pass servers;\n    }\n}\n");

    notes.push(format!(
        "active health checks every {} (timeout {}, rise {}, fall {}): NGINX Plus's; open-source nginx takes a server out after {fails} failed connects for {window}",
        time(b.health.interval.get()),
        time(b.health.timeout.get()),
        b.health.rise.get(),
        fails
    ));
    if r.sticky.is_some() {
        notes.push("sticky sessions with a timeout: nginx's stream module has no session table (hash $remote_addr keeps a source on one server while the servers stay the same)".into());
    }
    if let Some(o) = &r.outlier_ejection {
        notes.push(format!(
            "outlier ejection after {} failed connects: nearest is max_fails/fail_timeout above",
            o.consecutive_failures.get()
        ));
    }
    if let Some(q) = &r.queue {
        notes.push(format!(
            "a queue of {} for {}: open-source nginx does not queue connections (queue is NGINX Plus's)",
            q.size.get(),
            time(q.timeout.get())
        ));
    }
    if let Some(p) = r.panic_threshold {
        notes.push(format!(
            "the panic threshold of {}%: nginx has no panic mode",
            p.get()
        ));
    }
    if b.on_backend_down == crate::spec::OnBackendDown::Reset {
        notes.push("resetting a dead backend's connections: nginx leaves them to time out".into());
    }
    notes.push(format!(
        "the per-backend half-open limit ({}): nginx keeps no half-open entries; the kernel's SYN backlog does",
        super::half_open_limits(lab)
    ));
    if d.syn_cookies != CookieMode::Off {
        notes.push(format!(
            "SYN cookies {}: the kernel's (net.ipv4.tcp_syncookies), not nginx's",
            d.syn_cookies.name()
        ));
    }
    if d.early_drop {
        notes.push("early drop of half-open entries: the kernel's SYN backlog decides".into());
    }
    notes.dedup();
    (out, notes)
}

/// The upstream's method line for `a` (none is nginx's weighted round
/// robin), whether weights are honoured, and a note where nginx differs.
fn algorithm(a: Algorithm, notes: &mut Vec<String>) -> (Option<String>, bool) {
    let mut near = |what: &str, instead: &str| {
        notes.push(format!(
            "{what}: exported as {instead}, the nearest nginx has"
        ));
    };
    match a {
        Algorithm::RoundRobin => (None, false),
        Algorithm::WeightedRoundRobin => (None, true),
        Algorithm::Random => (Some("random".into()), false),
        Algorithm::LeastConnections => (Some("least_conn".into()), false),
        Algorithm::WeightedLeastConnections => (Some("least_conn".into()), true),
        Algorithm::PowerOfTwoChoices => (Some("random two least_conn".into()), false),
        Algorithm::PowerOfChoices { d } => {
            near(
                &format!("power of {} choices", d.get()),
                "two choices (random two least_conn)",
            );
            (Some("random two least_conn".into()), false)
        }
        Algorithm::SourceHash => (Some("hash $remote_addr".into()), true),
        Algorithm::RingHash { bound, .. } => {
            if bound.is_some() {
                near(
                    "the ring's load bound",
                    "an unbounded ring (hash ... consistent)",
                );
            }
            (Some("hash $remote_addr consistent".into()), true)
        }
        Algorithm::Maglev { .. } => {
            near(
                "Maglev",
                "a consistent hash ring (hash $remote_addr consistent)",
            );
            (Some("hash $remote_addr consistent".into()), true)
        }
        Algorithm::ShortestExpectedDelay | Algorithm::NeverQueue => {
            near(a.name(), "weighted least connections (least_conn)");
            (Some("least_conn".into()), true)
        }
        Algorithm::LeastRequests => {
            near(
                "least requests",
                "least connections (an L4 proxy sees no requests)",
            );
            (Some("least_conn".into()), false)
        }
        Algorithm::PeakEwma { .. } | Algorithm::Score { .. } => {
            near(
                a.name(),
                "two choices by connections (least_time is NGINX Plus's)",
            );
            (Some("random two least_conn".into()), false)
        }
        Algorithm::Script(_) => {
            near("the lab's own script", "round robin");
            (None, false)
        }
    }
}
