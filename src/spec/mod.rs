//! The shared vocabulary: what the lab format, both engines and the
//! dashboard all speak. Durations, rates and probabilities that check their
//! own range, distributions, the specs of links, the balancer, servers and
//! clients, commands and their targets, drop and failure reasons,
//! objectives, and the lab that puts them together.
//!
//! Nothing here has behaviour beyond checking the values it holds: how a
//! spec becomes a running world is the engines' business, how it is read
//! from a file is `lab/`'s.

mod algorithm;
mod algorithm_params;
mod balancer;
mod clients;
mod command;
mod dist;
mod lab;
mod lesson;
pub mod limits;
mod network;
mod objective;
mod reasons;
mod resilience;
pub mod script;
mod servers;
mod values;

pub use algorithm::{Algorithm, DEFAULT_DECAY};
pub use algorithm_params::{Choices, Coefficient, LoadBound, TableSize, VirtualNodes};
pub use balancer::{
    BalancerSpec, CookieMode, DefencesSpec, FilterSpec, HealthSpec, OnBackendDown, RateLimitSpec,
};
pub use clients::{
    AttackKind, ClientsSpec, ClosedSpec, FloodSpec, MAX_FLOOD_SOURCES, MAX_POPULATION, OpenSpec,
    RetransmitMode, TcpSpec,
};
pub use command::{Command, Inspect, LinkTarget, Origin, TimedCommand, Timeout};
pub use dist::Dist;
pub use lab::Lab;
pub use lesson::{Lesson, Step};
pub use network::{LinkSpec, NetworkSpec};
pub use objective::{Comparison, Metric, Objective, Window};
pub use reasons::{DropReason, FailReason};
pub use resilience::{OutlierSpec, Percent, QueueSpec, ResilienceSpec};
pub use script::{ScriptError, ScriptRef};
pub use servers::{ServerSpec, ServersSpec};
pub use values::{
    Dur, DurationError, Positive, Probability, Rate, format_duration, parse_duration,
};
