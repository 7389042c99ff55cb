//! The wasm's bindings to the bundled JS libraries (hydrate only): `window.berthLive` from
//! `/live.js` (app/js/live.js: uPlot charts, an xterm.js terminal), loaded on first use by the
//! views that need it, not by every page.

use leptos::prelude::document;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

/// The bundle's address (embedded in the binary like the wasm).
const BUNDLE: &str = "/live.js";
const SCRIPT_ID: &str = "berth-live-js";

#[wasm_bindgen]
extern "C" {
    /// Small multiples of a container's stats.
    pub type Charts;
    #[wasm_bindgen(catch, js_namespace = berthLive, js_name = charts)]
    fn make_charts(el: &HtmlElement, columns: &str) -> Result<Charts, JsValue>;
    /// New data, as [`crate::stats_series::ChartColumns::to_json`] writes it.
    #[wasm_bindgen(method, js_name = setData)]
    pub fn set_data(this: &Charts, columns: &str);
    #[wasm_bindgen(method)]
    pub fn destroy(this: &Charts);

    /// An xterm.js terminal in an element.
    pub type Term;
    #[wasm_bindgen(catch, js_namespace = berthLive, js_name = terminal)]
    fn make_terminal(
        el: &HtmlElement,
        on_input: &js_sys::Function,
        on_resize: &js_sys::Function,
    ) -> Result<Term, JsValue>;
    #[wasm_bindgen(method)]
    pub fn rows(this: &Term) -> u16;
    #[wasm_bindgen(method)]
    pub fn columns(this: &Term) -> u16;
    #[wasm_bindgen(method)]
    pub fn write(this: &Term, bytes: &[u8]);
    #[wasm_bindgen(method)]
    pub fn writeln(this: &Term, text: &str);
    #[wasm_bindgen(method)]
    pub fn reset(this: &Term);
    #[wasm_bindgen(method)]
    pub fn focus(this: &Term);
    #[wasm_bindgen(method, js_name = destroy)]
    pub fn destroy_term(this: &Term);
}

/// Charts in `el` drawing `columns`.
pub fn charts(el: &HtmlElement, columns: &str) -> Result<Charts, String> {
    make_charts(el, columns).map_err(|e| format!("cannot draw the charts: {e:?}"))
}

/// A terminal in `el`, and the closures it calls (kept alive with it).
pub struct Terminal {
    pub term: Term,
    _on_input: Closure<dyn FnMut(js_sys::Uint8Array)>,
    _on_resize: Closure<dyn FnMut(u16, u16)>,
}

impl Terminal {
    /// A terminal in `el`: `on_input` gets the bytes typed, `on_resize` each new size
    /// (rows, columns).
    pub fn open(
        el: &HtmlElement,
        mut on_input: impl FnMut(Vec<u8>) + 'static,
        on_resize: impl FnMut(u16, u16) + 'static,
    ) -> Result<Terminal, String> {
        let on_input =
            Closure::<dyn FnMut(js_sys::Uint8Array)>::new(move |bytes: js_sys::Uint8Array| {
                on_input(bytes.to_vec())
            });
        let on_resize = Closure::<dyn FnMut(u16, u16)>::new(on_resize);
        let term = make_terminal(
            el,
            on_input.as_ref().unchecked_ref(),
            on_resize.as_ref().unchecked_ref(),
        )
        .map_err(|e| format!("cannot open the terminal: {e:?}"))?;
        Ok(Terminal {
            term,
            _on_input: on_input,
            _on_resize: on_resize,
        })
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.term.destroy_term();
    }
}

/// A caller waiting for the bundle.
type Waiter = Box<dyn FnOnce(Result<(), String>)>;

thread_local! {
    static WAITING: RefCell<Vec<Waiter>> = RefCell::new(Vec::new());
}

fn loaded() -> bool {
    js_sys::Reflect::has(&js_sys::global(), &JsValue::from_str("berthLive")).unwrap_or(false)
}

fn finish(result: Result<(), String>) {
    let waiting = WAITING.with(|w| std::mem::take(&mut *w.borrow_mut()));
    for f in waiting {
        f(result.clone());
    }
}

/// Calls `ready` once the bundle is there: at once if it is, else after its script loaded
/// (one script element, however many views wait).
pub fn load(ready: impl FnOnce(Result<(), String>) + 'static) {
    if loaded() {
        return ready(Ok(()));
    }
    WAITING.with(|w| w.borrow_mut().push(Box::new(ready)));
    let doc = document();
    if doc.get_element_by_id(SCRIPT_ID).is_some() {
        return;
    }
    let script = match doc.create_element("script") {
        Ok(s) => s,
        Err(e) => return finish(Err(format!("cannot load {BUNDLE}: {e:?}"))),
    };
    let _ = script.set_attribute("id", SCRIPT_ID);
    let _ = script.set_attribute("src", BUNDLE);
    let on_load = Closure::once_into_js(move || {
        if loaded() {
            finish(Ok(()))
        } else {
            finish(Err(format!("{BUNDLE} loaded but defines nothing")))
        }
    });
    let on_error = Closure::once_into_js(move || {
        // Let a later view try again.
        if let Some(el) = document().get_element_by_id(SCRIPT_ID) {
            el.remove();
        }
        finish(Err(format!(
            "cannot load {BUNDLE}: the charts and the terminal need it"
        )))
    });
    let _ = script.add_event_listener_with_callback("load", on_load.unchecked_ref());
    let _ = script.add_event_listener_with_callback("error", on_error.unchecked_ref());
    match doc.head() {
        Some(head) => {
            let _ = head.append_child(&script);
        }
        None => finish(Err("the page has no head".to_string())),
    }
}
