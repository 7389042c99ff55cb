//! The image config (OCI image spec config.md, docker's image JSON) and the manifest, index
//! and `docker save` manifest documents that point at it, as serde types.
//!
//! Wire names are kept as written (`config.Cmd`, `rootfs.diff_ids`); unknown fields are
//! ignored and JSON `null` is read as "absent", as docker writes both freely.

use crate::digest::Digest;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// The image config's defaults that a container inherits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageDefaults {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: String,
    pub user: String,
    pub stop_signal: String,
    /// The paths of the image's `Volumes`.
    pub volumes: Vec<String>,
    /// The image's `ExposedPorts` keys, `PORT/PROTO`.
    pub exposed_ports: Vec<String>,
    /// The image config's `Labels`.
    pub labels: BTreeMap<String, String>,
    /// The image's `HEALTHCHECK`.
    pub healthcheck: Option<berth_wire::container::health::HealthConfig>,
}

/// The image config: what the image runs and which layers (by diff id) it is made of.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageConfig {
    /// RFC 3339 creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub architecture: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Defaults for containers run from the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ContainerConfig>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub rootfs: RootFs,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub history: Vec<History>,
}

/// The `config` object: execution defaults (OCI config.md "Properties").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContainerConfig {
    #[serde(rename = "User", default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Keys like `80/tcp`; the values are empty objects.
    #[serde(
        rename = "ExposedPorts",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub exposed_ports: BTreeMap<String, Empty>,
    /// `NAME=value` entries.
    #[serde(
        rename = "Env",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub env: Vec<String>,
    /// `None` and `Some([])` differ: only an explicit list replaces the defaults.
    #[serde(
        rename = "Entrypoint",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub entrypoint: Option<Vec<String>>,
    #[serde(rename = "Cmd", default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    /// Paths that get a volume; the values are empty objects.
    #[serde(
        rename = "Volumes",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub volumes: BTreeMap<String, Empty>,
    #[serde(
        rename = "WorkingDir",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub working_dir: Option<String>,
    #[serde(
        rename = "Labels",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    #[serde(
        rename = "StopSignal",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub stop_signal: Option<String>,
}

/// The `{}` values of `ExposedPorts` and `Volumes`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// `rootfs`: the uncompressed layer digests, bottom first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "type", default, deserialize_with = "null_as_default")]
    pub kind: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub diff_ids: Vec<Digest>,
}

/// One build step; `empty_layer` steps added no layer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

/// Media types berth reads (OCI image spec media-types.md, and docker's schema 2).
pub mod media_type {
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
    pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
    pub const DOCKER_MANIFEST_LIST: &str =
        "application/vnd.docker.distribution.manifest.list.v2+json";
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    /// Docker's plain tar layer (schema 2 lists it; docker itself pushes only gzip ones).
    pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar";
    pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

    pub fn is_index(media_type: &str) -> bool {
        media_type == OCI_INDEX || media_type == DOCKER_MANIFEST_LIST
    }

    pub fn is_manifest(media_type: &str) -> bool {
        media_type == OCI_MANIFEST || media_type == DOCKER_MANIFEST
    }
}

/// A content descriptor (OCI descriptor.md): what a blob is, its digest and size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType", default, deserialize_with = "null_as_default")]
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Platform {
    pub architecture: String,
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// An image index or docker manifest list (OCI image-index.md); also `index.json` of a layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageIndex {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub manifests: Vec<Descriptor>,
}

/// An image manifest (OCI manifest.md) or docker schema 2 manifest: a config and layers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageManifest {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    #[serde(default, deserialize_with = "null_as_default")]
    pub layers: Vec<Descriptor>,
}

/// One entry of a `docker save` archive's `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DockerArchiveEntry {
    /// Path of the config JSON inside the archive.
    #[serde(rename = "Config")]
    pub config: String,
    #[serde(rename = "RepoTags", default, deserialize_with = "null_as_default")]
    pub repo_tags: Vec<String>,
    /// Paths of the layer tars inside the archive, bottom first.
    #[serde(rename = "Layers", default, deserialize_with = "null_as_default")]
    pub layers: Vec<String>,
}

