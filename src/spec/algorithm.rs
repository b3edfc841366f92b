//! The names of the balancing algorithms: what a lab, a command and a
//! picker call them, with the few numbers some of them take. How each one
//! picks is in `policy/`.

use super::algorithm_params::{Choices, Coefficient, LoadBound, TableSize, VirtualNodes};
use super::script::{self, ScriptRef};
use super::values::Dur;
use serde::de::{self, DeserializeSeed, EnumAccess, IntoDeserializer, VariantAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The balancing algorithms lblab knows.
///
/// Those that take numbers are written with named fields, every one
/// optional: `Maglev(table_size: 65537)`, `RingHash(vnodes: 160, bound:
/// 1.25)`, `PeakEwma(decay: "10s")`, `PowerOfChoices(d: 3)`, `Score(latency:
/// 1.0, connections: 1.0, errors: 1.0)`; `Maglev()` takes the defaults.
///
/// A lab may also bring its own: `Script("fn pick(backends, flow, rng) {
/// ... }")`, or `ScriptFile("least-loaded.rhai")` for a file beside the
/// lab, which is read as the lab is and becomes the `Script` of its
/// source (nothing past the reading of a lab sees a `ScriptFile`).
// `remote = "Self"` makes the derives inherent functions, which the trait
// impls below call: deserialising goes through them, with `ScriptFile`
// read on the way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub enum Algorithm {
    /// Each eligible backend in turn.
    #[default]
    RoundRobin,
    /// A uniformly random eligible backend.
    Random,
    /// Smooth weighted round robin (nginx): shares follow weights, evenly
    /// interleaved.
    WeightedRoundRobin,
    /// The eligible backend with the fewest connections (ties at random).
    LeastConnections,
    /// The fewest connections per unit of weight (IPVS wlc).
    WeightedLeastConnections,
    /// The smallest (connections + 1) / weight: the expected delay of a
    /// newcomer (IPVS sed).
    ShortestExpectedDelay,
    /// An idle backend if there is one, else shortest expected delay
    /// (IPVS nq).
    NeverQueue,
    /// The fewest outstanding requests: segments sent to the backend and
    /// not yet answered (queued or in service).
    LeastRequests,
    /// Two random eligible backends; the less loaded wins.
    PowerOfTwoChoices,
    /// `d` random eligible backends; the least loaded wins.
    PowerOfChoices {
        /// Backends drawn per pick.
        #[serde(default)]
        d: Choices,
    },
    /// Two random backends; the lower peak-EWMA latency × (outstanding + 1)
    /// wins (Finagle, linkerd).
    PeakEwma {
        /// How fast old latencies are forgotten.
        #[serde(default = "default_decay")]
        decay: Dur,
    },
    /// A hash of the source address modulo the eligible backends (IPVS sh).
    SourceHash,
    /// A consistent-hash ring with virtual nodes; with a bound, a backend
    /// above ⌈bound × average load⌉ passes the flow clockwise on.
    RingHash {
        /// Points on the ring per unit of weight.
        #[serde(default)]
        vnodes: VirtualNodes,
        /// The load bound (1 + ε), or none: written `bound: 1.25` (or
        /// `Some(1.25)`).
        #[serde(default, deserialize_with = "super::algorithm_params::optional_bound")]
        bound: Option<LoadBound>,
    },
    /// Maglev's lookup table (Eisenbud et al., 2016), weights honoured.
    Maglev {
        /// Slots in the table: a prime well above the backends.
        #[serde(default)]
        table_size: TableSize,
    },
    /// The lowest documented weighted sum of latency (ms), connections and
    /// recent errors (per cent): the source design's dynamic scoring.
    Score {
        /// Weight of the peak-EWMA latency in milliseconds.
        #[serde(default)]
        latency: Coefficient,
        /// Weight of the open connections.
        #[serde(default)]
        connections: Coefficient,
        /// Weight of the recent error rate in per cent.
        #[serde(default)]
        errors: Coefficient,
    },
    /// The lab's own algorithm: a Rhai function `pick(backends, flow, rng)`
    /// returning the index of a backend; see `policy::script`.
    Script(ScriptRef),
}

