//! The lab protocol on real sockets: a segment is a 4-byte big-endian
//! length and that many payload bytes; the server answers each with one
//! acknowledgement byte. The client half-closes after its last segment
//! and the server closes back, which ends the connection cleanly.

use std::io;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The byte a server answers each segment with.
pub const ACK: u8 = 0x06;

/// The largest segment a server reads: far beyond any lab's segment size,
/// small enough that a stray peer cannot make it allocate much.
pub const MAX_SEGMENT: u32 = 1 << 20;

/// Writes one segment of `size` bytes (capped at [`MAX_SEGMENT`]).
pub async fn write_segment<W: AsyncWrite + Unpin>(w: &mut W, size: u64) -> io::Result<()> {
    let size = u32::try_from(size).unwrap_or(MAX_SEGMENT).min(MAX_SEGMENT);
    let mut frame = Vec::with_capacity(4 + size as usize);
    frame.extend_from_slice(&size.to_be_bytes());
    frame.resize(4 + size as usize, 0x2e);
    w.write_all(&frame).await
}

/// Reads one segment's payload; `None` at a clean end of the stream
/// before a new segment.
pub async fn read_segment<R: AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut Vec<u8>,
) -> io::Result<Option<usize>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let n = u32::from_be_bytes(len);
    if n > MAX_SEGMENT {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a segment of {n} bytes is over the {MAX_SEGMENT}-byte limit"),
        ));
    }
    buf.resize(n as usize, 0);
    r.read_exact(buf).await?;
    Ok(Some(n as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_segment_written_is_read_back_whole_then_the_end() {
        let (mut a, mut b) = tokio::io::duplex(1 << 16);
        write_segment(&mut a, 1500).await.expect("write");
        write_segment(&mut a, 0).await.expect("write");
        drop(a);
        let mut buf = Vec::new();
        assert_eq!(
            read_segment(&mut b, &mut buf).await.expect("read"),
            Some(1500)
        );
        assert_eq!(buf.len(), 1500);
        assert_eq!(read_segment(&mut b, &mut buf).await.expect("read"), Some(0));
        assert_eq!(read_segment(&mut b, &mut buf).await.expect("read"), None);
    }

    #[tokio::test]
    async fn an_oversized_length_is_refused_before_reading_it() {
        let (mut a, mut b) = tokio::io::duplex(64);
        a.write_all(&(MAX_SEGMENT + 1).to_be_bytes())
            .await
            .expect("write");
        let mut buf = Vec::new();
        let err = read_segment(&mut b, &mut buf).await.expect_err("refused");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(buf.capacity() < 1024);
    }
}
