//! "Why this backend?": what an algorithm saw when it made a pick, worked
//! out again from the same inputs (the views, the flow and the entropy
//! word) right after the pick, at a cost of O(1), or O(d) for the draws of
//! the random-choice algorithms: cheap enough to keep for every pick.

use super::{BackendView, flow_hash, maglev, peak_ewma, power_of_choices, power_of_two, score};
use crate::model::FourTuple;
use crate::spec::Algorithm;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Draws of a random-choice pick kept for explaining (power of d draws up
/// to 16; the first four say enough).
pub const KEPT_DRAWS: usize = 4;

/// What the figure an algorithm compares is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Measure {
    /// Connections (half-open and established).
    Load,
    /// Connections per unit of weight.
    LoadPerWeight,
    /// (Connections + 1) per unit of weight.
    ExpectedDelay,
    /// Requests sent and not yet answered.
    Outstanding,
    /// Peak-EWMA latency in ms × (outstanding + 1).
    Cost,
    /// The weighted sum of latency, connections and errors.
    Score,
}

impl Measure {
    /// The measure's name in a sentence.
    pub const fn name(self) -> &'static str {
        match self {
            Measure::Load => "connections",
            Measure::LoadPerWeight => "connections per weight",
            Measure::ExpectedDelay => "(connections + 1) per weight",
            Measure::Outstanding => "outstanding requests",
            Measure::Cost => "latency ms x (outstanding + 1)",
            Measure::Score => "score",
        }
    }
}

/// What the algorithm saw.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Saw {
    /// Its turn came (round robin, weighted round robin).
    InTurn,
    /// A uniformly random draw.
    Random,
    /// The lowest `measure` of the eligible backends: the chosen one's.
    Lowest {
        /// What was compared.
        measure: Measure,
        /// The chosen backend's figure.
        value: f64,
    },
    /// Backends drawn at random and compared on `measure`, in draw order:
    /// (backend index, figure).
    Drew {
        /// What was compared.
        measure: Measure,
        /// The draws kept.
        draws: [(u32, f64); KEPT_DRAWS],
        /// How many of `draws` are real.
        kept: u8,
        /// How many draws the pick made.
        made: u8,
    },
    /// The flow's hash mapped it (source hash, ring, Maglev).
    Hash {
        /// The hash of the client's address.
        hash: u64,
        /// The Maglev table's slot it names.
        slot: Option<u32>,
    },
    /// The lab's script chose.
    Script,
}

/// What the algorithm of `algorithm` saw when it picked `chosen` for
/// `flow` with `entropy` over `backends` (the same arguments as the pick).
pub fn explain(
    algorithm: Algorithm,
    backends: &[BackendView],
    flow: &FourTuple,
    entropy: u64,
    chosen: usize,
) -> Saw {
    let b = &backends[chosen];
    let per_weight = |cost: f64| cost / f64::from(b.weight.max(1));
    let lowest = |measure, value| Saw::Lowest { measure, value };
    match algorithm {
        Algorithm::RoundRobin | Algorithm::WeightedRoundRobin => Saw::InTurn,
        Algorithm::Random => Saw::Random,
        Algorithm::LeastConnections => lowest(Measure::Load, f64::from(b.load())),
        Algorithm::WeightedLeastConnections => {
            lowest(Measure::LoadPerWeight, per_weight(f64::from(b.load())))
        }
        Algorithm::ShortestExpectedDelay | Algorithm::NeverQueue => lowest(
            Measure::ExpectedDelay,
            per_weight(f64::from(b.load()) + 1.0),
        ),
        Algorithm::LeastRequests => lowest(Measure::Outstanding, f64::from(b.outstanding)),
        Algorithm::Score {
            latency,
            connections,
            errors,
        } => lowest(
            Measure::Score,
            score::score(
                b,
                score::Weights {
                    latency: latency.get(),
                    connections: connections.get(),
                    errors: errors.get(),
                },
            ),
        ),
        Algorithm::PowerOfTwoChoices | Algorithm::PeakEwma { .. } => {
            let (measure, figure): (Measure, fn(&BackendView) -> f64) =
                if matches!(algorithm, Algorithm::PeakEwma { .. }) {
                    (Measure::Cost, |v| peak_ewma::cost(v) / 1e6)
                } else {
                    (Measure::Load, |v| f64::from(v.load()))
                };
            match power_of_two::draws(backends, entropy) {
                Some((x, y)) => drew(measure, [x, y].into_iter(), 2, |i| figure(&backends[i])),
                None => Saw::Random,
            }
        }
        Algorithm::PowerOfChoices { d } => {
            let made = d.get();
            let draws = (0..made).filter_map(|k| power_of_choices::draw(backends, entropy, k));
            drew(Measure::Load, draws, made, |i| {
                f64::from(backends[i].load())
            })
        }
        Algorithm::SourceHash | Algorithm::RingHash { .. } => Saw::Hash {
            hash: flow_hash::of(flow),
            slot: None,
        },
        Algorithm::Maglev { table_size } => {
            let hash = flow_hash::of(flow);
            let slot = maglev::slot_of(hash, table_size.get() as usize);
            Saw::Hash {
                hash,
                slot: Some(slot as u32),
            }
        }
        Algorithm::Script(_) => Saw::Script,
    }
}

fn drew(
    measure: Measure,
    picks: impl Iterator<Item = usize>,
    made: usize,
    figure: impl Fn(usize) -> f64,
) -> Saw {
    let mut draws = [(0u32, 0.0); KEPT_DRAWS];
    let mut kept = 0;
    for (slot, i) in draws.iter_mut().zip(picks) {
        *slot = (i as u32, figure(i));
        kept += 1;
    }
    Saw::Drew {
        measure,
        draws,
        kept,
        made: made as u8,
    }
}

