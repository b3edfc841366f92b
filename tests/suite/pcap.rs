//! Packets as a pcap file: the first seconds of the classic lab, tapped on
//! both sides of the balancer, written, and read back with a pcap parser.
//! The handshake comes in order, the backend side carries the NATed
//! addresses, and a server's death shows as retransmitted segments. When
//! tcpdump is installed it reads the file `lblab run --pcap` writes.

use lblab::model::{SimDuration, SimTime};
use lblab::pcap::PcapFile;
use lblab::sim::{Side, TapRecord, TapSides, TapSpec, VIP, World};
use lblab::spec::Command;
use pcap_file::pcap::PcapReader;
use std::process::Command as Process;

/// One TCP segment as read back from a pcap record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Seg {
    at_ns: u128,
    src: ([u8; 4], u16),
    dst: ([u8; 4], u16),
    flags: u8,
    seq: u32,
    ack: u32,
    /// Payload length, from the IPv4 total length.
    len: u32,
    /// Length on the wire the record claims.
    orig_len: u32,
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const SYN_ACK: u8 = SYN | ACK;

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Parses every record of a pcap file's bytes: Ethernet, IPv4, TCP.
fn read(bytes: &[u8]) -> Vec<Seg> {
    let mut reader = PcapReader::new(bytes).expect("a pcap header");
    let mut out = Vec::new();
    while let Some(p) = reader.next_packet() {
        let p = p.expect("a well-formed pcap record");
        let d = &p.data;
        assert_eq!(d.len(), 54, "headers only");
        assert_eq!(be16(&d[12..14]), 0x0800, "IPv4 in Ethernet");
        let ip_total = u32::from(be16(&d[16..18]));
        assert_eq!(
            p.orig_len,
            14 + ip_total,
            "the record's length is the IP packet's"
        );
        let ip4 = |b: &[u8]| [b[0], b[1], b[2], b[3]];
        out.push(Seg {
            at_ns: p.timestamp.as_nanos(),
            src: (ip4(&d[26..30]), be16(&d[34..36])),
            dst: (ip4(&d[30..34]), be16(&d[36..38])),
            seq: be32(&d[38..42]),
            ack: be32(&d[42..46]),
            flags: d[47],
            len: ip_total - 40,
            orig_len: p.orig_len,
        });
    }
    out
}

fn secs(s: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(s)
}

const KILL_AT_SECS: u64 = 2;

/// The first 4 s of classic (no chaos of its own until 90 s) with srv-1
/// killed at 2 s, both sides tapped, as pcap bytes, and the World's own
/// records beside them.
fn classic_capture() -> (Vec<u8>, Vec<TapRecord>) {
    let lab = lblab::lab::builtin("classic").expect("classic loads");
    let mut world = World::new(&lab, lab.seed);
    world.schedule(secs(KILL_AT_SECS), Command::KillServer("srv-1".into()));
    world.start_tap(TapSpec {
        sides: TapSides::Both,
        window: SimDuration::from_secs(4),
        max_packets: u64::MAX,
    });
    let mut records = Vec::new();
    let mut file = PcapFile::new(Vec::new()).expect("header written");
    // Drained every half second, as a driver would.
    for half in 1..=10 {
        world.run_until(SimTime::ZERO + SimDuration::from_millis(500 * half));
        let start = records.len();
        world.drain_tap(&mut records);
        for r in &records[start..] {
            file.write(r).expect("written");
        }
    }
    assert!(!world.tap_open(), "the 4 s window is over");
    (file.finish().expect("flushed"), records)
}

fn vip() -> ([u8; 4], u16) {
    (VIP.ip.0.to_be_bytes(), VIP.port)
}

#[test]
fn client_side_shows_each_handshake_in_order() {
    let (bytes, records) = classic_capture();
    let segs = read(&bytes);
    assert_eq!(segs.len(), records.len());
    assert!(
        segs.windows(2).all(|w| w[0].at_ns <= w[1].at_ns),
        "in time order"
    );
    let client_side: Vec<Seg> = segs
        .iter()
        .zip(&records)
        .filter(|(_, r)| r.side == Side::Client)
        .map(|(s, _)| *s)
        .collect();
    let syns: Vec<&Seg> = client_side.iter().filter(|s| s.flags == SYN).collect();
    assert_eq!(syns.len(), 100, "classic's 100 clients connect once each");
    for syn in syns {
        assert_eq!(syn.dst, vip());
        let flow: Vec<&Seg> = client_side
            .iter()
            .filter(|s| s.src == syn.src || s.dst == syn.src)
            .collect();
        let [first, second, third] = [flow[0], flow[1], flow[2]];
        assert_eq!(first, syn, "the SYN opens the flow");
        assert_eq!(
            (second.flags, second.src, second.dst),
            (SYN_ACK, vip(), syn.src)
        );
        assert_eq!(second.ack, syn.seq.wrapping_add(1));
        assert_eq!((third.flags & (SYN | ACK), third.src), (ACK, syn.src));
        assert_eq!(third.ack, second.seq.wrapping_add(1));
        assert!(first.at_ns < second.at_ns && second.at_ns <= third.at_ns);
    }
}

