//! Ethernet, IPv4 and TCP headers for a simulated packet, as a capture on
//! its link would hold them. The payload is not kept (the simulation has
//! none): a frame is the 54 bytes of headers, and the pcap record's
//! original length says how long the packet was on the wire, as a capture
//! with a short snap length does.

use crate::model::{Flags, Ip};
use crate::sim::{Side, TapRecord, VIP};

/// Bytes of Ethernet II header.
pub const ETHERNET_BYTES: usize = 14;
/// Bytes of IPv4 header (no options).
pub const IPV4_BYTES: usize = 20;
/// Bytes of TCP header (no options: the simulation models none).
pub const TCP_BYTES: usize = 20;
/// Bytes of a frame as captured: the three headers, no payload.
pub const FRAME_BYTES: usize = ETHERNET_BYTES + IPV4_BYTES + TCP_BYTES;

/// The receive window written in every segment: the simulation does not
/// model flow control, so the largest window without scaling.
pub const WINDOW: u16 = 65535;

/// Time to live of every packet (the Linux default).
const TTL: u8 = 64;

/// A host's MAC address: locally administered (02:..), then its IPv4
/// address, so Wireshark's columns line up with the IP ones.
pub fn mac(ip: Ip) -> [u8; 6] {
    let [a, b, c, d] = ip.0.to_be_bytes();
    [0x02, 0x00, a, b, c, d]
}

/// The balancer's MAC on the backend links: its VIP's, with the second
/// byte set, so its two interfaces differ as a real router's do.
pub fn balancer_backend_mac() -> [u8; 6] {
    let mut m = mac(VIP.ip);
    m[1] = 0x01;
    m
}

/// The frame for `rec` with IPv4 identification `id`, and the packet's
/// length on the wire (headers plus payload), which may exceed the frame.
pub fn build(rec: &TapRecord, id: u16) -> ([u8; FRAME_BYTES], u32) {
    let p = &rec.packet;
    let mut f = [0u8; FRAME_BYTES];
    let (src_mac, dst_mac) = match (rec.side, rec.toward_balancer) {
        // The client link is one segment: every host answers for its own
        // address, the balancer for the VIP (and any spoofed source too).
        (Side::Client, _) => (mac(p.key.src.ip), mac(p.key.dst.ip)),
        // After NAT the client's address is kept, so the balancer's side
        // of a backend link is its own interface, not an address.
        (Side::Backend, true) => (mac(p.key.src.ip), balancer_backend_mac()),
        (Side::Backend, false) => (balancer_backend_mac(), mac(p.key.dst.ip)),
    };
    f[0..6].copy_from_slice(&dst_mac);
    f[6..12].copy_from_slice(&src_mac);
    f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());

    // An IPv4 length field holds at most 65535: a larger simulated segment
    // is written at that length (no lab comes near it).
    let ip_len = (IPV4_BYTES + TCP_BYTES) as u32 + p.len;
    let ip_total = u16::try_from(ip_len).unwrap_or(u16::MAX);
    let ip = &mut f[ETHERNET_BYTES..ETHERNET_BYTES + IPV4_BYTES];
    ip[0] = 0x45; // version 4, five 32-bit words of header
    ip[2..4].copy_from_slice(&ip_total.to_be_bytes());
    ip[4..6].copy_from_slice(&id.to_be_bytes());
    ip[6..8].copy_from_slice(&0x4000u16.to_be_bytes()); // don't fragment
    ip[8] = TTL;
    ip[9] = 6; // TCP
    ip[12..16].copy_from_slice(&p.key.src.ip.0.to_be_bytes());
    ip[16..20].copy_from_slice(&p.key.dst.ip.0.to_be_bytes());
    let ip_sum = checksum(&[ip as &[u8]]);
    ip[10..12].copy_from_slice(&ip_sum.to_be_bytes());

    let tcp_len = u16::try_from(ip_total as usize - IPV4_BYTES).unwrap_or(u16::MAX);
    let tcp = &mut f[ETHERNET_BYTES + IPV4_BYTES..];
    tcp[0..2].copy_from_slice(&p.key.src.port.to_be_bytes());
    tcp[2..4].copy_from_slice(&p.key.dst.port.to_be_bytes());
    tcp[4..8].copy_from_slice(&p.seq.to_be_bytes());
    // The acknowledgment field means nothing without ACK; zero it, as a
    // real stack sends it.
    let ack = if p.flags.contains(Flags::ACK) {
        p.ack
    } else {
        0
    };
    tcp[8..12].copy_from_slice(&ack.to_be_bytes());
    tcp[12] = ((TCP_BYTES / 4) as u8) << 4;
    tcp[13] = tcp_flags(p.flags);
    tcp[14..16].copy_from_slice(&WINDOW.to_be_bytes());
    // The checksum covers a payload of zeros, which adds nothing to a
    // ones'-complement sum: it is the very checksum of the packet as if its
    // payload bytes were all zero, so a checker that had them would agree.
    let mut pseudo = [0u8; 12];
    pseudo[0..4].copy_from_slice(&p.key.src.ip.0.to_be_bytes());
    pseudo[4..8].copy_from_slice(&p.key.dst.ip.0.to_be_bytes());
    pseudo[9] = 6;
    pseudo[10..12].copy_from_slice(&tcp_len.to_be_bytes());
    let tcp_sum = checksum(&[&pseudo, tcp as &[u8]]);
    tcp[16..18].copy_from_slice(&tcp_sum.to_be_bytes());

    (f, ETHERNET_BYTES as u32 + u32::from(ip_total))
}

