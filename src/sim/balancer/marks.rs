//! The yes-or-no facts of a conn-table entry, one bit each: with them in
//! one byte an entry takes 64 bytes, one cache line, where seven booleans
//! made it 72 and every entry spanned two lines.

/// One yes-or-no fact about a conn-table entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Mark {
    /// Opened by a SYN cookie (the balancer did the client's handshake).
    Proxied = 1,
    /// The client has been answered (its SYN|ACK went through, or came
    /// from the balancer's cookie), so the entry's `rcv_nxt` is known.
    Answered = 2,
    /// A client request (data segment) went to the backend and its
    /// acknowledgement has not come back: counted in the backend's
    /// `outstanding`.
    Awaiting = 4,
    /// The connection's first request is still to come: a new connection
    /// counts as outstanding from its SYN, or every pick in the round trip
    /// before its first segment would see the backend idle and pile on.
    Opening = 8,
    /// The slot holds a connection (it is not on the free list).
    Live = 16,
}

/// A set of [`Mark`]s.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Marks(u8);

impl Marks {
    /// The set holding exactly `marks`.
    pub fn of(marks: &[Mark]) -> Marks {
        Marks(marks.iter().fold(0, |bits, &m| bits | m as u8))
    }

    /// Whether `m` is in the set.
    #[inline(always)]
    pub fn has(self, m: Mark) -> bool {
        self.0 & m as u8 != 0
    }

    /// Puts `m` in the set, or takes it out.
    #[inline(always)]
    pub fn set(&mut self, m: Mark, on: bool) {
        if on {
            self.0 |= m as u8;
        } else {
            self.0 &= !(m as u8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mark_comes_and_goes_alone() {
        let all = [
            Mark::Proxied,
            Mark::Answered,
            Mark::Awaiting,
            Mark::Opening,
            Mark::Live,
        ];
        for &m in &all {
            let mut marks = Marks::of(&all);
            marks.set(m, false);
            for &other in &all {
                assert_eq!(marks.has(other), other != m, "{m:?} off, {other:?}");
            }
            marks.set(m, true);
            assert_eq!(marks, Marks::of(&all));
        }
        assert!(all.iter().all(|&m| !Marks::default().has(m)));
    }
}
