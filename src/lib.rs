//! lblab: a terminal laboratory for Layer-4 load balancing.
//!
//! A deterministic discrete-event simulation of clients, a NAT load balancer
//! and backend servers. `model` holds the shared plain data, `policy` the
//! pure balancing and health decisions, `sim` the World, `lab` the RON lab
//! format, and `headless` the runner that produces reports.

pub mod headless;
pub mod lab;
pub mod live;
pub mod model;
pub mod policy;
pub mod report;
pub mod sim;
pub mod tui;
