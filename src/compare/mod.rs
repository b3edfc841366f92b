//! `lblab compare LAB --a … --b …`: one lab and seed run twice, once with
//! each side's commands, and one report with A, B and B − A columns.
//!
//! The simulation draws arrivals, workloads and service times from
//! streams the balancer's choices cannot shift (`sim::world::streams`),
//! so what differs between A and B is what the commands did. The report
//! proves it: each run hashes every client's arrival draws and every
//! sampled service time, and the draws both runs made are checked one by
//! one (a closed client that finishes sooner starts more connections,
//! and the run's end cuts different work short, so the totals may differ
//! while every shared draw is the same).

pub mod cli;
pub mod render;
pub mod twin;

use crate::engine::{DrawHash, DrawHashes};
use crate::headless::{self, RunError};
use crate::lab;
use crate::model::{SimDuration, SimTime};
use crate::report::Report;
use crate::sim::World;
use crate::spec::{Lab, Origin, TimedCommand};
use serde::Serialize;
use std::path::Path;

/// One side of a comparison: its label and its commands.
#[derive(Clone, Debug, PartialEq)]
pub struct Side {
    /// How the report names it: the file or the inline commands.
    pub label: String,
    /// Its commands, in time order.
    pub commands: Vec<TimedCommand>,
}

impl Side {
    /// The lab as it is, no commands.
    pub fn plain() -> Side {
        Side {
            label: "the lab as it is".into(),
            commands: Vec::new(),
        }
    }

    /// Reads `--a`/`--b` (named `flag`): a commands file if one exists at
    /// that path, else one command applied at t=0 (`SetAlgorithm(…)`), or a
    /// RON list of `At(…)` entries.
    pub fn parse(flag: &str, text: &str, lab: &Lab) -> Result<Side, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Ok(Side::plain());
        }
        let path = Path::new(text);
        if path.is_file() {
            let commands = lab::load_commands(path, lab).map_err(|e| e.to_string())?;
            return Ok(Side {
                label: text.to_string(),
                commands,
            });
        }
        let origin = format!("--{flag}");
        let commands = if trimmed.starts_with('[') {
            lab::load_commands_str(trimmed, &origin, lab).map_err(|e| e.to_string())?
        } else {
            let wrapped = format!("[At(\"0s\", {trimmed})]");
            lab::load_commands_str(&wrapped, &origin, lab).map_err(|e| {
                format!(
                    "--{flag} \"{}\" is not a file, nor a command like \
                     SetAlgorithm(PowerOfTwoChoices), nor a list like \
                     [At(\"10s\", KillServer(\"srv-1\"))]: {e}",
                    crate::text::escape(trimmed)
                )
            })?
        };
        Ok(Side {
            label: trimmed.to_string(),
            commands,
        })
    }
}

/// The draws of one kind in A and B, and how the ones both made compare.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DrawCheck {
    /// A's draws.
    pub a: DrawHash,
    /// B's draws.
    pub b: DrawHash,
    /// Whether the draws were compared one by one (both runs kept them).
    pub checked: bool,
    /// Draws both runs made (the same key).
    pub shared: u64,
    /// The hash of A's shared draws.
    pub shared_hash_a: u64,
    /// The hash of B's shared draws: equal to A's when the draws are.
    pub shared_hash_b: u64,
    /// Shared draws whose values differ.
    pub differing: u64,
    /// Draws only A made.
    pub only_a: u64,
    /// Draws only B made.
    pub only_b: u64,
}

impl DrawCheck {
    /// Compares `a` and `b`, one by one where both kept their pairs.
    fn of(
        a: DrawHash,
        b: DrawHash,
        pairs_a: Option<&Vec<(u64, u64)>>,
        pairs_b: Option<&Vec<(u64, u64)>>,
    ) -> DrawCheck {
        let mut check = DrawCheck {
            a,
            b,
            ..DrawCheck::default()
        };
        let (Some(pa), Some(pb)) = (pairs_a, pairs_b) else {
            return check;
        };
        check.checked = true;
        let (mut pa, mut pb) = (pa.clone(), pb.clone());
        pa.sort_unstable();
        pb.sort_unstable();
        let (mut ha, mut hb) = (DrawHash::default(), DrawHash::default());
        let (mut i, mut j) = (0, 0);
        while i < pa.len() && j < pb.len() {
            let ((ka, va), (kb, vb)) = (pa[i], pb[j]);
            match ka.cmp(&kb) {
                std::cmp::Ordering::Less => {
                    check.only_a += 1;
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    check.only_b += 1;
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    check.shared += 1;
                    check.differing += u64::from(va != vb);
                    ha.add(ka, va);
                    hb.add(kb, vb);
                    i += 1;
                    j += 1;
                }
            }
        }
        check.only_a += (pa.len() - i) as u64;
        check.only_b += (pb.len() - j) as u64;
        check.shared_hash_a = ha.hash;
        check.shared_hash_b = hb.hash;
        check
    }

