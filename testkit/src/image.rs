//! Image configs and the three archive forms berth loads: `docker save` tars (classic and
//! docker-25 "blobs" form), OCI layout directories and OCI archive tars.

use crate::layer::{Layer, MTIME};
use crate::{digest_hex, sha256_digest, Result, TestkitError};
use serde_json::{json, Value};
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const REF_NAME: &str = "org.opencontainers.image.ref.name";
const CONTAINERD_NAME: &str = "io.containerd.image.name";

/// What was written, as the loader should report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenImage {
    /// The tag as given (e.g. `busybox:latest`).
    pub tag: String,
    /// `sha256:<hex>` of the config blob: the image id.
    pub config_digest: String,
    /// Set for OCI forms and for the docker-25 form (its `index.json`).
    pub manifest_digest: Option<String>,
    /// Uncompressed layer digests, bottom first.
    pub diff_ids: Vec<String>,
    /// Digests of the layer blobs as stored in the archive (gzip for OCI, plain for docker).
    pub layer_digests: Vec<String>,
}

/// The two shapes of a `docker save` archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DockerLayout {
    /// `<id>/layer.tar`, `<config-hex>.json`, `manifest.json`, `repositories`.
    Classic,
    /// Docker 25+: `blobs/sha256/<hex>` for everything, `manifest.json`, and an OCI
    /// `index.json` + `oci-layout`.
    Blobs,
}

/// An image config (OCI config.md) for `layers` on linux/<this CPU> running `cmd`.
pub fn image_config(layers: &[Layer], cmd: &[&str], env: &[&str]) -> Value {
    let created = "2023-11-14T22:13:20Z";
    json!({
        "architecture": host_architecture(),
        "os": "linux",
        "created": created,
        "config": {
            "Env": env,
            "Cmd": cmd,
            "WorkingDir": "/",
        },
        "rootfs": {
            "type": "layers",
            "diff_ids": layers.iter().map(Layer::diff_id).collect::<Vec<_>>(),
        },
        "history": layers.iter().enumerate().map(|(i, _)| json!({
            "created": created,
            "created_by": format!("berth-testkit layer {i}"),
        })).collect::<Vec<_>>(),
    })
}

fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// docker's normalisation, enough for test tags: `busybox:latest` →
/// `docker.io/library/busybox:latest`.
fn full_name(tag: &str) -> String {
    match tag.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => tag.to_string(),
        Some(_) => format!("docker.io/{tag}"),
        None => format!("docker.io/library/{tag}"),
    }
}

/// The tag part of a reference (`latest` of `busybox:latest`).
fn tag_part(tag: &str) -> &str {
    let after_slash = tag.rsplit('/').next().unwrap_or(tag);
    after_slash.rsplit_once(':').map_or("latest", |(_, t)| t)
}

fn to_json(value: &Value) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| TestkitError::Tar(std::io::Error::other(e)))
}

fn descriptor(media_type: &str, bytes: &[u8]) -> Value {
    json!({"mediaType": media_type, "digest": sha256_digest(bytes), "size": bytes.len()})
}

/// Files of an archive, in the order they are written.
type Files = Vec<(String, Vec<u8>)>;

/// One image to put in a `docker save` archive.
#[derive(Debug, Clone, Copy)]
pub struct ImageSpec<'a> {
    /// As written in `RepoTags`, e.g. `busybox:latest`.
    pub tag: &'a str,
    pub layers: &'a [Layer],
    pub config: &'a Value,
}

/// Writes a `docker save` archive of one image tagged `tag` (e.g. `busybox:latest`).
pub fn write_docker_archive(
    out: &Path,
    tag: &str,
    layers: &[Layer],
    config: &Value,
    layout: DockerLayout,
) -> Result<WrittenImage> {
    let spec = ImageSpec {
        tag,
        layers,
        config,
    };
    let mut written = write_docker_archive_images(out, &[spec], layout)?;
    written
        .pop()
        .ok_or_else(|| TestkitError::Tar(std::io::Error::other("no image written")))
}

