//! Hostile layer tars from the testkit against the unpacker, directly and through a full
//! archive load: each is refused or confined, and nothing is ever written outside the layer.

use berth_engine::image::unpack::{unpack_layer, UnpackError, Unpacked};
use berth_engine::image::{ImageError, ImageStore};
use berth_testkit::hostile::{self, PAYLOAD};
use berth_testkit::{image_config, write_docker_archive, DockerLayout, Layer};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// `<tmp>/outside/secret` (a file hostile tars aim at) and `<tmp>/root/` where the layer is
/// unpacked (as `<tmp>/root/layer`).
struct Scene {
    dir: tempfile::TempDir,
}

const SECRET: &[u8] = b"do not touch\n";

impl Scene {
    fn new() -> Scene {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir(dir.path().join("outside")).expect("mkdir");
        fs::create_dir(dir.path().join("root")).expect("mkdir");
        fs::write(dir.path().join("outside/secret"), SECRET).expect("write");
        Scene { dir }
    }

    fn outside(&self) -> PathBuf {
        self.dir.path().join("outside")
    }

    fn secret(&self) -> PathBuf {
        self.outside().join("secret")
    }

    fn layer(&self) -> PathBuf {
        self.dir.path().join("root/layer")
    }

    fn unpack(&self, layer: &Layer) -> Result<Unpacked, UnpackError> {
        unpack_layer(layer.tar(), &self.layer())
    }

    /// Every file under the scene except the layer dir, with its contents.
    fn outside_snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut pending = vec![self.dir.path().to_path_buf()];
        while let Some(dir) = pending.pop() {
            for entry in fs::read_dir(&dir).expect("list") {
                let path = entry.expect("entry").path();
                if path == self.layer() {
                    continue;
                }
                let meta = fs::symlink_metadata(&path).expect("lstat");
                if meta.is_dir() {
                    pending.push(path.clone());
                    out.insert(path, Vec::new());
                } else {
                    let contents = if meta.is_file() {
                        fs::read(&path).expect("read")
                    } else {
                        b"(special)".to_vec()
                    };
                    out.insert(path, contents);
                }
            }
        }
        out
    }

    /// Nothing outside the layer changed, the secret is intact and not linked to.
    fn assert_confined(&self, before: &BTreeMap<PathBuf, Vec<u8>>) {
        assert_eq!(
            &self.outside_snapshot(),
            before,
            "something was written outside the layer"
        );
        assert_eq!(fs::read(self.secret()).expect("secret"), SECRET);
        assert_eq!(fs::metadata(self.secret()).expect("secret").nlink(), 1);
    }
}

fn run(layer: &Layer) -> (Scene, Result<Unpacked, UnpackError>) {
    let scene = Scene::new();
    let before = scene.outside_snapshot();
    let result = scene.unpack(layer);
    scene.assert_confined(&before);
    (scene, result)
}

#[test]
fn dotdot_entries_are_refused() {
    for layer in [
        hostile::dotdot_entry("escaped.txt").expect("tar"),
        hostile::nested_dotdot_entry("escaped.txt").expect("tar"),
    ] {
        let (scene, result) = run(&layer);
        assert!(
            matches!(result, Err(UnpackError::Unsafe { .. })),
            "{result:?}"
        );
        assert!(!scene.dir.path().join("root/escaped.txt").exists());
        assert!(!scene.dir.path().join("escaped.txt").exists());
    }
}

#[test]
fn absolute_names_land_inside_the_layer() {
    let (scene, result) = run(&hostile::absolute_path("abs.txt").expect("tar"));
    result.expect("an absolute name is made relative");
    assert_eq!(
        fs::read(scene.layer().join("abs.txt")).expect("read"),
        PAYLOAD
    );
}

#[test]
fn writing_through_a_symlinked_directory_is_refused() {
    let scene = Scene::new();
    let before = scene.outside_snapshot();
    let result = scene.unpack(&hostile::symlink_escape(&scene.outside()).expect("tar"));
    assert!(
        matches!(result, Err(UnpackError::SymlinkParent { .. })),
        "{result:?}"
    );
    scene.assert_confined(&before);
    assert!(!scene.outside().join("pwned.txt").exists());

    let name = format!("berth-hostile-{}.txt", std::process::id());
    let (_scene, result) = run(&hostile::relative_symlink_escape(&name).expect("tar"));
    assert!(
        matches!(result, Err(UnpackError::SymlinkParent { .. })),
        "{result:?}"
    );
    assert!(!Path::new("/").join(&name).exists());
}

#[test]
fn a_file_replaces_a_symlink_instead_of_writing_through_it() {
    let scene = Scene::new();
    let before = scene.outside_snapshot();
    let result = scene.unpack(&hostile::symlink_then_file(&scene.secret()).expect("tar"));
    result.expect("unpacks");
    scene.assert_confined(&before);
    let link = fs::symlink_metadata(scene.layer().join("link")).expect("lstat");
    assert!(link.is_file(), "the symlink was replaced by the file");
    assert_eq!(fs::read(scene.layer().join("link")).expect("read"), PAYLOAD);
}

