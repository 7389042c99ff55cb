//! `--device HOST[:CONTAINER][:PERMISSIONS]`, as docker's `docker run --device`: the flag's
//! syntax, the checks made when a container is created, and the host nodes a mapping names,
//! read again at every start (a node may have changed or gone meanwhile).
//!
//! docker's rules, followed here (docker CLI `parseDevice`/`validateLinuxPath`, the daemon's
//! `WithDevices` and `DevicesFromPath`; <https://docs.docker.com/reference/cli/docker/container/run/#device>):
//! - `HOST` alone maps the node to the same path with `rwm`; `HOST:PERMS` when the second
//!   part is a valid permission string, else `HOST:CONTAINER`; `HOST:CONTAINER:PERMS`.
//! - The permissions are a subset of `r` (read), `w` (write), `m` (mknod), each at most once.
//! - A host path that is a symlink is followed; a character or block node gives one device.
//! - A host directory gives every character and block node below it (symlinks below it are
//!   not followed), each at the same relative place below `CONTAINER` (`--device /dev/snd`).
//!   A path that is neither, or a directory without nodes, is an error.
//! - The node in the container has the host node's type, numbers, permission bits and owner.
//!
//! berth also requires the host path to be absolute (the daemon's working directory is no
//! business of the client's) and refuses two mappings to the same container path.

use crate::runtime::cgroup::{Access, DeviceKind};
use crate::runtime::DeviceSpec;
use berth_wire::container::DeviceMapping;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

/// The permissions of a mapping that names none.
pub const DEFAULT_PERMISSIONS: &str = "rwm";

/// Why a `--device` value or mapping is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    #[error("invalid --device {0:?}: expected HOST[:CONTAINER][:PERMISSIONS]")]
    Format(String),
    #[error(
        "invalid device permissions {0:?}: expected some of r (read), w (write) and m (mknod), \
         e.g. rwm or r"
    )]
    Permissions(String),
    #[error("invalid device path {0:?}: it needs to be an absolute path naming a file")]
    Path(String),
    #[error("device path {0:?} in the container is given twice")]
    Duplicate(String),
    /// docker's words for a host path that gives no device.
    #[error("error gathering device information while adding custom device {path:?}: {reason}")]
    Gather { path: String, reason: String },
}

/// Parses a `--device` value into a mapping with every field filled in.
pub fn parse(value: &str) -> Result<DeviceMapping, DeviceError> {
    let parts: Vec<&str> = value.split(':').collect();
    let format = || DeviceError::Format(value.to_string());
    let (host, container, permissions) = match parts.as_slice() {
        ["", ..] => return Err(format()),
        [host] => (*host, *host, DEFAULT_PERMISSIONS),
        [host, perms] if Access::parse(perms).is_some() => (*host, *host, *perms),
        [host, container] => (*host, *container, DEFAULT_PERMISSIONS),
        // Checked here: an empty third part is a bad mode to docker, not the default.
        [_, _, perms] if Access::parse(perms).is_none() => {
            return Err(DeviceError::Permissions(perms.to_string()))
        }
        [host, container, perms] => (*host, *container, *perms),
        _ => return Err(format()),
    };
    // Checked before normalise, which reads an empty container path as the host's.
    check_path(container)?;
    normalise(&DeviceMapping {
        path_on_host: host.to_string(),
        path_in_container: container.to_string(),
        cgroup_permissions: permissions.to_string(),
    })
}

/// A mapping as a create body may send it, with the defaults filled in (an empty container
/// path is the host path, empty permissions are `rwm`) and its syntax checked; the host is
/// not looked at.
pub fn normalise(mapping: &DeviceMapping) -> Result<DeviceMapping, DeviceError> {
    let container = match mapping.path_in_container.as_str() {
        "" => mapping.path_on_host.as_str(),
        path => path,
    };
    let permissions = match mapping.cgroup_permissions.as_str() {
        "" => DEFAULT_PERMISSIONS,
        perms => perms,
    };
    if Access::parse(permissions).is_none() {
        return Err(DeviceError::Permissions(permissions.to_string()));
    }
    for path in [mapping.path_on_host.as_str(), container] {
        check_path(path)?;
    }
    Ok(DeviceMapping {
        path_on_host: mapping.path_on_host.clone(),
        path_in_container: container.to_string(),
        cgroup_permissions: permissions.to_string(),
    })
}

/// Absolute, and naming something below `/` (not `/` itself, nor ending in `..`).
fn check_path(path: &str) -> Result<(), DeviceError> {
    let p = Path::new(path);
    let names_a_file = matches!(p.components().next_back(), Some(Component::Normal(_)));
    if p.is_absolute() && names_a_file && !path.contains('\0') {
        Ok(())
    } else {
        Err(DeviceError::Path(path.to_string()))
    }
}

