//! Layer tars: a builder with fixed owners and mtimes, whiteout helpers, and raw entries that
//! bypass the tar crate's path checks (for hostile tars).

use crate::{sha256_digest, Result, TestkitError};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::sync::OnceLock;
use tar::{EntryType, Header};

/// The mtime of every entry the kit writes (2023-11-14T22:13:20Z).
pub const MTIME: u64 = 1_700_000_000;

/// An uncompressed layer tar, with its digest and gzip form computed once.
#[derive(Debug, Clone)]
pub struct Layer {
    tar: Vec<u8>,
    diff_id: String,
    gzip: OnceLock<Vec<u8>>,
}

impl PartialEq for Layer {
    fn eq(&self, other: &Layer) -> bool {
        self.tar == other.tar
    }
}

impl Eq for Layer {}

impl Layer {
    pub fn from_tar(tar: Vec<u8>) -> Layer {
        Layer {
            diff_id: sha256_digest(&tar),
            tar,
            gzip: OnceLock::new(),
        }
    }

    pub fn tar(&self) -> &[u8] {
        &self.tar
    }

    /// `sha256:<hex>` of the uncompressed tar: the layer's diff id.
    pub fn diff_id(&self) -> String {
        self.diff_id.clone()
    }

    /// The tar gzip-compressed, deterministically (no name, mtime 0; fast level: these are
    /// test images).
    pub fn gzip(&self) -> Result<Vec<u8>> {
        if let Some(done) = self.gzip.get() {
            return Ok(done.clone());
        }
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(&self.tar).map_err(TestkitError::Tar)?;
        let gz = encoder.finish().map_err(TestkitError::Tar)?;
        Ok(self.gzip.get_or_init(|| gz).clone())
    }
}

/// Builds a layer tar entry by entry; owners default to root and mtimes to [`MTIME`].
pub struct LayerBuilder {
    builder: tar::Builder<Vec<u8>>,
}

impl Default for LayerBuilder {
    fn default() -> Self {
        LayerBuilder::new()
    }
}

impl LayerBuilder {
    pub fn new() -> LayerBuilder {
        LayerBuilder {
            builder: tar::Builder::new(Vec::new()),
        }
    }

    fn header(kind: EntryType, mode: u32, uid: u64, gid: u64) -> Header {
        let mut header = Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_uid(uid);
        header.set_gid(gid);
        header.set_mtime(MTIME);
        header.set_size(0);
        header
    }

    pub fn dir(&mut self, path: &str, mode: u32) -> Result<&mut Self> {
        let mut header = Self::header(EntryType::Directory, mode, 0, 0);
        self.builder
            .append_data(&mut header, path, &[][..])
            .map_err(TestkitError::Tar)?;
        Ok(self)
    }

    pub fn file(&mut self, path: &str, mode: u32, contents: &[u8]) -> Result<&mut Self> {
        self.file_owned(path, mode, 0, 0, contents)
    }

    pub fn file_owned(
        &mut self,
        path: &str,
        mode: u32,
        uid: u64,
        gid: u64,
        contents: &[u8],
    ) -> Result<&mut Self> {
        let mut header = Self::header(EntryType::Regular, mode, uid, gid);
        header.set_size(contents.len() as u64);
        self.builder
            .append_data(&mut header, path, contents)
            .map_err(TestkitError::Tar)?;
        Ok(self)
    }

    pub fn symlink(&mut self, path: &str, target: &str) -> Result<&mut Self> {
        let mut header = Self::header(EntryType::Symlink, 0o777, 0, 0);
        self.builder
            .append_link(&mut header, path, target)
            .map_err(TestkitError::Tar)?;
        Ok(self)
    }

    /// A hardlink entry; `target` is a path from the layer root.
    pub fn hardlink(&mut self, path: &str, target: &str) -> Result<&mut Self> {
        let mut header = Self::header(EntryType::Link, 0o644, 0, 0);
        self.builder
            .append_link(&mut header, path, target)
            .map_err(TestkitError::Tar)?;
        Ok(self)
    }

    /// Deletes `path` of lower layers: an empty `.wh.<name>` file beside it (OCI layer.md).
    pub fn whiteout(&mut self, path: &str) -> Result<&mut Self> {
        let (dir, name) = match path.trim_end_matches('/').rsplit_once('/') {
            Some((dir, name)) => (format!("{dir}/"), name),
            None => (String::new(), path.trim_end_matches('/')),
        };
        self.file(&format!("{dir}.wh.{name}"), 0o644, b"")
    }

    /// Hides everything lower layers have in `dir` (`dir/.wh..wh..opq`).
    pub fn opaque(&mut self, dir: &str) -> Result<&mut Self> {
        let dir = dir.trim_end_matches('/');
        self.file(&format!("{dir}/.wh..wh..opq"), 0o644, b"")
    }

    pub fn char_device(&mut self, path: &str, major: u32, minor: u32) -> Result<&mut Self> {
        self.device(EntryType::Char, path, major, minor)
    }

    pub fn block_device(&mut self, path: &str, major: u32, minor: u32) -> Result<&mut Self> {
        self.device(EntryType::Block, path, major, minor)
    }

