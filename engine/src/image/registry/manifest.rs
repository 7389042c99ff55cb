//! Manifests as a registry serves them: which media types berth asks for and accepts (OCI
//! image spec media-types.md, docker's schema 2), telling an index from an image manifest,
//! and picking an index entry for a platform (`os/arch[/variant]`, default linux and this
//! CPU), as OCI image-index.md "platform" describes.

use super::RegistryError;
use crate::image::archive::host_architecture;
use crate::image::config::{media_type, Descriptor, ImageIndex, ImageManifest};

/// The largest manifest or index read (the distribution reference registry refuses larger
/// ones on push too).
pub const MAX_MANIFEST: u64 = 4 << 20;
/// The largest image config read.
pub const MAX_CONFIG: u64 = 16 << 20;

/// The `Accept` header of manifest requests: indexes and manifests, OCI and docker.
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json";

const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1";
const DOCKER_FOREIGN_LAYER: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

/// A document a manifest request returned.
#[derive(Debug, Clone)]
pub enum Document {
    Index(ImageIndex),
    Manifest(ImageManifest),
}

/// Parses a manifest or index. The media type comes from `Content-Type`, else from the
/// document's own `mediaType`, else from its shape (OCI: `mediaType` SHOULD be set, but older
/// tools leave it out).
pub fn parse(
    reference: &str,
    content_type: Option<&str>,
    bytes: &[u8],
) -> Result<Document, RegistryError> {
    let bad = |reason: String| RegistryError::BadManifest {
        reference: reference.to_string(),
        reason,
    };
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("it is not JSON: {e}")))?;
    let declared = value.get("mediaType").and_then(|v| v.as_str());
    let kind = content_type
        .filter(|t| is_known(t) || t.starts_with(DOCKER_SCHEMA1))
        .or(declared)
        .map(str::to_string);
    let is_index = match kind.as_deref() {
        Some(t) if t.starts_with(DOCKER_SCHEMA1) => {
            return Err(bad(
                "docker schema 1 manifests are not supported (push the image again with a current tool)".into(),
            ))
        }
        Some(t) if media_type::is_index(t) => true,
        Some(t) if media_type::is_manifest(t) => false,
        Some(other) => {
            return Err(bad(format!("unsupported media type {other}")));
        }
        None if value.get("manifests").is_some() => true,
        None if value.get("config").is_some() => false,
        None => return Err(bad("it is neither an image manifest nor an index".into())),
    };
    let parsed = if is_index {
        serde_json::from_value(value).map(Document::Index)
    } else {
        serde_json::from_value(value).map(Document::Manifest)
    };
    let document = parsed.map_err(|e| bad(e.to_string()))?;
    if let Document::Manifest(m) = &document {
        check_manifest(reference, m)?;
    }
    Ok(document)
}

fn is_known(t: &str) -> bool {
    media_type::is_index(t) || media_type::is_manifest(t)
}

/// Refuses manifests of things that are not container images (OCI artifacts, helm charts)
/// and layers berth cannot unpack.
fn check_manifest(reference: &str, m: &ImageManifest) -> Result<(), RegistryError> {
    let config_type = m.config.media_type.as_str();
    if !config_type.is_empty()
        && config_type != media_type::OCI_CONFIG
        && config_type != media_type::DOCKER_CONFIG
    {
        return Err(RegistryError::BadManifest {
            reference: reference.to_string(),
            reason: format!("it is not a container image (config media type {config_type})"),
        });
    }
    for layer in &m.layers {
        if !is_layer_type(&layer.media_type) {
            return Err(RegistryError::BadManifest {
                reference: reference.to_string(),
                reason: format!(
                    "layer {} has the unsupported media type {}",
                    layer.digest, layer.media_type
                ),
            });
        }
    }
    Ok(())
}

/// Layer media types berth unpacks: tar, tar+gzip, tar+zstd (OCI, and the deprecated
/// non-distributable variants), docker's gzip and foreign layers. Compression is told from
/// the bytes anyway (unpack::Compression::detect).
fn is_layer_type(t: &str) -> bool {
    let oci = ["application/vnd.oci.image.layer.v1.tar"];
    let oci_nd = "application/vnd.oci.image.layer.nondistributable.v1.tar";
    let base = t
        .strip_suffix("+gzip")
        .or_else(|| t.strip_suffix("+zstd"))
        .unwrap_or(t);
    oci.contains(&base)
        || base == oci_nd
        || t == media_type::DOCKER_LAYER_GZIP
        || t == DOCKER_FOREIGN_LAYER
}

