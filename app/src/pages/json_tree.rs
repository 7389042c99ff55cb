//! A JSON document as a tree that folds: objects and arrays are `<details>` (the top levels
//! open), each with how many entries it holds; strings, numbers, booleans and null are
//! coloured by kind. Used by the inspect views.

use leptos::prelude::*;
use serde_json::Value;

/// Levels shown open at first.
const OPEN_LEVELS: usize = 2;

/// "3 keys", "1 item", "empty".
pub fn summary(value: &Value) -> String {
    let (n, one, many) = match value {
        Value::Object(map) => (map.len(), "key", "keys"),
        Value::Array(items) => (items.len(), "item", "items"),
        _ => return String::new(),
    };
    match n {
        0 => "empty".to_string(),
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    }
}

/// A leaf's text and kind (its class).
pub fn leaf(value: &Value) -> (String, &'static str) {
    match value {
        Value::String(s) => (format!("{s:?}"), "json-string"),
        Value::Number(n) => (n.to_string(), "json-number"),
        Value::Bool(b) => (b.to_string(), "json-bool"),
        Value::Null => ("null".to_string(), "json-null"),
        Value::Object(_) | Value::Array(_) => (String::new(), ""),
    }
}

fn node(key: String, value: Value, depth: usize) -> AnyView {
    let count = summary(&value);
    let children: Vec<(String, Value)> = match value {
        Value::Object(map) if !map.is_empty() => map.into_iter().collect(),
        Value::Array(items) if !items.is_empty() => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        value => {
            let (text, class) = match &value {
                Value::Object(_) => ("{}".to_string(), "json-null"),
                Value::Array(_) => ("[]".to_string(), "json-null"),
                other => leaf(other),
            };
            return view! {
                <li class="json-leaf">
                    <span class="json-key">{key}</span>
                    <span class=class>{text}</span>
                </li>
            }
            .into_any();
        }
    };
    let items = children
        .into_iter()
        .map(|(k, v)| node(k, v, depth + 1))
        .collect_view();
    view! {
        <li class="json-branch">
            <details open=depth < OPEN_LEVELS>
                <summary>
                    <span class="json-key">{key}</span>
                    <span class="json-count">{count}</span>
                </summary>
                <ul class="json-tree">{items}</ul>
            </details>
        </li>
    }
    .into_any()
}

/// The whole document, its top level as the root.
#[component]
pub fn JsonTree(value: Value, #[prop(optional)] testid: &'static str) -> impl IntoView {
    let items = match value {
        Value::Object(map) => map
            .into_iter()
            .map(|(k, v)| node(k, v, 0))
            .collect_view()
            .into_any(),
        other => node(String::new(), other, 0),
    };
    view! { <ul class="json-tree json-root" data-testid=testid>{items}</ul> }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn branches_say_how_much_they_hold_and_leaves_their_kind() {
        assert_eq!(summary(&json!({"a": 1, "b": 2})), "2 keys");
        assert_eq!(summary(&json!([1])), "1 item");
        assert_eq!(summary(&json!([])), "empty");
        assert_eq!(
            leaf(&json!("x \"y\"")),
            (r#""x \"y\"""#.to_string(), "json-string")
        );
        assert_eq!(leaf(&json!(3)).1, "json-number");
        assert_eq!(leaf(&json!(null)), ("null".to_string(), "json-null"));
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_tree_folds_below_the_top_levels() {
        let value = json!({"State": {"Status": "running", "Health": {"Log": [1]}}, "Id": "abc"});
        let html = Owner::new().with(|| view! { <JsonTree value testid="t"/> }.to_html());
        assert!(
            html.contains(r#"<span class="json-string">"running"</span>"#),
            "{html}"
        );
        // State (depth 0) and Health (depth 1) open, Log (depth 2) folded.
        assert_eq!(html.matches("<details open").count(), 2, "{html}");
        assert_eq!(html.matches("<details").count(), 3, "{html}");
    }
}