/// The create-time check of a container's mappings: each normalised, and each host path
/// giving at least one device now (as docker's create fails only at start, berth fails
/// earlier, where the mistake is made).
pub fn check(mappings: &[DeviceMapping]) -> Result<Vec<DeviceMapping>, DeviceError> {
    let mut checked: Vec<DeviceMapping> = Vec::with_capacity(mappings.len());
    for mapping in mappings {
        let mapping = normalise(mapping)?;
        let target = Path::new(&mapping.path_in_container);
        if checked
            .iter()
            .any(|m| Path::new(&m.path_in_container) == target)
        {
            return Err(DeviceError::Duplicate(mapping.path_in_container));
        }
        resolve(&mapping)?;
        checked.push(mapping);
    }
    Ok(checked)
}

/// The nodes every mapping gives, from the host's nodes as they are now.
pub fn resolve_all(mappings: &[DeviceMapping]) -> Result<Vec<DeviceSpec>, DeviceError> {
    let mut nodes = Vec::new();
    for mapping in mappings {
        nodes.extend(resolve(&normalise(mapping)?)?);
    }
    Ok(nodes)
}

/// The nodes one (normalised) mapping gives: the host node, or every node below the host
/// directory (sorted by path, so a container gets them in the same order every start).
pub fn resolve(mapping: &DeviceMapping) -> Result<Vec<DeviceSpec>, DeviceError> {
    let access = Access::parse(&mapping.cgroup_permissions)
        .ok_or_else(|| DeviceError::Permissions(mapping.cgroup_permissions.clone()))?;
    let gather = |reason: String| DeviceError::Gather {
        path: mapping.path_on_host.clone(),
        reason,
    };
    let host = std::fs::canonicalize(&mapping.path_on_host).map_err(|e| gather(e.to_string()))?;
    let meta = std::fs::symlink_metadata(&host).map_err(|e| gather(e.to_string()))?;
    let container = PathBuf::from(&mapping.path_in_container);
    if let Some(node) = node(&meta, &container, access) {
        return Ok(vec![node]);
    }
    if !meta.is_dir() {
        return Err(gather("not a device node".to_string()));
    }
    let mut nodes = Vec::new();
    walk(&host, &container, access, &mut nodes);
    if nodes.is_empty() {
        return Err(gather("no device nodes in the directory".to_string()));
    }
    Ok(nodes)
}

/// Every character and block node below `dir`, depth first, entries in name order; entries
/// that cannot be read are skipped, as docker's walk skips them.
fn walk(dir: &Path, container: &Path, access: Access, nodes: &mut Vec<DeviceSpec>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let target = container.join(entry.file_name());
        let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
            continue;
        };
        if meta.is_dir() {
            walk(&entry.path(), &target, access, nodes);
        } else if let Some(node) = node(&meta, &target, access) {
            nodes.push(node);
        }
    }
}

