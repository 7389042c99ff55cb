//! The multiplexed stream of `logs` and `attach` responses, as docker frames it: an 8-byte
//! header (stream byte, three zero bytes, big-endian u32 length) then the payload.
//! Stream 1 is stdout, 2 stderr, 3 a system message: the stream's end, a
//! [`berth_wire::stream::StreamEnd`] as JSON (e.g. `{"exit_code":3}`).

use berth_wire::stream::StreamEnd;
use bytes::{BufMut, Bytes, BytesMut};

pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;
pub const SYSTEM: u8 = 3;

const HEADER: usize = 8;

/// Appends one frame to `out`.
pub fn encode(out: &mut BytesMut, stream: u8, payload: &[u8]) {
    out.reserve(HEADER + payload.len());
    out.put_u8(stream);
    out.put_bytes(0, 3);
    out.put_u32(payload.len() as u32);
    out.put_slice(payload);
}

/// Appends the frame that ends a stream.
pub fn encode_end(out: &mut BytesMut, end: &StreamEnd) {
    // A StreamEnd is plain data: serializing it cannot fail.
    let json = serde_json::to_vec(end).unwrap_or_default();
    encode(out, SYSTEM, &json);
}

/// The frame that ends a stream, alone.
pub fn end_frame(end: &StreamEnd) -> Bytes {
    let mut out = BytesMut::new();
    encode_end(&mut out, end);
    out.freeze()
}

/// Splits a byte stream back into frames, whatever the chunking of the transport.
#[derive(Default)]
pub struct Decoder {
    buffer: BytesMut,
}

impl Decoder {
    pub fn push(&mut self, chunk: &[u8]) {
        self.buffer.extend_from_slice(chunk);
    }

    /// The next complete frame, if one has arrived.
    pub fn next_frame(&mut self) -> Option<(u8, Bytes)> {
        if self.buffer.len() < HEADER {
            return None;
        }
        let len = u32::from_be_bytes([
            self.buffer[4],
            self.buffer[5],
            self.buffer[6],
            self.buffer[7],
        ]) as usize;
        if self.buffer.len() < HEADER + len {
            return None;
        }
        let stream = self.buffer[0];
        let mut frame = self.buffer.split_to(HEADER + len);
        let payload = frame.split_off(HEADER).freeze();
        Some((stream, payload))
    }

    /// Bytes received that do not yet make a whole frame.
    pub fn pending(&self) -> usize {
        self.buffer.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_survive_any_chunking() {
        let mut encoded = BytesMut::new();
        encode(&mut encoded, STDOUT, b"hello\n");
        encode(&mut encoded, STDERR, b"");
        encode(&mut encoded, SYSTEM, br#"{"exit_code":3}"#);
        for chunk_size in [1, 3, 8, 100] {
            let mut decoder = Decoder::default();
            let mut frames = Vec::new();
            for chunk in encoded.chunks(chunk_size) {
                decoder.push(chunk);
                while let Some(frame) = decoder.next_frame() {
                    frames.push(frame);
                }
            }
            assert_eq!(decoder.pending(), 0);
            assert_eq!(
                frames,
                vec![
                    (STDOUT, Bytes::from_static(b"hello\n")),
                    (STDERR, Bytes::new()),
                    (SYSTEM, Bytes::from_static(br#"{"exit_code":3}"#)),
                ]
            );
        }
    }
}
