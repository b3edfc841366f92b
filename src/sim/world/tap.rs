//! The World's packet tap and connection watch (see `sim::tap`): what is
//! put on each link, recorded for whoever drives the World to drain.

use super::{Dest, World};
use crate::engine::{InspectedPacket, Inspection};
use crate::model::{Ip, Packet};
use crate::sim::addressing::{client_index, client_ip};
use crate::sim::tap::{Side, Tap, TapRecord, TapSpec, Watch};
use crate::spec::Inspect;

impl World {
    /// Offers a packet about to go on the link toward `to` to the tap and
    /// the watch. Called only when one of them runs, and out of line, so
    /// that the send path costs one branch without them.
    #[inline(never)]
    pub(super) fn capture(&mut self, to: Dest, p: &Packet) {
        let (side, toward_balancer) = match to {
            Dest::Balancer => (Side::Client, true),
            Dest::Client => (Side::Client, false),
            Dest::BalancerFrom(_) => (Side::Backend, true),
            Dest::Server(_) => (Side::Backend, false),
        };
        let record = TapRecord {
            at: self.now,
            side,
            toward_balancer,
            packet: *p,
        };
        if let Some(tap) = self.tap.as_deref_mut() {
            tap.offer(record);
        }
        if let Some(watch) = self.watch.as_deref_mut() {
            watch.offer(record);
        }
    }

    /// Starts capturing the packets put on the chosen links from now on,
    /// within `spec`'s window and count; records wait for
    /// [`World::drain_tap`]. A tap already running is replaced, its
    /// undrained records with it.
    pub fn start_tap(&mut self, spec: TapSpec) {
        self.tap = Some(Box::new(Tap::new(spec, self.now)));
    }

    /// Moves the packets captured since the last call to the end of `out`.
    pub fn drain_tap(&mut self, out: &mut Vec<TapRecord>) {
        if let Some(tap) = self.tap.as_deref_mut() {
            tap.drain_into(out);
        }
    }

    /// True while a tap runs whose window and count are not yet spent.
    pub fn tap_open(&self) -> bool {
        self.tap.as_deref().is_some_and(|t| t.open(self.now))
    }

    /// Keeps the newest packets to and from the client at `ip` (on both
    /// sides of the balancer) for the ladder diagram; `None` stops.
    pub fn watch_client(&mut self, ip: Option<Ip>) {
        if self.watch.as_deref().map(|w| w.ip) == ip {
            return;
        }
        self.watch = ip.map(|ip| Box::new(Watch::new(ip)));
    }

    /// Applies `Command::Inspect`: whom the inspector watches now, in
    /// words for the log, or why nobody can be.
    pub(super) fn inspect(&mut self, what: &Inspect) -> Result<Option<String>, String> {
        let (ip, said) = match what {
            Inspect::Off => (None, None),
            Inspect::Client(c) if (*c as usize) < self.clients.len() => {
                (Some(client_ip(*c as usize)), None)
            }
            Inspect::Client(c) => {
                return Err(format!(
                    "there is no client {c} (the lab has {})",
                    self.clients.len()
                ));
            }
            Inspect::LastPickOf(name) => {
                let s = self
                    .server_index(name)
                    .ok_or_else(|| format!("no server is named \"{name}\""))?;
                let pick = self.lb.picks.recent(s as usize).last();
                let ip = pick
                    .map(|p| p.flow.src.ip)
                    .ok_or_else(|| format!("{name} has not been picked yet"))?;
                let who = match client_index(ip) {
                    Some(c) => format!("client {c}"),
                    None => format!("{ip}"),
                };
                (
                    Some(ip),
                    Some(format!("inspect {who} ({name}'s last pick)")),
                )
            }
        };
        self.watch_client(ip);
        Ok(said)
    }

    /// What the Snapshot shows of the watched client.
    pub(super) fn inspection(&self) -> Option<Inspection> {
        let w = self.watch.as_deref()?;
        let packets = w
            .recent
            .iter()
            .map(|r| InspectedPacket {
                at: r.at,
                backend: r.side == Side::Backend,
                toward_balancer: r.toward_balancer,
                packet: r.packet,
            })
            .collect();
        Some(Inspection {
            address: w.ip,
            client: client_index(w.ip).map(|c| c as u32),
            packets,
        })
    }
}
