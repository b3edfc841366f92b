//! Scripted algorithms: the lab's own `fn pick(backends, flow, rng)`, in
//! Rhai, run in a sandbox.
//!
//! The script sees each backend (`backends[i]`, `for b in backends`,
//! `backends.len`) with its `index`, `weight`, `healthy`, `draining`,
//! `eligible`, `active`, `half_open`, `load` (active + half-open),
//! `outstanding` (requests queued or in service), `latency_ms` (peak-EWMA
//! estimate) and `error_rate` (0 to 1); the flow's `hash` (of the client
//! address, as the hashing algorithms use), `src_ip`, `src_port` and `seq`
//! (picks this algorithm made before this one); and `rng`, a random source
//! seeded from the pick's entropy word: `rng.next()`, `rng.below(n)`,
//! `rng.float()`. It returns the index of an eligible backend.
//!
//! A pick is a function of its inputs: a script keeps no state between
//! picks (a Rhai function sees only its arguments), its random numbers come
//! from the World's seed through the entropy word, and the engine has no
//! clock, no files, no `eval` and no `print`.
//!
//! **Limits.** A pick may run [`OPS_BASE`] + [`OPS_PER_BACKEND`] per backend
//! operations; strings, arrays and maps are bounded (`spec::script`'s
//! [`MAX_STRING_BYTES`], [`MAX_ARRAY_ITEMS`], [`MAX_MAP_ENTRIES`]), and so
//! are calls within calls ([`MAX_CALL_LEVELS`]) and variables.
//!
//! **Faults.** A pick whose script fails (it throws, breaks a rule of the
//! language, returns something other than a whole number, the index of no
//! backend, or of one that is down or draining) goes to round robin
//! instead, and the script runs again at the next pick: such faults may
//! depend on the input. A script that runs past a limit is *retired*: from
//! then on the selector picks by round robin without running it, since a
//! script that looped once will likely loop at every pick, at the cost of
//! the whole budget each time. Setting the algorithm again starts afresh.
//! Every fault is counted; [`Script::take_fault`] hands the owner a line to
//! log for the first fault, a retirement, and each time the count reaches
//! a power of ten.

use super::round_robin::RoundRobin;
use super::{BackendView, flow_hash};
use crate::model::{Endpoint, FourTuple};
use crate::spec::ScriptRef;
use crate::spec::script::{ENTRY, MAX_STRING_BYTES};
use rhai::{
    CallFnOptions, Dynamic, Engine, EvalAltResult, FLOAT, FnPtr, INT, NativeCallContext, Position,
    Scope,
};
use std::cell::Cell;
use std::fmt;
use std::sync::{Arc, OnceLock};

mod engine;

use super::is_power_of_ten;
use engine::engine;

/// Operations every pick may run, whatever the pool's size.
pub const OPS_BASE: u64 = 10_000;

/// Operations a pick may run per backend, so that a script visiting every
/// backend (10 to 20 operations each) fits in any pool.
pub const OPS_PER_BACKEND: u64 = 100;

/// The most operations any pick may run: the budget of a pool of the
/// largest lab's size (a proxy may have more backends).
pub const MAX_OPERATIONS: u64 =
    OPS_BASE + OPS_PER_BACKEND * crate::spec::limits::MAX_SERVERS as u64;

/// The most items an array may hold, counting those of nested arrays:
/// room for one per backend in the largest lab.
pub const MAX_ARRAY_ITEMS: usize = 4_096;

/// The most entries a map may hold, counting those of nested maps.
pub const MAX_MAP_ENTRIES: usize = 1_024;

/// How deeply functions may call functions (recursion included).
pub const MAX_CALL_LEVELS: usize = 16;

/// The most variables a function may have in scope at once.
pub const MAX_VARIABLES: usize = 256;

/// What a script may know of one backend.
#[derive(Clone, Copy, Debug)]
struct Backend {
    view: BackendView,
    index: INT,
}

/// The pool, as the script sees it: a copy of the views, shared, and the
/// random stream its helpers break ties with.
#[derive(Clone, Debug)]
struct Backends {
    views: Arc<Vec<BackendView>>,
    ties: Rng,
}

