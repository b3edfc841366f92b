//! Where dashboard sessions record their runs by default: a runs
//! directory under the user's data directory, one file per session named
//! by lab, seed and wall-clock start.

use std::path::{Path, PathBuf};

/// `$XDG_DATA_HOME/lblab/runs`, or `~/.local/share/lblab/runs`; `None`
/// when neither variable says where home is.
pub fn runs_dir() -> Option<PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    let data = match var("XDG_DATA_HOME") {
        Some(d) => PathBuf::from(d),
        None => Path::new(&var("HOME")?).join(".local/share"),
    };
    Some(data.join("lblab").join("runs"))
}

/// A fresh file in [`runs_dir`] for a run of `lab` with `seed` started at
/// `unix_secs` (UTC): `classic-seed1-20250101-120000.ron`, with `-2`,
/// `-3`… when that name is taken.
pub fn default_path(lab: &str, seed: u64, unix_secs: u64) -> Option<PathBuf> {
    let dir = runs_dir()?;
    let lab = crate::text::file_safe(lab);
    let stem = format!("{lab}-seed{seed}-{}", utc_stamp(unix_secs));
    let mut path = dir.join(format!("{stem}.ron"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{stem}-{n}.ron"));
        n += 1;
    }
    Some(path)
}

/// `YYYYMMDD-HHMMSS` of a Unix time, in UTC (civil-from-days, so no date
/// crate is needed for a file name).
fn utc_stamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::utc_stamp;

    #[test]
    fn stamps_are_utc_calendar_times() {
        assert_eq!(utc_stamp(0), "19700101-000000");
        // 2024-02-29 23:59:59 UTC: a leap day.
        assert_eq!(utc_stamp(1_709_251_199), "20240229-235959");
        assert_eq!(utc_stamp(1_735_689_600), "20250101-000000");
    }
}
