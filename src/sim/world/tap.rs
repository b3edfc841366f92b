//! The World's packet tap and connection watch (see `sim::tap`): what is
//! put on each link, recorded for whoever drives the World to drain.

use super::{Dest, World};
use crate::model::{Ip, Packet};
use crate::sim::tap::{Side, Tap, TapRecord, TapSpec, Watch};

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

    /// The watched client's address and its newest packets, oldest first.
    pub fn watched(&self) -> Option<(Ip, Vec<TapRecord>)> {
        self.watch
            .as_deref()
            .map(|w| (w.ip, w.recent.iter().copied().collect()))
    }
}