/// What `least` and `most` may compare.
const KEYS: &str = "load, active, half_open, outstanding, latency_ms, error_rate, weight";

fn key_of(key: &str) -> Result<fn(&BackendView) -> f64, Box<EvalAltResult>> {
    Ok(match key {
        "load" => |v| f64::from(v.load()),
        "active" => |v| f64::from(v.active),
        "half_open" => |v| f64::from(v.half_open),
        "outstanding" => |v| f64::from(v.outstanding),
        "latency_ms" => |v| f64::from(v.latency_ns) / 1e6,
        "error_rate" => |v| f64::from(v.error_rate),
        "weight" => |v| f64::from(v.weight),
        other => return Err(format!("no backend field \"{other}\"; use one of: {KEYS}").into()),
    })
}

impl Backends {
    fn get(&self, i: INT) -> Result<Backend, Box<EvalAltResult>> {
        usize::try_from(i)
            .ok()
            .and_then(|k| self.views.get(k))
            .map(|&view| Backend { view, index: i })
            .ok_or_else(|| {
                EvalAltResult::ErrorArrayBounds(self.views.len(), i, Position::NONE).into()
            })
    }

    fn eligible(&self) -> impl Iterator<Item = (usize, &BackendView)> {
        self.views.iter().enumerate().filter(|(_, v)| v.eligible())
    }

    /// The eligible backend scoring lowest (`sign` 1) or highest (`sign`
    /// -1), ties at random; -1 if none is eligible.
    fn best(
        &mut self,
        sign: f64,
        mut score: impl FnMut(usize, &BackendView) -> Result<f64, Box<EvalAltResult>>,
    ) -> Result<INT, Box<EvalAltResult>> {
        let mut best: Option<(usize, f64)> = None;
        let mut ties = 0;
        let views = self.views.clone();
        for (i, v) in views.iter().enumerate().filter(|(_, v)| v.eligible()) {
            let s = sign * score(i, v)?;
            match best {
                Some((_, b)) if s > b => {}
                Some((_, b)) if s == b => {
                    // Reservoir sampling: each of k ties wins with 1/k.
                    ties += 1;
                    if self.ties.below_usize(ties) == 0 {
                        best = Some((i, s));
                    }
                }
                _ => {
                    best = Some((i, s));
                    ties = 1;
                }
            }
        }
        Ok(best.map_or(-1, |(i, _)| i as INT))
    }

    /// A uniformly random eligible backend; -1 if none.
    fn random(&mut self) -> INT {
        let n = self.eligible().count();
        if n == 0 {
            return -1;
        }
        let k = self.ties.below_usize(n);
        self.eligible().nth(k).map_or(-1, |(i, _)| i as INT)
    }

    /// An eligible backend drawn with probability in proportion to its
    /// weight (uniformly if every eligible weight is 0); -1 if none.
    fn weighted(&mut self) -> INT {
        let total: u64 = self.eligible().map(|(_, v)| u64::from(v.weight)).sum();
        if total == 0 {
            return self.random();
        }
        let mut ticket = self.ties.below_u64(total);
        for (i, v) in self.eligible() {
            let w = u64::from(v.weight);
            if ticket < w {
                return i as INT;
            }
            ticket -= w;
        }
        -1
    }
}

impl IntoIterator for Backends {
    type Item = Backend;
    type IntoIter = BackendIter;

    fn into_iter(self) -> BackendIter {
        BackendIter {
            views: self.views,
            next: 0,
        }
    }
}

/// `for b in backends`.
struct BackendIter {
    views: Arc<Vec<BackendView>>,
    next: usize,
}

impl Iterator for BackendIter {
    type Item = Backend;

    fn next(&mut self) -> Option<Backend> {
        let view = *self.views.get(self.next)?;
        let index = self.next as INT;
        self.next += 1;
        Some(Backend { view, index })
    }
}

/// What a script may know of the flow it places.
#[derive(Clone, Copy, Debug)]
struct Flow {
    hash: u64,
    src: Endpoint,
    seq: u64,
}

/// The script's random source: xorshift64*, seeded from the pick's
/// entropy word.
#[derive(Clone, Copy, Debug)]
struct Rng(u64);

