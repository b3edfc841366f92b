//! Plain data every room shares: addresses, the 4-tuple, TCP flags, packets,
//! ids and simulated time. Nothing here has behaviour beyond formatting and
//! arithmetic, so `policy/`, `sim/` and a future real proxy can all use it.

mod addr;
mod cidr;
mod flags;
mod ids;
mod packet;
mod time;

pub use addr::{Endpoint, FourTuple, Ip, Protocol};
#[cfg(test)]
pub(crate) use cidr::test_support as cidr_test_support;
pub use cidr::{Cidr, CidrError};
pub use flags::Flags;
pub use ids::{ClientId, ServerId};
pub use packet::Packet;
pub use time::{SimDuration, SimTime};