/// The device a character or block node's metadata describes, to be made at `container`;
/// `None` for anything else (or a name that is not UTF-8).
fn node(meta: &std::fs::Metadata, container: &Path, access: Access) -> Option<DeviceSpec> {
    let kind = if meta.file_type().is_char_device() {
        DeviceKind::Char
    } else if meta.file_type().is_block_device() {
        DeviceKind::Block
    } else {
        return None;
    };
    let rdev = meta.rdev();
    Some(DeviceSpec {
        path: container.to_str()?.to_string(),
        kind,
        major: libc::major(rdev),
        minor: libc::minor(rdev),
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
        access,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(host: &str, container: &str, perms: &str) -> DeviceMapping {
        DeviceMapping {
            path_on_host: host.into(),
            path_in_container: container.into(),
            cgroup_permissions: perms.into(),
        }
    }

    #[test]
    fn values_parse_as_dockers() {
        for (value, want) in [
            ("/dev/fuse", mapping("/dev/fuse", "/dev/fuse", "rwm")),
            (
                "/dev/null:/dev/mynull",
                mapping("/dev/null", "/dev/mynull", "rwm"),
            ),
            ("/dev/zero:/dev/z:r", mapping("/dev/zero", "/dev/z", "r")),
            ("/dev/zero:rw", mapping("/dev/zero", "/dev/zero", "rw")),
            (
                "/dev/sda:/dev/xvdc:mr",
                mapping("/dev/sda", "/dev/xvdc", "mr"),
            ),
        ] {
            assert_eq!(parse(value), Ok(want), "{value}");
        }
    }

    #[test]
    fn bad_values_say_what_is_wrong() {
        let err = |value: &str| parse(value).unwrap_err();
        for value in ["", ":x:", ":/dev/x", "/a:/b:r:w", "/a:/b:rw:"] {
            assert_eq!(err(value), DeviceError::Format(value.into()), "{value}");
        }
        for (value, perms) in [("/dev/zero:/dev/z:rwz", "rwz"), ("/dev/zero:/dev/z:", "")] {
            assert_eq!(
                err(value),
                DeviceError::Permissions(perms.into()),
                "{value}"
            );
        }
        // Not a permission string, so a container path, and not an absolute one.
        assert_eq!(err("/dev/zero:rwz"), DeviceError::Path("rwz".into()));
        assert_eq!(err("/dev/zero:"), DeviceError::Path("".into()));
        assert_eq!(err("dev/zero"), DeviceError::Path("dev/zero".into()));
        assert_eq!(err("/dev/zero:/"), DeviceError::Path("/".into()));
        assert_eq!(
            err("/dev/zero:/dev/.."),
            DeviceError::Path("/dev/..".into())
        );
        assert_eq!(
            err("/dev/zero:/dev/z:rwz").to_string(),
            "invalid device permissions \"rwz\": expected some of r (read), w (write) and m \
             (mknod), e.g. rwm or r"
        );
        assert_eq!(
            err(":x:").to_string(),
            "invalid --device \":x:\": expected HOST[:CONTAINER][:PERMISSIONS]"
        );
    }

    #[test]
    fn a_create_body_gets_the_defaults() {
        assert_eq!(
            normalise(&mapping("/dev/null", "", "")),
            Ok(mapping("/dev/null", "/dev/null", "rwm"))
        );
        assert_eq!(
            normalise(&mapping("/dev/null", "/x", "rr")),
            Err(DeviceError::Permissions("rr".into()))
        );
        assert_eq!(
            normalise(&mapping("", "/x", "r")),
            Err(DeviceError::Path("".into()))
        );
    }

    #[test]
    fn a_node_gives_its_numbers_mode_and_owner() {
        let nodes = resolve(&mapping("/dev/null", "/dev/mynull", "r")).unwrap();
        let meta = std::fs::metadata("/dev/null").unwrap();
        assert_eq!(
            nodes,
            [DeviceSpec {
                path: "/dev/mynull".into(),
                kind: DeviceKind::Char,
                major: 1,
                minor: 3,
                mode: meta.mode() & 0o7777,
                uid: meta.uid(),
                gid: meta.gid(),
                access: Access::READ,
            }]
        );
    }

    #[test]
    fn what_is_not_a_device_is_refused_at_check() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        for (path, reason) in [
            (file.clone(), "not a device node"),
            (empty.clone(), "no device nodes in the directory"),
            (dir.path().join("nosuch"), "No such file or directory"),
        ] {
            let path = path.to_str().unwrap();
            let err = check(&[mapping(path, "", "")]).unwrap_err();
            assert!(
                matches!(&err, DeviceError::Gather { path: p, reason: r }
                    if p == path && r.contains(reason)),
                "{path}: {err}"
            );
        }
        let twice = [
            mapping("/dev/null", "/dev/x", ""),
            mapping("/dev/zero", "/dev//x", ""),
        ];
        assert_eq!(check(&twice), Err(DeviceError::Duplicate("/dev//x".into())));
        assert_eq!(
            check(&[mapping("/dev/null", "", "")]),
            Ok(vec![mapping("/dev/null", "/dev/null", "rwm")])
        );
    }

    /// Directories and symlinks, with nodes made on the host: needs root (CAP_MKNOD).
    #[test]
    fn a_directory_gives_every_node_below_it() {
        // Fails, never passes quietly, without root: the test command runs as root.
        assert!(
            nix::unistd::geteuid().is_root(),
            "this test makes device nodes on the host: run it as root"
        );
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("snd");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        let mknod = |path: &Path, kind: nix::sys::stat::SFlag, major, minor| {
            nix::sys::stat::mknod(
                path,
                kind,
                nix::sys::stat::Mode::from_bits_truncate(0o640),
                nix::sys::stat::makedev(major, minor),
            )
            .unwrap();
        };
        use nix::sys::stat::SFlag;
        mknod(&root.join("b"), SFlag::S_IFCHR, 1, 3);
        mknod(&root.join("sub/a"), SFlag::S_IFBLK, 7, 1);
        std::fs::write(root.join("file"), "").unwrap();
        std::os::unix::fs::symlink("/dev/zero", root.join("link")).unwrap();
        let host = root.to_str().unwrap();
        let nodes = resolve(&mapping(host, "/dev/snd", "rw")).unwrap();
        let got: Vec<_> = nodes
            .iter()
            .map(|n| (n.path.as_str(), n.kind, n.major, n.minor, n.mode))
            .collect();
        assert_eq!(
            got,
            [
                ("/dev/snd/b", DeviceKind::Char, 1, 3, 0o640),
                ("/dev/snd/sub/a", DeviceKind::Block, 7, 1, 0o640),
            ]
        );
        // A symlink given as the host path is followed.
        let link = root.join("link");
        let nodes = resolve(&mapping(link.to_str().unwrap(), "/dev/z", "r")).unwrap();
        assert_eq!((nodes[0].major, nodes[0].minor), (1, 5));
    }
}
