//! Seccomp filters of containers: which profile a container gets (berth's default, none with
//! `--privileged` or `seccomp=unconfined`, or the user's profile in docker's format), its
//! compilation to BPF, and its installation by the container's init and by `exec`'s helper.
//!
//! **Why libseccomp (through the `libseccomp` crate) rather than a pure-Rust compiler such as
//! `seccompiler`:** docker's profiles cover several ABIs at once (`archMap`: x86_64 with
//! x86 and x32, aarch64 with arm), and a system call has a different number on each. The
//! filter must dispatch on the architecture of every call and translate every name per ABI.
//! `seccompiler` emits a filter for a single architecture and kills the process on any
//! other, so a 32-bit program (which docker's default runs) would die at its first call, and
//! it knows no i386 or x32 numbers. libseccomp is what runc uses for docker's profiles: it
//! resolves names on every ABI (names a given ABI lacks are left out of that ABI's part), builds
//! the architecture dispatch and the 64-bit argument comparisons, and its name table is
//! what "unknown system call" is checked against. It costs a C library: `libseccomp-dev` to
//! build (dev.sh installs it), `libseccomp2` at run time (on every systemd host already).
//!
//! **When and where.** The daemon compiles each filter once per (profile, capability set) and
//! keeps it ([`FilterCache`]; the default for docker's default capabilities is compiled when the
//! engine opens), and puts the BPF program in the container's spec ([`SeccompProgram`]): the
//! shim and `exec`'s helper never run libseccomp, so a start pays neither the compilation
//! (12 to 17 ms, below) nor the memory libseccomp's allocations took in every shim (about
//! 0.3 MiB). The child only makes one seccomp(2) call. The init installs it as the last step before execve when
//! no_new_privileges is set, so that none of the runtime's own calls are filtered; without
//! no_new_privs it must install it while it still holds CAP_SYS_ADMIN, before dropping
//! privileges (seccomp(2): installing a filter needs no_new_privs or CAP_SYS_ADMIN), as runc
//! does. With `--init` and no_new_privs, the init that stays behind as PID 1 (berth's own
//! code, with no capabilities and not dumpable) is not filtered; the command it forks is.
//! Measured on the development machine (2 cores, release build, with another build
//! running), compiling docker's default for x86_64+x86+x32 takes 12 to 17 ms and gives 1,227
//! BPF instructions as a binary tree (`compiling_the_default_is_cheap` prints both), against roughly 100 ms
//! for a whole container start in runtime_security; installing it is one system call.

pub mod default;
pub mod profile;

pub use profile::{KernelVersion, Profile, ProfileError};

use super::capabilities::{self, CapSet, UnknownCapability};
use super::spec::{SeccompSpec, SecuritySpec};
use libseccomp::ScmpSyscall;
use libseccomp::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext};
use nix::errno::Errno;
use profile::{Action, Host, Op, Selected};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashMap;
use std::fmt;
use std::io::{Read, Seek};
use std::os::fd::{FromRawFd, OwnedFd};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

/// Why a container's filter could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error(transparent)]
    Capability(#[from] UnknownCapability),
    #[error("compile the seccomp filter: {0}")]
    Compile(String),
}

/// A compiled filter, ready to install: classic BPF for seccomp(2).
#[derive(Clone)]
pub struct Filter {
    program: Vec<libc::sock_filter>,
}

impl PartialEq for Filter {
    fn eq(&self, other: &Self) -> bool {
        self.program.len() == other.program.len()
            && self
                .program
                .iter()
                .zip(&other.program)
                .all(|(a, b)| (a.code, a.jt, a.jf, a.k) == (b.code, b.jt, b.jf, b.k))
    }
}

/// In a spec, a filter is its instructions in hex, eight bytes each (code, jt, jf, k in the
/// host's byte order: the spec is read on the host that wrote it).
impl Serialize for Filter {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut bytes = Vec::with_capacity(self.program.len() * INSTRUCTION_SIZE);
        for i in &self.program {
            bytes.extend_from_slice(&i.code.to_ne_bytes());
            bytes.extend_from_slice(&[i.jt, i.jf]);
            bytes.extend_from_slice(&i.k.to_ne_bytes());
        }
        serializer.serialize_str(&hex::encode(bytes))
    }
}

