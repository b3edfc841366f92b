//! The names of the balancing algorithms: what a lab, a command and a
//! picker call them. How each one picks is in `policy/`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The balancing algorithms lblab knows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Algorithm {
    /// Each eligible backend in turn.
    #[default]
    RoundRobin,
    /// A uniformly random eligible backend.
    Random,
    /// Smooth weighted round robin (nginx): shares follow weights, evenly
    /// interleaved.
    WeightedRoundRobin,
    /// The eligible backend with the fewest connections (ties: lowest index).
    LeastConnections,
    /// Two random eligible backends; the less loaded wins.
    PowerOfTwoChoices,
}

impl Algorithm {
    /// Every algorithm, in the order pickers list them.
    pub const ALL: [Algorithm; 5] = [
        Algorithm::RoundRobin,
        Algorithm::Random,
        Algorithm::WeightedRoundRobin,
        Algorithm::LeastConnections,
        Algorithm::PowerOfTwoChoices,
    ];

    /// Short name for tables and headers.
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::RoundRobin => "round-robin",
            Algorithm::Random => "random",
            Algorithm::WeightedRoundRobin => "weighted-round-robin",
            Algorithm::LeastConnections => "least-connections",
            Algorithm::PowerOfTwoChoices => "power-of-two",
        }
    }

    /// One line on what the algorithm does, for pickers and help.
    pub const fn describe(self) -> &'static str {
        match self {
            Algorithm::RoundRobin => "each backend in turn; ignores weights and load",
            Algorithm::Random => "a random backend; even on average, lumpy in the short run",
            Algorithm::WeightedRoundRobin => {
                "in turn, in proportion to weights, evenly interleaved"
            }
            Algorithm::LeastConnections => "the backend with the fewest open connections",
            Algorithm::PowerOfTwoChoices => "two random backends, the less loaded wins",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