/// Writes a `docker save` archive of several images (as `docker save a b` does); files they
/// share (base layers) are written once.
pub fn write_docker_archive_images(
    out: &Path,
    images: &[ImageSpec<'_>],
    layout: DockerLayout,
) -> Result<Vec<WrittenImage>> {
    let mut files: Files = Vec::new();
    let add = |files: &mut Files, path: String, bytes: Vec<u8>| {
        if !files.iter().any(|(p, _)| *p == path) {
            files.push((path, bytes));
        }
    };
    let mut manifest = Vec::new();
    let mut index_entries = Vec::new();
    let mut repositories = serde_json::Map::new();
    let mut written = Vec::new();
    for image in images {
        let config_bytes = to_json(image.config)?;
        let config_digest = sha256_digest(&config_bytes);
        let mut layer_paths = Vec::new();
        let mut manifest_digest = None;
        let config_path = match layout {
            DockerLayout::Classic => {
                let mut parent: Option<String> = None;
                for layer in image.layers {
                    // A v1 id: any 64 hex unique to the layer's position in the stack.
                    let seed = format!("{}{}", parent.as_deref().unwrap_or(""), layer.diff_id());
                    let id = digest_hex(&sha256_digest(seed.as_bytes())).to_string();
                    let mut v1 = json!({"id": id, "created": "2023-11-14T22:13:20Z"});
                    if let Some(parent) = &parent {
                        v1["parent"] = json!(parent);
                    }
                    add(&mut files, format!("{id}/VERSION"), b"1.0".to_vec());
                    add(&mut files, format!("{id}/json"), to_json(&v1)?);
                    add(&mut files, format!("{id}/layer.tar"), layer.tar().to_vec());
                    layer_paths.push(format!("{id}/layer.tar"));
                    parent = Some(id);
                }
                let tag_only = tag_part(image.tag);
                let name = image
                    .tag
                    .strip_suffix(&format!(":{tag_only}"))
                    .unwrap_or(image.tag);
                let tags = repositories
                    .entry(name.to_string())
                    .or_insert_with(|| json!({}));
                tags[tag_only] = json!(parent.unwrap_or_default());
                format!("{}.json", digest_hex(&config_digest))
            }
            DockerLayout::Blobs => {
                let mut layer_descriptors = Vec::new();
                for layer in image.layers {
                    let path = format!("blobs/sha256/{}", digest_hex(&layer.diff_id()));
                    add(&mut files, path.clone(), layer.tar().to_vec());
                    layer_descriptors.push(descriptor(OCI_LAYER, layer.tar()));
                    layer_paths.push(path);
                }
                let oci_manifest = to_json(&json!({
                    "schemaVersion": 2,
                    "mediaType": OCI_MANIFEST,
                    "config": descriptor(OCI_CONFIG, &config_bytes),
                    "layers": layer_descriptors,
                }))?;
                let digest = sha256_digest(&oci_manifest);
                let mut index_entry = descriptor(OCI_MANIFEST, &oci_manifest);
                index_entry["annotations"] = json!({
                    CONTAINERD_NAME: full_name(image.tag),
                    REF_NAME: tag_part(image.tag),
                });
                index_entries.push(index_entry);
                add(
                    &mut files,
                    format!("blobs/sha256/{}", digest_hex(&digest)),
                    oci_manifest,
                );
                manifest_digest = Some(digest);
                format!("blobs/sha256/{}", digest_hex(&config_digest))
            }
        };
        add(&mut files, config_path.clone(), config_bytes);
        manifest.push(json!({
            "Config": config_path,
            "RepoTags": [image.tag],
            "Layers": layer_paths,
        }));
        written.push(WrittenImage {
            tag: image.tag.to_string(),
            config_digest,
            manifest_digest,
            diff_ids: image.layers.iter().map(Layer::diff_id).collect(),
            layer_digests: image.layers.iter().map(Layer::diff_id).collect(),
        });
    }
    match layout {
        DockerLayout::Classic => {
            files.push((
                "repositories".into(),
                to_json(&Value::Object(repositories))?,
            ));
        }
        DockerLayout::Blobs => {
            files.push((
                "index.json".into(),
                to_json(&json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": index_entries}))?,
            ));
            files.push((
                "oci-layout".into(),
                br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
            ));
        }
    }
    files.push(("manifest.json".into(), to_json(&Value::Array(manifest))?));
    write_tar(out, &files)?;
    Ok(written)
}

/// The files of an OCI layout (OCI image-layout.md) holding one image with gzip layers.
fn oci_files(tag: &str, layers: &[Layer], config: &Value) -> Result<(Files, WrittenImage)> {
    let config_bytes = to_json(config)?;
    let mut files: Files = vec![(
        "oci-layout".into(),
        br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
    )];
    let mut layer_descriptors = Vec::new();
    let mut layer_digests = Vec::new();
    for layer in layers {
        let gz = layer.gzip()?;
        let digest = sha256_digest(&gz);
        layer_descriptors.push(descriptor(OCI_LAYER_GZIP, &gz));
        let path = format!("blobs/sha256/{}", digest_hex(&digest));
        if !files.iter().any(|(p, _)| *p == path) {
            files.push((path, gz));
        }
        layer_digests.push(digest);
    }
    let config_digest = sha256_digest(&config_bytes);
    files.push((
        format!("blobs/sha256/{}", digest_hex(&config_digest)),
        config_bytes.clone(),
    ));
    let manifest = to_json(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(OCI_CONFIG, &config_bytes),
        "layers": layer_descriptors,
    }))?;
    let manifest_digest = sha256_digest(&manifest);
    let mut entry = descriptor(OCI_MANIFEST, &manifest);
    entry["annotations"] = json!({ REF_NAME: full_name(tag) });
    entry["platform"] = json!({"architecture": host_architecture(), "os": "linux"});
    files.push((
        format!("blobs/sha256/{}", digest_hex(&manifest_digest)),
        manifest,
    ));
    files.push((
        "index.json".into(),
        to_json(&json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [entry]}))?,
    ));
    let written = WrittenImage {
        tag: tag.to_string(),
        config_digest,
        manifest_digest: Some(manifest_digest),
        diff_ids: layers.iter().map(Layer::diff_id).collect(),
        layer_digests,
    };
    Ok((files, written))
}

