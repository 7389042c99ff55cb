//! A container's mounts as the user asks for them (`-v`, `--mount`, `--tmpfs`) plus the image
//! config's `Volumes`, parsed and checked at create time with docker's rules and messages, and
//! turned into the runtime's [`MountSpec`]s at start.

use crate::runtime::{MountKind, MountOptions, MountSpec};
use crate::units::parse_size;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub use berth_wire::container::MountType;

/// One mount of a container, as stored in its config.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MountConfig {
    pub kind: MountType,
    /// The volume's name, the host path of a bind mount, empty for tmpfs.
    pub source: String,
    /// Absolute, cleaned path inside the container.
    pub destination: String,
    pub readonly: bool,
    /// A volume made for this container (the image's `Volumes`, `-v /path`, `--mount`
    /// without a source): removed with it by `rm -v` and `run --rm`.
    #[serde(default)]
    pub anonymous: bool,
    /// Copy the image's content at the destination into the volume while it is empty
    /// (docker's default; `nocopy` / `volume-nocopy` turn it off).
    #[serde(default)]
    pub copy: bool,
    /// tmpfs size in bytes (`size=` / `tmpfs-size=`); unlimited (half of RAM) when absent.
    #[serde(default)]
    pub tmpfs_size: Option<u64>,
    /// tmpfs root mode (`mode=` / `tmpfs-mode=`), default 1777.
    #[serde(default)]
    pub tmpfs_mode: Option<u32>,
}

impl MountConfig {
    fn new(kind: MountType, source: &str, destination: &str) -> MountConfig {
        MountConfig {
            kind,
            source: source.to_string(),
            destination: destination.to_string(),
            readonly: false,
            anonymous: false,
            copy: kind == MountType::Volume,
            tmpfs_size: None,
            tmpfs_mode: None,
        }
    }
}

/// The longest volume name: it is a directory name under the data root (NAME_MAX).
pub const MAX_VOLUME_NAME: usize = 255;

/// docker's rule for local volume names, plus the file system's limit on a name's length.
pub fn validate_volume_name(name: &str) -> Result<()> {
    if name.len() > MAX_VOLUME_NAME {
        let shown: String = name.chars().take(64).collect();
        return Err(Error::InvalidInput(format!(
            "create {shown}…: a volume name is at most {MAX_VOLUME_NAME} characters"
        )));
    }
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if name.len() >= 2 && first_ok && rest_ok {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "create {name}: \"{name}\" includes invalid characters for a local volume name, \
             only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host \
             directory, use absolute path"
        )))
    }
}

/// Every mount of a new container: the user's `-v`, `--mount` and `--tmpfs`, then an anonymous
/// volume for each image `Volumes` path none of them covers. Destinations are checked
/// (absolute, not `/`, no duplicates); anonymous volumes get fresh names.
pub fn container_mounts(
    volumes: &[String],
    mounts: &[String],
    tmpfs: &[String],
    image_volumes: &[String],
) -> Result<Vec<MountConfig>> {
    let mut out: Vec<MountConfig> = Vec::new();
    let parsed = volumes
        .iter()
        .map(|v| parse_volume_flag(v))
        .chain(mounts.iter().map(|m| parse_mount_flag(m)))
        .chain(tmpfs.iter().map(|t| parse_tmpfs_flag(t)));
    for mount in parsed {
        let mount = mount?;
        if out.iter().any(|m| m.destination == mount.destination) {
            return Err(Error::InvalidInput(format!(
                "Duplicate mount point: {}",
                mount.destination
            )));
        }
        out.push(mount);
    }
    for path in image_volumes {
        let Ok(destination) = destination(path) else {
            // An image's odd `Volumes` key is skipped, as docker skips what it cannot mount.
            continue;
        };
        if !out.iter().any(|m| m.destination == destination) {
            out.push(MountConfig::new(MountType::Volume, "", &destination));
        }
    }
    for mount in &mut out {
        if mount.kind == MountType::Volume && mount.source.is_empty() {
            mount.source = crate::ids::new_id();
            mount.anonymous = true;
        }
    }
    Ok(out)
}

/// Lexically cleans an absolute container path (`.`/`..`/`//` resolved, as Go's
/// `filepath.Clean`) and refuses relative paths and `/`.
fn destination(path: &str) -> Result<String> {
    if !path.starts_with('/') {
        return Err(Error::InvalidInput(format!(
            "invalid mount path: '{path}' mount path must be absolute"
        )));
    }
    let clean = berth_wire::files::normalise(path);
    if clean == "/" {
        return Err(Error::InvalidInput(format!(
            "invalid mount path: '{path}': destination can't be '/'"
        )));
    }
    Ok(clean)
}