/// Reads JSON `null` as the type's default (docker writes `"Env": null` and the like).
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn reads_a_docker_style_config() {
        let json = format!(
            r#"{{
            "architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
            "docker_version": "24.0.0", "container_config": {{"Hostname": "x"}},
            "config": {{
                "Hostname": "", "User": "1000:1000", "Env": ["PATH=/bin"], "Cmd": ["sh"],
                "Entrypoint": null, "WorkingDir": "/srv", "StopSignal": "SIGQUIT",
                "ExposedPorts": {{"80/tcp": {{}}}}, "Volumes": {{"/data": {{}}}},
                "Labels": {{"a": "b"}}, "OnBuild": null
            }},
            "rootfs": {{"type": "layers", "diff_ids": ["{DIFF}"]}},
            "history": [{{"created_by": "ADD x /", "empty_layer": false}}, {{"empty_layer": true}}]
        }}"#
        );
        let c: ImageConfig = serde_json::from_str(&json).expect("parses");
        assert_eq!(c.os, "linux");
        assert_eq!(c.created.as_deref(), Some("2024-01-01T00:00:00Z"));
        let cc = c.config.expect("config object");
        assert_eq!(cc.cmd, Some(vec!["sh".to_string()]));
        assert_eq!(cc.entrypoint, None);
        assert_eq!(cc.env, vec!["PATH=/bin"]);
        assert_eq!(cc.user.as_deref(), Some("1000:1000"));
        assert_eq!(cc.working_dir.as_deref(), Some("/srv"));
        assert_eq!(cc.stop_signal.as_deref(), Some("SIGQUIT"));
        assert!(cc.exposed_ports.contains_key("80/tcp"));
        assert!(cc.volumes.contains_key("/data"));
        assert_eq!(cc.labels.get("a").map(String::as_str), Some("b"));
        assert_eq!(c.rootfs.kind, "layers");
        assert_eq!(c.rootfs.diff_ids[0].to_string(), DIFF);
        assert_eq!(c.history.len(), 2);
        assert!(c.history[1].empty_layer);
    }

    #[test]
    fn nulls_and_missing_fields_read_as_empty() {
        let json = r#"{"architecture":"arm64","os":"linux","config":{"Env":null,"Labels":null,
            "ExposedPorts":null},"rootfs":{"type":"layers","diff_ids":null},"history":null}"#;
        let c: ImageConfig = serde_json::from_str(json).expect("parses");
        let cc = c.config.expect("config object");
        assert!(cc.env.is_empty() && cc.labels.is_empty() && cc.exposed_ports.is_empty());
        assert!(c.rootfs.diff_ids.is_empty());
        let bare: ImageConfig = serde_json::from_str("{}").expect("parses");
        assert_eq!(bare, ImageConfig::default());
    }

    #[test]
    fn writes_pascal_case_wire_names() {
        let c = ImageConfig {
            config: Some(ContainerConfig {
                cmd: Some(vec!["sh".into()]),
                working_dir: Some("/".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let v = serde_json::to_value(&c).expect("serialize");
        assert_eq!(v["config"]["Cmd"][0], "sh");
        assert_eq!(v["config"]["WorkingDir"], "/");
        assert!(v["config"].get("Entrypoint").is_none());
        assert_eq!(v["rootfs"]["type"], "");
    }

    #[test]
    fn rejects_bad_diff_ids() {
        let json = r#"{"rootfs":{"type":"layers","diff_ids":["sha256:nothex"]}}"#;
        assert!(serde_json::from_str::<ImageConfig>(json).is_err());
    }

    #[test]
    fn reads_manifests_and_indexes() {
        let json = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{DIFF}","size":7}},
            "layers":[{{"mediaType":"{}","digest":"{DIFF}","size":9,"annotations":null}}]}}"#,
            media_type::OCI_MANIFEST,
            media_type::OCI_CONFIG,
            media_type::OCI_LAYER_GZIP
        );
        let m: ImageManifest = serde_json::from_str(&json).expect("parses");
        assert_eq!(m.config.size, 7);
        assert_eq!(m.layers[0].size, 9);
        let index = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{}","digest":"{DIFF}","size":3,
            "annotations":{{"org.opencontainers.image.ref.name":"latest"}},
            "platform":{{"architecture":"amd64","os":"linux"}}}}]}}"#,
            media_type::OCI_MANIFEST
        );
        let i: ImageIndex = serde_json::from_str(&index).expect("parses");
        assert_eq!(
            i.manifests[0].annotations["org.opencontainers.image.ref.name"],
            "latest"
        );
        assert_eq!(
            i.manifests[0].platform.as_ref().map(|p| p.os.as_str()),
            Some("linux")
        );
    }

    #[test]
    fn reads_docker_save_manifest_entries() {
        let json =
            r#"[{"Config":"abc.json","RepoTags":null,"Layers":["x/layer.tar"],"LayerSources":{}}]"#;
        let entries: Vec<DockerArchiveEntry> = serde_json::from_str(json).expect("parses");
        assert!(entries[0].repo_tags.is_empty());
        assert_eq!(entries[0].layers, vec!["x/layer.tar"]);
    }
}
