//! Scripted algorithms: a balancing algorithm written in a lab, as a small
//! Rhai function, `Script("fn pick(backends, flow, rng) { ... }")`.
//!
//! `Algorithm` is `Copy` and compared by value everywhere, so a script is
//! held by a [`ScriptRef`]: a small handle into a process-wide, append-only
//! table of script sources. Equal sources get equal handles, so two labs
//! with the same script run the same algorithm and a run stays a function
//! of its lab and seed. A source is compiled (checked) once, when it first
//! enters the table, and only a source that compiles gets a handle: every
//! `ScriptRef` names a script that runs. How a script picks is
//! `policy::script`'s business; here is only what a script is and what it
//! may be.
//!
//! A handle serialises as its source and deserialises from one, so a lab
//! written back (a run file) carries the script itself.
//!
//! `ScriptFile("least-loaded.rhai")` names a file instead. Whoever reads
//! the text that names it says where such names lead ([`with_files`]: the
//! lab loader resolves them beside the lab file); read without that (a
//! built-in lab, text given inline), a `ScriptFile` is refused with a
//! message that says to write the script inline.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cell::RefCell;
use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};

/// The longest script source accepted, in bytes. Real scripts are a few
/// hundred bytes; the limit keeps a wrong file from being compiled.
pub const MAX_SCRIPT_BYTES: usize = 64 * 1024;

/// How deeply a script's expressions may nest (at the top level and within
/// functions): deep enough for any real script, shallow enough that
/// compiling `((((...` cannot exhaust the stack.
pub const MAX_EXPR_DEPTH: usize = 64;

/// The longest string a script may build, in bytes, counting every string
/// inside an array or map together.
pub const MAX_STRING_BYTES: usize = 16 * 1024;

/// The most functions a script may define.
pub const MAX_FUNCTIONS: usize = 64;

/// The script's entry point and its parameters.
pub const ENTRY: &str = "pick";

/// A compiled script, by handle: `Copy`, equal for equal sources.
// No ordering: indices follow the order sources first appeared in this
// process, which differs between processes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScriptRef(u32);

/// One entry of the table: the source and what it compiled to.
struct Entry {
    source: Arc<str>,
    ast: Arc<rhai::AST>,
    fingerprint: u32,
}

fn table() -> &'static RwLock<Vec<Entry>> {
    static TABLE: OnceLock<RwLock<Vec<Entry>>> = OnceLock::new();
    TABLE.get_or_init(|| RwLock::new(Vec::new()))
}

/// Why a script source was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", place(*.line, *.col))]
pub struct ScriptError {
    /// 1-based line in the script, 0 when the error has no place in it.
    pub line: usize,
    /// 1-based column in the script, 0 when the error has no place in it.
    pub col: usize,
    /// What is wrong.
    pub message: String,
}

fn place(line: usize, col: usize) -> String {
    match (line, col) {
        (0, _) => String::new(),
        (l, 0) => format!("line {l}: "),
        (l, c) => format!("line {l}, col {c}: "),
    }
}

impl ScriptError {
    fn whole(message: String) -> ScriptError {
        ScriptError {
            line: 0,
            col: 0,
            message,
        }
    }
}

/// The engine settings that decide what a script may *say*, shared by the
/// check here and the engine that runs scripts (`policy::script` adds the
/// packages, the types and the run-time limits): no `eval`, variables
/// declared before use, expressions and function counts bounded.
pub fn language() -> rhai::Engine {
    let mut engine = rhai::Engine::new_raw();
    engine
        .set_strict_variables(true)
        .set_max_expr_depths(MAX_EXPR_DEPTH, MAX_EXPR_DEPTH)
        .set_max_functions(MAX_FUNCTIONS)
        .set_max_string_size(MAX_STRING_BYTES)
        .disable_symbol("eval");
    engine
}

fn compiler() -> &'static rhai::Engine {
    static ENGINE: OnceLock<rhai::Engine> = OnceLock::new();
    ENGINE.get_or_init(language)
}

