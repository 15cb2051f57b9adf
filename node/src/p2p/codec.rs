//! The wire format between validators: one long-lived stream per direction
//! and peer, carrying length-prefixed frames (`u32` little-endian length,
//! then the bytes). A frame over the configured bound is refused before it
//! is read into memory, and ends the stream.
//!
//! The receiver opens each stream by writing one byte, [`ACCEPTED`], once
//! its reader holds the stream; the sender writes no frame before it has
//! read that byte. libp2p-stream drops an inbound stream its acceptor is
//! not ready for (two arriving at once), and the sender would otherwise
//! learn of it only after its first frames were lost (ARCHITECTURE.md D45).

use std::io;

use futures::prelude::*;
use libp2p::StreamProtocol;

/// The protocol name of Chancery's validator-to-validator frame streams.
/// Version 3 added the [`ACCEPTED`] byte.
pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/chancery/frames/3");

/// The byte a receiver writes first on each stream it accepts.
pub const ACCEPTED: u8 = 0xA5;

/// Bytes of the length prefix.
pub const PREFIX: usize = 4;

/// The receiver's side of opening a stream: says it holds the stream.
pub async fn accept_stream<T>(io: &mut T) -> io::Result<()>
where
    T: AsyncWrite + Unpin,
{
    io.write_all(&[ACCEPTED]).await?;
    io.flush().await
}

/// The sender's side of opening a stream: waits for [`ACCEPTED`]. An
/// error means the receiver dropped the stream (or sent something else)
/// and no frame may be written on it.
pub async fn await_acceptance<T>(io: &mut T) -> io::Result<()>
where
    T: AsyncRead + Unpin,
{
    let mut byte = [0u8; 1];
    match io.read(&mut byte).await? {
        0 => Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "the peer dropped the stream before accepting it",
        )),
        _ if byte[0] == ACCEPTED => Ok(()),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "the peer opened the stream with {:#04x}, not the acceptance byte",
                byte[0]
            ),
        )),
    }
}

/// Reads one frame of at most `max_frame` bytes. `Ok(None)` is a clean end
/// of stream between frames.
pub async fn read_frame<T>(io: &mut T, max_frame: usize) -> io::Result<Option<Vec<u8>>>
where
    T: AsyncRead + Unpin,
{
    let mut len = [0u8; PREFIX];
    let mut got = 0;
    while got < PREFIX {
        match io.read(&mut len[got..]).await? {
            0 if got == 0 => return Ok(None),
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => got += n,
        }
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > max_frame {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes is over the limit of {max_frame}"),
        ));
    }
    let mut buf = vec![0u8; len];
    io.read_exact(&mut buf).await?;
    Ok(Some(buf))
}

/// Appends `frame` with its length prefix to `out`. Refuses a frame over
/// `max_frame` bytes (the receiver would end the stream on it).
pub fn encode_frame(frame: &[u8], max_frame: usize, out: &mut Vec<u8>) -> io::Result<()> {
    let len = u32::try_from(frame.len())
        .ok()
        .filter(|l| (*l as usize) <= max_frame)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "frame of {} bytes is over the limit of {max_frame}",
                    frame.len()
                ),
            )
        })?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(frame);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::io::Cursor;

    fn encoded(frames: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for f in frames {
            encode_frame(f, 1024, &mut out).unwrap();
        }
        out
    }

    /// A stream is used only after the receiver's acceptance byte; a
    /// stream dropped unaccepted (it ends) or opened with another byte is
    /// an error, so the sender opens another instead of losing frames.
    #[tokio::test]
    async fn a_stream_is_used_only_once_accepted() {
        let mut written = Cursor::new(Vec::new());
        accept_stream(&mut written).await.unwrap();
        let mut io = Cursor::new(written.into_inner());
        await_acceptance(&mut io).await.unwrap();
        let err = await_acceptance(&mut Cursor::new(Vec::new()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
        let err = await_acceptance(&mut Cursor::new(vec![4u8, 0, 0, 0]))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("0x04"), "{err}");
    }

    #[tokio::test]
    async fn frames_round_trip_in_order_then_end_cleanly() {
        let mut io = Cursor::new(encoded(&[b"one", b"", b"three"]));
        assert_eq!(read_frame(&mut io, 1024).await.unwrap().unwrap(), b"one");
        assert_eq!(read_frame(&mut io, 1024).await.unwrap().unwrap(), b"");
        assert_eq!(read_frame(&mut io, 1024).await.unwrap().unwrap(), b"three");
        assert!(read_frame(&mut io, 1024).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn an_oversized_frame_is_refused_before_it_is_read() {
        let mut bytes = (2000u32).to_le_bytes().to_vec();
        bytes.extend_from_slice(&[7; 16]);
        let err = read_frame(&mut Cursor::new(bytes), 1024).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("2000 bytes"), "{err}");
        let err = encode_frame(&[0; 2000], 1024, &mut Vec::new()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    #[tokio::test]
    async fn a_stream_cut_inside_a_frame_is_an_error() {
        let mut bytes = encoded(&[b"complete", b"cut short"]);
        bytes.truncate(bytes.len() - 3);
        let mut io = Cursor::new(bytes);
        assert_eq!(
            read_frame(&mut io, 1024).await.unwrap().unwrap(),
            b"complete"
        );
        let err = read_frame(&mut io, 1024).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        // A prefix cut short is an error too, not a clean end.
        let mut io = Cursor::new(vec![1, 0]);
        assert!(read_frame(&mut io, 1024).await.is_err());
    }
}
