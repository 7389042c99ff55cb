//! The server-function client for calls that change something: the browser's `fetch`, plus the
//! session's CSRF token (from the shell's `<meta name="csrf-token">`) in `X-CSRF-Token`.
//!
//! Outside the browser the type still has to exist, since `#[server(client = …)]` names it on
//! both sides; there it only delegates (the server runs the function's body and never sends).

use futures::{Sink, Stream};
use leptos::server_fn::client::browser::BrowserClient;
use leptos::server_fn::client::Client;
use leptos::server_fn::error::FromServerFnError;
use leptos::server_fn::request::browser::BrowserRequest;
use leptos::server_fn::response::browser::BrowserResponse;
use leptos::server_fn::Bytes;
use std::future::Future;

/// [`BrowserClient`] with the `X-CSRF-Token` header.
pub struct CsrfClient;

impl<E, IS, OS> Client<E, IS, OS> for CsrfClient
where
    E: FromServerFnError,
    IS: FromServerFnError,
    OS: FromServerFnError,
{
    type Request = BrowserRequest;
    type Response = BrowserResponse;

    fn send(req: BrowserRequest) -> impl Future<Output = Result<BrowserResponse, E>> + Send {
        #[cfg(feature = "hydrate")]
        if let Some(token) = crate::auth::meta_content(crate::auth::CSRF_META) {
            if !token.is_empty() {
                req.headers().set(crate::auth::CSRF_HEADER, &token);
            }
        }
        <BrowserClient as Client<E, IS, OS>>::send(req)
    }

    #[allow(clippy::type_complexity)]
    fn open_websocket(
        path: &str,
    ) -> impl Future<
        Output = Result<
            (
                impl Stream<Item = Result<Bytes, Bytes>> + Send + 'static,
                impl Sink<Bytes> + Send + 'static,
            ),
            E,
        >,
    > + Send {
        <BrowserClient as Client<E, IS, OS>>::open_websocket(path)
    }

    fn spawn(future: impl Future<Output = ()> + Send + 'static) {
        <BrowserClient as Client<E, IS, OS>>::spawn(future)
    }
}