/// Writes an OCI layout directory at `dir` (created if needed) holding one image; its tag is
/// the full reference in `org.opencontainers.image.ref.name`.
pub fn write_oci_layout(
    dir: &Path,
    tag: &str,
    layers: &[Layer],
    config: &Value,
) -> Result<WrittenImage> {
    let (files, written) = oci_files(tag, layers, config)?;
    for (rel, bytes) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| TestkitError::io("create", parent, e))?;
        }
        fs::write(&path, bytes).map_err(|e| TestkitError::io("write", &path, e))?;
    }
    Ok(written)
}

/// Writes the same OCI layout as a tar archive.
pub fn write_oci_archive(
    out: &Path,
    tag: &str,
    layers: &[Layer],
    config: &Value,
) -> Result<WrittenImage> {
    let (files, written) = oci_files(tag, layers, config)?;
    write_tar(out, &files)?;
    Ok(written)
}

/// Writes `files` as a tar, with an entry for every directory before its first file.
fn write_tar(out: &Path, files: &Files) -> Result<()> {
    let file = File::create(out).map_err(|e| TestkitError::io("create", out, e))?;
    let mut builder = tar::Builder::new(BufWriter::new(file));
    let mut dirs_done: Vec<String> = Vec::new();
    for (rel, bytes) in files {
        let mut dir = String::new();
        for part in rel
            .split('/')
            .collect::<Vec<_>>()
            .split_last()
            .map_or(&[][..], |(_, d)| d)
        {
            dir.push_str(part);
            dir.push('/');
            if !dirs_done.contains(&dir) {
                let mut header = tar::Header::new_gnu();
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_uid(0);
                header.set_gid(0);
                header.set_mtime(MTIME);
                header.set_size(0);
                builder
                    .append_data(&mut header, &dir, &[][..])
                    .map_err(TestkitError::Tar)?;
                dirs_done.push(dir.clone());
            }
        }
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(MTIME);
        header.set_size(bytes.len() as u64);
        builder
            .append_data(&mut header, rel, &bytes[..])
            .map_err(TestkitError::Tar)?;
    }
    let mut writer = builder.into_inner().map_err(TestkitError::Tar)?;
    writer
        .flush()
        .map_err(|e| TestkitError::io("write", out, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LayerBuilder;
    use std::collections::BTreeMap;
    use std::io::Read;

    fn small_layer() -> Layer {
        let mut b = LayerBuilder::new();
        b.file("hello.txt", 0o644, b"hello\n").expect("file");
        b.finish().expect("finish")
    }

    fn read_tar(path: &Path) -> BTreeMap<String, Vec<u8>> {
        let mut archive = tar::Archive::new(File::open(path).expect("open"));
        let mut out = BTreeMap::new();
        for entry in archive.entries().expect("entries") {
            let mut entry = entry.expect("entry");
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).expect("read");
            out.insert(name, data);
        }
        out
    }

    #[test]
    fn classic_docker_archive_has_manifest_config_and_layers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layer = small_layer();
        let config = image_config(std::slice::from_ref(&layer), &["sh"], &["PATH=/bin"]);
        let out = dir.path().join("img.tar");
        let written = write_docker_archive(
            &out,
            "test:v1",
            std::slice::from_ref(&layer),
            &config,
            DockerLayout::Classic,
        )
        .expect("write");
        let files = read_tar(&out);
        let manifest: Value = serde_json::from_slice(&files["manifest.json"]).expect("json");
        assert_eq!(manifest[0]["RepoTags"][0], "test:v1");
        let config_path = manifest[0]["Config"].as_str().expect("config path");
        assert_eq!(sha256_digest(&files[config_path]), written.config_digest);
        let layer_path = manifest[0]["Layers"][0].as_str().expect("layer path");
        assert_eq!(files[layer_path], layer.tar());
        assert_eq!(written.diff_ids, vec![layer.diff_id()]);
        assert_eq!(written.manifest_digest, None);
        assert!(files.contains_key("repositories"));
    }

    #[test]
    fn blobs_docker_archive_also_is_an_oci_layout() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layer = small_layer();
        let config = image_config(std::slice::from_ref(&layer), &["sh"], &[]);
        let out = dir.path().join("img.tar");
        let written = write_docker_archive(&out, "a/b:c", &[layer], &config, DockerLayout::Blobs)
            .expect("write");
        let files = read_tar(&out);
        let index: Value = serde_json::from_slice(&files["index.json"]).expect("json");
        let entry = &index["manifests"][0];
        assert_eq!(
            Some(entry["digest"].as_str().expect("digest")),
            written.manifest_digest.as_deref()
        );
        assert_eq!(entry["annotations"][CONTAINERD_NAME], "docker.io/a/b:c");
        assert_eq!(entry["annotations"][REF_NAME], "c");
        assert!(files.contains_key("oci-layout"));
    }

    #[test]
    fn oci_layout_and_archive_hold_the_same_verified_blobs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layer = small_layer();
        let config = image_config(std::slice::from_ref(&layer), &["sh"], &[]);
        let layout = dir.path().join("layout");
        let a = write_oci_layout(
            &layout,
            "busybox:latest",
            std::slice::from_ref(&layer),
            &config,
        )
        .expect("layout");
        let b = write_oci_archive(
            &dir.path().join("oci.tar"),
            "busybox:latest",
            &[layer],
            &config,
        )
        .expect("archive");
        assert_eq!(a, b);
        for entry in fs::read_dir(layout.join("blobs/sha256")).expect("blobs") {
            let entry = entry.expect("entry");
            let bytes = fs::read(entry.path()).expect("read");
            assert_eq!(
                digest_hex(&sha256_digest(&bytes)),
                entry.file_name().to_string_lossy()
            );
        }
        let index: Value =
            serde_json::from_slice(&fs::read(layout.join("index.json")).expect("index"))
                .expect("json");
        assert_eq!(
            index["manifests"][0]["annotations"][REF_NAME],
            "docker.io/library/busybox:latest"
        );
    }

    #[test]
    fn names_are_normalised_like_docker() {
        assert_eq!(
            full_name("busybox:latest"),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(full_name("user/app:1"), "docker.io/user/app:1");
        assert_eq!(full_name("localhost:5000/app:1"), "localhost:5000/app:1");
        assert_eq!(tag_part("localhost:5000/app"), "latest");
        assert_eq!(tag_part("app:v2"), "v2");
    }
}
