//! Loading the testkit images (docker save, OCI layout, OCI archive, whiteout image) into a
//! temp data root, and the all-or-nothing failures: truncated, not an image, digest mismatch,
//! missing blob, bad JSON — each leaving no new file in blobs/ or layers/.

use berth_engine::digest::Digest;
use berth_engine::image::unpack::{get_xattr, OPAQUE_XATTR};
use berth_engine::image::{chain_ids, ImageError, ImageStore, LoadedImage};
use berth_testkit::{
    build_busybox_images, image_config, write_docker_archive, write_docker_archive_images,
    write_oci_layout, DockerLayout, ImageSpec, Layer, LayerBuilder, TestImages, BUSYBOX_PATH_ENV,
    WHITEOUT_ABSENT, WHITEOUT_PRESENT,
};
use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    images: TestImages,
    store: ImageStore,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let images = build_busybox_images(&dir.path().join("images")).expect("test images");
    let root = dir.path().join("data");
    let store = ImageStore::new(&root).expect("store");
    Fixture {
        _dir: dir,
        root,
        images,
        store,
    }
}

/// Every path under blobs/, layers/ and tmp/ (recursively for layers' top level only).
fn listing(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for sub in ["blobs/sha256", "layers", "tmp"] {
        for entry in fs::read_dir(root.join(sub)).expect("list") {
            let entry = entry.expect("entry");
            out.insert(format!("{sub}/{}", entry.file_name().to_string_lossy()));
        }
    }
    out
}

fn digest(s: &str) -> Digest {
    s.parse().expect("a digest")
}

fn load_one(store: &ImageStore, path: &Path) -> LoadedImage {
    let mut images = store
        .load_archive(path)
        .unwrap_or_else(|e| panic!("loading {}: {e}", path.display()));
    assert_eq!(images.len(), 1);
    images.remove(0)
}

fn assert_busybox_rootfs(dir: &Path) {
    let busybox = fs::symlink_metadata(dir.join("bin/busybox")).expect("bin/busybox");
    assert!(busybox.is_file());
    assert_eq!(busybox.mode() & 0o777, 0o755);
    assert_eq!(
        fs::read(dir.join("bin/busybox")).expect("read"),
        fs::read("/bin/busybox").expect("read host busybox")
    );
    assert_eq!(
        fs::read_link(dir.join("bin/sh")).expect("bin/sh"),
        Path::new("busybox")
    );
    let tmp = fs::symlink_metadata(dir.join("tmp")).expect("tmp");
    assert_eq!(tmp.mode() & 0o7777, 0o1777);
    assert!(fs::read_to_string(dir.join("etc/passwd"))
        .expect("passwd")
        .starts_with("root:x:0:0:"));
    for d in ["proc", "sys", "dev", "root", "etc"] {
        assert!(dir.join(d).is_dir(), "{d}");
    }
}

#[test]
fn loads_a_docker_save_archive() {
    let f = fixture();
    let image = load_one(&f.store, &f.images.busybox_docker);
    let written = &f.images.busybox;
    assert_eq!(image.id, digest(&written.config_digest));
    assert_eq!(image.repo_tags.len(), 1);
    assert_eq!(
        image.repo_tags[0].to_string(),
        "docker.io/library/busybox:latest"
    );
    assert_eq!(image.repo_tags[0].familiar(), "busybox:latest");
    assert_eq!(image.manifest_digest, None);
    let config = image.config.config.as_ref().expect("config object");
    assert_eq!(config.cmd, Some(vec!["sh".to_string()]));
    assert_eq!(config.env, vec![BUSYBOX_PATH_ENV.to_string()]);
    assert_eq!(Digest::of(image.config_json.as_bytes()), image.id);
    assert_eq!(image.layers.len(), 1);
    let layer = &image.layers[0];
    assert_eq!(layer.diff_id, digest(&written.diff_ids[0]));
    assert_eq!(
        layer.chain_id, layer.diff_id,
        "one layer: chain id = diff id"
    );
    assert_eq!(
        layer.blob_digest, layer.diff_id,
        "docker save layers are plain tars"
    );
    assert!(layer.size > 1_000_000, "busybox alone is over 1 MB");
    assert_eq!(image.size, layer.size);
    assert_busybox_rootfs(&f.store.layer_dir(&layer.chain_id));
    assert!(f.store.blobs().contains(&image.id));
    assert!(f.store.blobs().contains(&layer.blob_digest));
    assert_eq!(
        fs::read_dir(f.root.join("tmp")).expect("tmp").count(),
        0,
        "nothing is left in tmp/"
    );
}