#[test]
fn hardlinks_must_stay_inside_the_layer() {
    let scene = Scene::new();
    let before = scene.outside_snapshot();
    let secret = scene.secret();
    let secret = secret.to_str().expect("utf-8 path");
    for target in [
        secret,
        "../outside/secret",
        "../../outside/secret",
        "/etc/passwd",
    ] {
        let layer = hostile::hardlink_outside(target).expect("tar");
        let _ = fs::remove_dir_all(scene.layer());
        let result = scene.unpack(&layer);
        assert!(
            matches!(result, Err(UnpackError::BadHardlink { .. })),
            "{target}: {result:?}"
        );
        scene.assert_confined(&before);
    }
    let _ = fs::remove_dir_all(scene.layer());
    let layer = hostile::hardlink_through_symlink(&scene.outside(), "secret").expect("tar");
    let result = scene.unpack(&layer);
    assert!(
        matches!(result, Err(UnpackError::BadHardlink { .. })),
        "{result:?}"
    );
    scene.assert_confined(&before);
}

#[test]
fn device_nodes_are_skipped() {
    let (scene, result) = run(&hostile::device_nodes().expect("tar"));
    let unpacked = result.expect("unpacks");
    assert_eq!(unpacked.skipped_devices, 2);
    assert!(fs::symlink_metadata(scene.layer().join("dev/evil-mem")).is_err());
    assert!(fs::symlink_metadata(scene.layer().join("dev/evil-disk")).is_err());
    assert!(scene.layer().join("ok.txt").is_file());
}

#[test]
fn setuid_setgid_and_sticky_bits_survive_the_chown() {
    let (scene, result) = run(&hostile::setuid_file().expect("tar"));
    result.expect("unpacks");
    let su = fs::metadata(scene.layer().join("bin/su")).expect("su");
    assert_eq!((su.mode() & 0o7777, su.uid(), su.gid()), (0o4755, 0, 0));
    let sg = fs::metadata(scene.layer().join("bin/sg")).expect("sg");
    assert_eq!(
        (sg.mode() & 0o7777, sg.uid(), sg.gid()),
        (0o2755, 1000, 1000)
    );
    let shared = fs::metadata(scene.layer().join("shared")).expect("shared");
    assert_eq!(shared.mode() & 0o7777, 0o1777);
}

#[test]
fn a_size_header_larger_than_the_data_is_truncation() {
    let (_scene, result) = run(&hostile::huge_size_header().expect("tar"));
    assert!(
        matches!(result, Err(UnpackError::Truncated(_))),
        "{result:?}"
    );
}

#[test]
fn sparse_files_are_refused_without_reading_their_holes() {
    let started = std::time::Instant::now();
    let (scene, result) = run(&hostile::huge_sparse_file().expect("tar"));
    assert!(
        matches!(result, Err(UnpackError::Unsupported { .. })),
        "{result:?}"
    );
    assert!(
        started.elapsed().as_secs() < 10,
        "the 1 PiB hole was not read"
    );
    assert!(!scene.layer().join("sparse.bin").exists());
}

/// Through a full load: refused layers leave no blob, layer or temp file behind.
#[test]
fn hostile_layers_in_an_archive_leave_the_store_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("data");
    let store = ImageStore::new(&root).expect("store");
    let outside = dir.path().join("outside");
    fs::create_dir(&outside).expect("mkdir");
    let cases = [
        hostile::dotdot_entry("escaped.txt").expect("tar"),
        hostile::symlink_escape(&outside).expect("tar"),
        hostile::hardlink_outside("../outside/x").expect("tar"),
        hostile::huge_size_header().expect("tar"),
        hostile::huge_sparse_file().expect("tar"),
    ];
    for (i, layer) in cases.iter().enumerate() {
        let config = image_config(std::slice::from_ref(layer), &["sh"], &[]);
        let archive = dir.path().join(format!("hostile-{i}.tar"));
        write_docker_archive(
            &archive,
            "hostile:test",
            std::slice::from_ref(layer),
            &config,
            DockerLayout::Blobs,
        )
        .expect("write");
        let err = store.load_archive(&archive).expect_err("refused");
        assert!(matches!(err, ImageError::Layer { .. }), "case {i}: {err}");
        for sub in ["blobs/sha256", "layers", "tmp"] {
            assert_eq!(
                fs::read_dir(root.join(sub)).expect("list").count(),
                0,
                "case {i} left something in {sub}"
            );
        }
        assert_eq!(
            fs::read_dir(&outside).expect("outside").count(),
            0,
            "case {i}"
        );
        assert!(!dir.path().join("escaped.txt").exists());
    }
}
