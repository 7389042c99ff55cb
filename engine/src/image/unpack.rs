//! Unpacks one layer tar (gzip-compressed or plain) into a new directory safely, turning OCI
//! whiteouts into overlayfs ones, and computes the layer's diff id on the way.
//!
//! Safety rules, for tars from anywhere:
//! - entry paths are taken relative to the layer root: a leading `/` is stripped and an entry
//!   with a `..` component fails the whole layer;
//! - no symlink is ever followed: a parent directory that is a symlink fails the layer, and
//!   an entry that replaces a symlink replaces the link itself;
//! - hardlinks must name a file or link already unpacked in this layer;
//! - character and block devices are skipped with a warning (as a rootless engine must):
//!   a device node from an image could give a container raw access to host hardware wherever
//!   no device cgroup stops it; a container's `/dev` is made by the runtime anyway;
//! - owners, modes (setuid/setgid/sticky included, applied after chown so they survive) and
//!   mtimes are kept; of the PAX xattrs only `user.*` and `security.capability` are kept, so
//!   an image cannot forge `trusted.overlay.*` attributes;
//! - GNU sparse files are refused (OCI image spec, layer.md: "Sparse files SHOULD NOT be
//!   used"), which also bounds the bytes written to the bytes in the tar.
//!
//! Whiteouts (OCI image spec, layer.md "Whiteouts"): `.wh.NAME` becomes an overlayfs whiteout
//! (a character device 0/0 named NAME) and `.wh..wh..opq` marks its directory opaque
//! (xattr `trusted.overlay.opaque=y`). A whiteout only hides lower layers, so one whose
//! target this layer itself provides leaves that target alone.