#[test]
fn loads_an_oci_layout_directory_and_archive() {
    let f = fixture();
    let from_dir = load_one(&f.store, &f.images.busybox_oci_dir);
    let written = &f.images.busybox_oci;
    assert_eq!(from_dir.id, digest(&written.config_digest));
    assert_eq!(
        from_dir.manifest_digest,
        Some(digest(
            written.manifest_digest.as_deref().expect("oci manifest")
        ))
    );
    assert_eq!(from_dir.repo_tags[0].familiar(), "busybox:latest");
    let layer = &from_dir.layers[0];
    assert_eq!(layer.blob_digest, digest(&written.layer_digests[0]));
    assert_ne!(
        layer.blob_digest, layer.diff_id,
        "OCI layers are gzip-compressed"
    );
    assert_busybox_rootfs(&f.store.layer_dir(&layer.chain_id));
    // The layout directory itself is left as it was.
    assert!(f.images.busybox_oci_dir.join("index.json").is_file());

    let from_tar = load_one(&f.store, &f.images.busybox_oci_tar);
    assert_eq!(from_tar.id, from_dir.id);
    assert_eq!(from_tar.manifest_digest, from_dir.manifest_digest);
    assert_eq!(from_tar.layers, from_dir.layers);
    assert_eq!(fs::read_dir(f.root.join("tmp")).expect("tmp").count(), 0);
}

#[test]
fn a_layer_already_unpacked_is_not_unpacked_again() {
    let f = fixture();
    let first = load_one(&f.store, &f.images.busybox_docker);
    let dir = f.store.layer_dir(&first.layers[0].chain_id);
    let marker = dir.join("berth-test-marker");
    fs::write(&marker, b"still the same directory").expect("marker");
    let inode = fs::metadata(&dir).expect("layer dir").ino();
    // The OCI form has the same diff id (so chain id) with a different (gzip) blob.
    let again = load_one(&f.store, &f.images.busybox_oci_tar);
    assert_eq!(again.layers[0].chain_id, first.layers[0].chain_id);
    assert_eq!(fs::metadata(&dir).expect("layer dir").ino(), inode);
    assert!(marker.exists());
    let third = load_one(&f.store, &f.images.busybox_docker);
    assert_eq!(third.id, first.id);
    assert!(marker.exists());
    let layers = fs::read_dir(f.root.join("layers")).expect("layers").count();
    assert_eq!(layers, 1);
}

#[test]
fn whiteout_image_layers_carry_overlay_whiteouts() {
    let f = fixture();
    let image = load_one(&f.store, &f.images.whiteout_docker);
    let written = &f.images.whiteout;
    assert_eq!(image.id, digest(&written.config_digest));
    assert_eq!(
        image.manifest_digest,
        Some(digest(
            written.manifest_digest.as_deref().expect("docker 25 index")
        ))
    );
    assert_eq!(
        image.repo_tags[0].to_string(),
        "docker.io/berth-test/whiteout:latest"
    );
    assert_eq!(image.layers.len(), 2);
    let diff_ids: Vec<Digest> = image.layers.iter().map(|l| l.diff_id).collect();
    let expected_chain = chain_ids(&diff_ids);
    assert_eq!(image.layers[1].chain_id, expected_chain[1]);
    assert_eq!(
        image.layers[1].chain_id,
        Digest::of(format!("{} {}", diff_ids[0], diff_ids[1]).as_bytes())
    );
    let lower = f.store.layer_dir(&image.layers[0].chain_id);
    let upper = f.store.layer_dir(&image.layers[1].chain_id);
    assert_busybox_rootfs(&lower);
    for absent in WHITEOUT_ABSENT {
        assert!(
            fs::symlink_metadata(lower.join(absent)).is_ok(),
            "layer 1 has {absent}"
        );
    }
    for gone in ["data/gone.txt", "data/gone-dir"] {
        let meta = fs::symlink_metadata(upper.join(gone)).expect("whiteout");
        assert!(meta.file_type().is_char_device(), "{gone}");
        assert_eq!(meta.rdev(), 0, "{gone}");
    }
    assert_eq!(
        get_xattr(&upper.join("data/opaque-dir"), OPAQUE_XATTR).expect("xattr"),
        Some(b"y".to_vec())
    );
    for (path, contents) in WHITEOUT_PRESENT {
        let in_upper = upper.join(path);
        let in_lower = lower.join(path);
        let found = if in_upper.exists() {
            in_upper
        } else {
            in_lower
        };
        assert_eq!(
            fs::read_to_string(found).expect("read"),
            *contents,
            "{path}"
        );
    }
    assert!(fs::read_dir(upper.join("data")).expect("data").all(|e| !e
        .expect("entry")
        .file_name()
        .to_string_lossy()
        .starts_with(".wh.")));
}