/// `-v [SOURCE:]DEST[:OPTIONS]`: SOURCE is a host path when absolute, else a volume name;
/// without one, an anonymous volume.
pub fn parse_volume_flag(spec: &str) -> Result<MountConfig> {
    let invalid = || Error::InvalidInput(format!("invalid volume specification: '{spec}'"));
    let parts: Vec<&str> = spec.split(':').collect();
    let (source, dest, options) = match parts.as_slice() {
        [dest] => ("", *dest, ""),
        // docker: a destination with a mode but no source is not a volume spec.
        [_, second] if is_volume_option_list(second) => return Err(invalid()),
        [source, dest] => (*source, *dest, ""),
        [source, dest, options] => (*source, *dest, *options),
        _ => return Err(invalid()),
    };
    if dest.is_empty() || (parts.len() > 1 && source.is_empty()) {
        return Err(invalid());
    }
    let kind = if source.starts_with('/') {
        MountType::Bind
    } else {
        if !source.is_empty() {
            validate_volume_name(source)?;
        }
        MountType::Volume
    };
    let source = if kind == MountType::Bind {
        clean_host_path(source)
    } else {
        source.to_string()
    };
    let mut mount = MountConfig::new(kind, &source, &destination(dest)?);
    for option in options.split(',').filter(|o| !o.is_empty()) {
        match option {
            "ro" => mount.readonly = true,
            "rw" => mount.readonly = false,
            "nocopy" if kind == MountType::Volume => mount.copy = false,
            // SELinux relabelling and the default propagation: nothing to do here.
            "z" | "Z" | "private" | "rprivate" => {}
            "shared" | "rshared" | "slave" | "rslave" => {
                return Err(Error::InvalidInput(format!(
                    "invalid volume specification: '{spec}': mount propagation {option} is not supported"
                )))
            }
            _ => {
                return Err(Error::InvalidInput(format!(
                    "invalid mode: {option} in '{spec}'"
                )))
            }
        }
    }
    Ok(mount)
}

fn is_volume_option_list(text: &str) -> bool {
    !text.is_empty()
        && text.split(',').all(|o| {
            matches!(
                o,
                "ro" | "rw"
                    | "nocopy"
                    | "z"
                    | "Z"
                    | "private"
                    | "rprivate"
                    | "shared"
                    | "rshared"
                    | "slave"
                    | "rslave"
            )
        })
}

/// A host path cleaned like a destination (it is absolute), `/` kept as is.
fn clean_host_path(path: &str) -> String {
    destination(path).unwrap_or_else(|_| "/".to_string())
}