    fn device(&mut self, kind: EntryType, path: &str, major: u32, minor: u32) -> Result<&mut Self> {
        let mut header = Self::header(kind, 0o666, 0, 0);
        header.set_device_major(major).map_err(TestkitError::Tar)?;
        header.set_device_minor(minor).map_err(TestkitError::Tar)?;
        self.builder
            .append_data(&mut header, path, &[][..])
            .map_err(TestkitError::Tar)?;
        Ok(self)
    }

    pub fn fifo(&mut self, path: &str, mode: u32) -> Result<&mut Self> {
        let mut header = Self::header(EntryType::Fifo, mode, 0, 0);
        self.builder
            .append_data(&mut header, path, &[][..])
            .map_err(TestkitError::Tar)?;
        Ok(self)
    }

    /// PAX records (e.g. `SCHILY.xattr.user.x`) for the entry appended next.
    pub fn pax(&mut self, records: &[(&str, &[u8])]) -> Result<&mut Self> {
        self.builder
            .append_pax_extensions(records.iter().copied())
            .map_err(TestkitError::Tar)?;
        Ok(self)
    }

    /// An entry written byte for byte as given: `name` and `link` go into the 100-byte header
    /// fields unchecked (so `../x` and `/abs` are possible), `size` is what the header claims
    /// and `data` what follows it, whatever its length.
    pub fn raw(
        &mut self,
        kind: EntryType,
        name: &[u8],
        link: &[u8],
        mode: u32,
        size: u64,
        data: &[u8],
    ) -> Result<&mut Self> {
        let mut header = Self::header(kind, mode, 0, 0);
        header.set_size(size);
        let gnu = header
            .as_gnu_mut()
            .ok_or_else(|| TestkitError::Tar(std::io::Error::other("not a GNU header")))?;
        copy_field(&mut gnu.name, name)?;
        copy_field(&mut gnu.linkname, link)?;
        header.set_cksum();
        self.append_header(&header, data)
    }

    /// Appends a prepared header (its checksum already set) and the data after it.
    pub fn append_header(&mut self, header: &Header, data: &[u8]) -> Result<&mut Self> {
        self.builder
            .append(header, data)
            .map_err(TestkitError::Tar)?;
        Ok(self)
    }

    /// Finishes the tar (with its end-of-archive blocks).
    pub fn finish(self) -> Result<Layer> {
        self.builder
            .into_inner()
            .map(Layer::from_tar)
            .map_err(TestkitError::Tar)
    }
}

fn copy_field(field: &mut [u8], value: &[u8]) -> Result<()> {
    if value.len() > field.len() {
        return Err(TestkitError::Tar(std::io::Error::other(format!(
            "{} bytes do not fit a {}-byte header field",
            value.len(),
            field.len()
        ))));
    }
    field.fill(0);
    field[..value.len()].copy_from_slice(value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn entries(layer: &Layer) -> Vec<(String, EntryType, Option<String>)> {
        let mut archive = tar::Archive::new(layer.tar());
        archive
            .entries()
            .expect("entries")
            .map(|e| {
                let e = e.expect("entry");
                let link = e
                    .link_name_bytes()
                    .map(|l| String::from_utf8_lossy(&l).into_owned());
                (
                    String::from_utf8_lossy(&e.path_bytes()).into_owned(),
                    e.header().entry_type(),
                    link,
                )
            })
            .collect()
    }

    #[test]
    fn builds_the_entries_asked_for() {
        let mut b = LayerBuilder::new();
        b.dir("etc", 0o755).expect("dir");
        b.file("etc/hosts", 0o644, b"127.0.0.1 localhost\n")
            .expect("file");
        b.symlink("bin/sh", "busybox").expect("symlink");
        b.hardlink("etc/hosts2", "etc/hosts").expect("hardlink");
        b.whiteout("var/gone").expect("whiteout");
        b.opaque("opt/").expect("opaque");
        let layer = b.finish().expect("finish");
        let got = entries(&layer);
        let names: Vec<_> = got.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "etc",
                "etc/hosts",
                "bin/sh",
                "etc/hosts2",
                "var/.wh.gone",
                "opt/.wh..wh..opq"
            ]
        );
        assert_eq!(got[2].1, EntryType::Symlink);
        assert_eq!(got[2].2.as_deref(), Some("busybox"));
        assert_eq!(got[3].1, EntryType::Link);
        assert_eq!(layer.diff_id(), sha256_digest(layer.tar()));
    }

    #[test]
    fn gzip_is_deterministic_and_round_trips() {
        let mut b = LayerBuilder::new();
        b.file("a", 0o644, b"hello").expect("file");
        let layer = b.finish().expect("finish");
        let gz = layer.gzip().expect("gzip");
        assert_eq!(gz, layer.gzip().expect("gzip again"));
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut back)
            .expect("gunzip");
        assert_eq!(back, layer.tar());
    }

    #[test]
    fn raw_entries_keep_unsafe_names() {
        let mut b = LayerBuilder::new();
        b.raw(EntryType::Regular, b"../escape", b"", 0o644, 2, b"hi")
            .expect("raw");
        let layer = b.finish().expect("finish");
        let got = entries(&layer);
        assert_eq!(got[0].0, "../escape");
        assert!(LayerBuilder::new()
            .raw(EntryType::Regular, &[b'a'; 101], b"", 0o644, 0, b"")
            .is_err());
    }
}
