//! `lblab run --series FILE.csv|FILE.json`: every per-second series of the
//! run, written when it ends. The engine keeps them only when asked, since
//! the full history grows with the run.

use crate::engine::Engine;
use std::path::{Path, PathBuf};

/// The `--series` flag of `lblab run`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct SeriesArgs {
    /// Write every per-second series of the run to this file: CSV (one row
    /// per second) for a name ending in .csv, JSON for .json.
    #[arg(long, value_name = "FILE.csv|FILE.json", value_parser = parse_series_path)]
    pub series: Option<PathBuf>,
}

/// How the series file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Csv,
    Json,
}

fn kind_of(path: &Path) -> Option<Kind> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "csv" => Some(Kind::Csv),
        "json" => Some(Kind::Json),
        _ => None,
    }
}

fn parse_series_path(s: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(s);
    match kind_of(&path) {
        Some(_) => Ok(path),
        None => Err(format!(
            "the series file's name must end in .csv or .json, found \"{s}\""
        )),
    }
}

impl SeriesArgs {
    /// The run must keep its series.
    pub fn wanted(&self) -> bool {
        self.series.is_some()
    }

    /// Writes the series `engine` kept, if `--series` was given.
    pub fn write(&self, engine: &dyn Engine) -> Result<(), String> {
        let Some(path) = &self.series else {
            return Ok(());
        };
        let log = engine
            .series_log()
            .ok_or("this engine keeps no per-second series to write")?;
        let text = match kind_of(path) {
            Some(Kind::Json) => log.to_json(),
            _ => log.to_csv(),
        };
        std::fs::write(path, text)
            .map_err(|e| format!("cannot write the series to {}: {e}", path.display()))
    }
}
