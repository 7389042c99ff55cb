//! What the route table does not say about each API route: its summary, query, body and
//! success answer, with the wire types that carry them.

use super::{inline, json, list, query, Operation, Payload, Schemas};
use axum::http::Method;
use berth_wire as w;
use utoipa::openapi::schema::{OneOfBuilder, Schema};
use utoipa::openapi::RefOr;
use utoipa::ToSchema;
use Payload::{Bytes, Empty, Json, JsonLines, Upgrade};

const M_GET: Method = Method::GET;
const M_POST: Method = Method::POST;
const M_PUT: Method = Method::PUT;
const M_DELETE: Method = Method::DELETE;

/// An operation with no query, no body and `204 No Content`, refined by the methods below.
fn op(method: Method, path: &'static str, summary: &'static str) -> Operation {
    Operation {
        method,
        path,
        summary,
        query: None,
        request: Empty,
        status: 204,
        answer: Empty,
    }
}

impl Operation {
    fn query(mut self, params: fn() -> Vec<utoipa::openapi::path::Parameter>) -> Self {
        self.query = Some(params);
        self
    }

    fn takes(mut self, request: Payload) -> Self {
        self.request = request;
        self
    }

    fn ok(mut self, answer: Payload) -> Self {
        self.status = 200;
        self.answer = answer;
        self
    }

    fn created(mut self, answer: Payload) -> Self {
        self.status = 201;
        self.answer = answer;
        self
    }

    fn switches(mut self, answer: Payload) -> Self {
        self.status = 101;
        self.answer = answer;
        self
    }
}

/// A progress stream's lines: docker's messages, then one `{"result"}` or `{"error"}`.
fn progress<R: ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    // utoipa names `ProgressEnd<R>` alike for every `R`: it goes inline, and `R` (which it
    // refers to but does not collect) is named here.
    json::<R>(schemas);
    OneOfBuilder::new()
        .item(json::<w::image::JsonMessage>(schemas))
        .item(<w::image::ProgressEnd<R> as utoipa::PartialSchema>::schema())
        .into()
}

/// An exec start's answer without `Upgrade: tcp` (detached): an empty object.
fn empty_object(_: &mut Schemas) -> RefOr<Schema> {
    utoipa::openapi::schema::Object::new().into()
}

const WEBSOCKET: &str = "websocket";
const MUX: &str = "application/vnd.docker.multiplexed-stream";

/// The messages that travel inside streams and WebSockets, and the body alert webhooks
/// receive, listed among the schemas.
pub fn messages() -> Vec<super::SchemaFn> {
    vec![
        json::<w::alert::AlertPayload>,
        json::<w::ws::ClientMsg>,
        json::<w::ws::ServerMsg>,
        json::<w::board::BoardMessage>,
        json::<w::stream::StreamEnd>,
    ]
}