/// Loads `path` into a store that already holds busybox and checks the error, and that
/// nothing was added to blobs/, layers/ or tmp/.
fn assert_load_fails(f: &Fixture, path: &Path, check: impl Fn(&ImageError) -> bool) {
    load_one(&f.store, &f.images.busybox_docker);
    let before = listing(&f.root);
    let err = f.store.load_archive(path).expect_err("the load must fail");
    assert!(check(&err), "unexpected error: {err}");
    assert_eq!(
        listing(&f.root),
        before,
        "the failed load left files behind ({err})"
    );
}

#[test]
fn a_truncated_archive_is_reported_and_leaves_nothing() {
    let f = fixture();
    let bytes = fs::read(&f.images.whiteout_docker).expect("read");
    let half = f._dir.path().join("half.tar");
    fs::write(&half, &bytes[..bytes.len() / 2]).expect("write");
    assert_load_fails(&f, &half, |e| matches!(e, ImageError::Truncated { .. }));
    // Without its end-of-archive blocks only: every entry is whole, the tar is not.
    let no_end = f._dir.path().join("no-end.tar");
    fs::write(&no_end, &bytes[..bytes.len() - 1024]).expect("write");
    assert_load_fails(&f, &no_end, |e| matches!(e, ImageError::Truncated { .. }));
}

#[test]
fn files_that_are_not_images_are_reported() {
    let f = fixture();
    let dir = f._dir.path();
    let mut b = LayerBuilder::new();
    b.file("readme.txt", 0o644, b"just a tar\n").expect("file");
    let plain_tar = dir.join("plain.tar");
    fs::write(&plain_tar, b.finish().expect("tar").tar()).expect("write");
    assert_load_fails(&f, &plain_tar, |e| {
        matches!(e, ImageError::NotAnImage { .. })
    });
    let garbage = dir.join("garbage.bin");
    fs::write(&garbage, vec![b'z'; 5000]).expect("write");
    assert_load_fails(&f, &garbage, |e| matches!(e, ImageError::NotAnImage { .. }));
    let empty = dir.join("empty.tar");
    fs::write(&empty, b"").expect("write");
    assert_load_fails(&f, &empty, |e| matches!(e, ImageError::NotAnImage { .. }));
    let empty_dir = dir.join("empty-dir");
    fs::create_dir(&empty_dir).expect("mkdir");
    assert_load_fails(&f, &empty_dir, |e| {
        matches!(e, ImageError::NotAnImage { .. })
    });
    let missing = dir.join("no-such-file.tar");
    assert_load_fails(&f, &missing, |e| matches!(e, ImageError::Io { .. }));
}

/// A copy of the OCI layout directory, to tamper with.
fn copy_layout(from: &Path, to: &Path) {
    fs::create_dir_all(to.join("blobs/sha256")).expect("mkdir");
    for name in ["oci-layout", "index.json"] {
        fs::copy(from.join(name), to.join(name)).expect("copy");
    }
    for entry in fs::read_dir(from.join("blobs/sha256")).expect("blobs") {
        let entry = entry.expect("entry");
        fs::copy(
            entry.path(),
            to.join("blobs/sha256").join(entry.file_name()),
        )
        .expect("copy");
    }
}

#[test]
fn a_blob_whose_digest_does_not_match_is_refused() {
    let f = fixture();
    let layout = f._dir.path().join("tampered");
    copy_layout(&f.images.busybox_oci_dir, &layout);
    let layer = layout
        .join("blobs/sha256")
        .join(f.images.busybox_oci.layer_digests[0].trim_start_matches("sha256:"));
    let mut bytes = fs::read(&layer).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    fs::write(&layer, &bytes).expect("write");
    assert_load_fails(&f, &layout, |e| matches!(e, ImageError::Digest { .. }));
}

#[test]
fn a_layer_that_is_not_the_one_the_config_names_is_refused() {
    let f = fixture();
    let dir = f._dir.path();
    let layer = |text: &[u8]| {
        let mut b = LayerBuilder::new();
        b.file("f.txt", 0o644, text).expect("file");
        b.finish().expect("tar")
    };
    let (claimed, shipped) = (layer(b"claimed"), layer(b"shipped"));
    let config = image_config(&[claimed], &["sh"], &[]);
    let path = dir.join("wrong-layer.tar");
    write_docker_archive(
        &path,
        "wrong:layer",
        &[shipped],
        &config,
        DockerLayout::Classic,
    )
    .expect("write");
    assert_load_fails(&f, &path, |e| {
        matches!(e, ImageError::DiffIdMismatch { index: 0, .. })
    });
    let two = image_config(&[layer(b"a"), layer(b"b")], &["sh"], &[]);
    let path = dir.join("count.tar");
    write_docker_archive(
        &path,
        "wrong:count",
        &[layer(b"a")],
        &two,
        DockerLayout::Blobs,
    )
    .expect("write");
    assert_load_fails(&f, &path, |e| {
        matches!(
            e,
            ImageError::LayerCount {
                layers: 1,
                diff_ids: 2,
                ..
            }
        )
    });
}