use crate::digest::{Digest, HashingReader};
use nix::sys::stat::{makedev, mknod, utimensat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use std::collections::HashMap;
use std::ffi::{CString, OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{
    lchown, DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt,
};
use std::path::{Path, PathBuf};

/// The OCI whiteout prefix and the opaque-directory marker (layer.md "Whiteouts").
const WHITEOUT_PREFIX: &[u8] = b".wh.";
const WHITEOUT_META_PREFIX: &[u8] = b".wh..wh.";
const OPAQUE_MARKER: &[u8] = b".wh..wh..opq";
/// The overlayfs attribute of an opaque directory (kernel docs, filesystems/overlayfs.rst).
pub const OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// Why a layer could not be unpacked.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("failed to {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("bad layer tar: {0}")]
    Tar(io::Error),
    #[error("layer tar is truncated: {0}")]
    Truncated(String),
    #[error("unsafe entry {entry:?}: {reason}")]
    Unsafe { entry: String, reason: &'static str },
    #[error("entry {entry:?}: its parent {parent:?} is a symlink, which is never followed")]
    SymlinkParent { entry: String, parent: String },
    #[error("entry {entry:?}: its parent {parent:?} is not a directory")]
    NotADirectory { entry: String, parent: String },
    #[error("hardlink {entry:?} points to {target:?}, which is not a file of this layer")]
    BadHardlink { entry: String, target: String },
    #[error("entry {entry:?}: {kind} entries are not supported")]
    Unsupported { entry: String, kind: String },
}

impl UnpackError {
    fn io(action: &'static str, path: &Path, source: io::Error) -> UnpackError {
        UnpackError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// What unpacking found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpacked {
    /// sha256 of the uncompressed tar stream: the layer's diff id.
    pub diff_id: Digest,
    /// Bytes of the uncompressed tar stream.
    pub tar_size: u64,
    /// Tar entries read (extension headers not counted).
    pub entries: u64,
    /// Whether the tar ended with its end-of-archive block rather than just stopping.
    pub end_marker: bool,
    /// Device nodes left out.
    pub skipped_devices: u32,
}

/// The compression of a layer blob, told by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn detect(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// Unpacks the layer blob `blob` into `dest`, which must not exist yet (its parent must).
/// On error, `dest` may hold a partial tree: callers unpack into a temp dir and delete it.
pub fn unpack_layer(blob: impl Read, dest: &Path) -> Result<Unpacked, UnpackError> {
    fs::DirBuilder::new()
        .mode(0o755)
        .create(dest)
        .map_err(|e| UnpackError::io("create", dest, e))?;
    let decoded = decompress(blob)?;
    let mut hashing = HashingReader::new(EofTracker::new(decoded));
    let mut unpacker = Unpacker::new(dest);
    let result = unpacker.run(&mut hashing).and_then(|()| {
        // The tar reader stops at the first zero block; had the stream ended instead, there
        // was no end-of-archive marker.
        let end_marker = !hashing.get_mut().hit_eof;
        // The diff id covers the whole stream: the end-of-archive blocks and any padding too.
        io::copy(&mut hashing, &mut io::sink())
            .map(|_| end_marker)
            .map_err(UnpackError::Tar)
    });
    let end_marker = match result {
        // A stream that ends inside an entry is truncated; one that ends before a single
        // header could be read is no tar at all.
        Err(UnpackError::Tar(e))
            if unpacker.entries > 0
                && (hashing.get_mut().hit_eof || e.kind() == io::ErrorKind::UnexpectedEof) =>
        {
            return Err(UnpackError::Truncated(e.to_string()));
        }
        other => other?,
    };
    unpacker.finish_dirs()?;
    let (diff_id, tar_size) = hashing.finish();
    Ok(Unpacked {
        diff_id,
        tar_size,
        entries: unpacker.entries,
        end_marker,
        skipped_devices: unpacker.skipped_devices,
    })
}

/// The uncompressed stream of a layer blob, its compression told by its first bytes.
pub fn decompress<'a>(blob: impl Read + 'a) -> Result<Box<dyn Read + 'a>, UnpackError> {
    let mut blob = blob;
    let mut head = [0u8; 4];
    let head_len = read_up_to(&mut blob, &mut head).map_err(UnpackError::Tar)?;
    let stream = io::Cursor::new(head[..head_len].to_vec()).chain(blob);
    match Compression::detect(&head[..head_len]) {
        Compression::None => Ok(Box::new(stream)),
        Compression::Gzip => Ok(Box::new(flate2::read::MultiGzDecoder::new(stream))),
        // A zstd layer may hold several frames (OCI image spec, layer.md "zstd"): the
        // streaming decoder reads them all, as gzip's multi-member decoder does.
        Compression::Zstd => Ok(Box::new(
            zstd::stream::read::Decoder::new(stream).map_err(UnpackError::Tar)?,
        )),
    }
}

/// Bytes of the regular files of an unpacked layer (each inode counted once, symlinks not
/// followed); any entry that cannot be read fails the measurement.
pub(crate) fn layer_size(dir: &Path) -> Result<u64, super::ImageError> {
    crate::fs_size::tree_size(dir, crate::fs_size::Unreadable::Fail)
        .map_err(|e| super::ImageError::io("measure", dir, e))
}

fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Remembers whether the stream under the tar reader ended, to tell a truncated tar from a
/// malformed one.
struct EofTracker<R> {
    inner: R,
    hit_eof: bool,
}

impl<R> EofTracker<R> {
    fn new(inner: R) -> EofTracker<R> {
        EofTracker {
            inner,
            hit_eof: false,
        }
    }
}

impl<R: Read> Read for EofTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.hit_eof = true;
        }
        Ok(n)
    }
}

/// Extended attributes to set: (name, value).
type Xattrs = Vec<(String, Vec<u8>)>;

/// Owner, mode and mtime of an entry.
#[derive(Debug, Clone, Copy)]
struct Meta {
    uid: u32,
    gid: u32,
    /// Permission bits including setuid, setgid and sticky.
    mode: u32,
    mtime: i64,
}

struct Unpacker<'a> {
    root: &'a Path,
    /// Directory metadata, applied at the end (deepest first) so that creating children
    /// does not change the mtimes afterwards.
    dirs: HashMap<PathBuf, (Meta, Xattrs)>,
    entries: u64,
    skipped_devices: u32,
    privileged: bool,
}

