//! `lblab run --pcap FILE [--pcap-side SIDE] [--pcap-for DURATION]`: the
//! options, the engine maker that taps the World, and the closing note.

use super::Capture;
use crate::engine::{Engine, MakeEngine};
use crate::model::SimDuration;
use crate::sim::{TapSides, TapSpec, World};
use crate::spec::Lab;
use std::path::PathBuf;

/// Simulated time captured when `--pcap-for` is not given.
pub const DEFAULT_WINDOW: SimDuration = SimDuration::from_secs(10);

/// Packets written at most, whatever the window: about 70 MB of file.
pub const MAX_PACKETS: u64 = 1_000_000;

/// The links `--pcap-side` names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SideArg {
    /// Clients (and floods) to the VIP and back.
    #[default]
    Client,
    /// The balancer to the servers and back, after NAT, health probes too.
    Backend,
    /// Both links, in one file.
    Both,
}

impl From<SideArg> for TapSides {
    fn from(s: SideArg) -> TapSides {
        match s {
            SideArg::Client => TapSides::Client,
            SideArg::Backend => TapSides::Backend,
            SideArg::Both => TapSides::Both,
        }
    }
}

/// The packet-capture options of `lblab run`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct PcapArgs {
    /// Write the simulated packets to this pcap file, for tcpdump -r and
    /// Wireshark: Ethernet/IPv4/TCP headers from the simulation's
    /// addresses, ports, flags, seq/ack and lengths (payload bytes are not
    /// written), simulated time as timestamps from 1970-01-01. Bounded: the
    /// first 10 s of simulated time unless --pcap-for says otherwise, and
    /// never more than 1000000 packets.
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// Which links --pcap listens on: client (clients to the VIP), backend
    /// (balancer to servers, after NAT: clients' addresses to servers') or
    /// both.
    #[arg(
        long = "pcap-side",
        value_name = "SIDE",
        value_enum,
        default_value_t,
        requires = "pcap"
    )]
    pub side: SideArg,
    /// Simulated time --pcap captures from the start of the run, like 30s
    /// or 2m (default 10s; still at most 1000000 packets).
    #[arg(long = "pcap-for", value_name = "DURATION", value_parser = parse_window, requires = "pcap")]
    pub window: Option<SimDuration>,
}

fn parse_window(s: &str) -> Result<SimDuration, String> {
    let d = crate::spec::parse_duration(s).map_err(|e| e.to_string())?;
    if d == SimDuration::ZERO {
        return Err("the duration must be longer than zero".into());
    }
    Ok(d)
}

impl PcapArgs {
    /// What the tap captures.
    pub fn spec(&self) -> TapSpec {
        TapSpec {
            sides: self.side.into(),
            window: self.window.unwrap_or(DEFAULT_WINDOW),
            max_packets: MAX_PACKETS,
        }
    }

    /// Creates the file and writes its header, when `--pcap` was given.
    pub fn start(&self) -> Result<Option<Capture>, String> {
        let Some(path) = &self.pcap else {
            return Ok(None);
        };
        let file = std::fs::File::create(path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        let out = Box::new(std::io::BufWriter::with_capacity(1 << 16, file));
        Capture::new(out, self.spec())
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Finishes the file and says on standard error what it holds (standard
    /// output is the report's).
    pub fn finish(&self, capture: Option<Capture>) -> Result<(), String> {
        let (Some(capture), Some(path)) = (capture, &self.pcap) else {
            return Ok(());
        };
        let written = capture
            .finish()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let spec = self.spec();
        let side = match self.side {
            SideArg::Client => "client side",
            SideArg::Backend => "backend side",
            SideArg::Both => "both sides",
        };
        let bound = if written >= spec.max_packets {
            format!(", stopped at the cap of {MAX_PACKETS} packets")
        } else {
            String::new()
        };
        eprintln!(
            "lblab: {written} packets ({side}, within the first {} s{bound}) written to {}",
            spec.window.as_secs_f64(),
            path.display()
        );
        Ok(())
    }
}

/// The engine maker of a run: Worlds from `build`, tapped into `capture`
/// when there is one.
pub fn maker(
    capture: Option<&Capture>,
    build: impl Fn(&Lab, u64) -> World + Send + Sync + 'static,
) -> MakeEngine {
    match capture {
        Some(c) => c.maker(build),
        None => std::sync::Arc::new(move |lab: &Lab, seed: u64| {
            Box::new(build(lab, seed)) as Box<dyn Engine>
        }),
    }
}