impl Saw {
    /// The explanation in words, with `name` giving each backend's name.
    pub fn describe(&self, name: impl Fn(u32) -> String) -> String {
        match self {
            Saw::InTurn => "its turn".to_string(),
            Saw::Random => "a random draw".to_string(),
            Saw::Lowest { measure, value } => {
                format!("the lowest {}: {}", measure.name(), Figure(*value))
            }
            Saw::Drew {
                measure,
                draws,
                kept,
                made,
            } => {
                let shown: Vec<String> = draws[..usize::from(*kept)]
                    .iter()
                    .map(|(b, v)| format!("{} {}", name(*b), Figure(*v)))
                    .collect();
                let more = if made > kept {
                    format!(" and {} more", made - kept)
                } else {
                    String::new()
                };
                format!(
                    "drew {}{more}; lowest {} wins",
                    shown.join(", "),
                    measure.name()
                )
            }
            Saw::Hash { hash, slot: None } => format!("the client's hash {hash:016x}"),
            Saw::Hash {
                hash,
                slot: Some(slot),
            } => format!("the client's hash {hash:016x}, table slot {slot}"),
            Saw::Script => "the lab's script".to_string(),
        }
    }
}

/// A figure shown with as many decimals as it needs.
struct Figure(f64);

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.fract() == 0.0 && self.0.abs() < 1e15 {
            write!(f, "{}", self.0 as i64)
        } else {
            write!(f, "{:.2}", self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{flow, pool, words};
    use super::super::{Selector, power_of_two};
    use super::*;
    use crate::spec::Choices;

    fn name(b: u32) -> String {
        format!("srv-{}", b + 1)
    }

    #[test]
    fn the_draws_explained_are_the_draws_the_pick_made() {
        let mut backends = pool(8);
        for (i, b) in backends.iter_mut().enumerate() {
            b.active = (i * 3 % 7) as u32;
        }
        for w in words(17).take(500) {
            let chosen = Selector::new(Algorithm::PowerOfTwoChoices)
                .pick(&backends, &flow(), w)
                .expect("eligible");
            let Saw::Drew { draws, kept, .. } =
                explain(Algorithm::PowerOfTwoChoices, &backends, &flow(), w, chosen)
            else {
                panic!("not a draw")
            };
            assert_eq!(kept, 2);
            // The winner is one of the two drawn, with the lower load.
            let (a, b) = (draws[0], draws[1]);
            assert!(
                chosen as u32 == a.0 || chosen as u32 == b.0,
                "{chosen} {a:?} {b:?}"
            );
            let least = if b.1 < a.1 { b.0 } else { a.0 };
            assert_eq!(least, chosen as u32);
            assert_eq!(
                power_of_two::draws(&backends, w),
                Some((a.0 as usize, b.0 as usize))
            );
        }
    }

    #[test]
    fn power_of_d_keeps_four_draws_and_counts_the_rest() {
        let backends = pool(20);
        let d = Choices::new(7).expect("in range");
        let a = Algorithm::PowerOfChoices { d };
        let chosen = Selector::new(a)
            .pick(&backends, &flow(), 99)
            .expect("eligible");
        let saw = explain(a, &backends, &flow(), 99, chosen);
        let text = saw.describe(name);
        assert!(
            text.ends_with("and 3 more; lowest connections wins"),
            "{text}"
        );
        assert_eq!(text.matches("srv-").count(), 4, "{text}");
    }

    #[test]
    fn maglev_names_the_slot_its_table_was_read_at() {
        let backends = pool(5);
        let a = Algorithm::Maglev {
            table_size: crate::spec::TableSize::new(251).expect("prime"),
        };
        let mut selector = Selector::new(a);
        let chosen = selector.pick(&backends, &flow(), 0).expect("eligible");
        let Saw::Hash {
            slot: Some(slot), ..
        } = explain(a, &backends, &flow(), 0, chosen)
        else {
            panic!("no slot")
        };
        let table = maglev::Table::build(&backends, 251);
        assert_eq!(table.slot(slot as usize), chosen);
    }

    #[test]
    fn scans_show_the_chosen_figure_in_its_own_measure() {
        let mut backends = pool(3);
        backends[0].active = 6;
        backends[0].weight = 4;
        backends[1].active = 9;
        backends[2].outstanding = 5;
        let saw = explain(
            Algorithm::WeightedLeastConnections,
            &backends,
            &flow(),
            0,
            0,
        );
        assert_eq!(
            saw.describe(name),
            "the lowest connections per weight: 1.50"
        );
        let saw = explain(Algorithm::ShortestExpectedDelay, &backends, &flow(), 0, 0);
        assert_eq!(
            saw.describe(name),
            "the lowest (connections + 1) per weight: 1.75"
        );
        let saw = explain(Algorithm::LeastRequests, &backends, &flow(), 0, 2);
        assert_eq!(saw.describe(name), "the lowest outstanding requests: 5");
        let saw = explain(Algorithm::RoundRobin, &backends, &flow(), 0, 1);
        assert_eq!(saw.describe(name), "its turn");
        let saw = explain(Algorithm::SourceHash, &backends, &flow(), 0, 1);
        assert_eq!(
            saw.describe(name),
            format!("the client's hash {:016x}", flow_hash::of(&flow()))
        );
    }
}