impl<'a> Unpacker<'a> {
    fn new(root: &'a Path) -> Unpacker<'a> {
        Unpacker {
            root,
            dirs: HashMap::new(),
            entries: 0,
            skipped_devices: 0,
            privileged: nix::unistd::geteuid().is_root(),
        }
    }

    fn run(&mut self, stream: &mut impl Read) -> Result<(), UnpackError> {
        let mut archive = tar::Archive::new(stream);
        for entry in archive.entries().map_err(UnpackError::Tar)? {
            let mut entry = entry.map_err(UnpackError::Tar)?;
            self.entries += 1;
            self.entry(&mut entry)?;
        }
        Ok(())
    }

    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<(), UnpackError> {
        let raw_path = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&raw_path).into_owned();
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() {
            return Ok(());
        }
        let (xattrs, pax_sparse) = pax_attributes(entry)?;
        if kind.is_gnu_sparse() || pax_sparse {
            return Err(UnpackError::Unsupported {
                entry: name,
                kind: "sparse file".into(),
            });
        }
        let components = normalize(&raw_path).map_err(|reason| UnpackError::Unsafe {
            entry: name.clone(),
            reason,
        })?;
        let Some((last, parents)) = components.split_last() else {
            // The layer root itself (`./`).
            if kind.is_dir() {
                let meta = entry_meta(entry.header(), &name)?;
                self.dirs.insert(self.root.to_path_buf(), (meta, xattrs));
                return Ok(());
            }
            return Err(UnpackError::Unsafe {
                entry: name,
                reason: "it would replace the layer root",
            });
        };
        if last.as_bytes().starts_with(WHITEOUT_PREFIX) {
            return self.whiteout(parents, last, &name);
        }
        let meta = entry_meta(entry.header(), &name)?;
        let parent = self.make_parents(parents, &name)?;
        let path = parent.join(last);
        // Old (v7) tars mark directories with a trailing slash on a regular entry.
        let old_style_dir = kind.is_file() && raw_path.ends_with(b"/");
        if kind.is_dir() || old_style_dir {
            self.directory(&path, meta, xattrs)
        } else if kind.is_file() || kind.is_contiguous() {
            self.regular_file(entry, &path, &name, meta, &xattrs)
        } else if kind.is_symlink() {
            let target = entry.link_name_bytes().ok_or_else(|| UnpackError::Unsafe {
                entry: name.clone(),
                reason: "symlink without a target",
            })?;
            remove_existing(&path)?;
            std::os::unix::fs::symlink(OsStr::from_bytes(&target), &path)
                .map_err(|e| UnpackError::io("create symlink", &path, e))?;
            self.apply_meta(&path, None, meta, &xattrs, true)
        } else if kind.is_hard_link() {
            let target = entry.link_name_bytes().unwrap_or_default().into_owned();
            self.hardlink(&path, &components, &target, &name)
        } else if kind.is_fifo() {
            remove_existing(&path)?;
            nix::unistd::mkfifo(&path, Mode::from_bits_truncate(0o600))
                .map_err(|e| UnpackError::io("create fifo", &path, e.into()))?;
            self.apply_meta(&path, None, meta, &xattrs, false)
        } else if kind.is_character_special() || kind.is_block_special() {
            self.skipped_devices += 1;
            tracing::warn!(entry = %name, "skipping a device node in a layer");
            Ok(())
        } else {
            Err(UnpackError::Unsupported {
                entry: name,
                kind: format!("tar type {:?}", kind.as_byte() as char),
            })
        }
    }

    /// `.wh..wh..opq` marks the directory opaque; `.wh.NAME` hides NAME of lower layers.
    fn whiteout(
        &mut self,
        parents: &[OsString],
        last: &OsStr,
        name: &str,
    ) -> Result<(), UnpackError> {
        let parent = self.make_parents(parents, name)?;
        let bytes = last.as_bytes();
        if bytes == OPAQUE_MARKER {
            return set_xattr(&parent, OPAQUE_XATTR, b"y")
                .map_err(|e| UnpackError::io("mark opaque", &parent, e));
        }
        if bytes.starts_with(WHITEOUT_META_PREFIX) {
            // Other `.wh..wh.` names are aufs metadata with no meaning for overlayfs.
            tracing::debug!(entry = %name, "ignoring whiteout metadata entry");
            return Ok(());
        }
        let hidden = &bytes[WHITEOUT_PREFIX.len()..];
        if hidden.is_empty() || hidden == b"." || hidden == b".." || hidden.contains(&b'/') {
            return Err(UnpackError::Unsafe {
                entry: name.to_string(),
                reason: "whiteout of an invalid name",
            });
        }
        let target = parent.join(OsStr::from_bytes(hidden));
        match fs::symlink_metadata(&target) {
            // This layer provides the name itself: it already hides the lower one, and a
            // directory of ours must also stop showing the lower directory's contents.
            Ok(m) if m.is_dir() => set_xattr(&target, OPAQUE_XATTR, b"y")
                .map_err(|e| UnpackError::io("mark opaque", &target, e)),
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => make_whiteout(&target),
            Err(e) => Err(UnpackError::io("inspect", &target, e)),
        }
    }

