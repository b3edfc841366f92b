//! The content hash of a lab: the same on every platform and in every
//! process, so a run file recorded anywhere can tell whether the lab it
//! replays is the lab it ran.

use crate::spec::Lab;
use siphasher::sip::SipHasher13;
use std::hash::Hasher;

/// `sip13:` and 16 hex digits: SipHash-1-3 with zero keys over the lab's
/// compact RON serialization. RON writes floats in their shortest exact
/// form and fields in declaration order, so the text, and the hash, do not
/// depend on the platform (std's `RandomState` would change per process).
pub fn lab_hash(lab: &Lab) -> String {
    let mut h = SipHasher13::new_with_keys(0, 0);
    // A lab always serializes (it was read from RON); should it ever not,
    // the error text is hashed instead and the hash simply will not match.
    let text = ron::to_string(lab).unwrap_or_else(|e| format!("unserializable: {e}"));
    h.write(text.as_bytes());
    format!("sip13:{:016x}", h.finish())
}