/// Every API route's facts; the unit tests hold them to the route table.
pub fn all() -> Vec<Operation> {
    vec![
        op(M_GET, "/healthz", "Whether the daemon answers").ok(Bytes("text/plain", "`ok`.")),
        op(M_GET, "/api/v1/version", "The daemon's version").ok(Json(json::<w::system::Version>)),
        op(
            M_POST,
            "/api/v1/auth/login",
            "Log in: sets the session cookie",
        )
        .takes(Json(json::<w::auth::LoginRequest>))
        .ok(Json(json::<w::auth::Me>)),
        op(M_POST, "/api/v1/auth/logout", "End this session"),
        op(
            M_GET,
            "/api/v1/auth/me",
            "Who the caller is, with the session's CSRF token",
        )
        .ok(Json(json::<w::auth::Me>)),
        op(M_GET, "/api/v1/users", "List users").ok(Json(list::<w::auth::User>)),
        op(M_POST, "/api/v1/users", "Add a user")
            .takes(Json(json::<w::auth::CreateUser>))
            .created(Json(json::<w::auth::User>)),
        op(
            M_DELETE,
            "/api/v1/users/{name}",
            "Remove a user and end their sessions",
        ),
        op(
            M_PUT,
            "/api/v1/users/{name}/password",
            "Set a password (one's own, or anyone's as an admin); ends the user's sessions",
        )
        .takes(Json(json::<w::auth::SetPassword>)),
        op(M_PUT, "/api/v1/users/{name}/role", "Change a user's role")
            .takes(Json(json::<w::auth::SetRole>)),
        op(
            M_GET,
            "/api/v1/tokens",
            "List API tokens (one's own; everyone's as an admin)",
        )
        .ok(Json(list::<w::auth::Token>)),
        op(
            M_POST,
            "/api/v1/tokens",
            "Create an API token: its secret is shown once",
        )
        .takes(Json(json::<w::auth::CreateToken>))
        .created(Json(json::<w::auth::CreatedToken>)),
        op(
            M_DELETE,
            "/api/v1/tokens/{id}",
            "Revoke an API token at once",
        ),
        op(M_GET, "/api/v1/boards", "List read-only board links")
            .ok(Json(list::<w::auth::BoardLink>)),
        op(
            M_POST,
            "/api/v1/boards",
            "Create a read-only board link: its address is shown once",
        )
        .takes(Json(json::<w::auth::CreateBoardLink>))
        .created(Json(json::<w::auth::CreatedBoardLink>)),
        op(M_DELETE, "/api/v1/boards/{id}", "Revoke a board link"),
        op(
            M_GET,
            "/api/v1/boards/{secret}/ws",
            "A board's live snapshot (no login)",
        )
        .switches(Upgrade(
            WEBSOCKET,
            "WebSocket: JSON text frames of BoardMessage.",
        )),
        op(M_GET, "/api/v1/audit", "Read the audit log, newest first")
            .query(query::<w::auth::AuditPageQuery>)
            .ok(Json(json::<w::auth::AuditPage>)),
        op(M_GET, "/api/v1/alerts/rules", "List alert rules").ok(Json(list::<w::alert::AlertRule>)),
        op(
            M_POST,
            "/api/v1/alerts/rules",
            "Add an alert rule: a condition, optional container and label filters, a webhook",
        )
        .takes(Json(json::<w::alert::CreateAlertRule>))
        .created(Json(json::<w::alert::AlertRule>)),
        op(
            M_DELETE,
            "/api/v1/alerts/rules/{id}",
            "Remove an alert rule; its unsent deliveries are cancelled",
        ),
        op(
            M_POST,
            "/api/v1/alerts/rules/{id}/test",
            "Send a test alert to a rule's webhook; answers with its first attempt",
        )
        .ok(Json(json::<w::alert::AlertTestResult>)),
        op(
            M_GET,
            "/api/v1/alerts/deliveries",
            "The alert delivery log: every attempt, newest first",
        )
        .query(query::<w::alert::AlertDeliveriesQuery>)
        .ok(Json(list::<w::alert::AlertAttempt>)),
        op(M_GET, "/api/v1/events", "Follow the daemon's events")
            .query(query::<w::event::EventsQuery>)
            .ok(JsonLines(json::<w::event::Event>)),
        op(
            M_GET,
            "/api/v1/events/ws",
            "Follow the daemon's events over a WebSocket",
        )
        .query(query::<w::event::EventsQuery>)
        .switches(Upgrade(
            WEBSOCKET,
            "WebSocket: one JSON text frame per Event.",
        )),
        op(
            M_GET,
            "/api/v1/ws",
            "The dashboard's WebSocket: many subscriptions by id",
        )
        .switches(Upgrade(
            WEBSOCKET,
            "WebSocket: ClientMsg and ServerMsg as JSON text frames; a terminal's bytes as \
                 binary frames of its subscription id (u32, big-endian) then the bytes.",
        )),
        op(M_GET, "/api/v1/images", "List images")
            .query(query::<w::filters::FiltersQuery>)
            .ok(Json(list::<w::image::ImageSummary>)),
        op(
            M_POST,
            "/api/v1/images/load",
            "Load images from a `docker save` or OCI archive",
        )
        .takes(Bytes(
            "application/x-tar",
            "The archive (tar, optionally gzip).",
        ))
        .ok(Json(list::<w::image::ImageSummary>)),
        op(
            M_POST,
            "/api/v1/images/pull",
            "Pull an image; streams its progress",
        )
        .query(query::<w::image::PullQuery>)
        .ok(JsonLines(progress::<w::image::PullResult>)),
        op(
            M_GET,
            "/api/v1/registries",
            "The registries with a stored login",
        )
        .ok(Json(inline::<Vec<String>>)),
        op(
            M_POST,
            "/api/v1/registries/login",
            "Check and store a registry login",
        )
        .takes(Json(json::<w::registry::LoginRequest>))
        .ok(Json(json::<w::registry::LoginResponse>)),
        op(
            M_POST,
            "/api/v1/registries/logout",
            "Forget a registry login",
        )
        .takes(Json(json::<w::registry::LogoutRequest>))
        .ok(Json(json::<w::registry::LoginResponse>)),
        op(
            M_GET,
            "/api/v1/registries/{host}/catalog",
            "One page of a registry's repositories",
        )
        .query(query::<w::registry::PageQuery>)
        .ok(Json(json::<w::registry::Page>)),
        op(
            M_GET,
            "/api/v1/registries/{host}/repositories/{*name}",
            "One page of a repository's tags: `name` is the repository then `/tags`",
        )
        .query(query::<w::registry::PageQuery>)
        .ok(Json(json::<w::registry::Page>)),
        op(
            M_POST,
            "/api/v1/images/import",
            "Import a root file system tarball as an image",
        )
        .query(query::<w::image::ImportQuery>)
        .takes(Bytes("application/x-tar", "The tarball (plain or gzip)."))
        .created(Json(json::<w::image::ImageSummary>)),
        op(M_POST, "/api/v1/images/prune", "Remove unused images")
            .query(query::<w::image::PruneQuery>)
            .ok(Json(json::<w::image::ImagePruneReport>)),
        op(
            M_GET,
            "/api/v1/images/get",
            "Save images as a `docker save` archive",
        )
        .query(query::<w::image::SaveQuery>)
        .ok(Bytes("application/x-tar", "The archive.")),
        op(
            M_DELETE,
            "/api/v1/images/{name}",
            "Remove an image or untag a name",
        )
        .query(query::<w::image::RemoveQuery>)
        .ok(Json(list::<w::image::ImageDeleteRecord>)),
        op(M_GET, "/api/v1/images/{name}/json", "Inspect an image")
            .ok(Json(json::<w::image::ImageInspect>)),
        op(
            M_GET,
            "/api/v1/images/{name}/history",
            "An image's layers' history",
        )
        .ok(Json(list::<w::image::HistoryEntry>)),
        op(
            M_POST,
            "/api/v1/images/{name}/tag",
            "Give an image another name",
        )
        .query(query::<w::image::TagQuery>)
        .created(Empty),
        op(
            M_POST,
            "/api/v1/images/{name}/push",
            "Push an image; streams its progress",
        )
        .query(query::<w::image::PushQuery>)
        .ok(JsonLines(progress::<w::image::PushResult>)),
        op(M_GET, "/api/v1/containers", "List containers")
            .query(query::<w::container::ListQuery>)
            .ok(Json(list::<w::container::ContainerSummary>)),
        op(M_POST, "/api/v1/containers", "Create a container")
            .takes(Json(json::<w::container::CreateOptions>))
            .created(Json(json::<w::container::ContainerSummary>)),
        op(M_GET, "/api/v1/containers/{id}", "Inspect a container")
            .ok(Json(json::<w::container::inspect::ContainerInspect>)),
        op(M_DELETE, "/api/v1/containers/{id}", "Remove a container")
            .query(query::<w::container::RemoveQuery>),
        op(M_POST, "/api/v1/containers/{id}/start", "Start a container")
            .ok(Json(json::<w::container::ContainerSummary>)),
        op(
            M_POST,
            "/api/v1/containers/{id}/stop",
            "Stop a container: SIGTERM, then SIGKILL",
        )
        .query(query::<w::container::StopQuery>)
        .ok(Json(json::<w::container::ContainerSummary>)),
        op(
            M_POST,
            "/api/v1/containers/{id}/kill",
            "Send a signal to a container",
        )
        .query(query::<w::container::KillQuery>),
        op(
            M_POST,
            "/api/v1/containers/{id}/restart",
            "Restart a container",
        )
        .query(query::<w::container::StopQuery>)
        .ok(Json(json::<w::container::ContainerSummary>)),
        op(
            M_POST,
            "/api/v1/containers/{id}/pause",
            "Freeze a container's processes",
        )
        .ok(Json(json::<w::container::ContainerSummary>)),
        op(
            M_POST,
            "/api/v1/containers/{id}/unpause",
            "Thaw a container's processes",
        )
        .ok(Json(json::<w::container::ContainerSummary>)),
        op(
            M_POST,
            "/api/v1/containers/{id}/rename",
            "Rename a container",
        )
        .query(query::<w::container::RenameQuery>)
        .ok(Json(json::<w::container::ContainerSummary>)),
        op(
            M_POST,
            "/api/v1/containers/prune",
            "Remove stopped containers",
        )
        .ok(Json(json::<w::container::PruneResponse>)),
        op(
            M_GET,
            "/api/v1/containers/{id}/stats",
            "A container's resource use, once",
        )
        .ok(Json(json::<w::stats::ContainerStats>)),
        op(
            M_GET,
            "/api/v1/stats",
            "Many containers' resource use, read together",
        )
        .query(query::<w::stats::StatsQuery>)
        .ok(Json(list::<w::stats::ContainerStats>)),
        op(
            M_POST,
            "/api/v1/containers/{id}/wait",
            "Wait for a container to stop",
        )
        .ok(Json(json::<w::container::WaitResponse>)),
        op(
            M_GET,
            "/api/v1/containers/{id}/logs",
            "A container's logs, optionally followed",
        )
        .query(query::<w::container::LogsQuery>)
        .ok(Bytes(
            "application/vnd.berth.multiplexed-stream",
            "Frames of an 8-byte header (stream, 0, 0, 0, big-endian length) and a line; \
                 the last frame ends the stream (StreamEnd).",
        )),
        op(
            M_POST,
            "/api/v1/containers/{id}/attach",
            "Attach to a container (with `Upgrade: tcp`: input too)",
        )
        .query(query::<w::container::AttachQuery>)
        .switches(Upgrade(
            MUX,
            "The connection carries the container's multiplexed output.",
        )),
        op(
            M_POST,
            "/api/v1/containers/{id}/resize",
            "Resize a container's terminal",
        )
        .query(query::<w::container::ResizeQuery>)
        .ok(Empty),
        op(
            M_POST,
            "/api/v1/containers/{id}/exec",
            "Create a command to run in a container",
        )
        .takes(Json(json::<w::exec::ExecConfig>))
        .created(Json(json::<w::exec::ExecCreated>)),
        op(M_GET, "/api/v1/networks", "List networks")
            .query(query::<w::filters::FiltersQuery>)
            .ok(Json(list::<w::network::NetworkSummary>)),
        op(M_POST, "/api/v1/networks", "Create a network")
            .takes(Json(json::<w::network::NetworkCreate>))
            .created(Json(json::<w::network::NetworkSummary>)),
        op(M_GET, "/api/v1/networks/{id}", "Inspect a network")
            .ok(Json(json::<w::network::NetworkInspect>)),
        op(M_DELETE, "/api/v1/networks/{id}", "Remove a network")
            .ok(Json(json::<w::network::NetworkSummary>)),
        op(M_POST, "/api/v1/networks/prune", "Remove unused networks")
            .ok(Json(json::<w::network::NetworkPruneResponse>)),
        op(
            M_POST,
            "/api/v1/networks/{id}/connect",
            "Connect a container to a network",
        )
        .takes(Json(json::<w::network::ContainerRef>)),
        op(
            M_POST,
            "/api/v1/networks/{id}/disconnect",
            "Disconnect a container from a network",
        )
        .takes(Json(json::<w::network::ContainerRef>)),
        op(M_GET, "/api/v1/volumes", "List volumes")
            .query(query::<w::volume::VolumeFilters>)
            .ok(Json(list::<w::volume::Volume>)),
        op(M_POST, "/api/v1/volumes", "Create a volume")
            .takes(Json(json::<w::volume::CreateVolume>))
            .created(Json(json::<w::volume::Volume>)),
        op(M_POST, "/api/v1/volumes/prune", "Remove unused volumes")
            .query(query::<w::volume::PruneQuery>)
            .ok(Json(json::<w::volume::VolumePruneReport>)),
        op(M_GET, "/api/v1/volumes/{name}", "Inspect a volume").ok(Json(json::<w::volume::Volume>)),
        op(M_DELETE, "/api/v1/volumes/{name}", "Remove a volume")
            .query(query::<w::volume::RemoveQuery>),
        op(
            M_GET,
            "/api/v1/volumes/{name}/ls",
            "List a folder of a volume",
        )
        .query(query::<w::files::PathQuery>)
        .ok(Json(json::<w::files::Listing>)),
        op(
            M_GET,
            "/api/v1/volumes/{name}/file",
            "Download a file of a volume",
        )
        .query(query::<w::files::PathQuery>)
        .ok(Bytes("application/octet-stream", "The file.")),
        op(
            M_POST,
            "/api/v1/exec/{id}/start",
            "Start a created command (`Upgrade: tcp`)",
        )
        .takes(Json(json::<w::exec::StartBody>))
        .switches(Upgrade(
            MUX,
            "The connection carries the command's input and output (raw with a TTY). \
                 Detached, the answer is 200 with `{}`.",
        )),
        op(
            M_POST,
            "/api/v1/exec/{id}/resize",
            "Resize a command's terminal",
        )
        .query(query::<w::container::ResizeQuery>)
        .ok(Empty),
        op(M_GET, "/api/v1/exec/{id}/json", "Inspect a command")
            .ok(Json(json::<w::exec::ExecInspect>)),
        op(
            M_GET,
            "/api/v1/system/df",
            "Disk use of images, containers and volumes",
        )
        .ok(Json(json::<w::system::DiskUsage>)),
        op(
            M_POST,
            "/api/v1/system/prune",
            "Remove stopped containers, unused networks and images",
        )
        .query(query::<w::system::PruneQuery>)
        .ok(Json(json::<w::system::SystemPruneReport>)),
        op(M_GET, "/api/v1/info", "The host and the daemon")
            .ok(Json(json::<w::system::SystemInfo>)),
        op(M_GET, "/metrics", "Prometheus metrics").ok(Bytes(
            "text/plain; version=0.0.4",
            "Prometheus text exposition.",
        )),
        op(M_GET, "/api/v1/openapi.json", "This document").ok(Json(empty_object)),
    ]
}