/// The TCP header's flag byte (RFC 9293 section 3.1) for `flags`.
pub fn tcp_flags(flags: Flags) -> u8 {
    const BITS: [(Flags, u8); 6] = [
        (Flags::FIN, 0x01),
        (Flags::SYN, 0x02),
        (Flags::RST, 0x04),
        (Flags::PSH, 0x08),
        (Flags::ACK, 0x10),
        (Flags::URG, 0x20),
    ];
    BITS.iter()
        .filter(|(f, _)| flags.contains(*f))
        .fold(0, |b, (_, bit)| b | bit)
}

/// The Internet checksum (RFC 1071) of the concatenated even-length parts.
fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for part in parts {
        for pair in part.chunks(2) {
            let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
            sum += u32::from(word);
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, FourTuple, Packet, SimTime};

    fn record(flags: Flags, len: u32) -> TapRecord {
        let key = FourTuple::tcp(Endpoint::new(Ip::new(10, 0, 0, 1), 40000), VIP);
        TapRecord {
            at: SimTime::ZERO,
            side: Side::Client,
            toward_balancer: true,
            packet: Packet {
                len,
                ..Packet::control(key, flags, 1000, 77)
            },
        }
    }

    #[test]
    fn headers_carry_lengths_addresses_and_flags() {
        let (f, wire) = build(&record(Flags::PSH | Flags::ACK, 1024), 9);
        assert_eq!(wire, 54 + 1024);
        assert_eq!(&f[12..14], &[0x08, 0x00]);
        let ip = &f[14..34];
        assert_eq!(u16::from_be_bytes([ip[2], ip[3]]), 20 + 20 + 1024);
        assert_eq!(&ip[12..16], &[10, 0, 0, 1]);
        assert_eq!(&ip[16..20], &[192, 0, 2, 1]);
        let tcp = &f[34..];
        assert_eq!(u16::from_be_bytes([tcp[2], tcp[3]]), 80);
        assert_eq!(u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]), 1000);
        assert_eq!(u32::from_be_bytes([tcp[8], tcp[9], tcp[10], tcp[11]]), 77);
        assert_eq!(tcp[13], 0x18);
    }

    #[test]
    fn checksums_verify_and_a_bare_syn_has_no_ack_number() {
        let (f, _) = build(&record(Flags::SYN, 0), 1);
        // A header with a correct checksum sums to zero.
        assert_eq!(checksum(&[&f[14..34]]), 0);
        let mut pseudo = [0u8; 12];
        pseudo[0..4].copy_from_slice(&f[26..30]);
        pseudo[4..8].copy_from_slice(&f[30..34]);
        pseudo[9] = 6;
        pseudo[11] = 20;
        assert_eq!(checksum(&[&pseudo, &f[34..]]), 0);
        assert_eq!(&f[42..46], &[0, 0, 0, 0]);
        assert_eq!(f[47], 0x02);
    }
}
