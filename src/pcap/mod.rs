//! Simulated packets as a standard pcap file, for `tcpdump -r` and
//! Wireshark: Ethernet, IPv4 and TCP headers built from the World's
//! addresses, ports, flags, sequence and acknowledgment numbers and
//! payload lengths (`frame`), the simulated clock as timestamps (the run
//! starts at the Unix epoch, nanosecond resolution). The payload itself is
//! not written: each record's original length says how long it was.
//!
//! The World taps its links into a buffer; [`engine::Capture`] drains it as
//! the run goes and writes here, so the simulation itself does no I/O.

pub mod cli;
pub mod engine;
pub mod frame;

pub use engine::Capture;

use crate::sim::TapRecord;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, Endianness, TsResolution};
use std::io::Write;
use std::time::Duration;

/// Why a pcap file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the pcap file: {0}")]
pub struct PcapError(String);

impl From<pcap_file::PcapError> for PcapError {
    fn from(e: pcap_file::PcapError) -> PcapError {
        PcapError(e.to_string())
    }
}

/// Writes tapped packets as pcap records.
pub struct PcapFile<W: Write> {
    writer: PcapWriter<W>,
    /// IPv4 identification of the next packet: a counter, as many stacks
    /// keep, so every packet of the file has its own.
    next_id: u16,
    written: u64,
}

impl<W: Write> PcapFile<W> {
    /// Writes the file header to `out` (Ethernet links, nanosecond
    /// timestamps, the conventional 65535-byte snap length).
    pub fn new(out: W) -> Result<PcapFile<W>, PcapError> {
        let header = PcapHeader {
            datalink: DataLink::ETHERNET,
            ts_resolution: TsResolution::NanoSecond,
            // Readers on any machine take either order; little-endian is
            // what most capture tools write today.
            endianness: Endianness::Little,
            ..PcapHeader::default()
        };
        Ok(PcapFile {
            writer: PcapWriter::with_header(out, header)?,
            next_id: 1,
            written: 0,
        })
    }

    /// Appends one packet.
    pub fn write(&mut self, rec: &TapRecord) -> Result<(), PcapError> {
        let (frame, wire) = frame::build(rec, self.next_id);
        self.next_id = self.next_id.wrapping_add(1);
        let at = Duration::from_nanos(rec.at.0);
        self.writer
            .write_packet(&PcapPacket::new(at, wire, &frame))?;
        self.written += 1;
        Ok(())
    }

    /// Packets written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(self) -> Result<W, PcapError> {
        let mut out = self.writer.into_writer();
        out.flush().map_err(|e| PcapError(e.to_string()))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Flags, FourTuple, Ip, Packet, SimDuration, SimTime};
    use crate::sim::{Side, VIP};
    use pcap_file::pcap::PcapReader;

    #[test]
    fn written_records_read_back_with_times_and_lengths() {
        let key = FourTuple::tcp(Endpoint::new(Ip::new(10, 0, 0, 1), 40000), VIP);
        let at = SimTime::ZERO + SimDuration::from_nanos(1_500_000_123);
        let rec = TapRecord {
            at,
            side: Side::Client,
            toward_balancer: true,
            packet: Packet {
                len: 1024,
                ..Packet::control(key, Flags::ACK, 1, 1)
            },
        };
        let mut file = PcapFile::new(Vec::new()).unwrap();
        file.write(&rec).unwrap();
        file.write(&rec).unwrap();
        assert_eq!(file.written(), 2);
        let bytes = file.finish().unwrap();
        let mut reader = PcapReader::new(&bytes[..]).unwrap();
        assert_eq!(reader.header().ts_resolution, TsResolution::NanoSecond);
        let p = reader.next_packet().unwrap().unwrap().into_owned();
        assert_eq!(p.timestamp, Duration::from_nanos(1_500_000_123));
        assert_eq!((p.data.len(), p.orig_len), (54, 54 + 1024));
        // Each packet has its own IPv4 identification.
        let q = reader.next_packet().unwrap().unwrap();
        assert_ne!(p.data[18..20], q.data[18..20]);
        assert!(reader.next_packet().is_none());
    }
}
