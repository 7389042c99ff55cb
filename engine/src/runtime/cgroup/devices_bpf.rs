//! The cgroup v2 device filter: a BPF_PROG_TYPE_CGROUP_DEVICE program assembled from a
//! device allow list and attached to a container's cgroup with bpf(2).
//!
//! cgroup v2 has no devices.* files; Documentation/admin-guide/cgroup-v2.rst ("Device
//! controller") says access is controlled by such a program: it gets a `struct
//! bpf_cgroup_dev_ctx` (include/uapi/linux/bpf.h: `access_type` = (access << 16) | type,
//! `major`, `minor`, each a u32) and returns 1 to allow the access, 0 to deny it (EPERM).

use super::devices::{Access, DeviceKind, DeviceRule};
use super::CgroupError;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

/// One eBPF instruction, `struct bpf_insn` of bpf.h (Documentation/bpf/standardization/
/// instruction-set.rst): opcode, destination and source registers in one byte, a signed
/// 16-bit jump offset, a signed 32-bit immediate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub(crate) struct Insn {
    code: u8,
    regs: u8,
    off: i16,
    imm: i32,
}

// Opcodes: class | operation | source (instruction-set.rst). ALU64 ops work on whole registers.
const LDX_W: u8 = 0x61; // BPF_LDX | BPF_MEM | BPF_W: dst = *(u32 *)(src + off), zero-extended
const AND_K: u8 = 0x57; // BPF_ALU64 | BPF_AND | BPF_K: dst &= imm
const RSH_K: u8 = 0x77; // BPF_ALU64 | BPF_RSH | BPF_K: dst >>= imm
const MOV_K: u8 = 0xb7; // BPF_ALU64 | BPF_MOV | BPF_K: dst = imm
const MOV_X: u8 = 0xbf; // BPF_ALU64 | BPF_MOV | BPF_X: dst = src
const JNE_K: u8 = 0x55; // BPF_JMP | BPF_JNE | BPF_K: if dst != imm, pc += off
const JNE_X: u8 = 0x5d; // BPF_JMP | BPF_JNE | BPF_X: if dst != src, pc += off
const EXIT: u8 = 0x95; // BPF_JMP | BPF_EXIT: return r0

// Registers: r0 holds the verdict, r1 the context pointer on entry (then scratch).
const R0: u8 = 0;
const R1: u8 = 1;
const TYPE: u8 = 2;
const ACCESS: u8 = 3;
const MAJOR: u8 = 4;
const MINOR: u8 = 5;

// bpf.h: BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_DEV_CHAR.
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    // `__u8 dst_reg:4; __u8 src_reg:4;` puts dst in the low nibble on little-endian.
    let regs = if cfg!(target_endian = "little") {
        (src << 4) | dst
    } else {
        (dst << 4) | src
    };
    Insn {
        code,
        regs,
        off,
        imm,
    }
}

/// Assembles the program: load type, access, major and minor once, then one block per rule
/// that jumps to the next block on the first mismatch and returns 1 when all fields match;
/// after the last block, return 0 (deny).
pub(crate) fn program(rules: &[DeviceRule]) -> Vec<Insn> {
    let mut prog = vec![
        insn(LDX_W, TYPE, R1, 0, 0),
        insn(AND_K, TYPE, 0, 0, 0xffff),
        insn(LDX_W, ACCESS, R1, 0, 0),
        insn(RSH_K, ACCESS, 0, 0, 16),
        insn(LDX_W, MAJOR, R1, 4, 0),
        insn(LDX_W, MINOR, R1, 8, 0),
    ];
    for rule in rules {
        // Device numbers are at most 32 bits in the context but the kernel's are 12 (major)
        // and 20 (minor) bits: a rule naming a larger one matches no device.
        let (Ok(major), Ok(minor)) = (
            rule.major.map(i32::try_from).transpose(),
            rule.minor.map(i32::try_from).transpose(),
        ) else {
            continue;
        };
        let mut block = Vec::new();
        let mut to_next = Vec::new();
        let kind = match rule.kind {
            DeviceKind::All => None,
            DeviceKind::Char => Some(DEV_CHAR),
            DeviceKind::Block => Some(DEV_BLOCK),
        };
        if let Some(kind) = kind {
            to_next.push(block.len());
            block.push(insn(JNE_K, TYPE, 0, 0, kind));
        }
        if !rule.access.contains(Access::ALL) {
            // Allowed only when the request asks nothing beyond the rule's access.
            block.push(insn(MOV_X, R1, ACCESS, 0, 0));
            block.push(insn(AND_K, R1, 0, 0, i32::from(rule.access.bits())));
            to_next.push(block.len());
            block.push(insn(JNE_X, R1, ACCESS, 0, 0));
        }
        for (reg, value) in [(MAJOR, major), (MINOR, minor)] {
            if let Some(value) = value {
                to_next.push(block.len());
                block.push(insn(JNE_K, reg, 0, 0, value));
            }
        }
        block.push(insn(MOV_K, R0, 0, 0, 1));
        block.push(insn(EXIT, 0, 0, 0, 0));
        // A jump's offset counts from the instruction after it; the next block starts right
        // after this one. Blocks have at most 8 instructions, so the cast cannot truncate.
        let len = block.len();
        for at in to_next {
            block[at].off = (len - at - 1) as i16;
        }
        prog.extend(block);
    }
    prog.push(insn(MOV_K, R0, 0, 0, 0));
    prog.push(insn(EXIT, 0, 0, 0, 0));
    prog
}

