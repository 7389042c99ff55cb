//! `GET /api/v1/openapi.json` against a real daemon: it needs a login like the rest of the
//! API, and what the daemon really answers fits the schemas it documents (every field of
//! each answer is declared, every required field is there, types match), so the document
//! cannot drift from the wire types.

mod common;

use common::web::{login, send, Session};
use common::{Daemon, ADMIN_PASSWORD};
use serde_json::Value;

async fn get(d: &Daemon, session: &Session, path: &str) -> Value {
    let headers = session.headers(d.port);
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let answer = send(d.port, "GET", path, &headers, b"").await;
    assert_eq!(answer.status, 200, "GET {path}: {answer:?}");
    answer.json()
}

/// The schema of a GET's 200 answer.
fn answer_schema<'a>(doc: &'a Value, path: &str) -> &'a Value {
    let schema =
        &doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "{path} documents no JSON answer");
    schema
}

#[tokio::test(flavor = "multi_thread")]
async fn the_document_needs_a_login_and_describes_what_the_daemon_answers() {
    let d = Daemon::start();
    let anonymous = send(d.port, "GET", "/api/v1/openapi.json", &[], b"").await;
    assert_eq!(anonymous.status, 401, "{anonymous:?}");

    d.load_busybox();
    d.ok(&["volume", "create", "keep"]);
    d.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "-v",
        "keep:/data",
        "-l",
        "tier=web",
        "busybox",
        "sleep",
        "60",
    ]);
    d.ok(&["create", "--name", "idle", "busybox", "true"]);

    let session = login(&d, "admin", ADMIN_PASSWORD).await;
    let doc = get(&d, &session, "/api/v1/openapi.json").await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        doc["paths"]["/api/v1/containers"]["post"]["x-berth-role"],
        "operator"
    );
    assert_eq!(
        doc["paths"]["/api/v1/users"]["get"]["x-berth-role"],
        "admin"
    );

    let image = d.inspect("busybox")["Id"]
        .as_str()
        .unwrap_or("busybox")
        .to_string();
    let checks = [
        ("/api/v1/version", "/api/v1/version".to_string()),
        ("/api/v1/auth/me", "/api/v1/auth/me".to_string()),
        ("/api/v1/containers", "/api/v1/containers".to_string()),
        (
            "/api/v1/containers/{id}",
            "/api/v1/containers/web".to_string(),
        ),
        (
            "/api/v1/containers/{id}",
            "/api/v1/containers/idle".to_string(),
        ),
        ("/api/v1/images", "/api/v1/images".to_string()),
        (
            "/api/v1/images/{name}/json",
            format!("/api/v1/images/{image}/json"),
        ),
        (
            "/api/v1/images/{name}/history",
            "/api/v1/images/busybox/history".to_string(),
        ),
        ("/api/v1/volumes", "/api/v1/volumes".to_string()),
        ("/api/v1/volumes/{name}", "/api/v1/volumes/keep".to_string()),
        ("/api/v1/networks", "/api/v1/networks".to_string()),
        ("/api/v1/system/df", "/api/v1/system/df".to_string()),
        ("/api/v1/info", "/api/v1/info".to_string()),
        ("/api/v1/users", "/api/v1/users".to_string()),
        ("/api/v1/tokens", "/api/v1/tokens".to_string()),
        ("/api/v1/audit", "/api/v1/audit".to_string()),
    ];
    for (documented, real) in checks {
        let answer = get(&d, &session, &real).await;
        let mut problems = Vec::new();
        validate(
            &doc,
            answer_schema(&doc, documented),
            &answer,
            "$",
            &mut problems,
        );
        assert!(
            problems.is_empty(),
            "GET {real} does not fit its schema:\n{}\n{answer:#}",
            problems.join("\n")
        );
    }
    d.ok(&["rm", "-f", "web", "idle"]);
}

/// A strict check of `value` against an OpenAPI 3.1 schema: types, required fields, and no
/// field the schema does not declare. `problems` gets one line per mismatch.
fn validate(doc: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    if let Some(target) = schema["$ref"].as_str() {
        let name = target.rsplit('/').next().unwrap_or_default();
        let resolved = &doc["components"]["schemas"][name];
        if resolved.is_null() {
            problems.push(format!("{at}: {target} is not in the document"));
            return;
        }
        return validate(doc, resolved, value, at, problems);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema[key].as_array() {
            let fits = options.iter().any(|option| {
                let mut inner = Vec::new();
                validate(doc, option, value, at, &mut inner);
                inner.is_empty()
            });
            if !fits {
                problems.push(format!("{at}: fits none of its {key} schemas: {value}"));
            }
            return;
        }
    }
    if let Some(values) = schema["enum"].as_array() {
        if !values.contains(value) {
            problems.push(format!("{at}: {value} is not one of {values:?}"));
        }
    }
    if !type_fits(&schema["type"], value) {
        problems.push(format!("{at}: {value} is not of type {}", schema["type"]));
        return;
    }
    match value {
        Value::Object(map) => {
            let (properties, required, open) = object_parts(doc, schema);
            for name in required {
                if !map.contains_key(&name) {
                    problems.push(format!("{at}: the required field {name} is missing"));
                }
            }
            for (name, field) in map {
                let here = format!("{at}.{name}");
                match properties.iter().find(|(n, _)| n == name) {
                    Some((_, field_schema)) => validate(doc, field_schema, field, &here, problems),
                    None => match &open {
                        Some(extra) => validate(doc, extra, field, &here, problems),
                        None => problems.push(format!("{here}: the schema has no such field")),
                    },
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    validate(doc, item_schema, item, &format!("{at}[{i}]"), problems);
                }
            }
        }
        _ => {}
    }
}

/// An object schema's properties, required names and schema of other fields (`None`: no
/// other field may appear), gathered through `allOf` (serde's `flatten`).
fn object_parts(doc: &Value, schema: &Value) -> (Vec<(String, Value)>, Vec<String>, Option<Value>) {
    let schema = match schema["$ref"].as_str() {
        Some(target) => &doc["components"]["schemas"][target.rsplit('/').next().unwrap_or("")],
        None => schema,
    };
    let mut properties: Vec<(String, Value)> = schema["properties"]
        .as_object()
        .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let mut required: Vec<String> = schema["required"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|n| n.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let mut open = match &schema["additionalProperties"] {
        Value::Bool(true) => Some(Value::Object(Default::default())),
        Value::Object(extra) => Some(Value::Object(extra.clone())),
        _ => None,
    };
    // A map without declared fields (`BTreeMap<String, T>`, free-form JSON).
    if properties.is_empty() && schema.get("additionalProperties").is_none() {
        open = Some(Value::Object(Default::default()));
    }
    if let Some(parts) = schema["allOf"].as_array() {
        open = None;
        for part in parts {
            let (p, r, o) = object_parts(doc, part);
            properties.extend(p);
            required.extend(r);
            open = open.or(o);
        }
    }
    (properties, required, open)
}

fn type_fits(kind: &Value, value: &Value) -> bool {
    match kind {
        Value::Null => true,
        Value::String(name) => one_type_fits(name, value),
        Value::Array(names) => names
            .iter()
            .filter_map(Value::as_str)
            .any(|name| one_type_fits(name, value)),
        _ => false,
    }
}

fn one_type_fits(name: &str, value: &Value) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    }
}