/// Compiles `source` and checks it defines `pick(backends, flow, rng)`.
fn compile(source: &str) -> Result<rhai::AST, ScriptError> {
    if source.len() > MAX_SCRIPT_BYTES {
        return Err(ScriptError::whole(format!(
            "a script is at most {MAX_SCRIPT_BYTES} bytes, found {}",
            source.len()
        )));
    }
    let ast = compiler().compile(source).map_err(|e| {
        let pos = e.position();
        ScriptError {
            line: pos.line().unwrap_or(0),
            col: pos.position().unwrap_or(0),
            message: e.err_type().to_string(),
        }
    })?;
    let arity: Vec<usize> = ast
        .iter_functions()
        .filter(|f| f.name == ENTRY)
        .map(|f| f.params.len())
        .collect();
    if !arity.contains(&3) {
        let found = match arity.as_slice() {
            [] => "defines no function `pick`".to_string(),
            [1] => "defines `pick` with 1 parameter".to_string(),
            [n] => format!("defines `pick` with {n} parameters"),
            _ => "defines `pick`, but not with 3 parameters".to_string(),
        };
        return Err(ScriptError::whole(format!(
            "must define `fn pick(backends, flow, rng)`; this one {found}"
        )));
    }
    Ok(ast)
}

/// FNV-1a of the source: a short name for a script that is the same in
/// every process and on every machine.
fn fingerprint(source: &str) -> u32 {
    source.bytes().fold(0x811c_9dc5, |h: u32, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

impl ScriptRef {
    /// The handle of `source`, compiling it if it is new; or why it does
    /// not compile.
    pub fn new(source: &str) -> Result<ScriptRef, ScriptError> {
        if let Some(r) = Self::find(source) {
            return Ok(r);
        }
        let ast = compile(source)?;
        // Poisoning cannot leave the table half-written: a push is the
        // only write.
        let mut table = table().write().unwrap_or_else(|p| p.into_inner());
        // Another thread may have added it since the look-up.
        if let Some(i) = table.iter().position(|e| &*e.source == source) {
            return Ok(ScriptRef(i as u32));
        }
        let index = u32::try_from(table.len())
            .map_err(|_| ScriptError::whole("too many distinct scripts".to_string()))?;
        table.push(Entry {
            source: source.into(),
            ast: Arc::new(ast),
            fingerprint: fingerprint(source),
        });
        Ok(ScriptRef(index))
    }

    fn find(source: &str) -> Option<ScriptRef> {
        let table = table().read().unwrap_or_else(|p| p.into_inner());
        table
            .iter()
            .position(|e| &*e.source == source)
            .map(|i| ScriptRef(i as u32))
    }

    fn with<R>(self, f: impl FnOnce(&Entry) -> R) -> R {
        let table = table().read().unwrap_or_else(|p| p.into_inner());
        // Handles are only made by `new`, after the push.
        f(&table[self.0 as usize])
    }

    /// The script's source, as written.
    pub fn source(self) -> Arc<str> {
        self.with(|e| e.source.clone())
    }

    /// The compiled script.
    pub fn ast(self) -> Arc<rhai::AST> {
        self.with(|e| e.ast.clone())
    }

    /// A fingerprint of the source (FNV-1a), the same everywhere: how
    /// tables and logs tell scripts apart.
    pub fn fingerprint(self) -> u32 {
        self.with(|e| e.fingerprint)
    }
}

impl fmt::Debug for ScriptRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScriptRef({:08x})", self.fingerprint())
    }
}

impl fmt::Display for ScriptRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.fingerprint())
    }
}

impl Serialize for ScriptRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source())
    }
}

impl<'de> Deserialize<'de> for ScriptRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ScriptRef, D::Error> {
        let source = String::deserialize(d)?;
        ScriptRef::new(&source).map_err(|e| serde::de::Error::custom(format!("script {e}")))
    }
}

/// Where `ScriptFile` names lead: the text of the named script, or why it
/// cannot be read.
pub type FileResolver = dyn Fn(&str) -> Result<String, String>;

thread_local! {
    static RESOLVER: RefCell<Option<Arc<FileResolver>>> = const { RefCell::new(None) };
}

/// Runs `f` (which reads a lab, a command script or a configuration) with
/// `ScriptFile` names resolved by `resolve`; restores what was in force
/// before, even if `f` panics.
pub fn with_files<R>(
    resolve: impl Fn(&str) -> Result<String, String> + 'static,
    f: impl FnOnce() -> R,
) -> R {
    struct Restore(Option<Arc<FileResolver>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let old = self.0.take();
            RESOLVER.with(|r| *r.borrow_mut() = old);
        }
    }
    let new: Arc<FileResolver> = Arc::new(resolve);
    let _restore = Restore(RESOLVER.with(|r| r.borrow_mut().replace(new)));
    f()
}

