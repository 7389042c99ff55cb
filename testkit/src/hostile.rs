//! Hostile layer tars, each trying one way to write outside the directory it is unpacked
//! into (or to smuggle in something a layer must not carry). A safe unpacker either refuses
//! the tar or confines it; the engine's tests check which, and that nothing leaked.

use crate::layer::{Layer, LayerBuilder};
use crate::{Result, TestkitError};
use std::path::Path;
use tar::{EntryType, Header};

/// What the escaping entries write, so a test can grep for it anywhere.
pub const PAYLOAD: &[u8] = b"berth-testkit hostile payload\n";

fn path_str(path: &Path) -> Result<&str> {
    path.to_str().ok_or_else(|| {
        TestkitError::Tar(std::io::Error::other(format!(
            "{} is not UTF-8",
            path.display()
        )))
    })
}

/// A regular file named `../<name>`: written one level above the layer if followed.
pub fn dotdot_entry(name: &str) -> Result<Layer> {
    let mut b = LayerBuilder::new();
    b.file("ok.txt", 0o644, b"fine\n")?;
    b.raw(
        EntryType::Regular,
        format!("../{name}").as_bytes(),
        b"",
        0o644,
        PAYLOAD.len() as u64,
        PAYLOAD,
    )?;
    b.finish()
}

/// A `..` hidden in the middle: `a/../../<name>`.
pub fn nested_dotdot_entry(name: &str) -> Result<Layer> {
    let mut b = LayerBuilder::new();
    b.dir("a", 0o755)?;
    b.raw(
        EntryType::Regular,
        format!("a/../../{name}").as_bytes(),
        b"",
        0o644,
        PAYLOAD.len() as u64,
        PAYLOAD,
    )?;
    b.finish()
}

/// A file with an absolute name, `/<name>`: must land at `<layer>/<name>`.
pub fn absolute_path(name: &str) -> Result<Layer> {
    let mut b = LayerBuilder::new();
    b.raw(
        EntryType::Regular,
        format!("/{name}").as_bytes(),
        b"",
        0o644,
        PAYLOAD.len() as u64,
        PAYLOAD,
    )?;
    b.finish()
}

/// A symlink `evil` to the absolute directory `outside`, then a file `evil/pwned.txt`
/// written through it.
pub fn symlink_escape(outside: &Path) -> Result<Layer> {
    let mut b = LayerBuilder::new();
    b.symlink("evil", path_str(outside)?)?;
    b.file("evil/pwned.txt", 0o644, PAYLOAD)?;
    b.finish()
}

/// A symlink `up` to `../../../../../../..`, then `up/<rel>` written through it.
pub fn relative_symlink_escape(rel: &str) -> Result<Layer> {
    let mut b = LayerBuilder::new();
    b.symlink("up", "../../../../../../..")?;
    b.file(&format!("up/{rel}"), 0o644, PAYLOAD)?;
    b.finish()
}

/// A symlink `link` to the file `target` outside, then a regular file named `link`: the
/// file must replace the link, not overwrite `target`.
pub fn symlink_then_file(target: &Path) -> Result<Layer> {
    let mut b = LayerBuilder::new();
    b.symlink("link", path_str(target)?)?;
    b.file("link", 0o644, PAYLOAD)?;
    b.finish()
}

/// A hardlink `h` whose target is `target` as written (e.g. `../secret` or `/etc/shadow`).
pub fn hardlink_outside(target: &str) -> Result<Layer> {
    let mut b = LayerBuilder::new();
    b.raw(EntryType::Link, b"h", target.as_bytes(), 0o644, 0, b"")?;
    b.finish()
}

/// A symlink `d` to the directory `outside`, then a hardlink `h` to `d/<name>`.
pub fn hardlink_through_symlink(outside: &Path, name: &str) -> Result<Layer> {
    let mut b = LayerBuilder::new();
    b.symlink("d", path_str(outside)?)?;
    b.hardlink("h", &format!("d/{name}"))?;
    b.finish()
}

