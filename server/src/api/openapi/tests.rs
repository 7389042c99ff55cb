use super::*;
use serde_json::Value;

fn api_routes() -> Vec<RouteEntry> {
    crate::api::routes().into_parts().1
}

fn doc() -> Value {
    serde_json::to_value(document(&api_routes())).expect("the document serializes")
}

fn operation<'a>(doc: &'a Value, route: &RouteEntry) -> &'a Value {
    let path = route.path.replace("{*", "{");
    &doc["paths"][&path][route.method.as_str().to_ascii_lowercase()]
}

#[test]
fn every_route_has_facts_and_every_fact_a_route() {
    let routes = api_routes();
    let facts = operations::all();
    for route in &routes {
        let n = facts
            .iter()
            .filter(|op| op.method == route.method && op.path == route.path)
            .count();
        assert_eq!(n, 1, "{} {}: {n} operation facts", route.method, route.path);
    }
    for op in &facts {
        assert!(
            routes
                .iter()
                .any(|r| r.method == op.method && r.path == op.path),
            "facts for {} {}, which is no route",
            op.method,
            op.path
        );
    }
}

#[test]
fn a_request_body_is_documented_as_the_route_table_takes_it() {
    let routes = api_routes();
    for op in operations::all() {
        let route = routes
            .iter()
            .find(|r| r.method == op.method && r.path == op.path)
            .expect("a route");
        let fits = matches!(
            (route.body, op.request),
            (BodyKind::Json, Payload::Json(_))
                | (BodyKind::Stream, Payload::Bytes(..))
                | (BodyKind::None, Payload::Empty)
        );
        assert!(
            fits,
            "{} {}: body kind and documented request disagree",
            op.method, op.path
        );
    }
}

#[test]
fn each_operation_names_its_role_parameters_and_answers() {
    let doc = doc();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut ids = std::collections::BTreeSet::new();
    for route in api_routes() {
        let op = operation(&doc, &route);
        assert!(op.is_object(), "{} {} is missing", route.method, route.path);
        let role = match route.access {
            Access::Public => "public",
            Access::Role(role) => role.as_str(),
        };
        assert_eq!(op["x-berth-role"], role, "{} {}", route.method, route.path);
        let id = op["operationId"].as_str().expect("an operation id");
        assert!(ids.insert(id.to_string()), "{id} twice");
        let names: Vec<&str> = op["parameters"]
            .as_array()
            .map(|p| p.iter().filter(|p| p["in"] == "path").collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(names, path_parameters(&route.path), "{}", route.path);
        assert!(op["responses"]["default"].is_object(), "{}", route.path);
        let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
        assert_eq!(secured, route.access != Access::Public, "{}", route.path);
    }
}

#[test]
fn every_reference_names_a_schema_of_the_document() {
    let doc = doc();
    let schemas = doc["components"]["schemas"]
        .as_object()
        .expect("component schemas");
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 50, "only {} references", refs.len());
    for r in refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("an unexpected reference {r}"));
        assert!(schemas.contains_key(name), "{r} is not in the document");
    }
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r.clone());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[test]
fn the_container_list_answers_a_list_of_container_summaries() {
    let doc = doc();
    let op = &doc["paths"]["/api/v1/containers"]["get"];
    let schema = &op["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(schema["type"], "array");
    let name = schema["items"]["$ref"].as_str().expect("a reference");
    let name = name.rsplit('/').next().unwrap_or_default();
    let summary = &doc["components"]["schemas"][name]["properties"];
    for field in ["id", "name", "image", "state", "created_at_ms"] {
        assert!(
            summary[field].is_object(),
            "{name} has no {field}: {summary}"
        );
    }
    let create = &doc["paths"]["/api/v1/containers"]["post"];
    assert!(create["requestBody"]["content"]["application/json"]["schema"]["$ref"].is_string());
    assert!(create["responses"]["201"].is_object());
    assert!(create["responses"]["415"].is_object());
    let params: Vec<&str> = op["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter(|p| p["in"] == "query")
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(
        params.contains(&"all") && params.contains(&"filters"),
        "{params:?}"
    );
}

#[test]
fn ids_are_camel_case_of_method_and_path() {
    assert_eq!(
        operation_id(&Method::GET, "/api/v1/containers/{id}/logs"),
        "getContainersIdLogs"
    );
    assert_eq!(operation_id(&Method::GET, "/healthz"), "getHealthz");
    assert_eq!(tag("/api/v1/images/{name}/json"), "images");
    assert_eq!(tag("/metrics"), "daemon");
    assert_eq!(
        path_parameters("/api/v1/registries/{host}/repositories/{*name}"),
        ["host", "name"]
    );
}

#[test]
fn a_progress_stream_ends_with_its_own_result() {
    let doc = doc();
    for (path, result) in [
        ("/api/v1/images/pull", "PullResult"),
        ("/api/v1/images/{name}/push", "PushResult"),
    ] {
        let lines = &doc["paths"][path]["post"]["responses"]["200"]["content"]
            ["application/x-ndjson"]["schema"]["oneOf"];
        let text = lines.to_string();
        assert!(
            text.contains(&format!("#/components/schemas/{result}")),
            "{path}: {text}"
        );
        assert!(doc["components"]["schemas"][result].is_object(), "{result}");
    }
}
