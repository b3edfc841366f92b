//! The backend servers.

use super::dist::Dist;
use super::values::{Dur, Positive};
use serde::{Deserialize, Serialize};

/// The servers: an explicit list, or one template replicated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ServersSpec {
    /// Each server written out.
    List(Vec<ServerSpec>),
    /// `count` copies of `template`, named `<template name>-1` ...
    Replicate {
        /// How many servers.
        count: Positive,
        /// The server every copy is made from.
        template: ServerSpec,
    },
}

impl Default for ServersSpec {
    fn default() -> Self {
        ServersSpec::Replicate {
            count: Positive::new_const(10),
            template: ServerSpec::default(),
        }
    }
}

impl ServersSpec {
    /// How many servers the spec makes, without making them.
    pub fn count(&self) -> usize {
        match self {
            ServersSpec::List(list) => list.len(),
            ServersSpec::Replicate { count, .. } => count.get() as usize,
        }
    }

    /// The servers this spec describes, with their final names.
    pub fn expand(&self) -> Vec<ServerSpec> {
        match self {
            ServersSpec::List(list) => list.clone(),
            ServersSpec::Replicate { count, template } => (1..=count.get())
                .map(|i| ServerSpec {
                    name: format!("{}-{i}", template.name),
                    ..template.clone()
                })
                .collect(),
        }
    }
}

/// One backend server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSpec {
    /// Name used in commands, tables and logs (`srv-3`).
    pub name: String,
    /// Relative share for weighted algorithms. 0 takes no new connections
    /// (as in HAProxy), the same as the dashboard's `-` reaching 0; the
    /// connections it holds go on.
    pub weight: u32,
    /// Half-open connections the balancer lets this backend have before it
    /// drops new SYNs for it (the source design's `MaxHalfOpen`).
    pub max_half_open: Positive,
    /// The server's own listen backlog of half-open connections.
    pub backlog: Positive,
    /// Established connections the server accepts; past it, SYNs are refused
    /// with RST.
    pub max_connections: Positive,
    /// Segments served at once; the rest wait FIFO.
    pub workers: Positive,
    /// Time one worker spends on one segment.
    pub service_time: Dist<Dur>,
}

impl Default for ServerSpec {
    fn default() -> Self {
        ServerSpec {
            name: "srv".to_string(),
            weight: 1,
            max_half_open: Positive::new_const(64),
            backlog: Positive::new_const(128),
            max_connections: Positive::new_const(10_000),
            workers: Positive::new_const(4),
            service_time: Dist::Constant(Dur::from_micros(100)),
        }
    }
}
