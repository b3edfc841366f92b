//! `lblab conform LAB --engine haproxy|nginx`: the configuration `lblab
//! export` writes, run under the real daemon in front of the lab's real
//! servers and clients, beside lblab proxy running the same lab: one
//! report of two columns, shares held to ±2 points.
//!
//! ```text
//! install.rs  find the daemon, or install it from Debian packages
//! daemon.rs   the daemon as a child process, a Front for the rig
//! cli.rs      ConformArgs and run_cli
//! ```

pub mod cli;
pub mod daemon;
pub mod install;

use crate::export::Engine;
use crate::model::SimDuration;
use crate::real::RealLab;
use crate::real::versus::{self, VsReal};
use crate::spec::Lab;
use daemon::Daemon;

/// Runs `lab` through lblab proxy and through `engine`'s daemon at once,
/// each with its own servers and clients, to `run_for` or the lab's end.
pub fn run(
    lab: &Lab,
    engine: Engine,
    seed: u64,
    run_for: Option<SimDuration>,
) -> Result<VsReal, String> {
    let program = install::find_or_install(engine)?;
    let module = match engine {
        Engine::Nginx => install::stream_module(&program)?,
        Engine::Haproxy => None,
    };
    let mut unsupported = Vec::new();
    let daemon = RealLab::start_with(lab, seed, |lab, servers| {
        let d = Daemon::start(engine, &program, module.as_deref(), lab, servers)?;
        unsupported = d.unsupported.clone();
        Ok(Box::new(d))
    })?;
    let proxy = RealLab::start(lab, seed)?;
    // Both run at once, in real time: the wall time of one run.
    let (ours, theirs) = std::thread::scope(|s| {
        let theirs = s.spawn(|| versus::run_real(lab, run_for, daemon));
        let ours = versus::run_real(lab, run_for, proxy);
        let theirs = theirs
            .join()
            .unwrap_or_else(|_| Err(format!("the {engine} run stopped unexpectedly")));
        (ours, theirs)
    });
    let ((ours, ours_s), (theirs, theirs_s)) = (ours?, theirs?);
    let mut notes = vec![format!(
        "lblab proxy's connections are its picks; {engine}'s are what the servers received (a daemon does not say)"
    )];
    notes.extend(
        unsupported
            .into_iter()
            .map(|u| format!("{engine} cannot express: {u}")),
    );
    Ok(VsReal {
        labels: ("lblab proxy".into(), engine.to_string()),
        title: format!("lblab proxy vs {engine} (loopback)"),
        notes,
        sim: ours,
        real: theirs,
        detection_ms: lab.balancer.health.interval.get().as_millis_f64(),
        wall: (ours_s, theirs_s),
    })
}

/// Whether every backend's share agrees within the tolerance (a share
/// missing on either side does not).
pub fn shares_agree(c: &VsReal) -> bool {
    c.rows()
        .iter()
        .filter(|r| r.group == "backend" && r.label.ends_with(" share"))
        .all(|r| r.delta.is_some_and(|d| d.abs() <= versus::SHARE_POINTS))
}
