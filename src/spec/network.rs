//! Links between clients, the balancer and the servers.

use super::values::{Dur, Probability};
use serde::{Deserialize, Serialize};

/// The two link classes: clients to balancer, and balancer to each server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkSpec {
    /// The shared link between all clients and the balancer's VIP.
    pub client_link: LinkSpec,
    /// The link from the balancer to each server (one per server, each
    /// changeable on its own at run time).
    pub backend_link: LinkSpec,
}

/// One-way behaviour of a link, applied to each direction.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinkSpec {
    /// Fixed one-way propagation delay.
    pub delay: Dur,
    /// Extra delay drawn uniformly from `[0, jitter)` per packet.
    pub jitter: Dur,
    /// Probability that a packet is lost, from 0 to 1.
    pub loss: Probability,
}

impl Default for LinkSpec {
    fn default() -> Self {
        LinkSpec {
            delay: Dur::from_millis(1),
            jitter: Dur::ZERO,
            loss: Probability::ZERO,
        }
    }
}
