//! One browser WebSocket with its handlers (hydrate only), shared by the live views (a
//! container's log, the lists' events, a board): opened on the page's own origin, sending
//! typed messages, closed with its handlers taken off. What a view does with the messages,
//! and when it connects again, is the view's.

use leptos::prelude::window;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

/// An open WebSocket; dropping it leaves it open (its handlers go with it), [`Socket::close`]
/// closes it.
pub(crate) struct Socket {
    socket: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

/// The `ws:` (or, under https, `wss:`) address of `path` on the page's origin.
fn url(path: &str) -> Result<String, JsValue> {
    let location = window().location();
    let scheme = if location.protocol()? == "https:" {
        "wss:"
    } else {
        "ws:"
    };
    Ok(format!("{scheme}//{}{path}", location.host()?))
}

impl Socket {
    /// Opens `path`; `on_text` gets each text message, `on_close` the end (an error is
    /// followed by a close, so it has no handler of its own).
    pub(crate) fn open(
        path: &str,
        on_open: impl FnMut() + 'static,
        on_text: impl FnMut(String) + 'static,
        on_close: impl FnMut() + 'static,
    ) -> Result<Socket, String> {
        Socket::open_binary(path, on_open, on_text, |_| {}, on_close)
    }

    /// [`Socket::open`] that also takes binary messages (a terminal's frames): `on_binary`
    /// gets each one's bytes.
    pub(crate) fn open_binary(
        path: &str,
        on_open: impl FnMut() + 'static,
        mut on_text: impl FnMut(String) + 'static,
        mut on_binary: impl FnMut(Vec<u8>) + 'static,
        mut on_close: impl FnMut() + 'static,
    ) -> Result<Socket, String> {
        let socket = url(path)
            .and_then(|url| WebSocket::new(&url))
            .map_err(|e| format!("cannot open the connection to {path}: {e:?}"))?;
        socket.set_binary_type(BinaryType::Arraybuffer);
        let on_open = Closure::<dyn FnMut()>::new(on_open);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let data = event.data();
            if let Some(text) = data.as_string() {
                on_text(text);
            } else if let Some(buffer) = data.dyn_ref::<js_sys::ArrayBuffer>() {
                on_binary(js_sys::Uint8Array::new(buffer).to_vec());
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |_: CloseEvent| on_close());
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Socket {
            socket,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    /// Sends `bytes` as one binary message. A failed send shows up as the connection's close.
    pub(crate) fn send_binary(&self, bytes: &[u8]) {
        let _ = self.socket.send_with_u8_array(bytes);
    }

    /// Sends `msg` as JSON text. A failed send shows up as the connection's close.
    pub(crate) fn send(&self, msg: &impl Serialize) {
        if let Ok(text) = serde_json::to_string(msg) {
            let _ = self.socket.send_with_str(&text);
        }
    }

    /// Closes it for good, its handlers taken off first (no close event follows).
    pub(crate) fn close(self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        // Closing an already closed socket is not an error worth reporting.
        let _ = self.socket.close();
    }
}