#[test]
fn backend_side_carries_the_natted_addresses() {
    let (bytes, records) = classic_capture();
    let segs = read(&bytes);
    let backend: Vec<(&Seg, &TapRecord)> = segs
        .iter()
        .zip(&records)
        .filter(|(_, r)| r.side == Side::Backend)
        .collect();
    assert!(!backend.is_empty());
    // The balancer rewrites the destination only (NAT to the backend): the
    // client's address reaches the server, and the VIP is nowhere.
    for (s, r) in &backend {
        assert_ne!(s.src, vip());
        assert_ne!(s.dst, vip());
        let server = if r.toward_balancer { s.src } else { s.dst };
        assert_eq!(server.0[..2], [172, 16], "a server address: {s:?}");
        assert_eq!(server.1, 8080);
    }
    // Each client SYN on the client side has its NATed twin: same client
    // address, port and sequence number, toward a server.
    let client_syns = segs.iter().filter(|s| s.flags == SYN && s.dst == vip());
    for syn in client_syns {
        let twin = backend
            .iter()
            .find(|(b, _)| b.flags == SYN && b.src == syn.src && b.seq == syn.seq);
        let (twin, _) = twin.unwrap_or_else(|| panic!("no backend SYN for {syn:?}"));
        assert!(twin.at_ns > syn.at_ns, "forwarded after it arrived");
        assert_eq!(twin.dst.1, 8080);
    }
}

#[test]
fn a_killed_server_shows_as_retransmitted_segments() {
    let (bytes, _) = classic_capture();
    let segs = read(&bytes);
    let kill_ns = u128::from(KILL_AT_SECS) * 1_000_000_000;
    // Data segments from clients to the VIP, keyed by flow and sequence.
    let mut seen = std::collections::HashMap::new();
    let mut repeats = Vec::new();
    for s in segs.iter().filter(|s| s.dst == vip() && s.len > 0) {
        if let Some(first) = seen.insert((s.src, s.seq), *s) {
            repeats.push((first, *s));
        }
    }
    assert!(!repeats.is_empty(), "srv-1's clients retransmit");
    for (first, again) in &repeats {
        assert!(again.at_ns > kill_ns, "no retransmission before the kill");
        assert_eq!((first.len, first.orig_len), (again.len, again.orig_len));
        assert_eq!(first.len, 1024, "classic's segment size, on the wire");
    }
    // Classic puts 10 clients on each server: those of srv-1 repeat.
    let flows: std::collections::HashSet<_> = repeats.iter().map(|(f, _)| f.src).collect();
    assert_eq!(flows.len(), 10, "{flows:?}");
}

#[test]
fn lblab_run_writes_a_pcap_tcpdump_reads() {
    let dir = std::env::temp_dir().join(format!("lblab-pcap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("classic.pcap");
    let out = Process::new(env!("CARGO_BIN_EXE_lblab"))
        .args(["run", "classic", "--for", "3s", "--pcap"])
        .arg(&file)
        .args(["--pcap-side", "both", "--pcap-for", "2s"])
        .output()
        .expect("lblab runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("packets (both sides, within the first 2 s)"),
        "{stderr}"
    );
    let bytes = std::fs::read(&file).expect("the file was written");
    let segs = read(&bytes);
    assert!(!segs.is_empty());
    assert!(
        segs.iter().all(|s| s.at_ns < 2_000_000_000),
        "within --pcap-for"
    );
    let said = format!("lblab: {} packets", segs.len());
    assert!(stderr.contains(&said), "{stderr}");

    match Process::new("tcpdump").arg("-nr").arg(&file).output() {
        Ok(dump) => {
            let text = String::from_utf8_lossy(&dump.stdout);
            let err = String::from_utf8_lossy(&dump.stderr);
            assert!(dump.status.success(), "tcpdump failed: {err}");
            assert!(!err.contains("truncated"), "{err}");
            assert_eq!(text.lines().count(), segs.len(), "{err}");
            // tcpdump sees the handshake and the lengths it was told.
            assert!(text.contains("Flags [S.]"), "{text:.400}");
            assert!(text.contains("length 1024"), "{text:.400}");
        }
        Err(_) => eprintln!("note: tcpdump is not installed; its check is skipped"),
    }
    // Without --pcap, --pcap-side is refused rather than ignored.
    let bad = Process::new(env!("CARGO_BIN_EXE_lblab"))
        .args(["run", "classic", "--for", "1s", "--pcap-side", "both"])
        .output()
        .expect("lblab runs");
    assert_eq!(bad.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The JSON report of `lblab run ARGS`, its wall-clock part left out.
fn report_without_wall(args: &[&str]) -> serde_json::Value {
    let out = Process::new(env!("CARGO_BIN_EXE_lblab"))
        .args(args)
        .output()
        .expect("lblab runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    v.as_object_mut().expect("an object").remove("wall");
    v
}

#[test]
fn a_capture_leaves_the_report_as_it_was() {
    let dir = std::env::temp_dir().join(format!("lblab-pcap-same-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("same.pcap");
    let file = file.to_str().expect("a UTF-8 temp path");
    // 95 s of classic: its first server death at 90 s included.
    let plain = report_without_wall(&["run", "classic", "--for", "95s", "--format", "json"]);
    let captured = report_without_wall(&[
        "run",
        "classic",
        "--for",
        "95s",
        "--format",
        "json",
        "--pcap",
        file,
        "--pcap-side",
        "both",
        "--pcap-for",
        "3s",
    ]);
    assert_eq!(plain, captured);
    let _ = std::fs::remove_dir_all(&dir);
}
