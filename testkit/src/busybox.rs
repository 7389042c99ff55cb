//! The ready-made test images: a busybox rootfs from Debian's busybox-static, written as a
//! `docker save` tar, an OCI layout and an OCI archive, plus a two-layer whiteout image.

use crate::image::{
    image_config, write_docker_archive, write_oci_archive, write_oci_layout, DockerLayout,
    WrittenImage,
};
use crate::layer::{Layer, LayerBuilder};
use crate::{Result, TestkitError};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Debian's busybox-static puts its binary.
pub const BUSYBOX: &str = "/bin/busybox";
/// The `Env` of the busybox images.
pub const BUSYBOX_PATH_ENV: &str =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// The tag of the two-layer whiteout image.
pub const WHITEOUT_TAG: &str = "berth-test/whiteout:latest";
/// Paths (from the root) a container of the whiteout image sees, and their contents.
pub const WHITEOUT_PRESENT: &[(&str, &str)] = &[
    ("data/keep.txt", "kept from layer 1\n"),
    ("data/added.txt", "added by layer 2\n"),
    ("data/opaque-dir/new.txt", "new in layer 2\n"),
];
/// Paths of layer 1 that layer 2 deletes (a file, a directory, and a file hidden by an
/// opaque directory).
pub const WHITEOUT_ABSENT: &[&str] = &["data/gone.txt", "data/gone-dir", "data/opaque-dir/old.txt"];

/// Everything `berth-testkit images OUT_DIR` writes.
#[derive(Debug, Clone)]
pub struct TestImages {
    /// `busybox.tar`: `docker save` (classic form), tag `busybox:latest`.
    pub busybox_docker: PathBuf,
    /// `busybox-oci/`: an OCI layout directory with a gzip layer.
    pub busybox_oci_dir: PathBuf,
    /// `busybox-oci.tar`: the same layout as a tar.
    pub busybox_oci_tar: PathBuf,
    /// `whiteout.tar`: `docker save` (docker-25 blobs form), tag [`WHITEOUT_TAG`].
    pub whiteout_docker: PathBuf,
    pub busybox: WrittenImage,
    /// The OCI forms share the config (and so the image id) of `busybox`.
    pub busybox_oci: WrittenImage,
    pub whiteout: WrittenImage,
}

