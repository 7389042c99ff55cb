//! The API's OpenAPI 3.1 document (`GET /api/v1/openapi.json`): every route of the route
//! table with its role (`x-berth-role`), parameters, body and answers; the schemas are
//! generated from the berth-wire types by utoipa's `ToSchema` and `IntoParams`, so a changed
//! type changes the document.
//!
//! The document is built once from the route table and the operation facts in
//! [`operations`]; a route without facts (or facts without a route) fails the unit tests
//! here, as a route without an entry fails the permission matrix.

mod operations;

use crate::security::access::{is_unsafe, Access, BodyKind, RouteEntry};
use crate::security::principal::{CSRF_HEADER, SESSION_COOKIE};
use axum::http::{header, Method};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use berth_wire::{ErrorBody, ErrorCode};
use bytes::Bytes;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{Array, ComponentsBuilder, Object, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{
    Content, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref, RefOr, Required,
    ResponseBuilder, ResponsesBuilder, Schema,
};
use utoipa::{IntoParams, PartialSchema, ToSchema};

/// The named schemas an operation's types need, gathered while the document is built.
pub type Schemas = Vec<(String, RefOr<Schema>)>;

/// A body's schema: adds the types it needs to the document's components.
pub type SchemaFn = fn(&mut Schemas) -> RefOr<Schema>;

/// What travels in a request or an answer.
#[derive(Clone, Copy)]
pub enum Payload {
    /// Nothing.
    Empty,
    /// One JSON document.
    Json(SchemaFn),
    /// JSON documents one a line (`application/x-ndjson`): progress, events.
    JsonLines(SchemaFn),
    /// Bytes of this content type, described.
    Bytes(&'static str, &'static str),
    /// The connection is upgraded (101): to this protocol, described.
    Upgrade(&'static str, &'static str),
}

/// The facts of one route that the route table does not hold.
pub struct Operation {
    pub method: Method,
    pub path: &'static str,
    pub summary: &'static str,
    /// The query string's parameters.
    pub query: Option<fn() -> Vec<Parameter>>,
    pub request: Payload,
    /// The success status and what it carries.
    pub status: u16,
    pub answer: Payload,
}

/// A wire type as a reference to its named schema.
pub fn json<T: ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    schemas.push((T::name().into_owned(), T::schema()));
    T::schemas(schemas);
    Ref::from_schema_name(T::name()).into()
}

/// A JSON array of a wire type.
pub fn list<T: ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    Array::new(json::<T>(schemas)).into()
}

/// A type without a name of its own (`String`, `Vec<String>`), inline.
pub fn inline<T: PartialSchema>(_: &mut Schemas) -> RefOr<Schema> {
    T::schema()
}

/// A query type's parameters.
pub fn query<T: IntoParams>() -> Vec<Parameter> {
    T::into_params(|| Some(ParameterIn::Query))
}

/// The document as served, built once with the router.
#[derive(Clone)]
pub struct Served(Bytes);

impl Served {
    pub fn new(routes: &[RouteEntry]) -> Served {
        // Serializing a tree of strings, numbers and maps cannot fail; if it did, the
        // answer says so rather than the daemon not starting.
        let json = serde_json::to_vec(&document(routes)).unwrap_or_else(|e| {
            serde_json::to_vec(&ErrorBody::new(
                ErrorCode::Internal,
                format!("the OpenAPI document does not serialize: {e}"),
            ))
            .unwrap_or_default()
        });
        Served(Bytes::from(json))
    }
}

/// `GET /api/v1/openapi.json`.
pub async fn serve(Extension(doc): Extension<Served>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], doc.0).into_response()
}

/// The document for these routes (the API's part of the route table).
pub fn document(routes: &[RouteEntry]) -> OpenApi {
    let facts = operations::all();
    let mut schemas = Schemas::new();
    let mut paths = PathsBuilder::new();
    for route in routes {
        let Some(op) = facts
            .iter()
            .find(|op| op.method == route.method && op.path == route.path)
        else {
            // Unit tests hold every route to have facts; a release without them still
            // documents the route's role and parameters.
            tracing::warn!(method = %route.method, path = route.path, "route without OpenAPI facts");
            continue;
        };
        let (path, item) = path_item(route, op, &mut schemas);
        paths = paths.path(path, item);
    }
    let mut components = ComponentsBuilder::new()
        .security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The session cookie that POST /api/v1/auth/login sets. A request that changes \
                 state with it also sends the session's CSRF token in X-CSRF-Token.",
            ))),
        )
        .security_scheme(
            "token",
            SecurityScheme::Http({
                let mut http = Http::new(HttpAuthScheme::Bearer);
                http.description = Some(
                    "An API token (`berth token create`), as `Authorization: Bearer …`.".into(),
                );
                http
            }),
        );
    json::<ErrorBody>(&mut schemas);
    // The messages of the streams and WebSockets, which no JSON body refers to.
    for message in operations::messages() {
        message(&mut schemas);
    }
    schemas.sort_by(|a, b| a.0.cmp(&b.0));
    schemas.dedup_by(|a, b| a.0 == b.0);
    for (name, schema) in schemas {
        components = components.schema(name, schema);
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("berth")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "berth's HTTP API: images, containers, volumes, networks, registries, \
                     users and the live streams of the dashboard. Errors answer \
                     `{\"error\": {\"code\", \"message\"}}`.",
                ))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components.build()))
        .build()
}

