//! The simulated address plan. Every address lives in a range reserved for
//! documentation or private use, so nothing here looks like a real target.

use crate::model::{Endpoint, Ip};

/// The balancer's virtual address (TEST-NET-1).
pub const VIP: Endpoint = Endpoint::new(Ip::new(192, 0, 2, 1), 80);

/// Client `i` has address `CLIENT_BASE + 1 + i` (10.0.0.0/8: 16 million).
pub const CLIENT_BASE: Ip = Ip::new(10, 0, 0, 0);

/// Server `i` has address `SERVER_BASE + 1 + i` (172.16.0.0/12).
pub const SERVER_BASE: Ip = Ip::new(172, 16, 0, 0);

/// Port every server listens on.
pub const SERVER_PORT: u16 = 8080;

/// Source address of the balancer's health probes.
pub const HEALTH_SOURCE: Ip = Ip::new(172, 31, 255, 254);

/// Spoofed flood sources are drawn from 198.18.0.0/15 (the benchmarking
/// range), `FLOOD_BASE + k` for `k` below the flood's source count.
pub const FLOOD_BASE: Ip = Ip::new(198, 18, 0, 0);

/// Clients use the Linux ephemeral port range, one port per connection.
pub const EPHEMERAL_PORTS: std::ops::Range<u16> = 32768..61000;

/// Spoofed flood SYNs come from these source ports.
pub const SPOOFED_PORTS: std::ops::Range<u16> = 1024..65024;

/// Largest client population the address plan holds.
pub const MAX_CLIENTS: usize = crate::spec::limits::MAX_CLIENT_ADDRESSES;

/// The address of client `i`.
pub const fn client_ip(i: usize) -> Ip {
    CLIENT_BASE.offset(1 + i as u32)
}

/// The client index owning `ip`, if it is a client address.
#[inline]
pub const fn client_index(ip: Ip) -> Option<usize> {
    let off = ip.0.wrapping_sub(CLIENT_BASE.0);
    if off >= 1 && (off as usize) <= MAX_CLIENTS {
        Some(off as usize - 1)
    } else {
        None
    }
}

/// The endpoint of server `i`.
pub const fn server_endpoint(i: usize) -> Endpoint {
    Endpoint::new(SERVER_BASE.offset(1 + i as u32), SERVER_PORT)
}

/// The source port of spoofed SYN number `word` (any random word).
pub const fn spoofed_port(word: u64) -> u16 {
    let span = (SPOOFED_PORTS.end - SPOOFED_PORTS.start) as u64;
    SPOOFED_PORTS.start + (word % span) as u16
}

/// The source port of connection number `n` of a client (and of health
/// probe number `n`).
pub const fn ephemeral_port(n: u64) -> u16 {
    let span = (EPHEMERAL_PORTS.end - EPHEMERAL_PORTS.start) as u64;
    EPHEMERAL_PORTS.start + (n % span) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_addresses_map_back_to_their_index() {
        for i in [0, 1, 255, 65_535, MAX_CLIENTS - 1] {
            assert_eq!(client_index(client_ip(i)), Some(i));
        }
        assert_eq!(client_index(CLIENT_BASE), None);
        assert_eq!(client_index(FLOOD_BASE), None);
        assert_eq!(client_index(VIP.ip), None);
        assert_eq!(client_ip(0).to_string(), "10.0.0.1");
    }

    #[test]
    fn ephemeral_ports_stay_in_range() {
        assert_eq!(ephemeral_port(0), 32768);
        assert_eq!(ephemeral_port(28_232), 32768);
        assert!((0..100_000).all(|n| EPHEMERAL_PORTS.contains(&ephemeral_port(n))));
    }
}