/// `--mount type=volume|bind|tmpfs,source=…,target=…[,readonly][,volume-nocopy]
/// [,tmpfs-size=…][,tmpfs-mode=…]`.
pub fn parse_mount_flag(spec: &str) -> Result<MountConfig> {
    let mut kind = MountType::Volume;
    let (mut source, mut target) = (String::new(), String::new());
    let (mut readonly, mut nocopy) = (false, false);
    let (mut size, mut mode) = (None, None);
    let bool_of = |key: &str, value: Option<&str>| -> Result<bool> {
        match value.map(str::to_ascii_lowercase).as_deref() {
            None | Some("1") | Some("true") => Ok(true),
            Some("0") | Some("false") => Ok(false),
            Some(other) => Err(Error::InvalidInput(format!(
                "invalid value for {key}: {other}"
            ))),
        }
    };
    for field in spec.split(',').filter(|f| !f.is_empty()) {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.trim())),
            None => (field.trim().to_ascii_lowercase(), None),
        };
        let need = |value: Option<&str>| {
            value.map(str::to_string).ok_or_else(|| {
                Error::InvalidInput(format!("invalid field '{field}' must be a key=value pair"))
            })
        };
        match key.as_str() {
            "type" => {
                kind = match need(value)?.as_str() {
                    "volume" => MountType::Volume,
                    "bind" => MountType::Bind,
                    "tmpfs" => MountType::Tmpfs,
                    other => {
                        return Err(Error::InvalidInput(format!(
                            "invalid mount type {other:?} in '{spec}': volume, bind or tmpfs"
                        )))
                    }
                }
            }
            "source" | "src" => source = need(value)?,
            "target" | "destination" | "dst" => target = need(value)?,
            "readonly" | "ro" => readonly = bool_of(&key, value)?,
            "volume-nocopy" => nocopy = bool_of(&key, value)?,
            "tmpfs-size" => size = Some(tmpfs_size(&need(value)?)?),
            "tmpfs-mode" => mode = Some(tmpfs_mode(&need(value)?)?),
            "bind-propagation" if matches!(value, Some("private") | Some("rprivate")) => {}
            "consistency" => {}
            _ => {
                return Err(Error::InvalidInput(format!(
                    "unexpected key '{key}' in '{field}'"
                )))
            }
        }
    }
    let bad = |what: String| {
        Error::InvalidInput(format!(
            "invalid mount config for type \"{}\": {what}",
            kind.as_str()
        ))
    };
    if target.is_empty() {
        return Err(bad("field Target must not be empty".into()));
    }
    let target = destination(&target).map_err(|e| bad(e.to_string()))?;
    if kind != MountType::Tmpfs && (size.is_some() || mode.is_some()) {
        return Err(bad("tmpfs options are only allowed with type tmpfs".into()));
    }
    if kind != MountType::Volume && nocopy {
        return Err(bad("volume-nocopy is only allowed with type volume".into()));
    }
    match kind {
        MountType::Bind => {
            if source.is_empty() {
                return Err(bad("field Source must not be empty".into()));
            }
            if !source.starts_with('/') {
                return Err(bad(format!(
                    "invalid mount path: '{source}' mount path must be absolute"
                )));
            }
            // `--mount` never creates a missing source (docker); `-v` does.
            if std::fs::symlink_metadata(&source).is_err() {
                return Err(bad(format!("bind source path does not exist: {source}")));
            }
            source = clean_host_path(&source);
        }
        MountType::Volume if !source.is_empty() => validate_volume_name(&source)?,
        MountType::Volume => {}
        MountType::Tmpfs if !source.is_empty() => {
            return Err(bad("field Source must not be specified".into()))
        }
        MountType::Tmpfs => {}
    }
    let mut mount = MountConfig::new(kind, &source, &target);
    mount.readonly = readonly;
    mount.copy = kind == MountType::Volume && !nocopy;
    mount.tmpfs_size = size;
    mount.tmpfs_mode = mode;
    Ok(mount)
}

/// `--tmpfs /path[:size=64m,mode=1777,ro|rw,noexec,nosuid,nodev]`.
pub fn parse_tmpfs_flag(spec: &str) -> Result<MountConfig> {
    let (path, options) = spec.split_once(':').unwrap_or((spec, ""));
    let mut mount = MountConfig::new(MountType::Tmpfs, "", &destination(path)?);
    for option in options.split(',').filter(|o| !o.is_empty()) {
        match option.split_once('=') {
            Some(("size", v)) => mount.tmpfs_size = Some(tmpfs_size(v)?),
            Some(("mode", v)) => mount.tmpfs_mode = Some(tmpfs_mode(v)?),
            None if option == "ro" => mount.readonly = true,
            None if option == "rw" => mount.readonly = false,
            // berth's tmpfs mounts are always nosuid, nodev and noexec (docker's defaults).
            None if matches!(option, "noexec" | "nosuid" | "nodev") => {}
            _ => {
                return Err(Error::InvalidInput(format!(
                    "invalid tmpfs option {option:?} in '{spec}': size=, mode=, ro, rw"
                )))
            }
        }
    }
    Ok(mount)
}

fn tmpfs_size(text: &str) -> Result<u64> {
    match parse_size(text) {
        Ok(size) if size > 0 => Ok(size as u64),
        _ => Err(Error::InvalidInput(format!("invalid tmpfs size {text:?}"))),
    }
}

fn tmpfs_mode(text: &str) -> Result<u32> {
    u32::from_str_radix(text, 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| Error::InvalidInput(format!("invalid tmpfs mode {text:?}: octal expected")))
}

/// Where a volume's data lives on the host.
pub fn volume_data_dir(volumes_root: &Path, name: &str) -> PathBuf {
    volumes_root.join(name).join("_data")
}

