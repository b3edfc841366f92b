//! The Rhai engine every script runs in, built once: its packages,
//! limits and the helpers written in Rust.

use super::*;

/// The engine every script runs in: the language of `spec::script`, the
/// packages a pick needs (arithmetic, logic, maths, strings, arrays, maps,
/// ranges, function pointers; no `sleep`, no `exit`, no clock) and the
/// run-time limits.
pub(super) fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(build_engine)
}

fn build_engine() -> Engine {
    use rhai::packages::{
        ArithmeticPackage, BasicArrayPackage, BasicFnPackage, BasicIteratorPackage,
        BasicMapPackage, BasicMathPackage, BasicStringPackage, BitFieldPackage, LogicPackage,
        MoreStringPackage, Package,
    };
    let mut e = crate::spec::script::language();
    for module in [
        ArithmeticPackage::new().as_shared_module(),
        LogicPackage::new().as_shared_module(),
        BasicMathPackage::new().as_shared_module(),
        BitFieldPackage::new().as_shared_module(),
        BasicStringPackage::new().as_shared_module(),
        MoreStringPackage::new().as_shared_module(),
        BasicArrayPackage::new().as_shared_module(),
        BasicMapPackage::new().as_shared_module(),
        BasicIteratorPackage::new().as_shared_module(),
        BasicFnPackage::new().as_shared_module(),
    ] {
        e.register_global_module(module);
    }
    e.set_max_array_size(MAX_ARRAY_ITEMS)
        .set_max_map_size(MAX_MAP_ENTRIES)
        .set_max_call_levels(MAX_CALL_LEVELS)
        .set_max_variables(MAX_VARIABLES)
        // A backstop; the budget of each pick is the callback's.
        .set_max_operations(MAX_OPERATIONS)
        .on_progress(|ops| {
            (ops > BUDGET.with(Cell::get)).then(|| Dynamic::from(ops.saturating_sub(1)))
        });

    e.register_type_with_name::<Backends>("Backends")
        .register_get("len", |b: &mut Backends| b.views.len() as INT)
        .register_fn("len", |b: &mut Backends| b.views.len() as INT)
        .register_indexer_get(|b: &mut Backends, i: INT| b.get(i))
        .register_iterator::<Backends>()
        .register_fn("random", Backends::random)
        .register_fn("weighted", Backends::weighted)
        .register_fn("least", |b: &mut Backends, key: &str| {
            let key = key_of(key)?;
            b.best(1.0, |_, v| Ok(key(v)))
        })
        .register_fn("most", |b: &mut Backends, key: &str| {
            let key = key_of(key)?;
            b.best(-1.0, |_, v| Ok(key(v)))
        })
        .register_fn(
            "least_by",
            |ctx: NativeCallContext, b: &mut Backends, f: FnPtr| {
                b.best(1.0, |i, &view| {
                    let backend = Backend {
                        view,
                        index: i as INT,
                    };
                    let score: Dynamic = f.call_within_context(&ctx, (Dynamic::from(backend),))?;
                    number(&score, "least_by")
                })
            },
        )
        .register_fn(
            "most_by",
            |ctx: NativeCallContext, b: &mut Backends, f: FnPtr| {
                b.best(-1.0, |i, &view| {
                    let backend = Backend {
                        view,
                        index: i as INT,
                    };
                    let score: Dynamic = f.call_within_context(&ctx, (Dynamic::from(backend),))?;
                    number(&score, "most_by")
                })
            },
        );

    e.register_type_with_name::<Backend>("Backend")
        .register_get("index", |b: &mut Backend| b.index)
        .register_get("weight", |b: &mut Backend| INT::from(b.view.weight))
        .register_get("healthy", |b: &mut Backend| b.view.healthy)
        .register_get("draining", |b: &mut Backend| b.view.draining)
        .register_get("eligible", |b: &mut Backend| b.view.eligible())
        .register_get("active", |b: &mut Backend| INT::from(b.view.active))
        .register_get("half_open", |b: &mut Backend| INT::from(b.view.half_open))
        .register_get("load", |b: &mut Backend| INT::from(b.view.load()))
        .register_get("outstanding", |b: &mut Backend| {
            INT::from(b.view.outstanding)
        })
        .register_get("latency_ms", |b: &mut Backend| {
            FLOAT::from(b.view.latency_ns) / 1e6
        })
        .register_get("error_rate", |b: &mut Backend| {
            FLOAT::from(b.view.error_rate)
        });

    e.register_type_with_name::<Flow>("Flow")
        .register_get("hash", |f: &mut Flow| (f.hash >> 1) as INT)
        .register_get("src_ip", |f: &mut Flow| f.src.ip.to_string())
        .register_get("src_port", |f: &mut Flow| INT::from(f.src.port))
        .register_get("seq", |f: &mut Flow| f.seq as INT);

    e.register_type_with_name::<Rng>("Rng")
        .register_fn("next", |r: &mut Rng| (r.word() >> 1) as INT)
        .register_fn("below", |r: &mut Rng, n: INT| r.below(n))
        .register_fn("float", |r: &mut Rng| {
            (r.word() >> 11) as FLOAT / (1u64 << 53) as FLOAT
        });
    e
}