/// The applets the busybox binary provides (`busybox --list`).
fn applets(busybox: &Path) -> Result<Vec<String>> {
    let output =
        Command::new(busybox)
            .arg("--list")
            .output()
            .map_err(|e| TestkitError::Command {
                program: busybox.display().to_string(),
                detail: e.to_string(),
            })?;
    if !output.status.success() {
        return Err(TestkitError::Command {
            program: busybox.display().to_string(),
            detail: format!(
                "--list exited with {}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|a| !a.is_empty() && *a != "busybox" && !a.contains('/'))
        .map(str::to_string)
        .collect())
}

/// Adds a minimal busybox root file system: `/bin/busybox` and a symlink per applet in
/// `/bin`, `/etc/passwd` and `/etc/group` (root and nobody), `/tmp` (1777), `/root` (0700),
/// and empty `/proc`, `/sys`, `/dev`.
pub fn add_busybox_rootfs(builder: &mut LayerBuilder, busybox: &Path) -> Result<()> {
    let binary = fs::read(busybox).map_err(|e| TestkitError::io("read", busybox, e))?;
    let applets = applets(busybox)?;
    for (dir, mode) in [
        ("bin", 0o755),
        ("dev", 0o755),
        ("etc", 0o755),
        ("proc", 0o555),
        ("root", 0o700),
        ("sys", 0o555),
        ("tmp", 0o1777),
        ("usr", 0o755),
        ("usr/bin", 0o755),
        ("var", 0o755),
    ] {
        builder.dir(dir, mode)?;
    }
    builder.file("bin/busybox", 0o755, &binary)?;
    for applet in &applets {
        builder.symlink(&format!("bin/{applet}"), "busybox")?;
    }
    builder.file(
        "etc/passwd",
        0o644,
        b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    )?;
    builder.file("etc/group", 0o644, b"root:x:0:\nnogroup:x:65534:\n")?;
    Ok(())
}

/// The busybox rootfs as one layer.
pub fn busybox_rootfs_tar(busybox: &Path) -> Result<Layer> {
    let mut builder = LayerBuilder::new();
    add_busybox_rootfs(&mut builder, busybox)?;
    builder.finish()
}

/// Builds all test images into `out_dir` from [`BUSYBOX`].
pub fn build_busybox_images(out_dir: &Path) -> Result<TestImages> {
    build_busybox_images_from(Path::new(BUSYBOX), out_dir)
}

/// Builds all test images into `out_dir` (created if needed) from the given busybox binary.
pub fn build_busybox_images_from(busybox: &Path, out_dir: &Path) -> Result<TestImages> {
    fs::create_dir_all(out_dir).map_err(|e| TestkitError::io("create", out_dir, e))?;
    let rootfs = busybox_rootfs_tar(busybox)?;
    let layers = [rootfs];
    let config = image_config(&layers, &["sh"], &[BUSYBOX_PATH_ENV]);

    let busybox_docker = out_dir.join("busybox.tar");
    let busybox_image = write_docker_archive(
        &busybox_docker,
        "busybox:latest",
        &layers,
        &config,
        DockerLayout::Classic,
    )?;
    let busybox_oci_dir = out_dir.join("busybox-oci");
    if busybox_oci_dir.exists() {
        fs::remove_dir_all(&busybox_oci_dir)
            .map_err(|e| TestkitError::io("remove", &busybox_oci_dir, e))?;
    }
    let busybox_oci = write_oci_layout(&busybox_oci_dir, "busybox:latest", &layers, &config)?;
    let busybox_oci_tar = out_dir.join("busybox-oci.tar");
    write_oci_archive(&busybox_oci_tar, "busybox:latest", &layers, &config)?;

    let whiteout_layers = whiteout_layers(busybox)?;
    let whiteout_config = image_config(&whiteout_layers, &["sh"], &[BUSYBOX_PATH_ENV]);
    let whiteout_docker = out_dir.join("whiteout.tar");
    let whiteout = write_docker_archive(
        &whiteout_docker,
        WHITEOUT_TAG,
        &whiteout_layers,
        &whiteout_config,
        DockerLayout::Blobs,
    )?;
    Ok(TestImages {
        busybox_docker,
        busybox_oci_dir,
        busybox_oci_tar,
        whiteout_docker,
        busybox: busybox_image,
        busybox_oci,
        whiteout,
    })
}

/// Layer 1: busybox plus `/data` files; layer 2 deletes a file and a directory of layer 1,
/// makes `/data/opaque-dir` opaque and adds files (see [`WHITEOUT_PRESENT`] and
/// [`WHITEOUT_ABSENT`]).
fn whiteout_layers(busybox: &Path) -> Result<Vec<Layer>> {
    let mut lower = LayerBuilder::new();
    add_busybox_rootfs(&mut lower, busybox)?;
    lower
        .dir("data", 0o755)?
        .file("data/keep.txt", 0o644, b"kept from layer 1\n")?
        .file("data/gone.txt", 0o644, b"deleted by layer 2\n")?
        .dir("data/gone-dir", 0o755)?
        .file(
            "data/gone-dir/inner.txt",
            0o644,
            b"deleted with its directory\n",
        )?
        .dir("data/opaque-dir", 0o755)?
        .file(
            "data/opaque-dir/old.txt",
            0o644,
            b"hidden by the opaque marker\n",
        )?;
    let mut upper = LayerBuilder::new();
    upper
        .dir("data", 0o755)?
        .whiteout("data/gone.txt")?
        .whiteout("data/gone-dir")?
        .dir("data/opaque-dir", 0o755)?
        .opaque("data/opaque-dir")?
        .file("data/opaque-dir/new.txt", 0o644, b"new in layer 2\n")?
        .file("data/added.txt", 0o644, b"added by layer 2\n")?;
    Ok(vec![lower.finish()?, upper.finish()?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn have_busybox() -> bool {
        Path::new(BUSYBOX).is_file()
    }

    #[test]
    fn rootfs_has_busybox_applets_and_base_files() {
        assert!(
            have_busybox(),
            "busybox-static must be installed at {BUSYBOX}"
        );
        let layer = busybox_rootfs_tar(Path::new(BUSYBOX)).expect("rootfs");
        let mut archive = tar::Archive::new(layer.tar());
        let mut names = Vec::new();
        let mut tmp_mode = None;
        let mut sh_target = None;
        for entry in archive.entries().expect("entries") {
            let mut entry = entry.expect("entry");
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            if name == "tmp/" || name == "tmp" {
                tmp_mode = entry.header().mode().ok();
            }
            if name == "bin/sh" {
                sh_target = entry
                    .link_name_bytes()
                    .map(|l| String::from_utf8_lossy(&l).into_owned());
            }
            entry.read_to_end(&mut Vec::new()).expect("read");
            names.push(name.trim_end_matches('/').to_string());
        }
        for wanted in [
            "bin/busybox",
            "etc/passwd",
            "etc/group",
            "proc",
            "sys",
            "dev",
            "root",
        ] {
            assert!(names.iter().any(|n| n == wanted), "{wanted} missing");
        }
        assert_eq!(tmp_mode, Some(0o1777));
        assert_eq!(sh_target.as_deref(), Some("busybox"));
    }

    #[test]
    fn builds_every_image_deterministically() {
        assert!(
            have_busybox(),
            "busybox-static must be installed at {BUSYBOX}"
        );
        let a = tempfile::tempdir().expect("tempdir");
        let b = tempfile::tempdir().expect("tempdir");
        let first = build_busybox_images(a.path()).expect("build");
        let second = build_busybox_images(b.path()).expect("build again");
        for path in [
            &first.busybox_docker,
            &first.busybox_oci_tar,
            &first.whiteout_docker,
        ] {
            assert!(path.is_file(), "{}", path.display());
        }
        assert!(first.busybox_oci_dir.join("index.json").is_file());
        assert_eq!(first.busybox.config_digest, second.busybox.config_digest);
        assert_eq!(first.busybox.config_digest, first.busybox_oci.config_digest);
        assert_eq!(first.whiteout.diff_ids.len(), 2);
        // Layer 1 of the whiteout image is busybox plus /data: not the busybox layer.
        assert_ne!(first.whiteout.diff_ids[0], first.busybox.diff_ids[0]);
        assert_eq!(
            fs::read(&first.busybox_docker).expect("read"),
            fs::read(&second.busybox_docker).expect("read")
        );
    }
}
