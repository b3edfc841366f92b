//! `lblab run LAB --vs-real`: the lab simulated and on real sockets with
//! the same seed, in one report of two columns and their difference. Each
//! difference a lab should not show is checked against a stated tolerance
//! and flagged when beyond it.

use super::RealLab;
use crate::compare::render::{Row, Unit, difference, figure, objectives_of, rows_of};
use crate::engine::Engine;
use crate::headless;
use crate::model::SimDuration;
use crate::report::{Report, WallClock};
use crate::sim::World;
use crate::spec::Lab;
use crate::text::escape;
use std::fmt::Write as _;
use std::time::Instant;

/// Largest difference of a backend's share, in percentage points.
pub const SHARE_POINTS: f64 = 2.0;
/// Largest difference of failed connections, as a share of the simulated.
pub const FAILED_SHARE: f64 = 0.10;
/// Failed connections may differ by this many at least (small counts).
pub const FAILED_FLOOR: f64 = 2.0;
/// Largest relative difference of a latency percentile.
pub const LATENCY_SHARE: f64 = 0.25;
/// Latency percentiles may differ by this many milliseconds at least:
/// each emulated link delay is a timer sleep, which ends on the timer's
/// next millisecond or later, a handshake or a segment waits one or two,
/// and the loopback and the scheduler add their own.
pub const LATENCY_FLOOR_MS: f64 = 3.0;

/// The same lab and seed run two ways.
#[derive(Clone, Debug)]
pub struct VsReal {
    /// What each column is: "simulated" and "real", or two balancers.
    pub labels: (String, String),
    /// What the report compares, for its first line.
    pub title: String,
    /// Lines that explain differences the two ways cannot help.
    pub notes: Vec<String>,
    /// The first column's report (the simulation's).
    pub sim: Report,
    /// The second column's report (the real run's).
    pub real: Report,
    /// How far a detection delay may differ: one health interval, as
    /// probes start at another phase of their interval on real sockets.
    pub detection_ms: f64,
    /// Wall seconds each run took: simulated, real.
    pub wall: (f64, f64),
}

/// Runs `lab` simulated, then on real sockets, to `run_for` or the lab's
/// end.
pub fn run(lab: &Lab, seed: u64, run_for: Option<SimDuration>) -> Result<VsReal, String> {
    let (sim, _) =
        headless::run(World::maker(), lab, seed, run_for, &[]).map_err(|e| e.to_string())?;
    let (real, seconds) = run_real(lab, run_for, RealLab::start(lab, seed)?)?;
    Ok(VsReal {
        labels: ("simulated".into(), "real".into()),
        title: "simulated vs real sockets (loopback)".into(),
        notes: vec![
            "a killed server goes silent on real sockets as in the simulation; lblab proxy then ends a connection its backend never answered after its connect or idle timeout, which the client sees as a close: such failures count as reset there, where the simulation's clients time out".into(),
        ],
        wall: (sim.wall.map_or(0.0, |w| w.seconds), seconds),
        sim,
        real,
        detection_ms: lab.balancer.health.interval.get().as_millis_f64(),
    })
}

/// Runs a started real-socket lab to `run_for` or the lab's end; its
/// report and the wall seconds it took.
pub fn run_real(
    lab: &Lab,
    run_for: Option<SimDuration>,
    mut real: RealLab,
) -> Result<(Report, f64), String> {
    let stop = headless::stop_for(lab, &real, run_for).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let finished = headless::run_engine(&mut real, stop);
    let seconds = started.elapsed().as_secs_f64().max(1e-9);
    let wall = WallClock {
        seconds,
        events_per_sec: real.events_processed() as f64 / seconds,
        speedup: real.now().as_secs_f64() / seconds,
    };
    Ok((Report::from_engine(&real, finished, Some(wall)), seconds))
}

impl VsReal {
    /// Every row of the two reports.
    pub fn rows(&self) -> Vec<Row> {
        rows_of(&self.sim, &self.real)
    }