impl Rng {
    fn seeded(entropy: u64) -> Rng {
        // The mixed word is never 0 for long; xorshift needs a non-zero
        // state.
        Rng(flow_hash::mix(entropy) | 1)
    }

    fn word(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: INT) -> Result<INT, Box<EvalAltResult>> {
        if n <= 0 {
            return Err(format!("rng.below(n) needs n of 1 or more, found {n}").into());
        }
        Ok(self.below_u64(n as u64) as INT)
    }

    fn below_u64(&mut self, n: u64) -> u64 {
        ((u128::from(self.word()) * u128::from(n)) >> 64) as u64
    }

    fn below_usize(&mut self, n: usize) -> usize {
        self.below_u64(n as u64) as usize
    }
}

/// Keeps the helpers' tie-breaking stream apart from the script's `rng`.
const TIES_SALT: u64 = 0x7469_6573_5f73_616c; // "ties_sal"

thread_local! {
    /// Operations the pick running on this thread may still reach.
    static BUDGET: Cell<u64> = const { Cell::new(OPS_BASE) };
}

/// A score a `least_by` or `most_by` function returned, as a number.
fn number(score: &Dynamic, helper: &str) -> Result<f64, Box<EvalAltResult>> {
    match (score.as_float(), score.as_int()) {
        (Ok(f), _) if !f.is_nan() => Ok(f),
        (_, Ok(i)) => Ok(i as f64),
        _ => Err(format!(
            "the function given to {helper} must return a number, found {} ({})",
            shown(score),
            score.type_name()
        )
        .into()),
    }
}

/// A script's state in a selector: the compiled script, the picks it made
/// and the faults it had.
#[derive(Clone)]
pub struct Script {
    script: ScriptRef,
    ast: Arc<rhai::AST>,
    /// The views handed to the script, reused from pick to pick.
    views: Arc<Vec<BackendView>>,
    /// Picks asked of the script so far (`flow.seq`).
    seq: u64,
    /// Ran past a limit: round robin picks from now on.
    retired: bool,
    faults: u64,
    /// A line for the owner's log, until taken.
    report: Option<String>,
}

impl fmt::Debug for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Script")
            .field("script", &self.script)
            .field("seq", &self.seq)
            .field("retired", &self.retired)
            .field("faults", &self.faults)
            .finish()
    }
}

/// Why a script's pick was not taken.
struct Fault {
    text: String,
    /// Past a limit: the script is retired.
    limit: bool,
}

impl Script {
    /// The state of `script`, before its first pick.
    pub fn new(script: ScriptRef) -> Script {
        Script {
            script,
            ast: script.ast(),
            views: Arc::new(Vec::new()),
            seq: 0,
            retired: false,
            faults: 0,
            report: None,
        }
    }

    /// The script's pick for `flow`, or round robin's (through `fallback`)
    /// after a fault; `None` when no backend is eligible (the script is not
    /// asked then).
    pub fn pick(
        &mut self,
        backends: &[BackendView],
        flow: &FourTuple,
        entropy: u64,
        fallback: &mut RoundRobin,
    ) -> Option<usize> {
        if !backends.iter().any(BackendView::eligible) {
            return None;
        }
        if self.retired {
            return fallback.pick(backends);
        }
        match self.run(backends, flow, entropy) {
            Ok(i) => Some(i),
            Err(fault) => {
                self.record(fault);
                fallback.pick(backends)
            }
        }
    }

    /// Faults so far.
    pub fn faults(&self) -> u64 {
        self.faults
    }

    /// The script ran past a limit and round robin picks instead.
    pub fn retired(&self) -> bool {
        self.retired
    }

    /// A line for the owner's log, once: after the first fault, the
    /// retirement, and each time the count of faults reaches a power of
    /// ten.
    pub fn take_fault(&mut self) -> Option<String> {
        self.report.take()
    }