    fn directory(&mut self, path: &Path, meta: Meta, xattrs: Xattrs) -> Result<(), UnpackError> {
        match fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => {}
            Ok(m) => {
                let was_whiteout = is_whiteout(&m);
                remove_existing(path)?;
                create_dir(path)?;
                if was_whiteout {
                    // Re-created over its own whiteout: the lower directory stays hidden.
                    set_xattr(path, OPAQUE_XATTR, b"y")
                        .map_err(|e| UnpackError::io("mark opaque", path, e))?;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => create_dir(path)?,
            Err(e) => return Err(UnpackError::io("inspect", path, e)),
        }
        self.dirs.insert(path.to_path_buf(), (meta, xattrs));
        Ok(())
    }

    fn regular_file<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        path: &Path,
        name: &str,
        meta: Meta,
        xattrs: &[(String, Vec<u8>)],
    ) -> Result<(), UnpackError> {
        remove_existing(path)?;
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .mode(0o600)
            .open(path)
            .map_err(|e| UnpackError::io("create", path, e))?;
        let expected = entry.size();
        let written = io::copy(entry, &mut file).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => UnpackError::Truncated(format!("{name}: {e}")),
            _ => UnpackError::io("write", path, e),
        })?;
        if written != expected {
            return Err(UnpackError::Truncated(format!(
                "{name}: {written} of {expected} bytes"
            )));
        }
        self.apply_meta(path, Some(&file), meta, xattrs, false)
    }

    fn hardlink(
        &mut self,
        path: &Path,
        components: &[OsString],
        target: &[u8],
        name: &str,
    ) -> Result<(), UnpackError> {
        let bad = || UnpackError::BadHardlink {
            entry: name.to_string(),
            target: String::from_utf8_lossy(target).into_owned(),
        };
        let target_components = normalize(target).map_err(|_| bad())?;
        if target_components.is_empty() || target_components == components {
            return Err(bad());
        }
        // Resolve the target without following any symlink on the way.
        let mut source = self.root.to_path_buf();
        for (i, component) in target_components.iter().enumerate() {
            source.push(component);
            let is_last = i + 1 == target_components.len();
            match fs::symlink_metadata(&source) {
                Ok(m) if !is_last && m.is_dir() => {}
                Ok(m) if is_last && !m.is_dir() => {}
                _ => return Err(bad()),
            }
        }
        remove_existing(path)?;
        // link(2) does not follow a symlink source: the link stays inside the layer.
        fs::hard_link(&source, path).map_err(|e| UnpackError::io("hardlink", path, e))
    }

    /// Walks (creating as needed) the parent directories of an entry, refusing symlinks.
    fn make_parents(&self, parents: &[OsString], entry: &str) -> Result<PathBuf, UnpackError> {
        let mut path = self.root.to_path_buf();
        for component in parents {
            path.push(component);
            let parent = || {
                path.strip_prefix(self.root)
                    .unwrap_or(&path)
                    .display()
                    .to_string()
            };
            match fs::symlink_metadata(&path) {
                Ok(m) if m.is_dir() => {}
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(UnpackError::SymlinkParent {
                        entry: entry.to_string(),
                        parent: parent(),
                    })
                }
                Ok(m) if is_whiteout(&m) => {
                    // An implicit directory over this layer's own whiteout: opaque, as above.
                    remove_existing(&path)?;
                    create_dir(&path)?;
                    set_xattr(&path, OPAQUE_XATTR, b"y")
                        .map_err(|e| UnpackError::io("mark opaque", &path, e))?;
                }
                Ok(_) => {
                    return Err(UnpackError::NotADirectory {
                        entry: entry.to_string(),
                        parent: parent(),
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => create_dir(&path)?,
                Err(e) => return Err(UnpackError::io("inspect", &path, e)),
            }
        }
        Ok(path)
    }

    /// chown first (it clears setuid/setgid), then mode, xattrs (chown clears file
    /// capabilities too) and mtime.
    fn apply_meta(
        &self,
        path: &Path,
        file: Option<&File>,
        meta: Meta,
        xattrs: &[(String, Vec<u8>)],
        is_symlink: bool,
    ) -> Result<(), UnpackError> {
        if self.privileged {
            let chowned = match file {
                Some(f) => std::os::unix::fs::fchown(f, Some(meta.uid), Some(meta.gid)),
                None => lchown(path, Some(meta.uid), Some(meta.gid)),
            };
            chowned.map_err(|e| UnpackError::io("chown", path, e))?;
        }
        if !is_symlink {
            let perms = fs::Permissions::from_mode(meta.mode);
            let chmoded = match file {
                Some(f) => f.set_permissions(perms),
                None => fs::set_permissions(path, perms),
            };
            chmoded.map_err(|e| UnpackError::io("chmod", path, e))?;
        }
        for (key, value) in xattrs {
            match set_xattr(path, key, value) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => {
                    tracing::warn!(path = %path.display(), xattr = %key, "xattr not supported here, skipped");
                }
                Err(e) => return Err(UnpackError::io("set xattr on", path, e)),
            }
        }
        let time = TimeSpec::new(meta.mtime, 0);
        utimensat(
            nix::fcntl::AT_FDCWD,
            path,
            &time,
            &time,
            UtimensatFlags::NoFollowSymlink,
        )
        .map_err(|e| UnpackError::io("set mtime of", path, e.into()))
    }

    fn finish_dirs(&mut self) -> Result<(), UnpackError> {
        let mut dirs: Vec<_> = self.dirs.drain().collect();
        dirs.sort_by_key(|(path, _)| std::cmp::Reverse(path.components().count()));
        for (path, (meta, xattrs)) in dirs {
            // A later entry may have replaced the directory.
            let still_dir = fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
            if still_dir {
                self.apply_meta(&path, None, meta, &xattrs, false)?;
            }
        }
        Ok(())
    }
}

