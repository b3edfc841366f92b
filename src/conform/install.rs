//! Finding the daemon `lblab conform` runs, and installing it from the
//! distribution's packages when it is missing and this process may.

use crate::export::Engine;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where distributions put daemons, beyond `PATH`.
const SBIN: [&str; 3] = ["/usr/sbin", "/usr/local/sbin", "/sbin"];

/// The program's name and the Debian packages that bring it.
fn program_of(engine: Engine) -> (&'static str, &'static [&'static str]) {
    match engine {
        Engine::Haproxy => ("haproxy", &["haproxy"]),
        Engine::Nginx => ("nginx", &["nginx-light", "libnginx-mod-stream"]),
    }
}

/// `name` on `PATH` or in a system binary directory.
pub fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(SBIN.iter().map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The daemon for `engine`, installed with apt-get first when it is
/// missing and this process runs as root; otherwise why it cannot run.
pub fn find_or_install(engine: Engine) -> Result<PathBuf, String> {
    let (name, packages) = program_of(engine);
    if let Some(p) = find(name) {
        return Ok(p);
    }
    let manual = format!(
        "{engine} is not installed: install it (apt-get install {}) and run lblab conform again",
        packages.join(" ")
    );
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let Some(apt) = find("apt-get").filter(|_| root) else {
        return Err(manual);
    };
    eprintln!(
        "lblab: {engine} is missing; installing {} with apt-get",
        packages.join(" ")
    );
    let installed = Command::new(&apt)
        .args(["install", "-y", "-qq"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    match find(name) {
        Some(p) if installed => Ok(p),
        _ => Err(format!("{manual} (apt-get could not install it)")),
    }
}

/// nginx's stream module file where a distribution builds it as a
/// dynamic module; `None` where it is built in. An error when it is
/// neither.
pub fn stream_module(nginx: &Path) -> Result<Option<PathBuf>, String> {
    let version = Command::new(nginx)
        .arg("-V")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", nginx.display()))?;
    let flags = String::from_utf8_lossy(&version.stderr).to_string();
    if flags.contains("--with-stream ") || flags.ends_with("--with-stream") {
        return Ok(None);
    }
    [
        "/usr/lib/nginx/modules",
        "/usr/lib64/nginx/modules",
        "/usr/share/nginx/modules",
    ]
    .iter()
    .map(|d| Path::new(d).join("ngx_stream_module.so"))
    .find(|p| p.is_file())
    .map(Some)
    .ok_or_else(|| {
        "nginx's stream module is missing: install libnginx-mod-stream (or an nginx built --with-stream)".to_string()
    })
}
