//! How fast the live driver runs simulated time: a factor of the wall
//! clock, or as fast as the CPU allows, and the ladder `[` and `]` climb.

use std::fmt;

/// How fast simulated time runs against the wall clock.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Speed {
    /// Simulated seconds per wall second.
    Factor(f64),
    /// As fast as the CPU allows.
    Max,
}

impl Speed {
    /// The ladder `[` and `]` move along.
    pub const LADDER: [Speed; 14] = [
        Speed::Factor(0.1),
        Speed::Factor(0.25),
        Speed::Factor(0.5),
        Speed::Factor(1.0),
        Speed::Factor(2.0),
        Speed::Factor(5.0),
        Speed::Factor(10.0),
        Speed::Factor(25.0),
        Speed::Factor(50.0),
        Speed::Factor(100.0),
        Speed::Factor(250.0),
        Speed::Factor(500.0),
        Speed::Factor(1000.0),
        Speed::Max,
    ];

    /// The next rung up (`up`) or down the ladder from this speed.
    pub fn stepped(self, up: bool) -> Speed {
        let pos = Speed::LADDER.iter().position(|s| match (s, self) {
            (Speed::Max, Speed::Max) => true,
            (Speed::Factor(a), Speed::Factor(b)) => *a >= b,
            _ => false,
        });
        let here = pos.unwrap_or(Speed::LADDER.len() - 1);
        let exact = Speed::LADDER[here] == self;
        let next = if up {
            if exact { here + 1 } else { here }
        } else {
            here.saturating_sub(1)
        };
        Speed::LADDER[next.min(Speed::LADDER.len() - 1)]
    }

    /// Parses `max`, `10`, `x10` or `0.5`, between 0.1 and 1000.
    pub fn parse(text: &str) -> Result<Speed, String> {
        let t = text.trim().trim_start_matches(['x', '×']);
        if t.eq_ignore_ascii_case("max") {
            return Ok(Speed::Max);
        }
        match t.parse::<f64>() {
            Ok(f) if (0.1..=1000.0).contains(&f) => Ok(Speed::Factor(f)),
            _ => Err(format!(
                "expected a speed from 0.1 to 1000 (like 1, 10 or 0.5) or \"max\", found \"{text}\""
            )),
        }
    }
}

impl fmt::Display for Speed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Speed::Max => f.write_str("max"),
            Speed::Factor(x) if *x >= 1.0 => write!(f, "×{x:.0}"),
            Speed::Factor(x) => write!(f, "×{x}"),
        }
    }
}