    /// Every draw both runs made is the same.
    pub fn same(&self) -> bool {
        if self.checked {
            self.differing == 0 && self.shared_hash_a == self.shared_hash_b
        } else {
            self.a == self.b
        }
    }
}

/// Two runs of one lab and seed, side by side.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// Side A.
    pub a: Side,
    /// Side B.
    pub b: Side,
    /// A's report.
    pub report_a: Report,
    /// B's report.
    pub report_b: Report,
    /// Arrival draws (open arrivals' times, closed clients' start and
    /// think delays) of A and B.
    pub arrivals: DrawCheck,
    /// Sampled service times of A and B.
    pub service: DrawCheck,
    /// The lab's servers do not all share one service-time distribution:
    /// a segment served elsewhere then takes another time (its draw is the
    /// same), so shared service draws may differ.
    pub uneven_service: bool,
}

/// Runs one side: the lab with `seed` and the side's commands, to `stop`.
fn run_side(
    lab: &Lab,
    seed: u64,
    run_for: Option<SimDuration>,
    side: &Side,
) -> Result<(Report, DrawHashes), RunError> {
    let mut world = World::new_keeping_draws(lab, seed);
    for entry in &side.commands {
        world.schedule_from(
            SimTime::ZERO + entry.at().get(),
            entry.command().clone(),
            Origin::Script,
        );
    }
    let stop = headless::stop_for(lab, &world, run_for)?;
    let finished = headless::run_engine(&mut world, stop);
    if let Some(at) = world.stalled() {
        return Err(RunError::Stalled {
            lab: lab.name.clone(),
            at: format!("t={:.6}s", at.as_secs_f64()),
            events: world.events_processed(),
        });
    }
    let report = Report::from_engine(&world, finished, None);
    Ok((report, world.draw_hashes()))
}

/// Runs `lab` with `seed` once per side and compares them.
pub fn compare(
    lab: &Lab,
    seed: u64,
    run_for: Option<SimDuration>,
    a: Side,
    b: Side,
) -> Result<Comparison, RunError> {
    let (report_a, draws_a) = run_side(lab, seed, run_for, &a)?;
    let (report_b, draws_b) = run_side(lab, seed, run_for, &b)?;
    let arrivals = DrawCheck::of(
        draws_a.arrivals,
        draws_b.arrivals,
        draws_a.arrival_pairs.as_ref(),
        draws_b.arrival_pairs.as_ref(),
    );
    let service = DrawCheck::of(
        draws_a.service,
        draws_b.service,
        draws_a.service_pairs.as_ref(),
        draws_b.service_pairs.as_ref(),
    );
    let servers = lab.servers.expand();
    let uneven_service = servers
        .windows(2)
        .any(|w| w[0].service_time != w[1].service_time);
    Ok(Comparison {
        a,
        b,
        report_a,
        report_b,
        arrivals,
        service,
        uneven_service,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(pairs: &[(u64, u64)]) -> DrawHash {
        let mut h = DrawHash::default();
        for &(k, v) in pairs {
            h.add(k, v);
        }
        h
    }

    #[test]
    fn shared_draws_are_checked_one_by_one() {
        let a = vec![(1, 10), (2, 20), (3, 30)];
        let b = vec![(3, 30), (2, 20), (4, 40)];
        let c = DrawCheck::of(hash(&a), hash(&b), Some(&a), Some(&b));
        assert!(c.checked && c.same());
        assert_eq!((c.shared, c.only_a, c.only_b, c.differing), (2, 1, 1, 0));
        assert_ne!(c.a, c.b, "the totals differ, the shared draws do not");
        let d = vec![(2, 21), (3, 30)];
        let c = DrawCheck::of(hash(&a), hash(&d), Some(&a), Some(&d));
        assert_eq!(c.differing, 1);
        assert!(!c.same());
    }

    #[test]
    fn unkept_draws_compare_by_their_totals() {
        let a = hash(&[(1, 10)]);
        assert!(DrawCheck::of(a, a, None, None).same());
        assert!(!DrawCheck::of(a, hash(&[(1, 11)]), None, None).same());
    }
}