impl<'de> Deserialize<'de> for Filter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let text = String::deserialize(deserializer)?;
        let bytes = hex::decode(text).map_err(D::Error::custom)?;
        Filter::from_bytes(&bytes).map_err(D::Error::custom)
    }
}

impl fmt::Debug for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Filter({} instructions)", self.program.len())
    }
}

/// The most instructions the kernel takes in one filter (BPF_MAXINSNS).
const MAX_INSTRUCTIONS: usize = 4096;

/// The size of one classic BPF instruction (struct sock_filter).
const INSTRUCTION_SIZE: usize = std::mem::size_of::<libc::sock_filter>();

impl Filter {
    /// A filter from its instructions as the kernel lays them out: whole instructions, 1 to
    /// BPF_MAXINSNS of them.
    fn from_bytes(bytes: &[u8]) -> Result<Filter, String> {
        if !bytes.len().is_multiple_of(INSTRUCTION_SIZE) {
            return Err("a seccomp filter holds a partial instruction".into());
        }
        let program: Vec<libc::sock_filter> = bytes
            .chunks_exact(INSTRUCTION_SIZE)
            .map(|b| libc::sock_filter {
                code: u16::from_ne_bytes([b[0], b[1]]),
                jt: b[2],
                jf: b[3],
                k: u32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
            })
            .collect();
        if program.is_empty() || program.len() > MAX_INSTRUCTIONS {
            return Err(format!(
                "the filter has {} instructions (the kernel takes 1 to {MAX_INSTRUCTIONS})",
                program.len()
            ));
        }
        Ok(Filter { program })
    }

    /// The number of BPF instructions.
    pub fn len(&self) -> usize {
        self.program.len()
    }

    pub fn is_empty(&self) -> bool {
        self.program.is_empty()
    }

    /// Installs the filter on the calling thread, for good: it is inherited by children and
    /// kept across execve. seccomp(2): the caller must have no_new_privs set or hold
    /// CAP_SYS_ADMIN (in its user namespace), or the kernel answers EACCES.
    pub fn install(&self) -> Result<(), Errno> {
        let prog = libc::sock_fprog {
            // Compilation refused programs longer than MAX_INSTRUCTIONS.
            len: self.program.len() as libc::c_ushort,
            filter: self.program.as_ptr() as *mut libc::sock_filter,
        };
        // SAFETY: `prog` points into `self.program`, alive for the call; the kernel copies it.
        let r = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0,
                &prog as *const libc::sock_fprog,
            )
        };
        if r < 0 {
            return Err(Errno::last());
        }
        Ok(())
    }
}

/// The filter of a container's processes with bounding set `caps`: none with `--privileged`
/// or `seccomp=unconfined` (as docker: a privileged container runs unfiltered even if a
/// profile was given), else the chosen profile's rules for `caps` on this host.
pub fn for_container(
    security: &SecuritySpec,
    caps: CapSet,
) -> Result<Option<Filter>, SeccompError> {
    if security.privileged {
        return Ok(None);
    }
    let profile = match &security.seccomp {
        SeccompSpec::Unconfined => return Ok(None),
        SeccompSpec::Default => default::profile(),
        SeccompSpec::Profile(json) => profile::parse(json)?,
    };
    compile(&profile::select(&profile, caps, &Host::this())).map(Some)
}

/// The seccomp filter a container's processes run under, as its spec carries it: compiled by
/// the daemon, installed by the shim and by `exec`'s helper. There is no default: a spec
/// without it is refused, so a forgotten field cannot mean an unfiltered container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeccompProgram {
    /// No filter (`--privileged`, `seccomp=unconfined`).
    Unfiltered,
    Filter(Filter),
}

impl SeccompProgram {
    /// The program of a container with these settings, compiled now (without a cache).
    pub fn compile(security: &SecuritySpec) -> Result<SeccompProgram, SeccompError> {
        let caps = capabilities::resolve(security)?;
        Ok(match for_container(security, caps)? {
            Some(filter) => SeccompProgram::Filter(filter),
            None => SeccompProgram::Unfiltered,
        })
    }

    pub fn filter(&self) -> Option<&Filter> {
        match self {
            SeccompProgram::Unfiltered => None,
            SeccompProgram::Filter(f) => Some(f),
        }
    }

