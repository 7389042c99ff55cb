//! The CLI's typed client of the daemon's API: one method per route the verbs use, each
//! building its path here (every segment through [`segment`], every query string through
//! [`query`] from typed parameters) and decoding the answer into the wire or engine type.
//! Daemon errors stay [`crate::client::DaemonError`]s, with their code.

use crate::client::{Client, Host};
use anyhow::Result;
use berth_engine::events::EventFilter;
use berth_engine::filters::Filters;
use berth_wire as w;
use berth_wire::auth::{
    AuditPage, BoardLink, CreateBoardLink, CreateToken, CreateUser, CreatedBoardLink, CreatedToken,
    Me, SetPassword, SetRole, Token, User,
};
use berth_wire::container::{ContainerSummary, CreateOptions, PruneResponse, WaitResponse};
use berth_wire::exec::{ExecConfig, ExecCreated, ExecInspect, StartBody as ExecStartBody};
use berth_wire::image::{HistoryEntry, ImageDeleteRecord, ImagePruneReport, ImageSummary};
use berth_wire::network::{ContainerRef, NetworkCreate, NetworkPruneResponse, NetworkSummary};
use berth_wire::registry::{LoginResponse, Page};
use berth_wire::stats::ContainerStats;
use berth_wire::system::{DiskUsage, SystemPruneReport};
use berth_wire::volume::{CreateVolume, Volume, VolumeFilters, VolumePruneReport};
use hyper::body::Incoming;
use hyper::upgrade::Upgraded;
use hyper::Method;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use std::path::Path;

/// Where every route lives.
const V1: &str = "/api/v1";

/// Percent-encodes one path segment: everything but `A-Z a-z 0-9 - _ . ~` becomes `%XX`, so
/// a `/` in a name stays inside its segment.
pub fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    // `.` and `..` alone would be resolved away as path steps.
    match out.as_str() {
        "." => "%2E".to_string(),
        ".." => "%2E%2E".to_string(),
        _ => out,
    }
}

/// `path?query` from typed parameters (absent ones left out); `path` alone when none is set.
fn query(path: String, parameters: &impl Serialize) -> Result<String> {
    let text = serde_urlencoded::to_string(parameters)?;
    Ok(match text.is_empty() {
        true => path,
        false => format!("{path}?{text}"),
    })
}

/// What `GET /api/v1/containers` takes; `None` leaves a parameter to the daemon's default.
#[derive(Debug, Default)]
pub struct ContainerList<'a> {
    /// Stopped ones too (the daemon's default: all).
    pub all: Option<bool>,
    /// Measure each container's writable layer.
    pub size: Option<bool>,
    pub filters: Option<&'a Filters>,
    /// Only the newest N.
    pub limit: Option<usize>,
}

/// What `GET /api/v1/containers/{id}/logs` takes.
#[derive(Debug, Default)]
pub struct Logs<'a> {
    pub follow: bool,
    /// A number of lines, or `all`.
    pub tail: &'a str,
    pub timestamps: bool,
    pub since: Option<&'a str>,
    pub until: Option<&'a str>,
}

/// What `POST /api/v1/containers/{id}/attach` takes.
#[derive(Debug, Default)]
pub struct Attach<'a> {
    pub stdin: bool,
    pub start: bool,
    /// docker's `--detach-keys` format.
    pub detach_keys: Option<&'a str>,
    /// The terminal's rows and columns.
    pub size: Option<(u16, u16)>,
}

/// What `GET /api/v1/events` takes.
#[derive(Debug)]
pub struct Events<'a> {
    pub since: Option<&'a str>,
    pub until: Option<&'a str>,
    pub filters: &'a EventFilter,
}

/// Where an upload's body comes from.
pub enum Upload<'a> {
    File(&'a Path),
    Stdin,
}

/// `?filters=` with docker's JSON filters.
fn filters_query(filters: &impl Serialize) -> Result<w::filters::FiltersQuery> {
    Ok(w::filters::FiltersQuery {
        filters: Some(serde_json::to_string(filters)?),
    })
}

/// The daemon's API, typed.
#[derive(Clone)]
pub struct Api {
    client: Client,
}

