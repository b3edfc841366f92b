//! Commands on a real proxy. Those with a meaning on real sockets change
//! the running proxy (a reload for configuration, atomics for a backend's
//! state); the rest are the simulation's alone and the log says so.

use super::ProxyEngine;
use crate::engine::LogKind;
use crate::policy::RateLimit;
use crate::spec::{Command, Origin, Timeout};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

impl ProxyEngine {
    pub(super) fn apply_command(&mut self, command: Command, origin: Origin) {
        let tag = origin.tag();
        let said = match command {
            Command::KillServer(name) => self.take_out(&name),
            Command::ReviveServer(name) => self.bring_back(&name),
            Command::DrainServer(name) => self.with_backend(&name, |b| {
                b.draining.store(true, Relaxed);
                format!("{name} draining: live connections finish, new ones go elsewhere")
            }),
            Command::SetWeight(name, w) => self.with_backend(&name, |b| {
                b.weight.store(w, Relaxed);
                format!("{name} weight {w}")
            }),
            other => self.reconfigure(other),
        };
        let (kind, text) = match said {
            Ok(text) => (LogKind::Chaos, text),
            Err(text) => (LogKind::Error, text),
        };
        self.note_now(kind, format!("{tag}{text}"));
    }

    fn with_backend(
        &self,
        name: &str,
        f: impl FnOnce(&crate::proxy::pool::Backend) -> String,
    ) -> Result<String, String> {
        match self.backend_named(name) {
            Some(b) => Ok(f(&b)),
            None => Err(format!("no backend named {name}")),
        }
    }

    /// Out of rotation; a demo backend of that name really dies.
    fn take_out(&mut self, name: &str) -> Result<String, String> {
        let b = self
            .backend_named(name)
            .ok_or_else(|| format!("no backend named {name}"))?;
        b.admin_down.store(true, Relaxed);
        match self.demo.iter().find(|d| d.addr() == b.config.address) {
            Some(d) => {
                d.kill();
                Ok(format!(
                    "{name} killed: its connections are cut and health checks will notice"
                ))
            }
            None => Ok(format!(
                "{name} out of rotation (admin down); live connections finish"
            )),
        }
    }

    /// Back in rotation, not draining; a killed demo backend is restarted.
    fn bring_back(&mut self, name: &str) -> Result<String, String> {
        let b = self
            .backend_named(name)
            .ok_or_else(|| format!("no backend named {name}"))?;
        b.admin_down.store(false, Relaxed);
        b.draining.store(false, Relaxed);
        if let Some(d) = self.demo.iter().find(|d| d.addr() == b.config.address)
            && !d.is_alive()
        {
            self.runtime
                .block_on(d.revive())
                .map_err(|e| format!("cannot revive {name}: {e}"))?;
            return Ok(format!(
                "{name} revived; it takes traffic once health checks pass"
            ));
        }
        Ok(format!("{name} back in rotation"))
    }

    /// A configuration change: the running configuration with one value
    /// changed, put in force by a reload.
    fn reconfigure(&mut self, command: Command) -> Result<String, String> {
        let mut config = (*self.shared.config.load_full()).clone();
        let text = match command {
            Command::SetAlgorithm(a) => {
                config.algorithm = a;
                format!("algorithm {a}")
            }
            Command::SetHealth(h) => {
                config.health.interval = to_std(h.interval.get());
                config.health.timeout = to_std(h.timeout.get());
                config.health.rise = h.rise.get();
                config.health.fall = h.fall.get();
                "health checks changed".to_string()
            }
            Command::SetTimeout(which, d) => set_timeout(&mut config, which, to_std(d.get()))?,
            Command::SetRateLimit(spec) => {
                config.rate_limit = spec
                    .map(|s| RateLimit::from_spec(&s))
                    .transpose()
                    .map_err(|e| e.to_string())?;
                if let Some(s) = spec {
                    config.rate_limit_sources = s.sources.get() as usize;
                }
                match spec {
                    Some(s) => format!(
                        "rate limit {} per {:?} per source",
                        s.rate.get(),
                        to_std(s.per.get())
                    ),
                    None => "rate limit off".to_string(),
                }
            }
            Command::SetFilter(f) => {
                config.filter = f;
                "source filter changed".to_string()
            }
            Command::SetSticky(timeout) => {
                config.sticky = timeout.map(|d| to_std(d.get()));
                match timeout {
                    Some(d) => format!("sticky sessions for {d}"),
                    None => "sticky sessions off".to_string(),
                }
            }
            Command::RemoveServer(name) => {
                let before = config.backends.len();
                config.backends.retain(|b| b.name != name);
                if config.backends.len() == before {
                    return Err(format!("no backend named {name}"));
                }
                format!("{name} removed; its live connections finish")
            }
            other => {
                return Err(format!(
                    "{}: simulation only, a real proxy cannot",
                    describe(&other)
                ));
            }
        };
        let proxy = self.proxy.as_ref().ok_or("the proxy has stopped")?;
        // A reload may start health checks, which need the proxy's runtime;
        // the dashboard's driver thread has none of its own.
        let _runtime = self.runtime.enter();
        proxy.reload(config).map_err(|e| e.to_string())?;
        Ok(text)
    }
}

fn set_timeout(
    config: &mut crate::proxy::config::ProxyConfig,
    which: Timeout,
    to: Duration,
) -> Result<String, String> {
    match which {
        Timeout::HealthInterval => config.health.interval = to,
        Timeout::HealthTimeout => config.health.timeout = to,
        Timeout::EstablishedIdle => config.idle_timeout = Some(to),
        Timeout::HalfOpenIdle => config.connect_timeout = to,
        Timeout::Syn | Timeout::Segment => {
            return Err(format!(
                "the {} is the clients' own on real sockets, not the proxy's",
                which.name()
            ));
        }
    }
    if config.health.timeout > config.health.interval {
        return Err("a probe's timeout may not be longer than its interval".into());
    }
    // On a proxy the conn-table's timeouts are its idle and connect ones.
    let what = match which {
        Timeout::EstablishedIdle => "idle timeout",
        Timeout::HalfOpenIdle => "connect timeout",
        _ => which.name(),
    };
    Ok(format!("{what} {to:?}"))
}

fn to_std(d: crate::model::SimDuration) -> Duration {
    Duration::from_nanos(d.as_nanos())
}

/// A command's name, for the log.
fn describe(c: &Command) -> String {
    let text = format!("{c:?}");
    text.split(['(', ' '])
        .next()
        .unwrap_or_default()
        .to_string()
}