#[test]
fn a_missing_blob_is_reported() {
    let f = fixture();
    let layout = f._dir.path().join("missing");
    copy_layout(&f.images.busybox_oci_dir, &layout);
    let config = layout.join("blobs/sha256").join(
        f.images
            .busybox_oci
            .config_digest
            .trim_start_matches("sha256:"),
    );
    fs::remove_file(&config).expect("remove");
    assert_load_fails(&f, &layout, |e| matches!(e, ImageError::MissingBlob { .. }));
}

#[test]
fn bad_json_is_reported() {
    let f = fixture();
    let layout = f._dir.path().join("bad-index");
    copy_layout(&f.images.busybox_oci_dir, &layout);
    fs::write(
        layout.join("index.json"),
        b"{\"schemaVersion\": 2, \"manifests\": [",
    )
    .expect("write");
    assert_load_fails(&f, &layout, |e| matches!(e, ImageError::BadJson { .. }));

    // A config that is not an image config, correctly referenced by digest.
    let mut b = LayerBuilder::new();
    b.file("f", 0o644, b"x").expect("file");
    let layer = b.finish().expect("tar");
    let bad_config = serde_json::json!({"rootfs": {"type": "layers", "diff_ids": "not a list"}});
    let path = f._dir.path().join("bad-config");
    write_oci_layout(&path, "bad:config", &[layer], &bad_config).expect("write");
    assert_load_fails(&f, &path, |e| matches!(e, ImageError::BadJson { .. }));
}

#[test]
fn a_failed_load_keeps_what_was_there() {
    let f = fixture();
    let image = load_one(&f.store, &f.images.busybox_docker);
    let bytes = fs::read(&f.images.busybox_oci_tar).expect("read");
    let cut = f._dir.path().join("cut.tar");
    fs::write(&cut, &bytes[..bytes.len() - 700]).expect("write");
    assert!(f.store.load_archive(&cut).is_err());
    assert_busybox_rootfs(&f.store.layer_dir(&image.layers[0].chain_id));
    assert!(f.store.blobs().contains(&image.id));
}

fn small_layer(name: &str) -> Layer {
    let mut b = LayerBuilder::new();
    b.file(name, 0o644, name.as_bytes()).expect("file");
    b.finish().expect("tar")
}

#[test]
fn loads_every_image_of_a_multi_image_archive_sharing_base_layers() {
    for layout in [DockerLayout::Classic, DockerLayout::Blobs] {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ImageStore::new(&dir.path().join("data")).expect("store");
        let (base, a, b) = (small_layer("base"), small_layer("a"), small_layer("b"));
        let layers_a = [base.clone(), a];
        let layers_b = [base, b];
        let config_a = image_config(&layers_a, &["sh"], &[]);
        let config_b = image_config(&layers_b, &["sh"], &[]);
        let path = dir.path().join("two.tar");
        let written = write_docker_archive_images(
            &path,
            &[
                ImageSpec {
                    tag: "app-a:1",
                    layers: &layers_a,
                    config: &config_a,
                },
                ImageSpec {
                    tag: "localhost:5000/app-b:2",
                    layers: &layers_b,
                    config: &config_b,
                },
            ],
            layout,
        )
        .expect("write");
        let images = store.load_archive(&path).expect("load");
        assert_eq!(images.len(), 2, "{layout:?}");
        for (image, written) in images.iter().zip(&written) {
            assert_eq!(image.id, digest(&written.config_digest));
            assert_eq!(
                image.manifest_digest.map(|d| d.to_string()),
                written.manifest_digest
            );
            for layer in &image.layers {
                assert!(store.has_layer(&layer.chain_id));
            }
        }
        assert_eq!(images[0].repo_tags[0].familiar(), "app-a:1");
        assert_eq!(images[1].repo_tags[0].to_string(), "localhost:5000/app-b:2");
        assert_eq!(images[0].layers[0].chain_id, images[1].layers[0].chain_id);
        assert_ne!(images[0].layers[1].chain_id, images[1].layers[1].chain_id);
        let unpacked = fs::read_dir(dir.path().join("data/layers"))
            .expect("layers")
            .count();
        assert_eq!(unpacked, 3, "the shared base is unpacked once ({layout:?})");
        let top_b = store.layer_dir(&images[1].layers[1].chain_id);
        assert_eq!(fs::read(top_b.join("b")).expect("read"), b"b");
        assert!(
            !top_b.join("base").exists(),
            "layers are diffs, not merged trees"
        );
    }
}