impl Api {
    pub fn new(client: Client) -> Api {
        Api { client }
    }

    pub fn host(&self) -> &Host {
        self.client.host()
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.client.json(Method::GET, path, None::<&()>).await
    }

    async fn post<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.client.json(Method::POST, path, None::<&()>).await
    }

    async fn post_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T> {
        self.client.json(Method::POST, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> Result<()> {
        self.client.call(Method::DELETE, path).await
    }

    async fn upload<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        source: Upload<'_>,
    ) -> Result<T> {
        match source {
            Upload::File(file) => self.client.upload(path, file).await,
            Upload::Stdin => self.client.upload_from(path, tokio::io::stdin()).await,
        }
    }

    // System and who we are.

    pub async fn version(&self) -> Result<w::system::Version> {
        self.get(&format!("{V1}/version")).await
    }

    pub async fn me(&self) -> Result<Me> {
        self.get(&format!("{V1}/auth/me")).await
    }

    /// `GET /info` as JSON (templates see every field).
    pub async fn info(&self) -> Result<serde_json::Value> {
        self.get(&format!("{V1}/info")).await
    }

    pub async fn system_df(&self) -> Result<DiskUsage> {
        self.get(&format!("{V1}/system/df")).await
    }

    pub async fn system_prune(&self, all: bool, volumes: bool) -> Result<SystemPruneReport> {
        let q = w::system::PruneQuery {
            all: Some(all),
            volumes: Some(volumes),
        };
        self.post(&query(format!("{V1}/system/prune"), &q)?).await
    }

    pub async fn audit(&self, limit: usize, before: Option<i64>) -> Result<AuditPage> {
        let q = w::auth::AuditPageQuery {
            limit: Some(u32::try_from(limit).unwrap_or(u32::MAX)),
            before,
            since: None,
        };
        self.get(&query(format!("{V1}/audit"), &q)?).await
    }

    /// The event stream: one JSON event a line.
    pub async fn events(&self, events: &Events<'_>) -> Result<Incoming> {
        let q = w::event::EventsQuery {
            since: events.since.map(String::from),
            until: events.until.map(String::from),
            cursor: None,
            filters: Some(serde_json::to_string(events.filters)?),
        };
        let path = query(format!("{V1}/events"), &q)?;
        self.client.stream(Method::GET, &path).await
    }

    // Users, tokens and board links.

    pub async fn users(&self) -> Result<Vec<User>> {
        self.get(&format!("{V1}/users")).await
    }

    pub async fn user_create(&self, user: &CreateUser) -> Result<User> {
        self.post_json(&format!("{V1}/users"), user).await
    }

    pub async fn user_remove(&self, name: &str) -> Result<()> {
        self.delete(&format!("{V1}/users/{}", segment(name))).await
    }

    pub async fn user_set_password(&self, name: &str, password: &SetPassword) -> Result<()> {
        let path = format!("{V1}/users/{}/password", segment(name));
        self.client.call_with(Method::PUT, &path, password).await
    }

    pub async fn user_set_role(&self, name: &str, role: &SetRole) -> Result<()> {
        let path = format!("{V1}/users/{}/role", segment(name));
        self.client.call_with(Method::PUT, &path, role).await
    }

    pub async fn tokens(&self) -> Result<Vec<Token>> {
        self.get(&format!("{V1}/tokens")).await
    }

    pub async fn token_create(&self, token: &CreateToken) -> Result<CreatedToken> {
        self.post_json(&format!("{V1}/tokens"), token).await
    }

    pub async fn token_revoke(&self, id: &str) -> Result<()> {
        self.delete(&format!("{V1}/tokens/{}", segment(id))).await
    }

    pub async fn boards(&self) -> Result<Vec<BoardLink>> {
        self.get(&format!("{V1}/boards")).await
    }

    pub async fn board_create(&self, board: &CreateBoardLink) -> Result<CreatedBoardLink> {
        self.post_json(&format!("{V1}/boards"), board).await
    }

    pub async fn board_revoke(&self, id: &str) -> Result<()> {
        self.delete(&format!("{V1}/boards/{}", segment(id))).await
    }

    // Alert rules and their delivery log.

    pub async fn alert_rules(&self) -> Result<Vec<w::alert::AlertRule>> {
        self.get(&format!("{V1}/alerts/rules")).await
    }

    pub async fn alert_rule_create(
        &self,
        rule: &w::alert::CreateAlertRule,
    ) -> Result<w::alert::AlertRule> {
        self.post_json(&format!("{V1}/alerts/rules"), rule).await
    }

    pub async fn alert_rule_remove(&self, id: &str) -> Result<()> {
        self.delete(&format!("{V1}/alerts/rules/{}", segment(id)))
            .await
    }

    pub async fn alert_test(&self, id: &str) -> Result<w::alert::AlertTestResult> {
        self.post(&format!("{V1}/alerts/rules/{}/test", segment(id)))
            .await
    }

    pub async fn alert_deliveries(&self, limit: u32) -> Result<Vec<w::alert::AlertAttempt>> {
        let q = w::alert::AlertDeliveriesQuery { limit: Some(limit) };
        self.get(&query(format!("{V1}/alerts/deliveries"), &q)?)
            .await
    }

    // Registries.

    pub async fn registry_login(
        &self,
        registry: &str,
        username: &str,
        password: &str,
    ) -> Result<LoginResponse> {
        #[derive(Serialize)]
        struct Login<'a> {
            registry: &'a str,
            username: &'a str,
            password: &'a str,
        }
        let body = Login {
            registry,
            username,
            password,
        };
        self.post_json(&format!("{V1}/registries/login"), &body)
            .await
    }

    pub async fn registry_logout(&self, registry: &str) -> Result<LoginResponse> {
        #[derive(Serialize)]
        struct Logout<'a> {
            registry: &'a str,
        }
        self.post_json(&format!("{V1}/registries/logout"), &Logout { registry })
            .await
    }

    pub async fn registry_catalog(
        &self,
        host: &str,
        page: &w::registry::PageQuery,
    ) -> Result<Page> {
        let path = format!("{V1}/registries/{}/catalog", segment(host));
        self.get(&query(path, page)?).await
    }

    /// The tags of `repository` (its `/`s encoded: one segment before `/tags`).
    pub async fn registry_tags(
        &self,
        host: &str,
        repository: &str,
        page: &w::registry::PageQuery,
    ) -> Result<Page> {
        let path = format!(
            "{V1}/registries/{}/repositories/{}/tags",
            segment(host),
            segment(repository)
        );
        self.get(&query(path, page)?).await
    }

    // Images.

    pub async fn images(&self, filters: &Filters) -> Result<Vec<ImageSummary>> {
        let path = query(format!("{V1}/images"), &filters_query(filters)?)?;
        self.get(&path).await
    }

    /// The image's JSON as the daemon sends it (`image inspect` prints it whole).
    pub async fn image_inspect(&self, name: &str) -> Result<serde_json::Value> {
        self.get(&format!("{V1}/images/{}/json", segment(name)))
            .await
    }

    pub async fn image_history(&self, name: &str) -> Result<Vec<HistoryEntry>> {
        self.get(&format!("{V1}/images/{}/history", segment(name)))
            .await
    }

    pub async fn image_tag(&self, name: &str, target: &str) -> Result<()> {
        let q = w::image::TagQuery {
            target: target.to_string(),
        };
        let path = query(format!("{V1}/images/{}/tag", segment(name)), &q)?;
        self.client.call(Method::POST, &path).await
    }

    pub async fn image_remove(&self, name: &str, force: bool) -> Result<Vec<ImageDeleteRecord>> {
        let q = w::image::RemoveQuery { force };
        let path = query(format!("{V1}/images/{}", segment(name)), &q)?;
        self.client.json(Method::DELETE, &path, None::<&()>).await
    }

    pub async fn image_prune(&self, all: bool) -> Result<ImagePruneReport> {
        let q = w::image::PruneQuery { all };
        self.post(&query(format!("{V1}/images/prune"), &q)?).await
    }

    /// The pull's progress stream (docker's messages, then a result or an error line).
    pub async fn image_pull(&self, reference: &str, platform: Option<&str>) -> Result<Incoming> {
        let q = w::image::PullQuery {
            reference: reference.to_string(),
            platform: platform.map(String::from),
        };
        let path = query(format!("{V1}/images/pull"), &q)?;
        self.client.stream(Method::POST, &path).await
    }

    /// The push's progress stream, as [`Api::image_pull`]'s.
    /// Pushes `name`; `compression` (gzip, zstd) is for layers stored uncompressed.
    pub async fn image_push(&self, name: &str, compression: Option<&str>) -> Result<Incoming> {
        let q = w::image::PushQuery {
            tag: None,
            compression: compression.map(str::to_string),
        };
        let path = query(format!("{V1}/images/{}/push", segment(name)), &q)?;
        self.client.stream(Method::POST, &path).await
    }

    /// The archive of `names` (`format`: docker or oci), streamed.
    pub async fn image_save(&self, names: &[String], format: &str) -> Result<Incoming> {
        let q = w::image::SaveQuery {
            names: names.join(","),
            format: Some(format.to_string()),
        };
        let path = query(format!("{V1}/images/get"), &q)?;
        self.client.stream(Method::GET, &path).await
    }

    pub async fn image_load(&self, source: Upload<'_>) -> Result<Vec<ImageSummary>> {
        self.upload(&format!("{V1}/images/load"), source).await
    }

    pub async fn image_import(
        &self,
        repo: Option<&str>,
        message: Option<&str>,
        source: Upload<'_>,
    ) -> Result<ImageSummary> {
        let q = w::image::ImportQuery {
            repo: repo.map(String::from),
            message: message.map(String::from),
        };
        let path = query(format!("{V1}/images/import"), &q)?;
        self.upload(&path, source).await
    }

    // Containers.

    pub async fn containers(&self, list: &ContainerList<'_>) -> Result<Vec<ContainerSummary>> {
        let q = w::container::ListQuery {
            all: list.all,
            size: list.size,
            filters: list.filters.map(serde_json::to_string).transpose()?,
            limit: list.limit,
        };
        self.get(&query(format!("{V1}/containers"), &q)?).await
    }

    pub async fn container_create(&self, options: &CreateOptions) -> Result<ContainerSummary> {
        self.post_json(&format!("{V1}/containers"), options).await
    }

    /// The container's JSON as the daemon sends it (docker's inspect shape).
    pub async fn container_inspect(&self, id: &str) -> Result<serde_json::Value> {
        self.get(&container(id, "")).await
    }

    pub async fn container_remove(&self, id: &str, force: bool, volumes: bool) -> Result<()> {
        let q = w::container::RemoveQuery {
            force: Some(force),
            v: Some(volumes),
        };
        let path = query(container(id, ""), &q)?;
        self.delete(&path).await
    }

    pub async fn container_start(&self, id: &str) -> Result<ContainerSummary> {
        self.post(&container(id, "/start")).await
    }

    /// `grace`: seconds between SIGTERM and SIGKILL (the container's own when `None`).
    pub async fn container_stop(&self, id: &str, grace: Option<u64>) -> Result<ContainerSummary> {
        self.post(&query(
            container(id, "/stop"),
            &w::container::StopQuery { t: grace },
        )?)
        .await
    }

    pub async fn container_restart(
        &self,
        id: &str,
        grace: Option<u64>,
    ) -> Result<ContainerSummary> {
        self.post(&query(
            container(id, "/restart"),
            &w::container::StopQuery { t: grace },
        )?)
        .await
    }

    pub async fn container_kill(&self, id: &str, signal: &str) -> Result<()> {
        let q = w::container::KillQuery {
            signal: Some(signal.to_string()),
        };
        let path = query(container(id, "/kill"), &q)?;
        self.client.call(Method::POST, &path).await
    }

    pub async fn container_pause(&self, id: &str) -> Result<ContainerSummary> {
        self.post(&container(id, "/pause")).await
    }

    pub async fn container_unpause(&self, id: &str) -> Result<ContainerSummary> {
        self.post(&container(id, "/unpause")).await
    }

    pub async fn container_rename(&self, id: &str, name: &str) -> Result<ContainerSummary> {
        let q = w::container::RenameQuery {
            name: name.to_string(),
        };
        self.post(&query(container(id, "/rename"), &q)?).await
    }

    pub async fn container_prune(&self) -> Result<PruneResponse> {
        self.post(&format!("{V1}/containers/prune")).await
    }

    /// The named containers' usage (all running ones with `None`), read together.
    pub async fn stats_many(&self, containers: Option<&[String]>) -> Result<Vec<ContainerStats>> {
        let q = w::stats::StatsQuery {
            containers: containers.map(|c| c.join(",")),
        };
        self.get(&query(format!("{V1}/stats"), &q)?).await
    }

    pub async fn container_wait(&self, id: &str) -> Result<WaitResponse> {
        self.post(&container(id, "/wait")).await
    }

    /// The log stream (multiplexed frames).
    pub async fn container_logs(&self, id: &str, logs: &Logs<'_>) -> Result<Incoming> {
        let path = query(container(id, "/logs"), &logs_query(logs))?;
        self.client.stream(Method::GET, &path).await
    }

    /// Attaches with the client's input: the bidirectional stream after `Upgrade: tcp`.
    pub async fn container_attach(
        &self,
        id: &str,
        attach: &Attach<'_>,
    ) -> Result<TokioIo<Upgraded>> {
        self.client
            .upgrade(&attach_path(id, attach)?, &serde_json::json!({}))
            .await
    }

    /// Attaches to the output only (and starts the container with `start`): its frames, the
    /// last one how it ended.
    pub async fn container_attach_output(&self, id: &str, start: bool) -> Result<Incoming> {
        let q = w::container::AttachQuery {
            start: Some(start),
            ..Default::default()
        };
        let path = query(container(id, "/attach"), &q)?;
        self.client.stream(Method::POST, &path).await
    }

    pub async fn container_resize(&self, id: &str, rows: u16, columns: u16) -> Result<()> {
        let size = w::container::ResizeQuery {
            h: rows,
            w: columns,
        };
        let path = query(container(id, "/resize"), &size)?;
        self.client.call(Method::POST, &path).await
    }

    // Exec instances.

    pub async fn exec_create(&self, id: &str, config: &ExecConfig) -> Result<ExecCreated> {
        self.post_json(&container(id, "/exec"), config).await
    }

    /// Starts the command in the background.
    pub async fn exec_start_detached(&self, id: &str) -> Result<()> {
        let body = ExecStartBody {
            detach: true,
            console_size: None,
        };
        self.post_json::<serde_json::Value>(&exec(id, "/start"), &body)
            .await
            .map(drop)
    }

    /// Starts the command attached: the bidirectional stream after `Upgrade: tcp`.
    pub async fn exec_start(&self, id: &str, body: &ExecStartBody) -> Result<TokioIo<Upgraded>> {
        self.client.upgrade(&exec(id, "/start"), body).await
    }

    pub async fn exec_resize(&self, id: &str, rows: u16, columns: u16) -> Result<()> {
        let size = w::container::ResizeQuery {
            h: rows,
            w: columns,
        };
        let path = query(exec(id, "/resize"), &size)?;
        self.client.call(Method::POST, &path).await
    }

    pub async fn exec_inspect(&self, id: &str) -> Result<ExecInspect> {
        self.get(&exec(id, "/json")).await
    }

    // Networks.

    pub async fn networks(&self, filters: &Filters) -> Result<Vec<NetworkSummary>> {
        let path = query(format!("{V1}/networks"), &filters_query(filters)?)?;
        self.get(&path).await
    }

    pub async fn network_create(&self, network: &NetworkCreate) -> Result<NetworkSummary> {
        self.post_json(&format!("{V1}/networks"), network).await
    }

    /// The network's JSON as the daemon sends it.
    pub async fn network_inspect(&self, id: &str) -> Result<serde_json::Value> {
        self.get(&network(id, "")).await
    }

    pub async fn network_remove(&self, id: &str) -> Result<NetworkSummary> {
        self.client
            .json(Method::DELETE, &network(id, ""), None::<&()>)
            .await
    }

    pub async fn network_prune(&self) -> Result<NetworkPruneResponse> {
        self.post(&format!("{V1}/networks/prune")).await
    }

    pub async fn network_connect(&self, id: &str, container: &str) -> Result<()> {
        let body = ContainerRef {
            container: container.to_string(),
        };
        self.client
            .call_with(Method::POST, &network(id, "/connect"), &body)
            .await
    }

    pub async fn network_disconnect(&self, id: &str, container: &str) -> Result<()> {
        let body = ContainerRef {
            container: container.to_string(),
        };
        self.client
            .call_with(Method::POST, &network(id, "/disconnect"), &body)
            .await
    }

    // Volumes.

    pub async fn volumes(&self, filters: &VolumeFilters) -> Result<Vec<Volume>> {
        self.get(&query(format!("{V1}/volumes"), filters)?).await
    }

    pub async fn volume_create(&self, volume: &CreateVolume) -> Result<Volume> {
        self.post_json(&format!("{V1}/volumes"), volume).await
    }

    /// The volume's JSON as the daemon sends it.
    pub async fn volume_inspect(&self, name: &str) -> Result<serde_json::Value> {
        self.get(&volume(name)).await
    }

    pub async fn volume_remove(&self, name: &str, force: bool) -> Result<()> {
        let q = w::volume::RemoveQuery { force: Some(force) };
        let path = query(volume(name), &q)?;
        self.delete(&path).await
    }

    pub async fn volume_prune(&self, all: bool) -> Result<VolumePruneReport> {
        let q = w::volume::PruneQuery { all: Some(all) };
        self.post(&query(format!("{V1}/volumes/prune"), &q)?).await
    }
}