// bpf(2) commands, program and attach types, and flags (include/uapi/linux/bpf.h).
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
/// Programs of descendant cgroups run too (all must allow), as runc attaches its filter.
const BPF_F_ALLOW_MULTI: u32 = 1 << 1;

/// The leading fields of `union bpf_attr` for BPF_PROG_LOAD; the kernel treats the fields
/// this struct does not have as zero.
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
}

/// `union bpf_attr` for BPF_PROG_ATTACH.
#[repr(C)]
#[derive(Default)]
struct ProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

/// bpf(2): the new fd or 0 on success.
///
/// # Safety
/// `attr` must be the attribute struct `cmd` expects, with every pointer in it valid.
unsafe fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> io::Result<libc::c_long> {
    // SAFETY: the caller guarantees `attr` matches `cmd`; its size is passed along.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut T as *mut libc::c_void,
            std::mem::size_of::<T>() as libc::c_uint,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// How much of the verifier's explanation is kept when loading fails.
const LOG_SIZE: usize = 64 * 1024;

/// Loads `insns` as a cgroup device program. When the kernel refuses it, loads it again
/// with the verifier's log on, to say why.
pub(crate) fn load(insns: &[Insn]) -> Result<OwnedFd, CgroupError> {
    match load_with_log(insns, None) {
        Ok(fd) => Ok(fd),
        Err(source) => {
            let mut log = vec![0u8; LOG_SIZE];
            let _ = load_with_log(insns, Some(&mut log));
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            let log = String::from_utf8_lossy(&log[..end]).trim().to_string();
            Err(CgroupError::BpfLoad { source, log })
        }
    }
}

fn load_with_log(insns: &[Insn], log: Option<&mut Vec<u8>>) -> io::Result<OwnedFd> {
    // The license matters only to GPL-only helpers, which this program does not call.
    let license = CString::new(env!("CARGO_PKG_LICENSE")).unwrap_or_default();
    let mut name = [0u8; 16];
    let label = b"berth_devices";
    name[..label.len()].copy_from_slice(label);
    let mut attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        prog_name: name,
        ..Default::default()
    };
    if let Some(log) = log {
        attr.log_level = 1;
        attr.log_size = log.len() as u32;
        attr.log_buf = log.as_mut_ptr() as u64;
    }
    // SAFETY: a BPF_PROG_LOAD attr whose pointers (insns, license, log) outlive the call.
    let fd = unsafe { bpf(BPF_PROG_LOAD, &mut attr)? };
    // SAFETY: on success bpf(2) returns a new file descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// Attaches the program `prog` to the cgroup directory `dir`. The attachment holds its own
/// reference to the program, so `prog` may be closed afterwards; it ends with the cgroup.
pub(crate) fn attach(prog: &OwnedFd, dir: &Path) -> Result<(), CgroupError> {
    let cgroup = std::fs::File::open(dir).map_err(|e| CgroupError::io("open", dir, e))?;
    let mut attr = ProgAttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        ..Default::default()
    };
    // SAFETY: a BPF_PROG_ATTACH attr with two open descriptors and no pointers.
    unsafe { bpf(BPF_PROG_ATTACH, &mut attr) }
        .map(drop)
        .map_err(|source| CgroupError::BpfAttach {
            path: dir.to_path_buf(),
            source,
        })
}

/// Builds, loads and attaches the filter allowing only `rules` to the cgroup `dir`.
pub(crate) fn install(rules: &[DeviceRule], dir: &Path) -> Result<(), CgroupError> {
    let prog = load(&program(rules))?;
    attach(&prog, dir)
}

#[cfg(test)]
mod tests {
    use super::super::devices::{DevicePolicy, DEFAULT_RULES};
    use super::*;

    fn regs(i: &Insn) -> (usize, usize) {
        let (lo, hi) = ((i.regs & 0xf) as usize, (i.regs >> 4) as usize);
        if cfg!(target_endian = "little") {
            (lo, hi)
        } else {
            (hi, lo)
        }
    }