/// The runtime mounts for a container's mounts, parents before children (a mount at `/a`
/// must not hide one at `/a/b`), as docker sorts them.
pub fn runtime_mounts(mounts: &[MountConfig], volumes_root: &Path) -> Vec<MountSpec> {
    let mut sorted: Vec<&MountConfig> = mounts.iter().collect();
    sorted.sort_by_key(|m| m.destination.split('/').count());
    sorted
        .into_iter()
        .map(|m| MountSpec {
            kind: match m.kind {
                MountType::Tmpfs => MountKind::Tmpfs,
                _ => MountKind::Bind,
            },
            source: match m.kind {
                MountType::Volume => volume_data_dir(volumes_root, &m.source),
                MountType::Bind => PathBuf::from(&m.source),
                MountType::Tmpfs => PathBuf::new(),
            },
            destination: m.destination.clone(),
            readonly: m.readonly,
            options: MountOptions {
                seed_from_image: m.kind == MountType::Volume && m.copy,
                tmpfs_size: m.tmpfs_size,
                tmpfs_mode: m.tmpfs_mode,
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_names_follow_dockers_rule() {
        for good in ["data", "a1", "my_vol.v-2", "0x"] {
            validate_volume_name(good).expect(good);
        }
        for bad in ["a/b", "..", ".x", "a", "", "-x", "a b", "../etc"] {
            let err = validate_volume_name(bad).expect_err(bad).to_string();
            assert!(err.contains("invalid characters"), "{err}");
        }
    }

    #[test]
    fn dash_v_forms() {
        let named = parse_volume_flag("data:/srv/data:ro").expect("named");
        assert_eq!(named.kind, MountType::Volume);
        assert_eq!(
            (named.source.as_str(), named.destination.as_str()),
            ("data", "/srv/data")
        );
        assert!(named.readonly && named.copy);
        let bind = parse_volume_flag("/host/dir/:/x/./y/").expect("bind");
        assert_eq!(bind.kind, MountType::Bind);
        assert_eq!(
            (bind.source.as_str(), bind.destination.as_str()),
            ("/host/dir", "/x/y")
        );
        assert!(!bind.readonly && !bind.copy);
        let anon = parse_volume_flag("/cache").expect("anonymous");
        assert_eq!((anon.kind, anon.source.as_str()), (MountType::Volume, ""));
        assert!(!parse_volume_flag("v1:/d:nocopy").expect("nocopy").copy);
        for bad in [
            "",
            "a/b:/x",
            "..:/x",
            "v1:rel",
            "v1:/",
            "/x:ro",
            "v1:/d:bogus",
            ":/d",
            "a:b:c:d",
        ] {
            assert!(parse_volume_flag(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn dash_mount_forms_and_missing_bind_source() {
        let v = parse_mount_flag("type=volume,source=v1,target=/data,readonly").expect("volume");
        assert!(v.readonly && v.copy);
        let t = parse_mount_flag("type=tmpfs,dst=/run/x,tmpfs-size=1m,tmpfs-mode=700").expect("t");
        assert_eq!((t.tmpfs_size, t.tmpfs_mode), (Some(1 << 20), Some(0o700)));
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = format!("type=bind,src={},target=/h", dir.path().display());
        assert_eq!(parse_mount_flag(&spec).expect("bind").kind, MountType::Bind);
        let err = parse_mount_flag("type=bind,source=/no/such/berth/path,target=/x")
            .expect_err("missing source")
            .to_string();
        assert!(
            err.contains("bind source path does not exist: /no/such/berth/path"),
            "{err}"
        );
        for bad in [
            "type=volume",
            "type=bogus,target=/x",
            "type=tmpfs,source=x,target=/x",
            "type=volume,target=/x,tmpfs-size=1m",
            "type=bind,target=/x",
            "type=volume,target=/x,color=red",
            "type=volume,source=a/b,target=/x",
        ] {
            assert!(parse_mount_flag(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn destinations_are_checked_and_image_volumes_fill_the_gaps() {
        let mounts = container_mounts(
            &["data:/data".into()],
            &[],
            &["/tmp/t:size=64k".into()],
            &["/data".into(), "/var/cache/".into()],
        )
        .expect("mounts");
        assert_eq!(mounts.len(), 3);
        let anon = &mounts[2];
        assert!(anon.anonymous && anon.copy);
        assert_eq!(anon.destination, "/var/cache");
        assert_eq!(anon.source.len(), 64);
        let dup = container_mounts(
            &["a1:/d".into()],
            &["type=tmpfs,target=/d/".into()],
            &[],
            &[],
        )
        .expect_err("duplicate")
        .to_string();
        assert!(dup.contains("Duplicate mount point: /d"), "{dup}");
        let root = container_mounts(&[], &[], &["/".into()], &[]).expect_err("root");
        assert!(root.to_string().contains("can't be '/'"), "{root}");
    }

    #[test]
    fn parents_are_mounted_before_children() {
        let mounts =
            container_mounts(&["a1:/a/b/c".into(), "b1:/a".into()], &[], &[], &[]).expect("mounts");
        let specs = runtime_mounts(&mounts, Path::new("/vols"));
        assert_eq!(specs[0].destination, "/a");
        assert_eq!(specs[0].source, Path::new("/vols/b1/_data"));
        assert_eq!(specs[1].destination, "/a/b/c");
    }
}
