//! Builds berth's test images offline from Debian's busybox-static: layer tars, image configs,
//! `docker save` archives, OCI layouts and archives, and hostile layer tars.
//!
//! Everything is deterministic (fixed mtimes, owners and gzip headers), so the same busybox
//! binary always gives the same digests. Digests are plain `sha256:<hex>` strings: the kit
//! does not depend on the engine whose loader it tests.

mod busybox;
pub mod devnode;
pub mod hostile;
mod image;
mod layer;

pub use busybox::{
    add_busybox_rootfs, build_busybox_images, build_busybox_images_from, busybox_rootfs_tar,
    TestImages, BUSYBOX, BUSYBOX_PATH_ENV, WHITEOUT_ABSENT, WHITEOUT_PRESENT, WHITEOUT_TAG,
};
pub use image::{
    image_config, write_docker_archive, write_docker_archive_images, write_oci_archive,
    write_oci_layout, DockerLayout, ImageSpec, WrittenImage,
};
pub use layer::{Layer, LayerBuilder, MTIME};

use sha2::{Digest as _, Sha256};
use std::path::PathBuf;

/// Why building a test image failed.
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    #[error("failed to {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to build a tar: {0}")]
    Tar(std::io::Error),
    #[error("failed to run {program}: {detail}")]
    Command { program: String, detail: String },
}

impl TestkitError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        TestkitError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = TestkitError> = std::result::Result<T, E>;

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The hex part of a `sha256:<hex>` digest.
pub fn digest_hex(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap_or(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_sha256_strings() {
        assert_eq!(
            sha256_digest(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(digest_hex("sha256:ab"), "ab");
    }
}
