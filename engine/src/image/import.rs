//! `import`: makes a single-layer image from a root file system tarball (plain or gzip), as
//! `docker import` does: the tarball becomes the layer blob as given, its unpacked tree the
//! layer, and a new config (this host's platform, no Cmd) names it by its diff id.

use super::config::{ContainerConfig, History, RootFs};
use super::store::{create_temp_dir, TempPath};
use super::unpack::{self, UnpackError};
use super::{archive, ImageConfig, ImageError, ImageStore, LayerInfo, LoadedImage, Reference};
use std::fs::File;
use std::io;
use std::path::Path;

/// What an imported image is called and says about itself.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Tags the image gets (none: it is dangling, known by its id).
    pub tags: Vec<Reference>,
    /// The history comment; docker's default is `Imported from -`.
    pub message: Option<String>,
    /// The config's `created` (RFC 3339).
    pub created: String,
}

/// Imports `rootfs` into the store. All or nothing: a file that is not a complete tar leaves
/// no blob and no layer behind. Blocking.
pub(crate) fn import(
    store: &ImageStore,
    rootfs: &Path,
    options: ImportOptions,
) -> Result<LoadedImage, ImageError> {
    let work = create_temp_dir(store.tmp_dir(), "import")?;
    let not_a_rootfs = |reason: String| ImageError::NotAnImage {
        path: rootfs.to_path_buf(),
        reason,
    };
    let file = File::open(rootfs).map_err(|e| ImageError::io("open", rootfs, e))?;
    let layer_blob = store
        .blobs()
        .stage(io::BufReader::new(file), None, None, work.path())?;
    if layer_blob.size() == 0 {
        return Err(not_a_rootfs("the file is empty".into()));
    }
    let layer_dir = TempPath::new(work.path().join("layer"));
    let staged =
        File::open(layer_blob.path()).map_err(|e| ImageError::io("open", layer_blob.path(), e))?;
    let unpacked = unpack::unpack_layer(io::BufReader::new(staged), layer_dir.path()).map_err(
        |e| match e {
            UnpackError::Tar(e) => not_a_rootfs(archive::not_a_tar(&e)),
            UnpackError::Truncated(detail) => ImageError::Truncated {
                path: rootfs.to_path_buf(),
                detail,
            },
            other => ImageError::BadArchive {
                path: rootfs.to_path_buf(),
                source: other,
            },
        },
    )?;
    if !unpacked.end_marker {
        return Err(if unpacked.entries == 0 {
            not_a_rootfs("it is not a tar archive".into())
        } else {
            ImageError::Truncated {
                path: rootfs.to_path_buf(),
                detail: "the tar stops without its end-of-archive block".into(),
            }
        });
    }
    let size = unpack::layer_size(layer_dir.path())?;
    let config = ImageConfig {
        created: Some(options.created.clone()),
        architecture: archive::host_architecture().into(),
        os: "linux".into(),
        // No Cmd, Entrypoint or Env, as docker's import: the user names the command.
        config: Some(ContainerConfig::default()),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: vec![unpacked.diff_id],
        },
        history: vec![History {
            created: Some(options.created),
            comment: Some(
                options
                    .message
                    .unwrap_or_else(|| "Imported from -".to_string()),
            ),
            ..Default::default()
        }],
        ..Default::default()
    };
    let config_json = serde_json::to_string(&config).map_err(|source| ImageError::BadJson {
        what: "the new image config".into(),
        source,
    })?;
    let config_blob = store
        .blobs()
        .stage(config_json.as_bytes(), None, None, work.path())?;
    let id = *config_blob.digest();
    let layer = LayerInfo {
        blob_digest: *layer_blob.digest(),
        diff_id: unpacked.diff_id,
        // A single layer's chain id is its diff id (config.md "Layer ChainID").
        chain_id: unpacked.diff_id,
        size,
    };
    archive::sync_filesystem(work.path())?;
    store.blobs().commit(layer_blob)?;
    store.blobs().commit(config_blob)?;
    if store.has_layer(&layer.chain_id) {
        drop(layer_dir);
    } else {
        store.commit_layer(&layer.chain_id, layer_dir)?;
        super::store::sync_dir(store.layers_root())?;
    }
    Ok(LoadedImage {
        id,
        repo_tags: options.tags,
        manifest_digest: None,
        config,
        config_json,
        layers: vec![layer],
        size,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::fs;

    fn options() -> ImportOptions {
        ImportOptions {
            created: "2024-05-06T07:08:09Z".into(),
            ..Default::default()
        }
    }

    /// A one-file rootfs tar (`etc/hello`).
    pub(crate) fn rootfs_tar() -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(3);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, "etc/hello", &b"hi\n"[..])
            .expect("append");
        builder.into_inner().expect("tar")
    }

    pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).expect("gzip");
        encoder.finish().expect("gzip")
    }

    fn store_entries(root: &Path) -> Vec<String> {
        let mut out = Vec::new();
        for dir in ["blobs/sha256", "layers", "tmp"] {
            for entry in fs::read_dir(root.join(dir)).expect("list") {
                out.push(format!(
                    "{dir}/{}",
                    entry.expect("entry").file_name().to_string_lossy()
                ));
            }
        }
        out.sort();
        out
    }

    #[test]
    fn a_plain_or_gzip_rootfs_becomes_one_layer_without_a_command() {
        let root = tempfile::tempdir().expect("tempdir");
        let store = ImageStore::new(root.path()).expect("store");
        let plain = root.path().join("rootfs.tar");
        fs::write(&plain, rootfs_tar()).expect("write");
        let image = import(&store, &plain, options()).expect("import");
        assert_eq!(image.layers.len(), 1);
        let layer = &image.layers[0];
        assert_eq!(layer.diff_id, layer.chain_id);
        assert_eq!(
            layer.blob_digest, layer.diff_id,
            "a plain tar is its own diff"
        );
        assert_eq!(
            fs::read(store.layer_dir(&layer.chain_id).join("etc/hello")).expect("read"),
            b"hi\n"
        );
        assert_eq!(
            image.id,
            crate::digest::Digest::of(image.config_json.as_bytes())
        );
        assert!(store.blobs().contains(&image.id));
        let config: serde_json::Value =
            serde_json::from_str(&image.config_json).expect("config json");
        assert_eq!(config["os"], "linux");
        assert_eq!(config["created"], "2024-05-06T07:08:09Z");
        assert!(config["config"].get("Cmd").is_none());
        assert_eq!(config["history"][0]["comment"], "Imported from -");

        let gz = root.path().join("rootfs.tar.gz");
        fs::write(&gz, gzip(&rootfs_tar())).expect("write");
        let from_gz = import(&store, &gz, options()).expect("import gz");
        assert_eq!(from_gz.layers[0].diff_id, layer.diff_id, "same content");
        assert_ne!(from_gz.layers[0].blob_digest, layer.blob_digest);
        assert_eq!(from_gz.id, image.id, "same config: the same image");
        assert!(fs::read_dir(root.path().join("tmp"))
            .expect("tmp")
            .next()
            .is_none());
    }

    #[test]
    fn garbage_and_truncated_files_leave_nothing_behind() {
        let root = tempfile::tempdir().expect("tempdir");
        let store = ImageStore::new(root.path()).expect("store");
        let before = store_entries(root.path());
        let tar = rootfs_tar();
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("empty", Vec::new()),
            ("text", b"this is not a tarball\n".to_vec()),
            (
                "random",
                (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect(),
            ),
            ("cut", tar[..700].to_vec()),
        ];
        for (name, bytes) in cases {
            let path = root.path().join(name);
            fs::write(&path, bytes).expect("write");
            let err = import(&store, &path, options()).expect_err(name);
            let message = err.to_string();
            assert!(
                !message.contains('\n') && message.chars().all(|c| !c.is_control()),
                "{name}: one printable line: {message:?}"
            );
            assert!(
                matches!(
                    err,
                    ImageError::NotAnImage { .. } | ImageError::Truncated { .. }
                ),
                "{name}: {err}"
            );
            assert_eq!(store_entries(root.path()), before, "{name} left something");
        }
    }
}