    fn run(
        &mut self,
        backends: &[BackendView],
        flow: &FourTuple,
        entropy: u64,
    ) -> Result<usize, Fault> {
        let views = Arc::make_mut(&mut self.views);
        views.clear();
        views.extend_from_slice(backends);
        let n = backends.len();
        let budget = OPS_BASE
            .saturating_add(OPS_PER_BACKEND.saturating_mul(n as u64))
            .min(MAX_OPERATIONS);
        BUDGET.with(|b| b.set(budget));
        let seq = self.seq;
        self.seq += 1;
        let args = (
            Dynamic::from(Backends {
                views: self.views.clone(),
                ties: Rng::seeded(entropy ^ TIES_SALT),
            }),
            Dynamic::from(Flow {
                hash: flow_hash::of(flow),
                src: flow.src,
                seq,
            }),
            Dynamic::from(Rng::seeded(entropy)),
        );
        let options = CallFnOptions::new().eval_ast(false).rewind_scope(false);
        let result = engine().call_fn_with_options::<Dynamic>(
            options,
            &mut Scope::new(),
            &self.ast,
            ENTRY,
            args,
        );
        let value = result.map_err(|e| fault_of(&e, budget))?;
        let Ok(i) = value.as_int() else {
            return Err(Fault {
                text: format!(
                    "pick returned {} ({}), not the index of a backend",
                    shown(&value),
                    value.type_name()
                ),
                limit: false,
            });
        };
        let Some(view) = usize::try_from(i).ok().and_then(|k| backends.get(k)) else {
            return Err(Fault {
                text: format!(
                    "pick returned {i}, but the backends are numbered 0 to {}",
                    n - 1
                ),
                limit: false,
            });
        };
        if !view.eligible() {
            let why = if view.healthy { "draining" } else { "down" };
            return Err(Fault {
                text: format!("pick returned {i}, a backend that is {why}"),
                limit: false,
            });
        }
        Ok(i as usize)
    }

    fn record(&mut self, fault: Fault) {
        self.faults += 1;
        let n = self.faults;
        if fault.limit {
            self.retired = true;
            self.report = Some(format!(
                "script {} retired after {n} fault{}: {}; round robin picks from now on",
                self.script,
                plural(n),
                fault.text
            ));
        } else if n == 1 {
            self.report = Some(format!(
                "script {} fault: {}; round robin took this pick",
                self.script, fault.text
            ));
        } else if is_power_of_ten(n) {
            self.report = Some(format!(
                "script {}: {n} faults so far, the latest: {}; round robin took those picks",
                self.script, fault.text
            ));
        }
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A returned value for a message, cut short.
fn shown(value: &Dynamic) -> String {
    let text = value.to_string();
    match text.char_indices().nth(40) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text,
    }
}

/// What went wrong, in words, with the script's line and column.
fn fault_of(e: &EvalAltResult, budget: u64) -> Fault {
    let (text, limit) = match e {
        EvalAltResult::ErrorTooManyOperations(..) | EvalAltResult::ErrorTerminated(..) => (
            format!("ran past its limit of {budget} operations for this pick"),
            true,
        ),
        EvalAltResult::ErrorDataTooLarge(what, ..) => {
            let limit = if what.starts_with("Length of string") {
                format!("a string grew past the limit of {MAX_STRING_BYTES} bytes")
            } else if what.starts_with("Size of object map") {
                format!("a map grew past the limit of {MAX_MAP_ENTRIES} entries")
            } else {
                format!("an array grew past the limit of {MAX_ARRAY_ITEMS} items")
            };
            (limit, true)
        }
        EvalAltResult::ErrorStackOverflow(..) => (
            format!("calls nested past the limit of {MAX_CALL_LEVELS} levels"),
            true,
        ),
        EvalAltResult::ErrorTooManyVariables(..) => (
            format!("declared more than the limit of {MAX_VARIABLES} variables"),
            true,
        ),
        other => {
            let text = other.to_string();
            let pos = other.position();
            let text = text
                .strip_suffix(&format!(" ({pos})"))
                .map(str::to_string)
                .unwrap_or(text);
            (text, false)
        }
    };
    let pos = e.position();
    let text = match (pos.line(), pos.position()) {
        (Some(l), Some(c)) => format!("line {l}, col {c}: {text}"),
        (Some(l), None) => format!("line {l}: {text}"),
        _ => text,
    };
    Fault { text, limit }
}

#[cfg(test)]
mod tests;
