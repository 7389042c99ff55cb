//! Images on the wire: lists, `image inspect`, `history`, what `rmi` and prunes removed, the
//! outcomes of pulls and pushes and their docker-style progress messages.

use serde::{Deserialize, Serialize};

/// What `images` shows of one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImageSummary {
    /// `sha256:<hex>` of the config.
    pub id: String,
    /// Familiar names, e.g. `busybox:latest`.
    pub repo_tags: Vec<String>,
    /// `repository@sha256:<manifest>` for each repository it is tagged in, when the
    /// manifest digest is known (docker's RepoDigests).
    #[serde(default)]
    pub repo_digests: Vec<String>,
    /// The config's creation time (RFC 3339), if it has one.
    pub created: Option<String>,
    /// Bytes of the unpacked layers.
    pub size: i64,
    /// The image config's labels.
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
}

/// `image inspect`: docker's fields and wire names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImageInspect {
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "RepoTags")]
    pub repo_tags: Vec<String>,
    #[serde(rename = "RepoDigests")]
    pub repo_digests: Vec<String>,
    /// Always empty: berth builds no parent chains.
    #[serde(rename = "Parent")]
    pub parent: String,
    #[serde(rename = "Comment")]
    pub comment: String,
    /// RFC 3339, empty when the config has no time.
    #[serde(rename = "Created")]
    pub created: String,
    #[serde(rename = "Author")]
    pub author: String,
    /// The config's `config` object as stored (Cmd, Entrypoint, Env, …); `null` if absent.
    #[serde(rename = "Config")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub config: serde_json::Value,
    #[serde(rename = "Architecture")]
    pub architecture: String,
    #[serde(rename = "Variant", default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(rename = "Os")]
    pub os: String,
    /// Bytes of the unpacked layers.
    #[serde(rename = "Size")]
    pub size: i64,
    #[serde(rename = "RootFS")]
    pub root_fs: InspectRootFs,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InspectRootFs {
    #[serde(rename = "Type")]
    pub kind: String,
    /// Diff ids, bottom first.
    #[serde(rename = "Layers")]
    pub layers: Vec<String>,
}

/// One row of `history`, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    /// The image id on the newest row, `<missing>` below it (as docker shows pulled images).
    pub id: String,
    pub created: Option<String>,
    pub created_by: String,
    /// Bytes the step's layer adds unpacked; 0 for steps without a layer.
    pub size: u64,
    pub comment: String,
    /// The image's tags, on the newest row.
    pub tags: Vec<String>,
}

/// One line of what `rmi` and `image prune` did (docker's wire form: `{"Untagged": "…"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ImageDeleteRecord {
    /// A tag removed, as docker shows it (`busybox:latest`).
    Untagged(String),
    /// An image id (`sha256:<hex>`) deleted.
    Deleted(String),
}

/// What `image prune` removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImagePruneReport {
    pub images_deleted: Vec<ImageDeleteRecord>,
    /// Bytes of blobs and unpacked layers freed.
    pub space_reclaimed: u64,
}

/// The outcome of a pull.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullResult {
    /// The reference as docker shows it, e.g. `busybox:latest`.
    pub reference: String,
    /// The image id (`sha256:` of its config).
    pub id: String,
    /// What the reference names in the registry (the index, for a multi-platform image).
    pub digest: String,
    /// `Downloaded newer image for …` or `Image is up to date for …`.
    pub status: String,
}

/// The outcome of a push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResult {
    /// The full reference pushed, e.g. `127.0.0.1:5000/test/busybox:1`.
    pub reference: String,
    /// The manifest's digest in the registry.
    pub digest: String,
    /// The manifest's size in bytes.
    pub size: u64,
}

/// Where a layer is in its pull.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LayerState {
    Waiting,
    Downloading,
    Verifying,
    Extracting,
    AlreadyExists,
    PullComplete,
}

impl LayerState {
    /// The status text docker shows.
    pub fn label(self) -> &'static str {
        match self {
            LayerState::Waiting => "Waiting",
            LayerState::Downloading => "Downloading",
            LayerState::Verifying => "Verifying Checksum",
            LayerState::Extracting => "Extracting",
            LayerState::AlreadyExists => "Already exists",
            LayerState::PullComplete => "Pull complete",
        }
    }
}

/// A docker-style progress message, one JSON object per line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JsonMessage {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(
        rename = "progressDetail",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub progress_detail: Option<ProgressDetail>,
    /// Set on the last line of a failed pull.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProgressDetail {
    pub current: u64,
    pub total: u64,
}

/// The query of image import.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ImportQuery {
    /// The name the image gets, e.g. `app:v1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// The history comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The query of tag: the new name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct TagQuery {
    pub target: String,
}

/// The query of `DELETE /api/v1/images/{name}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct RemoveQuery {
    #[serde(default)]
    pub force: bool,
}

/// The query of image prune.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct PruneQuery {
    /// Every image without a container, not only dangling ones.
    #[serde(default)]
    pub all: bool,
}

/// The query of image save.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct SaveQuery {
    /// Comma-separated image names or ids.
    pub names: String,
    /// `docker` (the default) or `oci`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// The query of `POST /api/v1/images/pull`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct PullQuery {
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
}

/// The query of `POST /api/v1/images/{name}/push`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct PushQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// How layers stored uncompressed are compressed for the registry: `gzip` (the default)
    /// or `zstd` (then the manifest is an OCI one). Compressed layers are sent as they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
}

/// The `{"result"}` or `{"error"}` line that ends a progress stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProgressEnd<R> {
    #[serde(default = "Option::default", skip_serializing_if = "Option::is_none")]
    pub result: Option<R>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
