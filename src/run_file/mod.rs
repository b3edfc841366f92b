//! Run files: a run written down as data. A lblab run is determined by
//! (lab, seed, commands), so a run file holds exactly that, with the lblab
//! version and a hash of the lab so that a replay can tell when it would
//! not be the same run:
//!
//! ```ron
//! Run(
//!     lblab: "0.1.0",
//!     lab: Builtin("classic"),
//!     lab_hash: "sip13:5f0c0b1e2a9d3c47",
//!     seed: 1,
//!     length: Some("95300ms"),
//!     script: [At("10s", KillServer("srv-1"))],
//!     commands: [At("12500ms", KillServer("srv-3"))],
//! )
//! ```
//!
//! `script` holds commands scheduled when the run started (`lblab run
//! --commands`); `commands` the ones applied as the run went (keys), each
//! at the simulated time it took effect. Their replay is in [`pending`].

pub mod cli;
mod file;
mod hash;
pub mod pending;
mod place;
#[cfg(test)]
mod tests;

pub use file::{Checked, RunFileError, load, load_str};
pub use hash::lab_hash;
pub use pending::Pending;
pub use place::{default_path, runs_dir};

use crate::spec::{Dur, Lab, TimedCommand};
use serde::{Deserialize, Serialize};

/// The lblab version that writes run files.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Which lab a run ran.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LabSource {
    /// A built-in lab, by name.
    Builtin(String),
    /// A lab from a file, written out in full.
    Inline(Box<Lab>),
}

/// A run written down: what replays it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Run", deny_unknown_fields)]
pub struct RunFile {
    /// The lblab version that recorded the run.
    pub lblab: String,
    /// The lab.
    pub lab: LabSource,
    /// [`lab_hash`] of the lab as it was run.
    pub lab_hash: String,
    /// The seed.
    pub seed: u64,
    /// Simulated time the run was recorded to; `None` for a headless run
    /// that ran until its workload finished.
    #[serde(default)]
    pub length: Option<Dur>,
    /// Commands scheduled at the start (a command script).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub script: Vec<TimedCommand>,
    /// Commands applied during the run, at the time each took effect.
    #[serde(default)]
    pub commands: Vec<TimedCommand>,
}

impl RunFile {
    /// A run of `lab` with `seed`: the lab by name when it is the built-in
    /// of that name, unchanged, and written out in full otherwise.
    pub fn new(lab: &Lab, seed: u64) -> RunFile {
        let hash = lab_hash(lab);
        let builtin = crate::lab::builtin(&lab.name)
            .ok()
            .is_some_and(|b| lab_hash(&b) == hash);
        RunFile {
            lblab: VERSION.to_string(),
            lab: if builtin {
                LabSource::Builtin(lab.name.clone())
            } else {
                LabSource::Inline(Box::new(lab.clone()))
            },
            lab_hash: hash,
            seed,
            length: None,
            script: Vec::new(),
            commands: Vec::new(),
        }
    }

    /// The run file as text, with a comment saying how to replay it.
    pub fn to_text(&self) -> Result<String, String> {
        let pretty = ron::ser::PrettyConfig::new()
            .struct_names(true)
            .depth_limit(3)
            .indentor("    ");
        let body = ron::ser::to_string_pretty(self, pretty)
            .map_err(|e| format!("cannot write the run file: {e}"))?;
        Ok(format!(
            "// A lblab run: replay it with `lblab replay FILE` (dashboard) or\n\
             // `lblab run --replay FILE` (report). Times are simulated.\n{body}\n"
        ))
    }

    /// Writes the run file to `path`, making its directory if need be.
    pub fn save(&self, path: &std::path::Path) -> Result<(), String> {
        let text = self.to_text()?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}
