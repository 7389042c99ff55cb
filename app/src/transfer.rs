//! The browser side of a pull or push (hydrate only): `POST`s the daemon's streaming endpoint
//! (`/api/v1/images/pull`, `/api/v1/images/{name}/push`) with the session's CSRF token, reads
//! its newline-delimited JSON as it arrives and folds each line into the page's
//! [`Transfer`] signal, so every layer's bar moves while the bytes do. The pull itself runs
//! in the daemon: leaving the page stops the watching, not the pull.

use crate::progress::{Transfer, Verb};
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, ReadableStreamDefaultReader, RequestInit, Response};

/// Starts watching `verb` of `reference` at `url`; its progress lands in `state`.
pub fn start(url: String, verb: Verb, reference: String, state: RwSignal<Option<Transfer>>) {
    state.set(Some(Transfer::new(verb, reference)));
    leptos::task::spawn_local(async move {
        if let Err(e) = run(&url, state).await {
            let text = e
                .as_string()
                .or_else(|| {
                    e.dyn_ref::<js_sys::Error>()
                        .map(|e| String::from(e.message()))
                })
                .unwrap_or_else(|| "the request failed".to_string());
            let _ = state.try_update(|t| {
                if let Some(t) = t {
                    t.fail(format!("cannot reach the daemon: {text}"));
                }
            });
        }
    });
}

async fn run(url: &str, state: RwSignal<Option<Transfer>>) -> Result<(), JsValue> {
    let headers = Headers::new()?;
    headers.set("Accept", "application/x-ndjson")?;
    if let Some(token) = crate::auth::meta_content(crate::auth::CSRF_META) {
        if !token.is_empty() {
            headers.set(crate::auth::CSRF_HEADER, &token)?;
        }
    }
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    let response: Response = JsFuture::from(window().fetch_with_str_and_init(url, &init))
        .await?
        .dyn_into()?;
    if !response.ok() {
        let body = JsFuture::from(response.text()?)
            .await?
            .as_string()
            .unwrap_or_default();
        let status = response.status();
        let _ = state.try_update(|t| {
            if let Some(t) = t {
                t.refused(status, &body);
            }
        });
        return Ok(());
    }
    let Some(body) = response.body() else {
        let _ = state.try_update(|t| t.as_mut().map(Transfer::end_of_stream));
        return Ok(());
    };
    let reader: ReadableStreamDefaultReader = body.get_reader().dyn_into()?;
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read()).await?;
        let done = js_sys::Reflect::get(&chunk, &JsValue::from_str("done"))?
            .as_bool()
            .unwrap_or(true);
        if done {
            break;
        }
        let value = js_sys::Reflect::get(&chunk, &JsValue::from_str("value"))?;
        let bytes = js_sys::Uint8Array::new(&value).to_vec();
        pending.extend_from_slice(&bytes);
        let now = js_sys::Date::now();
        let mut lines = Vec::new();
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            lines.push(String::from_utf8_lossy(&line).into_owned());
        }
        if !lines.is_empty()
            && state
                .try_update(|t| {
                    if let Some(t) = t {
                        for line in &lines {
                            t.apply_line(line, now);
                        }
                    }
                })
                .is_none()
        {
            // The page is gone; the daemon carries on without a watcher.
            let _ = reader.cancel();
            return Ok(());
        }
    }
    let rest = String::from_utf8_lossy(&pending).into_owned();
    let now = js_sys::Date::now();
    let _ = state.try_update(|t| {
        if let Some(t) = t {
            t.apply_line(&rest, now);
            t.end_of_stream();
        }
    });
    Ok(())
}

/// `/api/v1/images/pull?reference=…`
pub fn pull_url(reference: &str) -> String {
    format!(
        "/api/v1/images/pull?reference={}",
        js_sys::encode_uri_component(reference)
    )
}

/// `/api/v1/images/{name}/push`: the name is the whole reference (with its tag).
pub fn push_url(reference: &str) -> String {
    format!(
        "/api/v1/images/{}/push",
        js_sys::encode_uri_component(reference)
    )
}
