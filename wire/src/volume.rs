//! Volumes on the wire: `volume inspect` and lists (docker's names), the list filters and
//! what a prune removed.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A volume as `volume inspect` and the API show it (docker's wire names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct Volume {
    pub name: String,
    pub driver: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub mountpoint: PathBuf,
    /// RFC 3339.
    pub created_at: String,
    pub labels: BTreeMap<String, String>,
    pub scope: String,
    pub options: BTreeMap<String, String>,
    /// Size and users, when they were asked for (inspect, `system df -v`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_data: Option<UsageData>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct UsageData {
    /// Bytes of the files in the volume (hard links counted once).
    pub size: i64,
    /// How many containers mount it.
    pub ref_count: i64,
}

/// `volume ls --filter …`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct VolumeFilters {
    /// `dangling=true`: only volumes no container uses; `false`: only used ones.
    #[serde(default)]
    pub dangling: Option<bool>,
    /// `name=…`: names containing this text.
    #[serde(default)]
    pub name: Option<String>,
    /// `label=KEY` or `label=KEY=VALUE`.
    #[serde(default)]
    pub label: Option<String>,
}

/// What `volume prune` removed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct VolumePruneReport {
    pub volumes_deleted: Vec<String>,
    pub space_reclaimed: u64,
}

/// The body of `POST /api/v1/volumes` (docker's wire names).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct CreateVolume {
    /// Empty or absent: an anonymous (64-hex) name.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// The query of `DELETE /api/v1/volumes/{name}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct RemoveQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
}

/// The query of volume prune.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct PruneQuery {
    /// Also named volumes, not only anonymous ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub all: Option<bool>,
}