/// Every variant name a lab may write, in the order errors list them.
const WRITTEN: &[&str] = &[
    "RoundRobin",
    "Random",
    "WeightedRoundRobin",
    "LeastConnections",
    "WeightedLeastConnections",
    "ShortestExpectedDelay",
    "NeverQueue",
    "LeastRequests",
    "PowerOfTwoChoices",
    "PowerOfChoices",
    "PeakEwma",
    "SourceHash",
    "RingHash",
    "Maglev",
    "Score",
    "Script",
    "ScriptFile",
];

impl Serialize for Algorithm {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Algorithm::serialize(self, s)
    }
}

impl<'de> Deserialize<'de> for Algorithm {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Algorithm, D::Error> {
        d.deserialize_enum("Algorithm", WRITTEN, Written)
    }
}

/// Reads the variant name; `ScriptFile` is read here, every other variant
/// is handed back to the derived code with its name.
struct Written;

impl<'de> Visitor<'de> for Written {
    type Value = Algorithm;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an algorithm")
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Algorithm, A::Error> {
        let (Tag(tag), variant): (Tag, A::Variant) = data.variant()?;
        if !WRITTEN.contains(&tag.as_str()) {
            return Err(de::Error::unknown_variant(&tag, WRITTEN));
        }
        if tag == "ScriptFile" {
            // Read within the value, so an error points at the name.
            return variant
                .newtype_variant_seed(FileName)
                .map(Algorithm::Script);
        }
        Algorithm::deserialize(de::value::EnumAccessDeserializer::new(Named {
            tag,
            variant,
        }))
    }
}

/// A `ScriptFile` name, read and resolved to the script it names.
struct FileName;

impl<'de> DeserializeSeed<'de> for FileName {
    type Value = ScriptRef;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<ScriptRef, D::Error> {
        let name = String::deserialize(d)?;
        script::from_file(&name).map_err(de::Error::custom)
    }
}

/// A variant's name, read as an identifier (as the derived code reads it).
struct Tag(String);

impl<'de> Deserialize<'de> for Tag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Tag, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Tag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an algorithm's name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Tag, E> {
                Ok(Tag(v.to_string()))
            }
        }
        d.deserialize_identifier(V)
    }
}

/// A variant whose name was already read, as an `EnumAccess` again.
struct Named<V> {
    tag: String,
    variant: V,
}

impl<'de, V: VariantAccess<'de>> EnumAccess<'de> for Named<V> {
    type Error = V::Error;
    type Variant = V;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, V), V::Error> {
        let tag: de::value::StringDeserializer<V::Error> = self.tag.into_deserializer();
        Ok((seed.deserialize(tag)?, self.variant))
    }
}

fn default_decay() -> Dur {
    DEFAULT_DECAY
}

/// Peak-EWMA's default decay, as Finagle's and linkerd's.
pub const DEFAULT_DECAY: Dur = Dur::from_secs(10);

impl Algorithm {
    /// Every algorithm, with its default numbers, in the order pickers list
    /// them.
    pub const ALL: [Algorithm; 15] = [
        Algorithm::RoundRobin,
        Algorithm::Random,
        Algorithm::WeightedRoundRobin,
        Algorithm::LeastConnections,
        Algorithm::WeightedLeastConnections,
        Algorithm::ShortestExpectedDelay,
        Algorithm::NeverQueue,
        Algorithm::LeastRequests,
        Algorithm::PowerOfTwoChoices,
        Algorithm::PowerOfChoices {
            d: Choices::DEFAULT,
        },
        Algorithm::PeakEwma {
            decay: DEFAULT_DECAY,
        },
        Algorithm::SourceHash,
        Algorithm::RingHash {
            vnodes: VirtualNodes::DEFAULT,
            bound: None,
        },
        Algorithm::Maglev {
            table_size: TableSize::DEFAULT,
        },
        Algorithm::Score {
            latency: Coefficient::ONE,
            connections: Coefficient::ONE,
            errors: Coefficient::ONE,
        },
    ];

