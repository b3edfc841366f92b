//! TCP control flags as a bitset.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{BitOr, BitOrAssign};

/// The TCP control bits a simulated packet carries (SYN ACK FIN RST PSH URG).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Flags(u8);

impl Flags {
    /// No flag set.
    pub const NONE: Flags = Flags(0);
    /// Synchronize sequence numbers: opens a connection.
    pub const SYN: Flags = Flags(1 << 0);
    /// The acknowledgment field is significant.
    pub const ACK: Flags = Flags(1 << 1);
    /// No more data from the sender: closes a direction.
    pub const FIN: Flags = Flags(1 << 2);
    /// Reset the connection.
    pub const RST: Flags = Flags(1 << 3);
    /// Push: the segment carries data to hand to the application.
    pub const PSH: Flags = Flags(1 << 4);
    /// Urgent pointer significant (carried, never acted on).
    pub const URG: Flags = Flags(1 << 5);

    const NAMES: [(Flags, &'static str); 6] = [
        (Flags::SYN, "SYN"),
        (Flags::ACK, "ACK"),
        (Flags::FIN, "FIN"),
        (Flags::RST, "RST"),
        (Flags::PSH, "PSH"),
        (Flags::URG, "URG"),
    ];

    /// True when every bit of `other` is set here.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// True when any bit of `other` is set here.
    pub const fn intersects(self, other: Flags) -> bool {
        self.0 & other.0 != 0
    }

    /// The raw bits.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Flags from raw bits; bits beyond the six known ones are dropped.
    pub const fn from_bits_truncate(bits: u8) -> Flags {
        Flags(bits & 0b11_1111)
    }
}

impl BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

impl BitOrAssign for Flags {
    fn bitor_assign(&mut self, rhs: Flags) {
        self.0 |= rhs.0;
    }
}

impl fmt::Display for Flags {
    /// Prints the set flags joined by `|` (`SYN|ACK`), or `-` when none is set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (flag, name) in Flags::NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("-")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_combine_and_test() {
        let synack = Flags::SYN | Flags::ACK;
        assert!(synack.contains(Flags::SYN));
        assert!(synack.contains(Flags::ACK));
        assert!(!synack.contains(Flags::FIN));
        assert!(synack.intersects(Flags::ACK | Flags::RST));
        assert!(!Flags::PSH.intersects(Flags::SYN | Flags::FIN));
    }

    #[test]
    fn flags_display_like_tcpdump_names() {
        assert_eq!((Flags::SYN | Flags::ACK).to_string(), "SYN|ACK");
        assert_eq!((Flags::PSH | Flags::ACK).to_string(), "ACK|PSH");
        assert_eq!(Flags::NONE.to_string(), "-");
        assert_eq!(
            Flags::from_bits_truncate(0xff).to_string(),
            "SYN|ACK|FIN|RST|PSH|URG"
        );
    }
}