/// Splits an entry path into components under the layer root: leading `/`, empty and `.`
/// components are dropped; `..` is refused.
fn normalize(raw: &[u8]) -> Result<Vec<OsString>, &'static str> {
    let mut out = Vec::new();
    for part in raw.split(|b| *b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return Err("the path has a '..' component"),
            _ => out.push(OsStr::from_bytes(part).to_os_string()),
        }
    }
    Ok(out)
}

fn entry_meta(header: &tar::Header, name: &str) -> Result<Meta, UnpackError> {
    let old = header.as_old();
    // A numeric field left blank (all NUL or spaces) reads as 0, as Go's archive/tar has it.
    let number = |value: io::Result<u64>, field: &[u8], what: &str| match value {
        Ok(value) => Ok(value),
        Err(_) if field.iter().all(|b| *b == 0 || *b == b' ') => Ok(0),
        Err(e) => Err(UnpackError::Tar(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{name}: bad {what}: {e}"),
        ))),
    };
    let id = |value: io::Result<u64>, field: &[u8], what: &str| -> Result<u32, UnpackError> {
        let value = number(value, field, what)?;
        u32::try_from(value).map_err(|_| {
            UnpackError::Tar(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{name}: {what} {value} is out of range"),
            ))
        })
    };
    let mode = number(header.mode().map(u64::from), &old.mode, "mode")?;
    let mtime = number(header.mtime(), &old.mtime, "mtime")?;
    Ok(Meta {
        uid: id(header.uid(), &old.uid, "uid")?,
        gid: id(header.gid(), &old.gid, "gid")?,
        mode: (mode & 0o7777) as u32,
        mtime: i64::try_from(mtime).unwrap_or(i64::MAX),
    })
}

/// The xattrs worth keeping from an entry's PAX header, and whether it marks a sparse file.
fn pax_attributes<R: Read>(entry: &mut tar::Entry<'_, R>) -> Result<(Xattrs, bool), UnpackError> {
    let mut xattrs = Vec::new();
    let mut sparse = false;
    if let Some(extensions) = entry.pax_extensions().map_err(UnpackError::Tar)? {
        for extension in extensions {
            let extension = extension.map_err(UnpackError::Tar)?;
            let Ok(key) = extension.key() else { continue };
            if key.starts_with("GNU.sparse.") {
                sparse = true;
            } else if let Some(name) = key.strip_prefix("SCHILY.xattr.") {
                if name.starts_with("user.") || name == "security.capability" {
                    xattrs.push((name.to_string(), extension.value_bytes().to_vec()));
                } else {
                    tracing::debug!(xattr = %name, "dropping an xattr from a layer");
                }
            }
        }
    }
    Ok((xattrs, sparse))
}