/// The name of the one error body's schema.
fn error_body_name() -> String {
    <ErrorBody as ToSchema>::name().into_owned()
}

fn path_item(route: &RouteEntry, op: &Operation, schemas: &mut Schemas) -> (String, PathItem) {
    // axum's `{*name}` (the rest of the path) is an ordinary parameter to OpenAPI.
    let path = route.path.replace("{*", "{");
    let mut builder = OperationBuilder::new()
        .operation_id(Some(operation_id(&route.method, &path)))
        .summary(Some(op.summary))
        .tag(tag(&path));
    for name in path_parameters(&route.path) {
        builder = builder.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(Object::with_type(Type::String))),
        );
    }
    if let Some(params) = op.query {
        for param in params() {
            builder = builder.parameter(param);
        }
    }
    if let Access::Role(_) = route.access {
        if is_unsafe(&route.method) {
            builder = builder.parameter(
                ParameterBuilder::new()
                    .name(CSRF_HEADER)
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some(
                        "The session's CSRF token: required with the session cookie, not \
                         with a bearer token.",
                    ))
                    .schema(Some(Object::with_type(Type::String))),
            );
        }
        builder = builder
            .security(SecurityRequirement::new("session", Vec::<String>::new()))
            .security(SecurityRequirement::new("token", Vec::<String>::new()));
    }
    if let Some(content) = content(op.request, schemas) {
        builder = builder.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(content.0, content.1)
                .build(),
        ));
    }
    let mut ok = ResponseBuilder::new().description(status_text(op.status, op.answer));
    if let Some((kind, body)) = content(op.answer, schemas) {
        ok = ok.content(kind, body);
    }
    let error = || {
        ResponseBuilder::new().content(
            "application/json",
            Content::new(Some(Ref::from_schema_name(error_body_name()))),
        )
    };
    let mut responses = ResponsesBuilder::new().response(op.status.to_string(), ok.build());
    if let Access::Role(_) = route.access {
        responses = responses
            .response(
                "401",
                error()
                    .description("No valid session or token (or an expired one).")
                    .build(),
            )
            .response(
                "403",
                error()
                    .description(
                        "The caller's role is too low, or a cross-site request was refused.",
                    )
                    .build(),
            );
    }
    if route.body == BodyKind::Json {
        responses = responses.response(
            "415",
            error()
                .description("The body is not application/json.")
                .build(),
        );
    }
    responses = responses.response(
        "default",
        error()
            .description("Any other error, with its code.")
            .build(),
    );
    let role = match route.access {
        Access::Public => "public",
        Access::Role(role) => role.as_str(),
    };
    let operation = builder
        .responses(responses.build())
        .extensions(Some(
            ExtensionsBuilder::new().add("x-berth-role", role).build(),
        ))
        .build();
    (path, PathItem::new(http_method(&route.method), operation))
}

/// A payload's content type and schema; `None` for an empty one or an upgrade.
fn content(payload: Payload, schemas: &mut Schemas) -> Option<(&'static str, Content)> {
    match payload {
        Payload::Empty | Payload::Upgrade(..) => None,
        Payload::Json(schema) => Some(("application/json", Content::new(Some(schema(schemas))))),
        Payload::JsonLines(schema) => {
            Some(("application/x-ndjson", Content::new(Some(schema(schemas)))))
        }
        Payload::Bytes(kind, _) => Some((
            kind,
            Content::new(Some(
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::Binary,
                    )))
                    .build(),
            )),
        )),
    }
}

fn status_text(status: u16, answer: Payload) -> String {
    match answer {
        Payload::Bytes(_, text) => text.to_string(),
        Payload::Upgrade(protocol, text) => format!("Switches to `{protocol}`. {text}"),
        _ => match status {
            201 => "Created.".into(),
            204 => "Done; no body.".into(),
            _ => "OK.".into(),
        },
    }
}

/// `{name}` and `{*name}` segments of an axum path, in order.
fn path_parameters(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| name.trim_start_matches('*').to_string())
        .collect()
}

/// `getContainersIdLogs` for `GET /api/v1/containers/{id}/logs`: unique as method and path are.
fn operation_id(method: &Method, path: &str) -> String {
    let mut id = method.as_str().to_ascii_lowercase();
    let rest = path.strip_prefix("/api/v1").unwrap_or(path);
    for word in rest.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            id.push(first.to_ascii_uppercase());
            id.extend(chars);
        }
    }
    id
}

/// The group an operation is listed under: the first segment after `/api/v1`.
fn tag(path: &str) -> String {
    path.strip_prefix("/api/v1/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("daemon")
        .to_string()
}

fn http_method(method: &Method) -> HttpMethod {
    match *method {
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::DELETE => HttpMethod::Delete,
        Method::PATCH => HttpMethod::Patch,
        Method::HEAD => HttpMethod::Head,
        _ => HttpMethod::Get,
    }
}

#[cfg(test)]
mod tests;