    /// Whether this is the kind of program `security` asks for (a filter, or none).
    pub fn matches(&self, security: &SecuritySpec) -> bool {
        let wanted = !security.privileged && security.seccomp != SeccompSpec::Unconfined;
        wanted == self.filter().is_some()
    }
}

/// What a compiled filter depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct FilterKey {
    seccomp: SeccompSpec,
    privileged: bool,
    caps: u64,
}

/// The filters the daemon compiled, by profile and capability set: most containers share one
/// (the default with docker's default capabilities), so a start costs a lookup.
#[derive(Default)]
pub struct FilterCache {
    filters: Mutex<HashMap<FilterKey, Arc<SeccompProgram>>>,
}

/// More distinct profiles than this (user profiles, capability sets) and the cache starts over:
/// it stays a few hundred kilobytes at most.
const CACHED_FILTERS: usize = 64;

impl FilterCache {
    /// The program of a container with these settings; compiles it the first time (tens of
    /// milliseconds: call from a blocking thread).
    pub fn program(&self, security: &SecuritySpec) -> Result<Arc<SeccompProgram>, SeccompError> {
        let key = FilterKey {
            seccomp: security.seccomp.clone(),
            privileged: security.privileged,
            caps: capabilities::resolve(security)?.0,
        };
        if let Some(found) = self.lock().get(&key) {
            return Ok(found.clone());
        }
        // Compiled outside the lock: two first starts may both compile; one result is kept.
        let program = Arc::new(SeccompProgram::compile(security)?);
        let mut filters = self.lock();
        if filters.len() >= CACHED_FILTERS {
            filters.clear();
        }
        Ok(filters.entry(key).or_insert(program).clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<FilterKey, Arc<SeccompProgram>>> {
        self.filters.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Checks a user's profile as far as possible before any container runs: the JSON, its
/// actions and operators, capability and architecture names, and that libseccomp knows
/// every system call it names.
pub fn validate(json: &str) -> Result<(), SeccompError> {
    let profile = profile::parse(json)?;
    let host = Host::this();
    // Every rule, whatever the container's capabilities or the host.
    let everything = Selected {
        arches: profile
            .architectures
            .iter()
            .chain(
                profile
                    .arch_map
                    .iter()
                    .flat_map(|g| std::iter::once(&g.architecture).chain(&g.sub_architectures)),
            )
            .cloned()
            .collect(),
        ..profile::select(
            &Profile {
                syscalls: profile
                    .syscalls
                    .iter()
                    .map(|r| profile::Rule {
                        includes: Default::default(),
                        excludes: Default::default(),
                        ..r.clone()
                    })
                    .collect(),
                ..profile.clone()
            },
            CapSet::all(),
            &host,
        )
    };
    for arch in &everything.arches {
        ScmpArch::from_str(arch).map_err(|_| ProfileError::UnknownArchitecture(arch.clone()))?;
    }
    for rule in &everything.rules {
        resolve(&rule.syscall)?;
        scmp_action(rule.action, rule.errno)?;
    }
    scmp_action(everything.default_action, everything.default_errno)?;
    Ok(())
}

fn resolve(name: &str) -> Result<ScmpSyscall, ProfileError> {
    ScmpSyscall::from_name(name).map_err(|_| ProfileError::UnknownSyscall(name.to_string()))
}

/// The largest errno a filter can return (SECCOMP_RET_DATA is 16 bits, errnos stop at 4095).
const MAX_ERRNO: u32 = 4095;

fn scmp_action(action: Action, errno: u32) -> Result<ScmpAction, ProfileError> {
    let data = || {
        if errno > MAX_ERRNO {
            return Err(ProfileError::Invalid(format!(
                "errnoRet {errno} is out of range (at most {MAX_ERRNO})"
            )));
        }
        Ok(errno)
    };
    Ok(match action {
        // libseccomp's SCMP_ACT_KILL is SCMP_ACT_KILL_THREAD.
        Action::Kill | Action::KillThread => ScmpAction::KillThread,
        Action::KillProcess => ScmpAction::KillProcess,
        Action::Trap => ScmpAction::Trap,
        Action::Errno => ScmpAction::Errno(data()? as i32),
        Action::Trace => ScmpAction::Trace(data()? as u16),
        Action::Log => ScmpAction::Log,
        Action::Allow => ScmpAction::Allow,
        Action::Notify => return Err(ProfileError::Unsupported("SCMP_ACT_NOTIFY")),
    })
}

fn compare(arg: &profile::Arg) -> ScmpArgCompare {
    let op = match arg.op {
        Op::NotEqual => ScmpCompareOp::NotEqual,
        Op::Less => ScmpCompareOp::Less,
        Op::LessOrEqual => ScmpCompareOp::LessOrEqual,
        Op::Equal => ScmpCompareOp::Equal,
        Op::GreaterOrEqual => ScmpCompareOp::GreaterEqual,
        Op::Greater => ScmpCompareOp::Greater,
        // docker's `value` is the mask, `valueTwo` what the masked argument must equal.
        Op::MaskedEqual => {
            return ScmpArgCompare::new(
                arg.index,
                ScmpCompareOp::MaskedEqual(arg.value),
                arg.value_two,
            )
        }
    };
    ScmpArgCompare::new(arg.index, op, arg.value)
}

/// Compiles the chosen rules to BPF with libseccomp.
pub fn compile(selected: &Selected) -> Result<Filter, SeccompError> {
    let failed = |what: &str, e: libseccomp::error::SeccompError| {
        SeccompError::Compile(format!("{what}: {e}"))
    };
    let default_action = scmp_action(selected.default_action, selected.default_errno)?;
    let mut ctx = ScmpFilterContext::new(default_action).map_err(|e| failed("new filter", e))?;
    // A binary tree of system call numbers (libseccomp's optimisation level 2, 2.5+) instead
    // of a linear chain: each call is decided in about log2(rules) comparisons, and the
    // kernel's action cache, which seccomp(2) builds by running the filter once for every
    // system call number of every ABI, is built in a third of the time: installing docker's
    // default went from 0.85 to 0.34 ms of each start.
    ctx.set_ctl_optimize(2).map_err(|e| failed("optimize", e))?;
    for arch in &selected.arches {
        let scmp = ScmpArch::from_str(arch)
            .map_err(|_| ProfileError::UnknownArchitecture(arch.clone()))?;
        // The native architecture is in every new filter.
        if !ctx.is_arch_present(scmp).map_err(|e| failed(arch, e))? {
            ctx.add_arch(scmp).map_err(|e| failed(arch, e))?;
        }
    }
    for rule in &selected.rules {
        let action = scmp_action(rule.action, rule.errno)?;
        // libseccomp refuses a rule that does what the default does; it changes nothing.
        if action == default_action {
            continue;
        }
        let syscall = resolve(&rule.syscall)?;
        let what = || format!("rule for {}", rule.syscall);
        let mut indices: Vec<u32> = rule.args.iter().map(|a| a.index).collect();
        indices.sort_unstable();
        indices.dedup();
        if rule.args.is_empty() {
            ctx.add_rule(action, syscall)
                .map_err(|e| failed(&what(), e))?;
        } else if indices.len() == rule.args.len() {
            let conditions: Vec<_> = rule.args.iter().map(compare).collect();
            ctx.add_rule_conditional(action, syscall, &conditions)
                .map_err(|e| failed(&what(), e))?;
        } else {
            // Two conditions on one argument cannot both be required by a libseccomp rule:
            // each becomes a rule of its own (an alternative), as runc does.
            for arg in &rule.args {
                ctx.add_rule_conditional(action, syscall, &[compare(arg)])
                    .map_err(|e| failed(&what(), e))?;
            }
        }
    }
    let bytes = export(&ctx).map_err(|e| SeccompError::Compile(format!("export: {e}")))?;
    Filter::from_bytes(&bytes).map_err(SeccompError::Compile)
}

/// The BPF of `ctx`, through a memfd (libseccomp 2.5 exports to a descriptor only).
fn export(ctx: &ScmpFilterContext) -> std::io::Result<Vec<u8>> {
    // SAFETY: memfd_create with a static name; the descriptor is ours alone.
    let fd = unsafe { libc::memfd_create(c"berth-seccomp".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    ctx.export_bpf(&fd).map_err(std::io::Error::other)?;
    let mut file = std::fs::File::from(fd);
    file.rewind()?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn default_for(caps: CapSet) -> Filter {
        compile(&profile::select(&default::profile(), caps, &Host::this())).unwrap()
    }

    #[test]
    fn compiling_the_default_is_cheap() {
        let start = Instant::now();
        let filter = default_for(CapSet::docker_default());
        let took = start.elapsed();
        println!(
            "default seccomp filter: {} instructions, compiled in {:?}",
            filter.len(),
            took
        );
        assert!(filter.len() > 300, "{filter:?}");
        assert!(took.as_millis() < 500, "compiling took {took:?}");
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_default_covers_the_32_bit_abis_of_x86_64() {
        // AUDIT_ARCH_X86_64 and AUDIT_ARCH_I386 (linux/audit.h) are compared with the
        // architecture of each call; x32 calls come as x86_64 with bit 30 of the number set
        // (__X32_SYSCALL_BIT), which libseccomp checks under the x86_64 branch.
        let filter = default_for(CapSet::docker_default());
        let constants: Vec<u32> = filter.program.iter().map(|i| i.k).collect();
        assert!(constants.contains(&0xC000_003E), "x86_64");
        assert!(constants.contains(&0x4000_0003), "i386");
        assert!(constants.contains(&0x4000_0000), "the x32 bit");
        let native_only = compile(&Selected {
            arches: Vec::new(),
            ..profile::select(&default::profile(), CapSet::docker_default(), &Host::this())
        })
        .unwrap();
        assert!(!native_only.program.iter().any(|i| i.k == 0x4000_0003));
    }

    #[test]
    fn every_name_of_the_default_is_known_to_libseccomp() {
        let profile = default::profile();
        for rule in &profile.syscalls {
            for name in &rule.names {
                assert!(resolve(name).is_ok(), "{name}");
            }
        }
        // And some a user might mistype are not.
        assert!(matches!(
            resolve("opne"),
            Err(ProfileError::UnknownSyscall(_))
        ));
    }

    #[test]
    fn a_program_goes_through_the_spec_unchanged_and_is_compiled_once() {
        let cache = FilterCache::default();
        let security = SecuritySpec::default();
        let first = cache.program(&security).unwrap();
        assert!(Arc::ptr_eq(&first, &cache.program(&security).unwrap()));
        let json = serde_json::to_string(&*first).unwrap();
        let back: SeccompProgram = serde_json::from_str(&json).unwrap();
        assert_eq!(back, *first);
        assert!(back.matches(&security));
        // Another capability set is another filter; privileged is none.
        let admin = SecuritySpec {
            cap_add: vec!["SYS_ADMIN".into()],
            ..SecuritySpec::default()
        };
        assert_ne!(*cache.program(&admin).unwrap(), *first);
        let privileged = SecuritySpec {
            privileged: true,
            ..SecuritySpec::default()
        };
        let none = cache.program(&privileged).unwrap();
        assert_eq!(*none, SeccompProgram::Unfiltered);
        assert!(!none.matches(&security) && !first.matches(&privileged));
        // A spec's program is checked: whole instructions, within the kernel's bound.
        for bad in [
            r#"{"filter":"0011"}"#,
            r#"{"filter":""}"#,
            r#"{"filter":"zz"}"#,
        ] {
            assert!(
                serde_json::from_str::<SeccompProgram>(bad).is_err(),
                "{bad}"
            );
        }
        let unknown = SecuritySpec {
            cap_add: vec!["NOT_A_CAP".into()],
            ..SecuritySpec::default()
        };
        assert!(matches!(
            cache.program(&unknown),
            Err(SeccompError::Capability(_))
        ));
    }

    #[test]
    fn the_choice_follows_privileged_and_the_option() {
        let caps = CapSet::docker_default();
        let mut security = SecuritySpec::default();
        assert!(for_container(&security, caps).unwrap().is_some());
        security.seccomp = SeccompSpec::Unconfined;
        assert!(for_container(&security, caps).unwrap().is_none());
        security.seccomp = SeccompSpec::Profile(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                {"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}"#
                .into(),
        );
        assert!(for_container(&security, caps).unwrap().is_some());
        security.privileged = true;
        assert!(
            for_container(&security, caps).unwrap().is_none(),
            "privileged: none"
        );
        security.privileged = false;
        security.seccomp = SeccompSpec::Profile("{".into());
        assert!(for_container(&security, caps).is_err());
    }

    #[test]
    fn user_profiles_are_validated_up_front() {
        let ok = r#"{"defaultAction": "SCMP_ACT_ERRNO",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            "syscalls": [{"names": ["read", "socketcall"], "action": "SCMP_ACT_ALLOW"},
                         {"names": ["cacheflush"], "action": "SCMP_ACT_ALLOW",
                          "includes": {"arches": ["arm"]}}]}"#;
        validate(ok).unwrap();
        let err = |json: &str| validate(json).unwrap_err().to_string();
        assert_eq!(
            err(r#"{"defaultAction": "SCMP_ACT_ERRNO",
                "syscalls": [{"names": ["read", "not_a_syscall"], "action": "SCMP_ACT_ALLOW"}]}"#),
            "invalid seccomp profile: unknown system call \"not_a_syscall\""
        );
        // Even in a rule that applies only elsewhere.
        assert!(err(r#"{"defaultAction": "SCMP_ACT_ERRNO",
                "syscalls": [{"names": ["nope"], "action": "SCMP_ACT_ALLOW",
                              "includes": {"caps": ["CAP_SYS_ADMIN"]}}]}"#)
        .contains("unknown system call \"nope\""));
        assert_eq!(
            err(r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_Z80"]}"#),
            "invalid seccomp profile: unknown architecture \"SCMP_ARCH_Z80\""
        );
        assert!(
            err(r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 70000}"#)
                .contains("errnoRet 70000 is out of range")
        );
        // docker's own default, written out, is a valid user profile.
        validate(&serde_json::to_string(&default::profile()).unwrap()).unwrap();
    }

    /// Runs `probe` in a forked child under `filter` and returns the child's exit status.
    fn in_child(filter: &Filter, probe: fn() -> i32) -> i32 {
        // SAFETY: the child makes only raw system calls (prctl, seccomp, the probe's) and
        // _exits; it allocates nothing and takes no lock.
        match unsafe { libc::fork() } {
            0 => unsafe {
                libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                if filter.install().is_err() {
                    libc::_exit(200);
                }
                libc::_exit(probe())
            },
            pid => {
                assert!(pid > 0, "fork");
                let mut status = 0;
                // SAFETY: waiting for our own child.
                unsafe { libc::waitpid(pid, &mut status, 0) };
                assert!(libc::WIFEXITED(status), "status {status:#x}");
                libc::WEXITSTATUS(status)
            }
        }
    }

    fn errno_of(r: libc::c_long) -> i32 {
        if r < 0 {
            Errno::last_raw()
        } else {
            0
        }
    }

    #[test]
    fn the_installed_default_refuses_and_allows_as_chosen() {
        let filter = default_for(CapSet::docker_default());
        // keyctl with an invalid operation: EOPNOTSUPP from the kernel, EPERM from the filter.
        // SAFETY (all probes): raw system calls with integer arguments.
        let keyctl = || errno_of(unsafe { libc::syscall(libc::SYS_keyctl, 9999, 0, 0, 0, 0) });
        assert_eq!(keyctl(), libc::EOPNOTSUPP, "unfiltered");
        assert_eq!(in_child(&filter, keyctl), libc::EPERM);
        assert_eq!(
            in_child(&filter, || errno_of(unsafe {
                libc::syscall(libc::SYS_getppid)
            })),
            0
        );
        // clone3 answers ENOSYS, so that C libraries fall back to clone.
        assert_eq!(
            in_child(&filter, || errno_of(unsafe {
                libc::syscall(libc::SYS_clone3, 0usize, 0usize)
            })),
            libc::ENOSYS
        );
        // personality: the query passes, turning off address randomisation does not.
        assert_eq!(
            in_child(&filter, || errno_of(unsafe {
                libc::syscall(libc::SYS_personality, 0xffff_ffffu64)
            })),
            0
        );
        assert_eq!(
            in_child(&filter, || errno_of(unsafe {
                libc::syscall(libc::SYS_personality, libc::ADDR_NO_RANDOMIZE as u64)
            })),
            libc::EPERM
        );
        // unshare is for CAP_SYS_ADMIN; with it, the kernel decides (EINVAL: bad flags).
        let unshare = || errno_of(unsafe { libc::syscall(libc::SYS_unshare, -1i64) });
        assert_eq!(in_child(&filter, unshare), libc::EPERM);
        let admin = default_for(CapSet(CapSet::docker_default().0 | 1 << 21));
        assert_eq!(in_child(&admin, unshare), libc::EINVAL);
    }
}