    /// Runs the instructions `program` emits, on a context of (access_type, major, minor),
    /// as the kernel would; panics on anything else, a jump out of the program or a step
    /// limit (the verifier refuses loops).
    fn run(prog: &[Insn], ctx: [u32; 3]) -> u64 {
        let mut r = [0u64; 11];
        let mut pc = 0usize;
        for _ in 0..prog.len() {
            let i = prog[pc];
            let (dst, src) = regs(&i);
            let mut next = pc + 1;
            match i.code {
                LDX_W => {
                    assert_eq!(src, 1, "loads only from the context");
                    assert!(i.off % 4 == 0 && i.off < 12, "context offset {}", i.off);
                    r[dst] = u64::from(ctx[i.off as usize / 4]);
                }
                AND_K => r[dst] &= i.imm as i64 as u64,
                RSH_K => r[dst] >>= i.imm,
                MOV_K => r[dst] = i.imm as i64 as u64,
                MOV_X => r[dst] = r[src],
                JNE_K | JNE_X => {
                    let other = if i.code == JNE_K {
                        i.imm as i64 as u64
                    } else {
                        r[src]
                    };
                    if r[dst] != other {
                        next = (pc as i64 + 1 + i64::from(i.off)) as usize;
                    }
                }
                EXIT => return r[0],
                code => panic!("unexpected opcode {code:#x}"),
            }
            pc = next;
            assert!(pc < prog.len(), "jumped out of the program");
        }
        panic!("no exit within {} steps", prog.len());
    }

    fn ask(prog: &[Insn], kind: DeviceKind, major: u32, minor: u32, access: Access) -> bool {
        let kind_bits = match kind {
            DeviceKind::Block => 1,
            DeviceKind::Char => 2,
            DeviceKind::All => unreachable!("a node has one kind"),
        };
        run(
            prog,
            [(u32::from(access.bits()) << 16) | kind_bits, major, minor],
        ) == 1
    }

    #[test]
    fn the_program_decides_exactly_as_the_rules() {
        let rules = DEFAULT_RULES.to_vec();
        let policy = DevicePolicy::Only(rules.clone());
        let prog = program(&rules);
        let accesses = [
            Access::MKNOD,
            Access::READ,
            Access::WRITE,
            Access::READ.with(Access::WRITE),
            Access::ALL,
        ];
        let mut allowed = 0;
        for kind in [DeviceKind::Char, DeviceKind::Block] {
            for major in [0, 1, 4, 5, 8, 10, 136, 254] {
                for minor in [0, 1, 2, 3, 5, 7, 8, 9, 200] {
                    for access in accesses {
                        let want = policy.allows(kind, major, minor, access);
                        let got = ask(&prog, kind, major, minor, access);
                        assert_eq!(got, want, "{kind:?} {major}:{minor} {access}");
                        allowed += usize::from(got);
                    }
                }
            }
        }
        assert!(allowed > 0 && allowed < 2 * 8 * 9 * 5);
    }

    #[test]
    fn wildcards_and_partial_access_compile_to_fewer_checks() {
        let any = DeviceRule {
            kind: DeviceKind::All,
            major: None,
            minor: None,
            access: Access::ALL,
        };
        // Six loads, "return 1", then the unreachable "return 0".
        assert_eq!(program(&[any]).len(), 6 + 2 + 2);
        assert!(ask(&program(&[any]), DeviceKind::Block, 8, 0, Access::ALL));
        assert!(!ask(&program(&[]), DeviceKind::Char, 1, 3, Access::READ));
        let read_only = DeviceRule {
            kind: DeviceKind::Block,
            major: Some(7),
            minor: None,
            access: Access::READ,
        };
        let prog = program(&[read_only]);
        assert!(ask(&prog, DeviceKind::Block, 7, 3, Access::READ));
        assert!(!ask(&prog, DeviceKind::Block, 7, 3, Access::WRITE));
        assert!(!ask(&prog, DeviceKind::Char, 7, 3, Access::READ));
        assert!(!ask(&prog, DeviceKind::Block, 8, 3, Access::READ));
    }

    #[test]
    fn an_impossible_device_number_matches_nothing() {
        let huge = DeviceRule {
            kind: DeviceKind::Char,
            major: Some(u32::MAX),
            minor: None,
            access: Access::ALL,
        };
        assert_eq!(program(&[huge]), program(&[]));
    }

    #[test]
    fn instructions_have_the_kernel_layout() {
        assert_eq!(std::mem::size_of::<Insn>(), 8);
        let i = insn(LDX_W, 4, 1, 4, 0);
        assert_eq!(regs(&i), (4, 1));
        assert_eq!(std::mem::size_of::<ProgAttachAttr>(), 20);
        // prog_name sits at byte 48 of union bpf_attr.
        assert_eq!(std::mem::offset_of!(ProgLoadAttr, prog_name), 48);
    }
}
