//! What the command line does with run files: where a dashboard session
//! records by default, and reading a run file with its warnings printed.

use super::{Checked, default_path, load};
use std::path::{Path, PathBuf};

/// Where a dashboard session of `lab` with `seed` records: `given`
/// (`--record FILE`), or a fresh file in the runs directory; `None` when
/// no data directory can be found.
pub fn record_path(given: Option<PathBuf>, lab: &str, seed: u64) -> Option<PathBuf> {
    given.or_else(|| {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        default_path(lab, seed, secs)
    })
}

/// Reads the run file at `path` for `lblab replay` or `lblab run
/// --replay`; what `force` let through is printed as warnings.
pub fn load_for_cli(path: &Path, force: bool) -> Result<Checked, String> {
    let checked = load(path, force).map_err(|e| e.to_string())?;
    for w in &checked.warnings {
        eprintln!("lblab: warning: {}: {w}", path.display());
    }
    Ok(checked)
}

/// `lblab run`'s options for run files.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct RunFileArgs {
    /// Write the run file of this run (lab, seed, commands) to FILE;
    /// `lblab run --replay FILE` gives the same report again.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Replay a recorded run (give no lab): the report of the session
    /// that recorded it, wall clock aside.
    #[arg(long, value_name = "RUN", conflicts_with_all = ["commands", "seed"])]
    pub replay: Option<PathBuf>,
    /// Replay a run file from another lblab version, or whose lab has
    /// changed since, with a warning instead of refusing it.
    #[arg(long, requires = "replay")]
    pub force: bool,
}

impl RunFileArgs {
    /// The lab to run: the one named, or the replayed run's (then with
    /// the run). Exactly one of the two must be given.
    pub fn resolve(
        &self,
        lab: Option<&str>,
        seed: Option<u64>,
    ) -> Result<(crate::spec::Lab, Option<Checked>), String> {
        match (lab, &self.replay) {
            (Some(name), None) => Ok((crate::lab::resolve(name).map_err(|e| e.to_string())?, None)),
            (None, Some(path)) if seed.is_some() => Err(format!(
                "--seed cannot change a replay: {} holds its seed",
                path.display()
            )),
            (None, Some(path)) => {
                let checked = load_for_cli(path, self.force)?;
                Ok((checked.lab.clone(), Some(checked)))
            }
            (Some(_), Some(path)) => Err(format!(
                "give a lab or --replay, not both: {} names its lab",
                path.display()
            )),
            (None, None) => {
                Err("name the lab to run (lblab labs lists them), or give --replay RUN".into())
            }
        }
    }

    /// Writes the run file when `--record` asks: the replayed run (to
    /// `run_for` if given), or this run of `lab`.
    pub fn record(
        &self,
        lab: &crate::spec::Lab,
        seed: u64,
        run_for: Option<crate::model::SimDuration>,
        script: &[crate::spec::TimedCommand],
        replayed: Option<&Checked>,
    ) -> Result<(), String> {
        let Some(path) = &self.record else {
            return Ok(());
        };
        let run = match replayed {
            Some(c) => {
                let mut run = c.run.clone();
                run.length = run_for.map(crate::spec::Dur).or(run.length);
                run
            }
            None => crate::headless::run_file_of(lab, seed, run_for, script),
        };
        run.save(path)?;
        eprintln!("lblab: run recorded to {}", path.display());
        Ok(())
    }
}
