//! A lab: everything that describes one run's world, with the source
//! design's defaults for everything a file leaves out.
//!
//! Range checks live in the value types (`Dur`, `Probability`, `Rate`,
//! `Positive`), so a bad value fails while RON is still parsing and the error
//! carries the line and column of the offending value.
//!
//! Every struct, and every enum with struct variants, denies unknown fields:
//! a misspelt field is an error, never a silently kept default.

use super::balancer::BalancerSpec;
use super::clients::ClientsSpec;
use super::command::TimedCommand;
use super::lesson::Lesson;
use super::network::NetworkSpec;
use super::objective::Objective;
use super::servers::ServersSpec;
use super::values::Dur;
use serde::{Deserialize, Serialize};

/// A complete lab: network, balancer, servers, clients and seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lab {
    /// Short name shown in the header and reports.
    pub name: String,
    /// One line on what the lab shows.
    #[serde(default)]
    pub summary: String,
    /// Seed of the World's random stream; `--seed` overrides it.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// How long a headless run lasts; `None` runs until every finite
    /// workload has finished.
    #[serde(default)]
    pub duration: Option<Dur>,
    /// Links between clients, balancer and servers.
    #[serde(default)]
    pub network: NetworkSpec,
    /// The NAT balancer in front of the servers.
    #[serde(default)]
    pub balancer: BalancerSpec,
    /// The backend servers.
    #[serde(default)]
    pub servers: ServersSpec,
    /// Who sends traffic, and how their TCP behaves.
    #[serde(default)]
    pub clients: ClientsSpec,
    /// What the lab teaches: paragraphs and numbered steps.
    #[serde(default, skip_serializing_if = "Lesson::is_empty")]
    pub lesson: Lesson,
    /// Commands applied at set times.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<TimedCommand>,
    /// Claims about the run, checked live and in reports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objectives: Vec<Objective>,
}

impl Lab {
    /// A lab called `name` with every other field at its default: the
    /// source design's classic scenario.
    pub fn named(name: &str) -> Lab {
        Lab {
            name: name.to_string(),
            summary: String::new(),
            seed: default_seed(),
            duration: None,
            network: NetworkSpec::default(),
            balancer: BalancerSpec::default(),
            servers: ServersSpec::default(),
            clients: ClientsSpec::default(),
            lesson: Lesson::default(),
            timeline: Vec::new(),
            objectives: Vec::new(),
        }
    }
}

fn default_seed() -> u64 {
    1
}
