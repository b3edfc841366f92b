//! lblab: a terminal laboratory for Layer-4 load balancing.
//!
//! The rooms, from the bottom up: `model` holds plain data every room
//! shares (addresses, packets, time), `spec` the vocabulary the lab format,
//! the engines and the dashboard all speak, `policy` the pure balancing,
//! health and defence decisions, `lab` the RON lab file, `engine` the
//! boundary every engine implements, and `sim` the deterministic
//! simulation behind it. `live` and `headless` drive an engine, `report`
//! and `tui` show what it did, and `run_file` writes a run down as data
//! and replays it. `alloc` is the allocator the binary declares.

#![warn(missing_docs)]

pub mod alloc;
pub mod backends;
pub mod compare;
pub mod conform;
pub mod engine;
pub mod export;
pub mod headless;
pub mod lab;
pub mod live;
pub mod logging;
pub mod model;
pub mod pcap;
pub mod policy;
pub mod proxy;
pub mod real;
pub mod report;
pub mod run_file;
pub mod sim;
pub mod spec;
pub mod text;
pub mod tui;