fn create_dir(path: &Path) -> Result<(), UnpackError> {
    fs::DirBuilder::new()
        .mode(0o755)
        .create(path)
        .map_err(|e| UnpackError::io("create", path, e))
}

/// Removes whatever is at `path` (a directory with its contents), never following a symlink.
fn remove_existing(path: &Path) -> Result<(), UnpackError> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => {
            fs::remove_dir_all(path).map_err(|e| UnpackError::io("remove", path, e))
        }
        Ok(_) => fs::remove_file(path).map_err(|e| UnpackError::io("remove", path, e)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(UnpackError::io("inspect", path, e)),
    }
}

/// An overlayfs whiteout: a character device with device number 0/0.
fn make_whiteout(path: &Path) -> Result<(), UnpackError> {
    mknod(path, SFlag::S_IFCHR, Mode::empty(), makedev(0, 0))
        .map_err(|e| UnpackError::io("create whiteout", path, e.into()))
}

fn is_whiteout(meta: &fs::Metadata) -> bool {
    meta.file_type().is_char_device() && meta.rdev() == 0
}

/// Sets an extended attribute on `path` itself (not on a symlink's target).
pub fn set_xattr(path: &Path, name: &str, value: &[u8]) -> io::Result<()> {
    let c_path = CString::new(path.as_os_str().as_bytes())?;
    let c_name = CString::new(name)?;
    // SAFETY: both strings are NUL-terminated and outlive the call; the value pointer and
    // length describe a live slice.
    let rc = unsafe {
        libc::lsetxattr(
            c_path.as_ptr(),
            c_name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Reads an extended attribute of `path` itself; `None` if it is not set.
pub fn get_xattr(path: &Path, name: &str) -> io::Result<Option<Vec<u8>>> {
    let c_path = CString::new(path.as_os_str().as_bytes())?;
    let c_name = CString::new(name)?;
    let mut buf = vec![0u8; 256];
    // SAFETY: as in `set_xattr`; the buffer is writable for its whole length.
    let rc = unsafe {
        libc::lgetxattr(
            c_path.as_ptr(),
            c_name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if rc >= 0 {
        buf.truncate(rc as usize);
        return Ok(Some(buf));
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::ENODATA) {
        Ok(None)
    } else {
        Err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_testkit::{Layer, LayerBuilder, MTIME};
    use std::os::unix::fs::MetadataExt;

    struct Unpack {
        _dir: tempfile::TempDir,
        root: PathBuf,
    }

    fn layer(build: impl FnOnce(&mut LayerBuilder) -> berth_testkit::Result<()>) -> Layer {
        let mut b = LayerBuilder::new();
        build(&mut b).expect("build layer");
        b.finish().expect("finish layer")
    }

    fn unpack(bytes: &[u8]) -> (Unpack, Result<Unpacked, UnpackError>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("layer");
        let result = unpack_layer(bytes, &root);
        (Unpack { _dir: dir, root }, result)
    }

    fn lstat(path: &Path) -> fs::Metadata {
        fs::symlink_metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn unpacks_entries_with_owners_modes_and_mtimes() {
        let l = layer(|b| {
            b.dir("etc", 0o750)?
                .file_owned("etc/conf", 0o640, 1234, 5678, b"key=value\n")?
                .symlink("etc/link", "conf")?
                .hardlink("etc/hard", "etc/conf")?
                .fifo("etc/pipe", 0o620)?
                .file("deep/er/file", 0o600, b"implicit parents\n")?;
            Ok(())
        });
        let (u, result) = unpack(l.tar());
        let unpacked = result.expect("unpacks");
        assert_eq!(unpacked.entries, 6);
        assert!(unpacked.end_marker);
        let conf = lstat(&u.root.join("etc/conf"));
        assert_eq!(
            fs::read(u.root.join("etc/conf")).expect("read"),
            b"key=value\n"
        );
        assert_eq!((conf.uid(), conf.gid()), (1234, 5678));
        assert_eq!(conf.mode() & 0o7777, 0o640);
        assert_eq!(conf.mtime(), MTIME as i64);
        let etc = lstat(&u.root.join("etc"));
        assert_eq!(etc.mode() & 0o7777, 0o750);
        assert_eq!(etc.mtime(), MTIME as i64, "dir mtime survives its children");
        let link = lstat(&u.root.join("etc/link"));
        assert!(link.file_type().is_symlink());
        assert_eq!(link.mtime(), MTIME as i64);
        assert_eq!(
            fs::read_link(u.root.join("etc/link")).expect("readlink"),
            Path::new("conf")
        );
        assert_eq!(lstat(&u.root.join("etc/hard")).ino(), conf.ino());
        let pipe = lstat(&u.root.join("etc/pipe"));
        assert!(pipe.file_type().is_fifo());
        assert_eq!(pipe.mode() & 0o7777, 0o620);
        assert!(lstat(&u.root.join("deep/er")).is_dir());
    }

    #[test]
    fn diff_id_is_the_sha256_of_the_uncompressed_tar() {
        let l = layer(|b| {
            b.file("a", 0o644, b"hello")?;
            Ok(())
        });
        let (_u, plain) = unpack(l.tar());
        let plain = plain.expect("plain unpacks");
        assert_eq!(plain.diff_id.to_string(), l.diff_id());
        assert_eq!(plain.tar_size, l.tar().len() as u64);
        let (u, gz) = unpack(&l.gzip().expect("gzip"));
        assert_eq!(gz.expect("gzip unpacks").diff_id, plain.diff_id);
        assert_eq!(fs::read(u.root.join("a")).expect("read"), b"hello");
    }

    #[test]
    fn whiteouts_become_overlayfs_whiteouts() {
        let l = layer(|b| {
            b.dir("etc", 0o755)?
                .whiteout("etc/gone")?
                .dir("var/cache", 0o755)?
                .opaque("var/cache")?
                .file("var/cache/new", 0o644, b"new")?;
            Ok(())
        });
        let (u, result) = unpack(l.tar());
        result.expect("unpacks");
        let gone = lstat(&u.root.join("etc/gone"));
        assert!(gone.file_type().is_char_device());
        assert_eq!(gone.rdev(), 0);
        assert!(!u.root.join("etc/.wh.gone").exists());
        assert_eq!(
            get_xattr(&u.root.join("var/cache"), OPAQUE_XATTR).expect("xattr"),
            Some(b"y".to_vec())
        );
        assert!(!u.root.join("var/cache/.wh..wh..opq").exists());
        assert!(u.root.join("var/cache/new").is_file());
        assert_eq!(
            get_xattr(&u.root.join("etc"), OPAQUE_XATTR).expect("xattr"),
            None
        );
    }

    #[test]
    fn a_whiteout_never_hides_what_its_own_layer_provides() {
        let l = layer(|b| {
            b.file("mine", 0o644, b"kept")?
                .whiteout("mine")?
                .dir("dir", 0o755)?
                .whiteout("dir")?;
            Ok(())
        });
        let (u, result) = unpack(l.tar());
        result.expect("unpacks");
        assert_eq!(fs::read(u.root.join("mine")).expect("read"), b"kept");
        assert!(lstat(&u.root.join("dir")).is_dir());
        // The lower `dir` must still be hidden: ours is opaque.
        assert_eq!(
            get_xattr(&u.root.join("dir"), OPAQUE_XATTR).expect("xattr"),
            Some(b"y".to_vec())
        );
    }

    #[test]
    fn a_directory_recreated_over_its_whiteout_is_opaque() {
        let l = layer(|b| {
            b.whiteout("d")?
                .dir("d", 0o755)?
                .whiteout("e")?
                .file("e/implicit", 0o644, b"x")?
                .whiteout("f")?
                .file("f", 0o644, b"file now")?;
            Ok(())
        });
        let (u, result) = unpack(l.tar());
        result.expect("unpacks");
        for dir in ["d", "e"] {
            assert!(lstat(&u.root.join(dir)).is_dir(), "{dir}");
            assert_eq!(
                get_xattr(&u.root.join(dir), OPAQUE_XATTR).expect("xattr"),
                Some(b"y".to_vec()),
                "{dir}"
            );
        }
        assert_eq!(fs::read(u.root.join("f")).expect("read"), b"file now");
    }

    #[test]
    fn keeps_user_xattrs_and_drops_overlay_ones() {
        let l = layer(|b| {
            b.pax(&[
                ("SCHILY.xattr.user.berth", b"yes".as_slice()),
                ("SCHILY.xattr.trusted.overlay.opaque", b"y".as_slice()),
            ])?
            .dir("d", 0o755)?;
            Ok(())
        });
        let (u, result) = unpack(l.tar());
        result.expect("unpacks");
        let d = u.root.join("d");
        assert_eq!(
            get_xattr(&d, "user.berth").expect("xattr"),
            Some(b"yes".to_vec())
        );
        assert_eq!(get_xattr(&d, OPAQUE_XATTR).expect("xattr"), None);
    }

    #[test]
    fn later_entries_replace_earlier_ones() {
        let l = layer(|b| {
            b.dir("x", 0o755)?
                .file("x/child", 0o644, b"c")?
                .file("x", 0o644, b"now a file")?
                .file("y", 0o644, b"old")?
                .file("y", 0o600, b"new")?;
            Ok(())
        });
        let (u, result) = unpack(l.tar());
        result.expect("unpacks");
        assert_eq!(fs::read(u.root.join("x")).expect("read"), b"now a file");
        assert_eq!(fs::read(u.root.join("y")).expect("read"), b"new");
        assert_eq!(lstat(&u.root.join("y")).mode() & 0o7777, 0o600);
    }

    #[test]
    fn a_tar_cut_inside_an_entry_is_truncated() {
        let l = layer(|b| {
            b.file("big", 0o644, &[7u8; 4096])?;
            Ok(())
        });
        let (_u, result) = unpack(&l.tar()[..2048]);
        assert!(
            matches!(result, Err(UnpackError::Truncated(_))),
            "{result:?}"
        );
        let (_u, result) = unpack(&l.gzip().expect("gzip")[..40]);
        assert!(
            matches!(result, Err(UnpackError::Truncated(_) | UnpackError::Tar(_))),
            "{result:?}"
        );
    }

    #[test]
    fn a_tar_cut_between_entries_has_no_end_marker() {
        let l = layer(|b| {
            b.file("a", 0o644, b"x")?;
            Ok(())
        });
        // One header block and one data block, without the end-of-archive blocks.
        let (_u, result) = unpack(&l.tar()[..1024]);
        let unpacked = result.expect("the entries themselves are whole");
        assert!(!unpacked.end_marker);
    }

    #[test]
    fn garbage_is_not_a_tar() {
        let (_u, result) = unpack(&[b'x'; 1500]);
        assert!(matches!(result, Err(UnpackError::Tar(_))), "{result:?}");
        let (_u, result) = unpack(b"tiny");
        assert!(matches!(result, Err(UnpackError::Tar(_))), "{result:?}");
    }

    #[test]
    fn zstd_layers_unpack_with_the_diff_id_of_their_tar() {
        let l = layer(|b| {
            b.file("etc/z", 0o644, b"zstd inside\n")?;
            Ok(())
        });
        // Two frames, as a zstd layer may hold several (layer.md "zstd").
        let half = l.tar().len() / 2;
        let mut blob = zstd::stream::encode_all(&l.tar()[..half], 3).expect("zstd");
        blob.extend(zstd::stream::encode_all(&l.tar()[half..], 3).expect("zstd"));
        assert_eq!(Compression::detect(&blob), Compression::Zstd);
        let (u, result) = unpack(&blob);
        let unpacked = result.expect("unpacks");
        assert_eq!(unpacked.diff_id.to_string(), l.diff_id());
        assert_eq!(
            fs::read(u.root.join("etc/z")).expect("file"),
            b"zstd inside\n"
        );
    }

    #[test]
    fn the_destination_must_not_exist() {
        let dir = tempfile::tempdir().expect("tempdir");
        let result = unpack_layer(&b""[..], dir.path());
        assert!(matches!(result, Err(UnpackError::Io { .. })));
    }

    #[test]
    fn normalize_strips_roots_and_dots_and_refuses_dotdot() {
        let n = |s: &str| normalize(s.as_bytes());
        assert_eq!(n("/a/./b//c/").expect("ok"), ["a", "b", "c"]);
        assert_eq!(n("./").expect("ok"), Vec::<OsString>::new());
        assert!(n("a/../b").is_err());
        assert!(n("..").is_err());
        assert_eq!(n("a/..b").expect("ok"), ["a", "..b"]);
    }

    #[test]
    fn disk_usage_counts_hardlinked_files_once() {
        let l = layer(|b| {
            b.file("a", 0o644, &[1u8; 1000])?
                .hardlink("b", "a")?
                .file("c", 0o644, &[2u8; 24])?
                .symlink("d", "a")?;
            Ok(())
        });
        let (u, result) = unpack(l.tar());
        result.expect("unpacks");
        assert_eq!(layer_size(&u.root).expect("du"), 1024);
    }
}
