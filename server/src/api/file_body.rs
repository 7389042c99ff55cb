//! A file on disk as a streamed response body, read in chunks, with a value kept alive until
//! the last chunk is sent (a temporary archive deleted on drop); and the header that makes a
//! browser save it.

use axum::body::Body;
use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt};

const CHUNK: usize = 256 * 1024;

/// The rest of `file` as a body; `keep` is dropped when the body is.
pub fn body<R, K>(file: R, keep: K) -> Body
where
    R: AsyncRead + Unpin + Send + 'static,
    K: Send + 'static,
{
    let chunks = futures::stream::unfold((file, keep), |(mut file, keep)| async move {
        let mut buffer = vec![0u8; CHUNK];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok::<_, std::io::Error>(Bytes::from(buffer)), (file, keep)))
            }
            Err(e) => Some((Err(e), (file, keep))),
        }
    });
    Body::from_stream(chunks)
}

/// A `Content-Disposition` that downloads as `name` (RFC 6266): an ASCII `filename` for old
/// clients and the exact name in `filename*` (RFC 8187 percent-encoding of UTF-8).
pub fn attachment(name: &str) -> String {
    let plain: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' && c != '%' => c,
            _ => '_',
        })
        .collect();
    let mut encoded = String::new();
    for byte in name.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                encoded.push(byte as char)
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    format!("attachment; filename=\"{plain}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::attachment;

    #[test]
    fn a_download_name_is_quoted_safely_and_kept_exactly_in_utf8() {
        assert_eq!(
            attachment("a b.txt"),
            "attachment; filename=\"a b.txt\"; filename*=UTF-8''a%20b.txt"
        );
        assert_eq!(
            attachment("\"x\"\r\nSet-Cookie: é"),
            "attachment; filename=\"_x___Set-Cookie: _\"; \
             filename*=UTF-8''%22x%22%0D%0ASet-Cookie%3A%20%C3%A9"
        );
    }
}