    /// Short name for tables and headers.
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::RoundRobin => "round-robin",
            Algorithm::Random => "random",
            Algorithm::WeightedRoundRobin => "weighted-round-robin",
            Algorithm::LeastConnections => "least-connections",
            Algorithm::WeightedLeastConnections => "weighted-least-connections",
            Algorithm::ShortestExpectedDelay => "shortest-expected-delay",
            Algorithm::NeverQueue => "never-queue",
            Algorithm::LeastRequests => "least-requests",
            Algorithm::PowerOfTwoChoices => "power-of-two",
            Algorithm::PowerOfChoices { .. } => "power-of-d",
            Algorithm::PeakEwma { .. } => "peak-ewma",
            Algorithm::SourceHash => "source-hash",
            Algorithm::RingHash { .. } => "ring-hash",
            Algorithm::Maglev { .. } => "maglev",
            Algorithm::Score { .. } => "score",
            Algorithm::Script(_) => "script",
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
            Algorithm::WeightedLeastConnections => "the fewest open connections per unit of weight",
            Algorithm::ShortestExpectedDelay => "the smallest (connections + 1) / weight",
            Algorithm::NeverQueue => "an idle backend if any, else shortest expected delay",
            Algorithm::LeastRequests => "the fewest requests waiting or in service",
            Algorithm::PowerOfTwoChoices => "two random backends, the less loaded wins",
            Algorithm::PowerOfChoices { .. } => "d random backends, the least loaded wins",
            Algorithm::PeakEwma { .. } => "two random backends, the faster (peak EWMA) wins",
            Algorithm::SourceHash => "a hash of the client address; moves most flows on a change",
            Algorithm::RingHash { .. } => "a consistent-hash ring; moves about 1/N on a change",
            Algorithm::Maglev { .. } => {
                "Maglev's lookup table: even shares, a little over 1/N moved"
            }
            Algorithm::Score { .. } => "the lowest score of latency, connections and errors",
            Algorithm::Script(_) => "the lab's own Rhai function pick(backends, flow, rng)",
        }
    }

    /// The algorithm draws on the entropy word of a pick: randomised
    /// algorithms, and those that break ties at random.
    pub const fn needs_entropy(self) -> bool {
        !matches!(
            self,
            Algorithm::RoundRobin
                | Algorithm::WeightedRoundRobin
                | Algorithm::SourceHash
                | Algorithm::RingHash { .. }
                | Algorithm::Maglev { .. }
        )
    }

    /// The algorithm gives backends shares in proportion to their weights,
    /// so a backend of weight 0 takes nothing new (as in HAProxy); the
    /// others ignore weights (a script reads them, but decides itself).
    pub const fn honours_weights(self) -> bool {
        matches!(
            self,
            Algorithm::WeightedRoundRobin
                | Algorithm::WeightedLeastConnections
                | Algorithm::ShortestExpectedDelay
                | Algorithm::NeverQueue
                | Algorithm::SourceHash
                | Algorithm::RingHash { .. }
                | Algorithm::Maglev { .. }
        )
    }

    /// The algorithm maps a flow by a hash of its source address, so the
    /// share of flows a change of backends moves elsewhere is a figure
    /// worth showing.
    pub const fn hashes_flows(self) -> bool {
        matches!(
            self,
            Algorithm::SourceHash | Algorithm::RingHash { .. } | Algorithm::Maglev { .. }
        )
    }

    /// The same algorithm family with its default numbers (what a picker
    /// lists), so a picker can find the entry of an algorithm in force.
    pub fn family(self) -> Algorithm {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.name() == self.name())
            .unwrap_or(self)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        match self {
            Algorithm::PowerOfChoices { d } => write!(f, "({d})"),
            Algorithm::PeakEwma { decay } => write!(f, "({decay})"),
            Algorithm::RingHash { vnodes, bound } => match bound {
                Some(b) => write!(f, "({vnodes}, bound {b})"),
                None => write!(f, "({vnodes})"),
            },
            Algorithm::Maglev { table_size } => write!(f, "({table_size})"),
            Algorithm::Score {
                latency,
                connections,
                errors,
            } => write!(f, "({latency}, {connections}, {errors})"),
            Algorithm::Script(s) => write!(f, "({s})"),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_reads_back_from_ron_as_written() {
        for a in Algorithm::ALL {
            let text = ron::to_string(&a).expect("serialise");
            let back: Algorithm = ron::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(back, a, "{text}");
        }
    }

    #[test]
    fn numbers_may_be_left_out() {
        let a: Algorithm = ron::from_str("Maglev()").expect("defaults");
        assert_eq!(
            a,
            Algorithm::Maglev {
                table_size: TableSize::DEFAULT
            }
        );
        let a: Algorithm = ron::from_str("RingHash(bound: 1.25)").expect("bound only");
        assert!(
            matches!(a, Algorithm::RingHash { bound: Some(b), vnodes } if b.get() == 1.25 && vnodes == VirtualNodes::DEFAULT)
        );
    }

    #[test]
    fn bad_numbers_name_what_is_allowed() {
        for (text, says) in [
            ("Maglev(table_size: 65536)", "prime"),
            ("PowerOfChoices(d: 1)", "from 2 to"),
            ("RingHash(bound: 1.0)", "above 1"),
            ("RingHash(vnodes: 0)", "from 1 to"),
            ("Score(latency: -1.0)", "0 or more"),
        ] {
            let err = ron::from_str::<Algorithm>(text)
                .expect_err(text)
                .to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
    }

    const SCRIPT: &str = "fn pick(backends, flow, rng) { rng.below(backends.len) }";

    #[test]
    fn a_script_reads_back_from_ron_as_written() {
        let text = format!("Script({SCRIPT:?})");
        let a: Algorithm = ron::from_str(&text).expect("a script");
        let Algorithm::Script(s) = a else {
            panic!("{a:?}")
        };
        assert_eq!(&*s.source(), SCRIPT);
        assert_eq!(ron::to_string(&a).unwrap(), text);
        assert_eq!(a.name(), "script");
        assert_eq!(a.to_string(), format!("script({:08x})", s.fingerprint()));
        assert!(a.needs_entropy());
        assert!(!a.honours_weights());
        assert!(!a.hashes_flows());
        // No picker entry: a script has no default.
        assert_eq!(a.family(), a);
        assert!(
            !Algorithm::ALL
                .iter()
                .any(|x| matches!(x, Algorithm::Script(_)))
        );
        assert!(!Algorithm::ALL.iter().any(|x| x.name() == "script"));
    }

    #[test]
    fn every_algorithm_and_a_script_read_back_from_json() {
        let script = Algorithm::Script(ScriptRef::new(SCRIPT).unwrap());
        for a in Algorithm::ALL.into_iter().chain([script]) {
            let text = serde_json::to_string(&a).expect("serialise");
            let back: Algorithm =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(back, a, "{text}");
        }
    }

    #[test]
    fn a_script_that_does_not_compile_is_refused_with_its_line() {
        let err = ron::from_str::<Algorithm>("Script(\"fn pick(a, b, c) {\\n  a +\\n}\")")
            .unwrap_err()
            .to_string();
        assert!(err.contains("script line 3, col 1: "), "{err}");
    }

    #[test]
    fn a_script_file_is_read_through_the_resolver_in_force() {
        let err = ron::from_str::<Algorithm>("ScriptFile(\"a.rhai\")")
            .unwrap_err()
            .to_string();
        assert!(err.contains("write the script inline"), "{err}");
        let a = script::with_files(
            |name| {
                if name == "a.rhai" {
                    Ok(SCRIPT.to_string())
                } else {
                    Err(format!("cannot read {name}"))
                }
            },
            || ron::from_str::<Algorithm>("ScriptFile(\"a.rhai\")"),
        )
        .expect("read");
        assert_eq!(a, Algorithm::Script(ScriptRef::new(SCRIPT).unwrap()));
        let err = script::with_files(
            |name| Err(format!("cannot read {name}")),
            || ron::from_str::<Algorithm>("ScriptFile(\"b.rhai\")"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("cannot read b.rhai"), "{err}");
    }

    #[test]
    fn unknown_names_list_the_scripts_too() {
        let err = ron::from_str::<Algorithm>("Fastest")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`Fastest`"), "{err}");
        assert!(err.contains("`Score`, `Script`, or `ScriptFile`"), "{err}");
    }

    #[test]
    fn names_are_unique_and_families_find_their_picker_entry() {
        let mut names: Vec<_> = Algorithm::ALL.iter().map(|a| a.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Algorithm::ALL.len());
        let tuned = Algorithm::Maglev {
            table_size: TableSize::new(251).expect("prime"),
        };
        assert_eq!(
            tuned.family(),
            Algorithm::Maglev {
                table_size: TableSize::DEFAULT
            }
        );
        assert_eq!(tuned.to_string(), "maglev(251)");
    }
}