/// `/api/v1/containers/<id><rest>`.
fn container(id: &str, rest: &str) -> String {
    format!("{V1}/containers/{}{rest}", segment(id))
}

/// `/api/v1/exec/<id><rest>`.
fn exec(id: &str, rest: &str) -> String {
    format!("{V1}/exec/{}{rest}", segment(id))
}

/// `/api/v1/networks/<id><rest>`.
fn network(id: &str, rest: &str) -> String {
    format!("{V1}/networks/{}{rest}", segment(id))
}

/// `/api/v1/volumes/<name>`.
fn volume(name: &str) -> String {
    format!("{V1}/volumes/{}", segment(name))
}

/// The logs route's query for these choices.
fn logs_query(logs: &Logs<'_>) -> w::container::LogsQuery {
    w::container::LogsQuery {
        follow: Some(logs.follow),
        tail: Some(logs.tail.to_string()),
        timestamps: Some(logs.timestamps),
        since: logs.since.map(String::from),
        until: logs.until.map(String::from),
    }
}

/// The attach path with its query: the terminal's size as `h` and `w` when there is one.
fn attach_path(id: &str, attach: &Attach<'_>) -> Result<String> {
    let q = w::container::AttachQuery {
        stdin: Some(attach.stdin),
        start: Some(attach.start),
        detach_keys: attach.detach_keys.map(String::from),
        h: attach.size.map(|(rows, _)| rows),
        w: attach.size.map(|(_, columns)| columns),
    };
    query(container(id, "/attach"), &q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_escaped() {
        assert_eq!(segment("web-1.a_b~"), "web-1.a_b~");
        assert_eq!(segment("../x"), "..%2Fx");
        assert_eq!(segment("a/b"), "a%2Fb");
        assert_eq!(segment("a b?"), "a%20b%3F");
        assert_eq!(segment("50%"), "50%25");
        assert_eq!(segment("é"), "%C3%A9");
        assert_eq!(segment("#&="), "%23%26%3D");
    }

    #[test]
    fn dot_segments_stay_names() {
        assert_eq!(segment("."), "%2E");
        assert_eq!(segment(".."), "%2E%2E");
        assert_eq!(segment("..."), "...");
        assert_eq!(container("..", "/start"), "/api/v1/containers/%2E%2E/start");
    }

    #[test]
    fn ids_stay_one_segment() {
        for id in ["a/b", "..", "a b", "50%", "ünï/cödé", "x?y#z"] {
            let path = container(id, "/stop");
            let rest = path.strip_prefix("/api/v1/containers/").unwrap();
            let (seg, tail) = rest.split_once('/').unwrap();
            assert_eq!(tail, "stop", "{path}");
            assert!(!seg.contains(['/', '?', '#', ' ']), "{path}");
            assert_ne!(seg, "..");
        }
        assert_eq!(
            format!(
                "{V1}/registries/{}/repositories/{}/tags",
                segment("127.0.0.1:5000"),
                segment("test/busybox")
            ),
            "/api/v1/registries/127.0.0.1%3A5000/repositories/test%2Fbusybox/tags"
        );
    }

    #[test]
    fn absent_parameters_are_left_out() {
        let path = |t| query(container("web", "/stop"), &w::container::StopQuery { t }).unwrap();
        assert_eq!(path(None), "/api/v1/containers/web/stop");
        assert_eq!(path(Some(5)), "/api/v1/containers/web/stop?t=5");
        let page = w::registry::PageQuery::default();
        assert_eq!(query("/p".into(), &page).unwrap(), "/p");
        let page = w::registry::PageQuery {
            n: Some(2),
            last: Some("a/b c".into()),
        };
        assert_eq!(query("/p".into(), &page).unwrap(), "/p?n=2&last=a%2Fb+c");
        let filters = VolumeFilters {
            dangling: Some(true),
            name: None,
            label: Some("k=v".into()),
        };
        assert_eq!(
            query("/v".into(), &filters).unwrap(),
            "/v?dangling=true&label=k%3Dv"
        );
        assert_eq!(query("/v".into(), &VolumeFilters::default()).unwrap(), "/v");
    }

    #[test]
    fn booleans_and_numbers_render_as_the_daemon_parses_them() {
        let logs = Logs {
            follow: true,
            tail: "all",
            timestamps: false,
            since: Some("10m"),
            until: None,
        };
        assert_eq!(
            query(container("c", "/logs"), &logs_query(&logs)).unwrap(),
            "/api/v1/containers/c/logs?follow=true&tail=all&timestamps=false&since=10m"
        );
        let attach = Attach {
            stdin: true,
            start: false,
            detach_keys: Some("ctrl-p,ctrl-q"),
            size: Some((24, 80)),
        };
        assert_eq!(
            attach_path("c", &attach).unwrap(),
            "/api/v1/containers/c/attach?start=false&stdin=true&detachKeys=ctrl-p%2Cctrl-q&h=24&w=80"
        );
        let bare = Attach::default();
        assert_eq!(
            attach_path("c", &bare).unwrap(),
            "/api/v1/containers/c/attach?start=false&stdin=false"
        );
        let size = w::container::ResizeQuery { h: 40, w: 120 };
        assert_eq!(
            query(exec("e", "/resize"), &size).unwrap(),
            "/api/v1/exec/e/resize?h=40&w=120"
        );
    }

    #[test]
    fn query_values_round_trip_through_the_daemons_parser() {
        // The daemon parses the same wire type the CLI sends.
        let sent = w::image::ImportQuery {
            repo: Some("a b,c/d:1,50%,é&x=y".into()),
            message: Some("line\nnext+1".into()),
        };
        let path = query("/x".into(), &sent).unwrap();
        let text = path.strip_prefix("/x?").unwrap();
        assert!(!text.contains([' ', '/', '\n']), "{text}");
        let got: w::image::ImportQuery = serde_urlencoded::from_str(text).unwrap();
        assert_eq!(got, sent);
    }

    #[test]
    fn filters_go_as_json() {
        let mut filters = Filters::default();
        filters.0.insert("label".into(), vec!["tier=web".into()]);
        let path = query("/api/v1/images".into(), &filters_query(&filters).unwrap()).unwrap();
        assert_eq!(
            path,
            "/api/v1/images?filters=%7B%22label%22%3A%5B%22tier%3Dweb%22%5D%7D"
        );
    }
}