/// A platform to pick from an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformSpec {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl PlatformSpec {
    /// linux and this CPU.
    pub fn host() -> PlatformSpec {
        PlatformSpec {
            os: "linux".into(),
            architecture: host_architecture().into(),
            variant: None,
        }
    }

    /// Parses `os/arch[/variant]` (`linux/amd64`, `linux/arm64/v8`, `linux/arm/v7`).
    pub fn parse(text: &str) -> Result<PlatformSpec, RegistryError> {
        let bad = || RegistryError::BadPlatform(text.to_string());
        let parts: Vec<&str> = text.trim().split('/').collect();
        let valid_part = |p: &&str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        if !(2..=3).contains(&parts.len()) || !parts.iter().all(valid_part) {
            return Err(bad());
        }
        Ok(PlatformSpec {
            os: parts[0].to_ascii_lowercase(),
            architecture: parts[1].to_ascii_lowercase(),
            variant: parts.get(2).map(|v| v.to_ascii_lowercase()),
        })
    }

    /// arm64's only variant is v8: `linux/arm64/v8` and `linux/arm64` are the same.
    fn normal_variant(&self) -> Option<&str> {
        match (self.architecture.as_str(), self.variant.as_deref()) {
            ("arm64", Some("v8")) => None,
            (_, variant) => variant,
        }
    }
}

impl std::fmt::Display for PlatformSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

