//! The SYN proxy: SYNs answered from the VIP with a cookie and no state;
//! an ACK carrying a good cookie opens the backend connection on the
//! client's behalf, and sequence numbers are shifted between the two
//! halves from then on.

use super::{Backward, Balancer, Entropy, EntryState, Forward};
use crate::model::{Flags, Packet, SimTime};
use crate::policy::MSS_TABLE;
use crate::spec::DropReason;

impl Balancer {
    /// Answers a SYN statelessly: a SYN|ACK from the VIP whose sequence
    /// number is the cookie.
    pub(super) fn reply_with_cookie(&mut self, p: &Packet, now: SimTime) -> Forward {
        // The largest MSS of the table: lblab's segments fit any of them.
        let mss = (MSS_TABLE.len() - 1) as u8;
        let cookie = self.jar.make(&p.key, p.seq, mss, now);
        self.stats.cookies_sent += 1;
        Forward::Reply(Packet::control(
            p.key.reversed(),
            Flags::SYN | Flags::ACK,
            cookie,
            p.seq.wrapping_add(1),
        ))
    }

    /// An ACK (or the first data segment) for no entry: if it carries a good
    /// cookie, open the backend connection on the client's behalf.
    pub(super) fn accept_cookie(
        &mut self,
        p: &Packet,
        now: SimTime,
        entropy: &mut impl Entropy,
    ) -> Forward {
        if self.jar.check(&p.key, p.seq, p.ack, now).is_err() {
            return Forward::Drop(DropReason::BadCookie);
        }
        let b = match self.pick(&p.key, entropy) {
            Ok(b) => b,
            Err(why) => return Forward::Drop(why),
        };
        self.stats.cookies_accepted += 1;
        let (slot, timer_at) = self.new_entry(p.key, b, EntryState::Proxying, now);
        self.table.set_seq_delta(slot, p.ack.wrapping_sub(1));
        // The client got its SYN|ACK from our cookie and acknowledged it.
        self.table.answered(slot, p.ack);
        if p.len > 0 {
            self.table.hold(slot, *p);
        }
        Forward::ToBackend {
            backend: b as u32,
            packet: self.backend_syn(p, b),
            new_entry: Some((slot, timer_at)),
        }
    }

    /// A client segment while the backend has not answered yet: keep the
    /// client's newest segment and ask the backend again (our SYN may be
    /// lost).
    pub(super) fn proxying_client_segment(&mut self, slot: u32, p: &Packet, b: usize) -> Forward {
        if p.len > 0 {
            self.table.hold(slot, *p);
        }
        Forward::ToBackend {
            backend: b as u32,
            packet: self.backend_syn(p, b),
            new_entry: None,
        }
    }

    /// The backend accepted a proxied connection: its ISN against our cookie
    /// gives the offset for every later sequence number; the handshake is
    /// completed and the held segment passed on.
    pub(super) fn backend_accepted_proxied(
        &mut self,
        slot: u32,
        p: &Packet,
        now: SimTime,
    ) -> Backward {
        let delta = p.seq.wrapping_sub(self.table.entry(slot).seq_delta);
        self.table.set_seq_delta(slot, delta);
        self.table
            .set_state(slot, now, EntryState::Established, &mut self.views);
        let ack = Packet::control(p.key.reversed(), Flags::ACK, p.ack, p.seq.wrapping_add(1));
        let held = self.table.take_held(slot).map(|mut h| {
            h.key.dst = p.key.src;
            h.ack = h.ack.wrapping_add(delta);
            h
        });
        if let Some(h) = &held {
            let end = h.seq.wrapping_add(h.len);
            self.table.request_sent(slot, end, now, &mut self.views);
        }
        Backward::ToBackend(ack, held)
    }

    /// The SYN the balancer sends a backend for a proxied connection: the
    /// client's own address and ISN, so the backend sees the client.
    fn backend_syn(&self, p: &Packet, b: usize) -> Packet {
        let mut syn = Packet::control(p.key, Flags::SYN, p.seq.wrapping_sub(1), 0);
        syn.key.dst = self.backends[b].endpoint;
        syn
    }
}