/// Device nodes: `dev/evil-mem` (char 1/1, /dev/mem) and `dev/evil-disk` (block 8/0), plus
/// a harmless `ok.txt`.
pub fn device_nodes() -> Result<Layer> {
    let mut b = LayerBuilder::new();
    b.dir("dev", 0o755)?;
    b.char_device("dev/evil-mem", 1, 1)?;
    b.block_device("dev/evil-disk", 8, 0)?;
    b.file("ok.txt", 0o644, b"fine\n")?;
    b.finish()
}

/// `bin/su` (04755, root), `bin/sg` (02755, owned 1000:1000) and a sticky `shared/` (1777):
/// the bits must survive the chown.
pub fn setuid_file() -> Result<Layer> {
    let mut b = LayerBuilder::new();
    b.dir("bin", 0o755)?;
    b.file_owned("bin/su", 0o4755, 0, 0, b"#!/bin/sh\n")?;
    b.file_owned("bin/sg", 0o2755, 1000, 1000, b"#!/bin/sh\n")?;
    b.dir("shared", 0o1777)?;
    b.finish()
}

/// A regular file whose header claims 1 TiB, followed by only one block of data.
pub fn huge_size_header() -> Result<Layer> {
    let mut b = LayerBuilder::new();
    b.raw(
        EntryType::Regular,
        b"huge.bin",
        b"",
        0o644,
        1 << 40,
        &[0u8; 512],
    )?;
    b.finish()
}

/// A GNU sparse file claiming 1 PiB of (almost all hole) content with one block of data.
pub fn huge_sparse_file() -> Result<Layer> {
    const REAL_SIZE: u64 = 1 << 50;
    let mut header = Header::new_gnu();
    header.set_entry_type(EntryType::GNUSparse);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(crate::layer::MTIME);
    header.set_size(512);
    {
        let gnu = header
            .as_gnu_mut()
            .ok_or_else(|| TestkitError::Tar(std::io::Error::other("not a GNU header")))?;
        gnu.name[..10].copy_from_slice(b"sparse.bin");
        gnu.set_real_size(REAL_SIZE);
        gnu.sparse[0].set_offset(REAL_SIZE - 512);
        gnu.sparse[0].set_length(512);
    }
    header.set_cksum();
    let mut b = LayerBuilder::new();
    b.append_header(&header, &[b'x'; 512])?;
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_entry_name(layer: &Layer, index: usize) -> String {
        let mut archive = tar::Archive::new(layer.tar());
        let entry = archive
            .entries()
            .expect("entries")
            .nth(index)
            .expect("an entry")
            .expect("readable");
        String::from_utf8_lossy(&entry.path_bytes()).into_owned()
    }

    #[test]
    fn hostile_names_are_written_verbatim() {
        assert_eq!(
            first_entry_name(&dotdot_entry("x").expect("tar"), 1),
            "../x"
        );
        assert_eq!(
            first_entry_name(&nested_dotdot_entry("x").expect("tar"), 1),
            "a/../../x"
        );
        assert_eq!(first_entry_name(&absolute_path("x").expect("tar"), 0), "/x");
    }

    #[test]
    fn sparse_header_claims_a_petabyte() {
        let layer = huge_sparse_file().expect("tar");
        let mut archive = tar::Archive::new(layer.tar());
        let entry = archive
            .entries()
            .expect("entries")
            .next()
            .expect("an entry")
            .expect("readable");
        assert!(entry.header().entry_type().is_gnu_sparse());
        assert_eq!(entry.size(), 1 << 50);
    }

    #[test]
    fn huge_header_claims_more_than_it_holds() {
        let layer = huge_size_header().expect("tar");
        assert!(layer.tar().len() < 4096);
        let header = Header::from_byte_slice(&layer.tar()[..512]);
        assert_eq!(header.size().expect("size"), 1 << 40);
    }
}
