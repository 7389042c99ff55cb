//! A WebSocket peer that sends a broken frame gets a close frame saying why (RFC 6455
//! §7.4.1), not a dropped connection: 1007 for a text message that is not UTF-8, 1009 for a
//! message or frame over the size limit, 1002 for any other protocol error. An I/O error
//! (the peer went away) gets nothing: there is no one to tell.

use axum::extract::ws::{CloseFrame, Message, WebSocket};

pub const INVALID_PAYLOAD: u16 = 1007;
pub const TOO_BIG: u16 = 1009;
pub const PROTOCOL_ERROR: u16 = 1002;

/// The close frame for an error `recv` reported; None when the connection itself failed.
pub fn close_frame(err: axum::Error) -> Option<CloseFrame> {
    use tungstenite::Error as E;
    let inner = err.into_inner();
    let (code, reason) = match inner.downcast_ref::<E>() {
        Some(E::Utf8(_)) => (INVALID_PAYLOAD, "a text message is not valid UTF-8"),
        Some(E::Capacity(_)) => (TOO_BIG, "the message is too big"),
        Some(E::Io(_)) | Some(E::ConnectionClosed) | Some(E::AlreadyClosed) => return None,
        _ => (PROTOCOL_ERROR, "WebSocket protocol error"),
    };
    Some(CloseFrame {
        code,
        reason: reason.into(),
    })
}

/// Answers a broken frame with the close frame for it.
pub async fn refuse(socket: &mut WebSocket, err: axum::Error) {
    tracing::debug!("websocket: {err}");
    if let Some(frame) = close_frame(err) {
        let _ = socket.send(Message::Close(Some(frame))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_kind_of_error() {
        let code = |e: tungstenite::Error| close_frame(axum::Error::new(e)).map(|f| f.code);
        assert_eq!(
            code(tungstenite::Error::Utf8("bad".into())),
            Some(INVALID_PAYLOAD)
        );
        assert_eq!(
            code(tungstenite::Error::Capacity(
                tungstenite::error::CapacityError::MessageTooLong {
                    size: 2,
                    max_size: 1
                }
            )),
            Some(TOO_BIG)
        );
        assert_eq!(
            code(tungstenite::Error::Protocol(
                tungstenite::error::ProtocolError::UnmaskedFrameFromClient
            )),
            Some(PROTOCOL_ERROR)
        );
        assert_eq!(code(tungstenite::Error::ConnectionClosed), None);
    }
}
