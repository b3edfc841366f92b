//! The report's time averages as text: what a student needs to check
//! queueing theory from the report alone. Little's law per backend reads
//! L = queue + busy workers, λ = served/s, W = the segment latency's mean
//! (less the links' few microseconds); utilisation is busy over workers.

use super::{NONE, Report};
use crate::engine::TimeAverages;
use crate::text::escape;
use std::fmt::Write as _;

/// Segments served and those that waited for a worker, over every backend.
pub(super) fn waited(a: &TimeAverages) -> (u64, u64) {
    let served = a.backends.iter().map(|b| b.segments_served).sum();
    let waited = a.backends.iter().map(|b| b.segments_waited).sum();
    (served, waited)
}

/// `part` of `whole` in percent, `–` of nothing.
pub(super) fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        NONE.to_string()
    } else {
        format!("{:.2}%", part as f64 * 100.0 / whole as f64)
    }
}

/// `count` over `seconds` to three places, "–" over no time.
pub(super) fn per_second(count: u64, seconds: f64) -> String {
    if seconds > 0.0 {
        format!("{:.3}", count as f64 / seconds)
    } else {
        NONE.to_string()
    }
}

impl Report {
    /// The time-averages section (engines that keep them only).
    pub(super) fn table_averages(&self, o: &mut String) {
        let Some(a) = &self.averages else { return };
        let _ = writeln!(o);
        let _ = writeln!(o, "time averages over {:.3}s", a.seconds);
        let _ = writeln!(
            o,
            "conn table   entries {:.3}  half-open {:.3}",
            a.table_entries, a.half_open
        );
        let _ = writeln!(
            o,
            "{:<12} {:>9} {:>9} {:>9} {:>8} {:>10} {:>8}",
            "backend", "active", "queue", "busy", "util", "served/s", "waited"
        );
        for b in &a.backends {
            let per_sec = per_second(b.segments_served, a.seconds);
            let _ = writeln!(
                o,
                "{:<12} {:>9.3} {:>9.3} {:>9.3} {:>8} {:>10} {:>8}",
                escape(&b.name),
                b.active,
                b.queue,
                b.busy_workers,
                b.utilisation_pct
                    .map_or(NONE.to_string(), |u| format!("{u:.1}%")),
                per_sec,
                share(b.segments_waited, b.segments_served),
            );
        }
        let (served, waited) = waited(a);
        let _ = writeln!(
            o,
            "segments     served {served}  waited for a worker {waited} ({})",
            share(waited, served)
        );
    }
}
