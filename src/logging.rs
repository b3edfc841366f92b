//! Where the process's tracing goes: a file the dashboard's `--log` and the
//! proxy's `--log` both write through one non-blocking writer.

use std::path::Path;
use tracing_appender::non_blocking::WorkerGuard;

/// Sends tracing at `level` and above into a new file at `path`; the guard
/// flushes it when dropped.
pub fn to_file(path: &Path, level: tracing::Level) -> Result<WorkerGuard, String> {
    let file = std::fs::File::create(path)
        .map_err(|e| format!("cannot create log file {}: {e}", path.display()))?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_max_level(level)
        .try_init()
        .map_err(|e| format!("cannot start logging: {e}"))?;
    Ok(guard)
}

/// Sends tracing at `level` and above to standard error.
pub fn to_stderr(level: tracing::Level) -> Result<(), String> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .try_init()
        .map_err(|e| format!("cannot start logging: {e}"))
}
