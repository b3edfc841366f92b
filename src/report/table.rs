//! The report as aligned text for people. Names from the lab (the lab's,
//! servers', objectives') and event-log lines are escaped, so a hostile
//! name cannot drive the terminal; a figure that does not exist is `–`.

use super::{NONE, Report, fmt_ms};
use crate::engine::SNAPSHOT_LOG_LINES;
use crate::text::escape;
use std::fmt::Write as _;

impl Report {
    /// The report as aligned text.
    pub(super) fn to_table(&self) -> String {
        let mut o = String::new();
        self.table_backends(&mut o);
        self.table_totals(&mut o);
        self.table_latencies(&mut o);
        self.table_averages(&mut o);
        self.table_disruptions(&mut o);
        self.table_objectives_and_log(&mut o);
        self.table_picks(&mut o);
        let _ = writeln!(o);
        let _ = writeln!(o, "events processed {}", self.events);
        if let Some(w) = &self.wall {
            let _ = writeln!(
                o,
                "wall time {:.3}s  {:.2}M events/s  {:.0}x real time",
                w.seconds,
                w.events_per_sec / 1e6,
                w.speedup
            );
        }
        o
    }

    /// The first picks and why (`--explain N`).
    fn table_picks(&self, o: &mut String) {
        if self.picks.is_empty() {
            return;
        }
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "why these backends (the first {} picks)",
            self.picks.len()
        );
        for p in &self.picks {
            let _ = writeln!(o, "  {}", escape(p));
        }
    }

    /// One line per change of the backends in rotation under a hashing
    /// algorithm: how much of the mapping moved.
    fn table_disruptions(&self, o: &mut String) {
        if self.disruptions.is_empty() {
            return;
        }
        let _ = writeln!(o);
        for d in &self.disruptions {
            let _ = writeln!(
                o,
                "disruption   {} {} moved {:.1}% of flow keys, {} of {} open flows",
                d.at,
                d.algorithm,
                d.keys_moved * 100.0,
                d.flows_moved,
                d.flows_open
            );
        }
    }

    fn table_backends(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "lab {}  seed {}  algorithm {}  sim time {}  {}",
            escape(&self.lab),
            self.seed,
            self.algorithm,
            self.sim_time,
            if self.finished {
                "finished"
            } else {
                "stopped at deadline"
            }
        );
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "{:<12} {:>8} {:>7} {:>12} {:>12} {:>8} {:>10}  state",
            "backend", "conns", "share", "packets", "segments", "drops", "probe p95"
        );
        let count = |v: Option<u64>| v.map_or(NONE.to_string(), |n| n.to_string());
        for b in &self.backends {
            let _ = writeln!(
                o,
                "{:<12} {:>8} {:>7} {:>12} {:>12} {:>8} {:>10}  {}",
                escape(&b.name),
                b.connections,
                b.share_pct.map_or(NONE.to_string(), |v| format!("{v:.1}%")),
                count(b.packets),
                count(b.segments_served),
                b.drops,
                b.probe_p95_ms
                    .map_or(NONE.to_string(), |v| format!("{v:.3}ms")),
                b.state
            );
        }
    }

    fn table_totals(&self, o: &mut String) {
        let t = &self.totals;
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "connections  attempted {}  established {}  completed {}  failed {}  success {}",
            t.attempted,
            t.established,
            t.completed,
            t.failed,
            t.success_pct
                .map_or(NONE.to_string(), |v| format!("{v:.2}%"))
        );
        if let Some(at) = self.addresses_ran_out_s {
            let _ = writeln!(
                o,
                "invalid      every client address was in use at {at:.3}s: arrivals were refused \
                 while none was free, so objectives still open then are invalid"
            );
        }
        if self.links.is_empty() {
            // An engine on real sockets: packets and retransmissions are
            // the kernel's, out of its sight; a 0 would be a made-up figure.
            let _ = writeln!(
                o,
                "packets      {NONE} (the kernel's, on real sockets)  conn-table entries at end {}",
                t.table_entries
            );
            let _ = writeln!(o, "retransmits  {NONE} (the kernel's)");
        } else {
            let _ = writeln!(
                o,
                "packets      sent {}  bytes {}  dropped {}  conn-table entries at end {}",
                t.packets, t.bytes, t.drops, t.table_entries
            );
            let _ = writeln!(
                o,
                "retransmits  syn {}  data {}  fin {}  total {}",
                t.retransmits.syn,
                t.retransmits.data,
                t.retransmits.fin,
                t.retransmits.total()
            );
        }
        if t.flood_syns > 0 {
            // Every kind of flood counts here (a connection flood's SYNs
            // are real), so the line names none of them.
            let _ = writeln!(o, "floods       SYNs sent {}", t.flood_syns);
        }
        let reasons = |v: Vec<String>| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join("  ")
            }
        };
        let failures = self.failures.iter().map(|(r, n)| format!("{r} {n}"));
        let _ = writeln!(o, "failures     {}", reasons(failures.collect()));
        let drops = self.drops.iter().map(|(r, n)| format!("{r} {n}"));
        let _ = writeln!(o, "drops        {}", reasons(drops.collect()));
    }

    fn table_latencies(&self, o: &mut String) {
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "{:<12} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "latency", "count", "p50", "p95", "p99", "max", "mean"
        );
        for (name, l) in self.latency.rows() {
            if name == "detection" && l.count == 0 {
                continue;
            }
            let ms = |v: Option<f64>| v.map_or(NONE.to_string(), fmt_ms);
            let _ = writeln!(
                o,
                "{:<12} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
                name,
                l.count,
                ms(l.p50_ms),
                ms(l.p95_ms),
                ms(l.p99_ms),
                ms(l.max_ms),
                ms(l.mean_ms)
            );
        }
    }

    fn table_objectives_and_log(&self, o: &mut String) {
        if !self.objectives.is_empty() {
            let _ = writeln!(o);
            let _ = writeln!(o, "objectives");
            for obj in &self.objectives {
                let value = obj
                    .value
                    .map_or(NONE.to_string(), |v| format!("{v:.2}{}", obj.unit));
                let _ = writeln!(
                    o,
                    "  {:<8} {}: {} (measured {value})",
                    obj.verdict.to_string().to_uppercase(),
                    escape(&obj.name),
                    escape(&obj.claim)
                );
            }
        }
        if !self.log.is_empty() {
            let _ = writeln!(o);
            // The engine hands over only its newest lines; say so rather
            // than let a long run's first events vanish unmentioned.
            if self.log.len() >= SNAPSHOT_LOG_LINES {
                let _ = writeln!(
                    o,
                    "events (the newest {}; earlier ones are not kept)",
                    self.log.len()
                );
            } else {
                let _ = writeln!(o, "events");
            }
            for line in &self.log {
                let _ = writeln!(o, "  {}", escape(line));
            }
        }
    }
}