/// The handle of the script file `name`, read through the resolver in
/// force; the message says why there is none.
pub fn from_file(name: &str) -> Result<ScriptRef, String> {
    let resolver = RESOLVER.with(|r| r.borrow().clone());
    let Some(resolve) = resolver else {
        return Err(format!(
            "ScriptFile(\"{name}\") is read beside the lab file that names it, and this \
             text was not read from a file; write the script inline with Script(\"...\")"
        ));
    };
    let source = resolve(name)?;
    ScriptRef::new(&source).map_err(|e| format!("script {name} {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PICK0: &str = "fn pick(backends, flow, rng) { 0 }";

    #[test]
    fn equal_sources_share_a_handle_and_others_do_not() {
        let a = ScriptRef::new(PICK0).unwrap();
        let b = ScriptRef::new(&String::from(PICK0)).unwrap();
        let c = ScriptRef::new("fn pick(backends, flow, rng) { 1 }").unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(&*a.source(), PICK0);
        assert_ne!(a.fingerprint(), c.fingerprint());
    }

    #[test]
    fn syntax_errors_say_line_and_column_in_the_script() {
        let e = ScriptRef::new("fn pick(backends, flow, rng) {\n    let x = ;\n}").unwrap_err();
        assert_eq!((e.line, e.col), (2, 13), "{e}");
        assert!(e.to_string().starts_with("line 2, col 13: "), "{e}");
    }

    #[test]
    fn undeclared_variables_are_compile_errors() {
        let e = ScriptRef::new("fn pick(backends, flow, rng) {\n  best\n}").unwrap_err();
        assert_eq!((e.line, e.col), (2, 3), "{e}");
        assert!(e.message.contains("best"), "{e}");
    }

    #[test]
    fn a_script_without_pick_of_three_is_refused() {
        let e = ScriptRef::new("fn choose(a, b, c) { 0 }").unwrap_err();
        assert!(e.to_string().contains("defines no function `pick`"), "{e}");
        let e = ScriptRef::new("fn pick(backends) { 0 }").unwrap_err();
        assert!(e.to_string().ends_with("with 1 parameter"), "{e}");
    }

    #[test]
    fn eval_is_not_part_of_the_language() {
        assert!(ScriptRef::new("fn pick(backends, flow, rng) { eval(\"0\") }").is_err());
    }

    #[test]
    fn oversized_and_deeply_nested_sources_fail_cleanly() {
        let big = format!("{PICK0}\n//{}", "x".repeat(MAX_SCRIPT_BYTES));
        let e = ScriptRef::new(&big).unwrap_err();
        assert!(e.message.contains("at most 65536 bytes"), "{e}");
        let deep = format!(
            "fn pick(backends, flow, rng) {{ {}0{} }}",
            "(".repeat(10_000),
            ")".repeat(10_000)
        );
        assert!(ScriptRef::new(&deep).is_err());
    }

    #[test]
    fn a_handle_serialises_as_its_source_and_back() {
        let a = ScriptRef::new(PICK0).unwrap();
        let text = ron::to_string(&a).unwrap();
        assert_eq!(text, format!("{PICK0:?}"));
        assert_eq!(ron::from_str::<ScriptRef>(&text).unwrap(), a);
        let e = ron::from_str::<ScriptRef>("\"fn pick(a, b, c) { ; ; + }\"").unwrap_err();
        assert!(e.to_string().contains("script line 1, col "), "{e}");
    }

    #[test]
    fn files_resolve_only_where_a_resolver_is_in_force() {
        let e = from_file("x.rhai").unwrap_err();
        assert!(e.contains("write the script inline"), "{e}");
        let got = with_files(
            |name| match name {
                "ok.rhai" => Ok(PICK0.to_string()),
                "bad.rhai" => Ok("fn pick(a, b, c) {\n  +\n}".to_string()),
                _ => Err(format!("cannot read {name}")),
            },
            || {
                (
                    from_file("ok.rhai"),
                    from_file("bad.rhai"),
                    from_file("gone.rhai"),
                )
            },
        );
        assert_eq!(got.0, Ok(ScriptRef::new(PICK0).unwrap()));
        let bad = got.1.unwrap_err();
        assert_eq!(bad, "script bad.rhai line 3, col 1: Unexpected '}'");
        assert_eq!(got.2.unwrap_err(), "cannot read gone.rhai");
        // Restored afterwards.
        assert!(from_file("ok.rhai").is_err());
    }
}