    /// The tolerance a row is held to, in its unit, if it has one.
    pub fn tolerance(&self, row: &Row) -> Option<f64> {
        let sim = row.a.unwrap_or(0.0).abs();
        match (row.group, row.unit) {
            ("backend", Unit::Pct) => Some(SHARE_POINTS),
            ("connections", Unit::Count) if row.label == "failed" => {
                Some((sim * FAILED_SHARE).max(FAILED_FLOOR))
            }
            ("latency", Unit::Ms) if row.label.starts_with("detection") => {
                (!row.label.ends_with("max")).then_some(self.detection_ms)
            }
            ("latency", Unit::Ms)
                if ["p50", "p95", "p99"].iter().any(|p| row.label.ends_with(p)) =>
            {
                Some((sim * LATENCY_SHARE).max(LATENCY_FLOOR_MS))
            }
            _ => None,
        }
    }

    /// The rows whose difference is beyond their tolerance.
    pub fn beyond(&self) -> Vec<Row> {
        self.rows()
            .into_iter()
            .filter(|r| {
                let (Some(t), Some(d)) = (self.tolerance(r), r.delta) else {
                    return false;
                };
                d.abs() > t + 1e-9
            })
            .collect()
    }

    /// The report as aligned text.
    pub fn to_table(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "lab {}  seed {}  {}  time {}",
            escape(&self.sim.lab),
            self.sim.seed,
            self.title,
            self.sim.sim_time
        );
        let (a, b) = (&self.labels.0, &self.labels.1);
        let _ = writeln!(
            o,
            "\n{:<28} {:>12} {:>12} {:>12}  tolerance",
            "", a, b, "difference"
        );
        let mut group = "";
        for r in self.rows() {
            if r.group != group {
                group = r.group;
                let _ = writeln!(o, "{group}");
            }
            let flag = match (self.tolerance(&r), r.delta) {
                (Some(t), Some(d)) if d.abs() > t + 1e-9 => {
                    format!("±{}  BEYOND", figure_tol(t, r.unit))
                }
                (Some(t), _) => format!("±{}", figure_tol(t, r.unit)),
                (None, _) => String::new(),
            };
            let _ = writeln!(
                o,
                "  {:<26} {:>12} {:>12} {:>12}  {flag}",
                escape(&r.label),
                figure(r.a, r.unit),
                figure(r.b, r.unit),
                difference(r.delta, r.unit)
            );
        }
        let _ = writeln!(o, "\n{:<28} {a:<20} {b}", "objectives");
        for (name, sim, real) in objectives_of(&self.sim.objectives, &self.real.objectives) {
            let _ = writeln!(o, "  {:<26} {sim:<20} {real}", escape(&name));
        }
        let beyond = self.beyond();
        let _ = writeln!(
            o,
            "\n{} of the figures held to a tolerance {} beyond it",
            beyond.len(),
            if beyond.len() == 1 { "is" } else { "are" }
        );
        let _ = writeln!(o, "difference: {b} - {a}");
        let _ = writeln!(
            o,
            "tolerances: shares ±{SHARE_POINTS} points; failed connections ±{:.0}% of the simulated (at least ±{FAILED_FLOOR}); latency p50/p95/p99 ±{:.0}% (at least ±{LATENCY_FLOOR_MS} ms); detection ±one health interval",
            FAILED_SHARE * 100.0,
            LATENCY_SHARE * 100.0
        );
        for n in &self.notes {
            let _ = writeln!(o, "{n}");
        }
        let _ = writeln!(
            o,
            "wall time: {a} {:.3}s, {b} {:.3}s",
            self.wall.0, self.wall.1
        );
        o
    }
}

fn figure_tol(t: f64, unit: Unit) -> String {
    match unit {
        Unit::Count => format!("{t:.0}"),
        Unit::Pct => format!("{t:.1} pp"),
        Unit::Ms => format!("{t:.1}ms"),
    }
}