/// The index entry for `wanted`: the image manifests whose os and architecture match; with
/// a variant asked for, the entry with that variant; otherwise the first match (indexes list
/// the preferred variant first).
pub fn select<'a>(
    index: &'a ImageIndex,
    wanted: &PlatformSpec,
    what: &str,
) -> Result<&'a Descriptor, RegistryError> {
    let candidates = index.manifests.iter().filter(|d| {
        (d.media_type.is_empty() || media_type::is_manifest(&d.media_type))
            && d.platform.as_ref().is_some_and(|p| {
                p.os.eq_ignore_ascii_case(&wanted.os)
                    && p.architecture.eq_ignore_ascii_case(&wanted.architecture)
            })
    });
    let mut first = None;
    for descriptor in candidates {
        let Some(platform) = &descriptor.platform else {
            continue;
        };
        let theirs = PlatformSpec {
            os: platform.os.clone(),
            architecture: platform.architecture.clone(),
            variant: platform.variant.clone(),
        };
        match wanted.normal_variant() {
            Some(variant) if theirs.normal_variant() == Some(variant) => return Ok(descriptor),
            Some(_) => {}
            None => {
                first.get_or_insert(descriptor);
            }
        }
    }
    first.ok_or_else(|| {
        let available: Vec<String> = index
            .manifests
            .iter()
            .filter_map(|d| d.platform.as_ref())
            .map(|p| {
                PlatformSpec {
                    os: p.os.clone(),
                    architecture: p.architecture.clone(),
                    variant: p.variant.clone(),
                }
                .to_string()
            })
            .collect();
        RegistryError::NoMatchingPlatform {
            what: what.to_string(),
            wanted: wanted.to_string(),
            available: if available.is_empty() {
                "no platforms".into()
            } else {
                available.join(", ")
            },
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;
    use crate::image::config::Platform;

    fn entry(os: &str, arch: &str, variant: Option<&str>, tag: &[u8]) -> Descriptor {
        Descriptor {
            media_type: media_type::OCI_MANIFEST.into(),
            digest: Digest::of(tag),
            size: 1,
            annotations: Default::default(),
            platform: Some(Platform {
                architecture: arch.into(),
                os: os.into(),
                variant: variant.map(str::to_string),
            }),
        }
    }

    fn index(entries: Vec<Descriptor>) -> ImageIndex {
        ImageIndex {
            schema_version: 2,
            media_type: Some(media_type::OCI_INDEX.into()),
            manifests: entries,
        }
    }

    #[test]
    fn platforms_parse_as_os_arch_variant() {
        let p = PlatformSpec::parse("linux/arm64/v8").expect("parses");
        assert_eq!((p.os.as_str(), p.architecture.as_str()), ("linux", "arm64"));
        assert_eq!(p.variant.as_deref(), Some("v8"));
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert_eq!(
            PlatformSpec::parse("Linux/AMD64")
                .expect("parses")
                .to_string(),
            "linux/amd64"
        );
        for bad in ["linux", "linux/", "/amd64", "a/b/c/d", "linux/am d64", ""] {
            assert!(PlatformSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn selection_matches_os_arch_and_variant() {
        let i = index(vec![
            entry("linux", "arm", Some("v6"), b"v6"),
            entry("linux", "arm", Some("v7"), b"v7"),
            entry("linux", "amd64", None, b"amd64"),
            entry("linux", "arm64", Some("v8"), b"arm64"),
            entry("windows", "amd64", None, b"win"),
        ]);
        let pick = |p: &str| select(&i, &PlatformSpec::parse(p).expect("p"), "i").map(|d| d.digest);
        assert_eq!(pick("linux/amd64").expect("amd64"), Digest::of(b"amd64"));
        assert_eq!(pick("windows/amd64").expect("win"), Digest::of(b"win"));
        assert_eq!(pick("linux/arm/v7").expect("v7"), Digest::of(b"v7"));
        assert_eq!(pick("linux/arm").expect("first arm"), Digest::of(b"v6"));
        assert_eq!(pick("linux/arm64").expect("arm64"), Digest::of(b"arm64"));
        assert_eq!(pick("linux/arm64/v8").expect("arm64"), Digest::of(b"arm64"));
        let err = pick("linux/s390x").expect_err("none");
        let text = err.to_string();
        assert!(
            text.contains("linux/s390x") && text.contains("linux/arm/v7"),
            "{text}"
        );
        assert!(pick("linux/arm/v5").is_err());
    }

    #[test]
    fn attestation_entries_are_not_images() {
        let mut attestation = entry("unknown", "unknown", None, b"att");
        attestation.media_type = "application/vnd.in-toto+json".into();
        let i = index(vec![attestation, entry("linux", "amd64", None, b"amd64")]);
        let picked = select(&i, &PlatformSpec::parse("linux/amd64").expect("p"), "i");
        assert_eq!(picked.expect("amd64").digest, Digest::of(b"amd64"));
    }

    #[test]
    fn documents_are_told_apart_by_type_then_shape() {
        let d = Digest::of(b"x");
        let manifest = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"{}","digest":"{d}","size":1}},"layers":[{{"mediaType":"{}","digest":"{d}","size":2}}]}}"#,
            media_type::DOCKER_CONFIG,
            media_type::DOCKER_LAYER_GZIP
        );
        assert!(matches!(
            parse("r", Some(media_type::DOCKER_MANIFEST), manifest.as_bytes()),
            Ok(Document::Manifest(_))
        ));
        assert!(matches!(
            parse("r", None, manifest.as_bytes()),
            Ok(Document::Manifest(_))
        ));
        let idx = r#"{"schemaVersion":2,"manifests":[]}"#;
        assert!(matches!(
            parse("r", Some("application/json"), idx.as_bytes()),
            Ok(Document::Index(_))
        ));
        let schema1 = r#"{"schemaVersion":1,"name":"x","fsLayers":[]}"#;
        let err = parse(
            "r",
            Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
            schema1.as_bytes(),
        )
        .expect_err("schema 1");
        assert!(err.to_string().contains("schema 1"), "{err}");
        assert!(parse("r", None, b"not json").is_err());
    }

    #[test]
    fn non_images_and_unknown_layers_are_refused() {
        let d = Digest::of(b"x");
        let doc = |config: &str, layer: &str| {
            format!(
                r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{config}","digest":"{d}","size":1}},"layers":[{{"mediaType":"{layer}","digest":"{d}","size":2}}]}}"#,
                media_type::OCI_MANIFEST
            )
        };
        let ok = doc(
            media_type::OCI_CONFIG,
            "application/vnd.oci.image.layer.v1.tar+zstd",
        );
        assert!(parse("r", None, ok.as_bytes()).is_ok());
        let helm = doc(
            "application/vnd.cncf.helm.config.v1+json",
            media_type::OCI_LAYER,
        );
        assert!(parse("r", None, helm.as_bytes()).is_err());
        let odd = doc(media_type::OCI_CONFIG, "application/x-squashfs");
        assert!(parse("r", None, odd.as_bytes()).is_err());
    }
}
