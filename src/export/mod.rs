//! A lab's balancer as a configuration for the production engines that
//! carry such traffic at scale: HAProxy (`haproxy.rs`) and nginx's stream
//! module (`nginx.rs`). Each maps what the engine can say in its own
//! words, and lists at the top, in a comment, what it cannot.

pub mod cli;
mod haproxy;
mod nginx;

use crate::model::SimDuration;
use crate::spec::Lab;
use std::fmt;

/// An engine a lab can be exported to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// HAProxy in TCP mode.
    Haproxy,
    /// nginx's stream (TCP) module.
    Nginx,
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Haproxy => "HAProxy",
            Engine::Nginx => "nginx",
        })
    }
}

/// An exported configuration, and what of the lab it could not express.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exported {
    /// The configuration file's text.
    pub text: String,
    /// What the engine cannot do as the lab does, one line each (also in
    /// a comment at the top of `text`).
    pub unsupported: Vec<String>,
}

/// Where an exported balancer listens and where its servers are, in the
/// lab's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Addresses {
    /// The address clients connect to.
    pub listen: String,
    /// Each server's address.
    pub servers: Vec<String>,
}

impl Addresses {
    /// The lab's simulated addresses: the VIP and the servers' endpoints.
    pub fn simulated(lab: &Lab) -> Addresses {
        Addresses {
            listen: crate::sim::VIP.to_string(),
            servers: (0..lab.servers.count())
                .map(|i| crate::sim::server_endpoint(i).to_string())
                .collect(),
        }
    }
}

/// `lab`'s balancer as a configuration for `engine`.
pub fn export(lab: &Lab, engine: Engine) -> Exported {
    export_at(lab, engine, &Addresses::simulated(lab))
}

/// [`export`], listening and reaching the servers at `at` (what `lblab
/// conform` runs the daemon with).
pub fn export_at(lab: &Lab, engine: Engine, at: &Addresses) -> Exported {
    let (body, unsupported) = match engine {
        Engine::Haproxy => haproxy::config(lab, at),
        Engine::Nginx => nginx::config(lab, at),
    };
    let whose = if *at == Addresses::simulated(lab) {
        format!(
            "# The addresses are the lab's simulated ones (the VIP {} and the\n\
             # servers from {} on): replace them with yours.\n",
            at.listen,
            at.servers.first().map_or("", String::as_str)
        )
    } else {
        "# The addresses are where this run's servers listen.\n".to_string()
    };
    let mut text = format!(
        "# {engine} configuration for the balancer of lblab's lab \"{}\",\n\
         # written by lblab {} (lblab export).\n{whose}",
        one_line(&lab.name),
        env!("CARGO_PKG_VERSION"),
    );
    if unsupported.is_empty() {
        text.push_str("#\n# Everything the lab's balancer does is expressed below.\n");
    } else {
        text.push_str(&format!(
            "#\n# What {engine} cannot express as the lab does:\n"
        ));
        for u in &unsupported {
            text.push_str(&format!("#  - {u}\n"));
        }
    }
    text.push('\n');
    text.push_str(&body);
    Exported { text, unsupported }
}

/// The lab's per-backend half-open limits, as "64" or "32 to 64".
pub(crate) fn half_open_limits(lab: &Lab) -> String {
    let limits: Vec<u32> = lab
        .servers
        .expand()
        .iter()
        .map(|s| s.max_half_open.get())
        .collect();
    let (lo, hi) = (
        limits.iter().min().copied().unwrap_or(0),
        limits.iter().max().copied().unwrap_or(0),
    );
    if lo == hi {
        lo.to_string()
    } else {
        format!("{lo} to {hi}")
    }
}

/// `d` as both engines write a time: whole milliseconds (rounded up, so a
/// timeout is never shorter than the lab's), or seconds when exact.
pub fn time(d: SimDuration) -> String {
    let ns = d.as_nanos();
    let ms = ns.div_ceil(1_000_000).max(1);
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// A name or text on one line, for a comment or an identifier's place.
pub(crate) fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A server name as both engines accept it: letters, digits, `-`, `_`
/// and `.`; anything else becomes `_`.
pub(crate) fn ident(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() { "server".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_up_to_whole_milliseconds() {
        assert_eq!(time(SimDuration::from_millis(500)), "500ms");
        assert_eq!(time(SimDuration::from_secs(2)), "2s");
        assert_eq!(time(SimDuration::from_micros(1500)), "2ms");
        assert_eq!(time(SimDuration::from_micros(1)), "1ms");
    }

    #[test]
    fn names_become_identifiers() {
        assert_eq!(ident("srv-1"), "srv-1");
        assert_eq!(ident("a b/c"), "a_b_c");
        assert_eq!(ident(""), "server");
    }
}
