//! docker's seccomp profile format (`--security-opt seccomp=profile.json`), read with serde,
//! and the choice of its rules for one container: which architectures the filter covers
//! (`architectures`, or the `archMap` entry of the host's) and which rules apply, as moby's
//! `setupSeccomp` decides from a rule's `includes` and `excludes` (capabilities in the
//! container's bounding set, the host's architecture, the running kernel's version).

use crate::runtime::capabilities::{self, CapSet};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A whole profile. Fields berth does not use (`flags`, `listenerPath`, `comment`…) are
/// ignored, as docker's decoder ignores unknown ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// What a system call no rule matches gets.
    pub default_action: Action,
    /// The errno of an `SCMP_ACT_ERRNO` default action (EPERM when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_errno_ret: Option<u32>,
    /// `SCMP_ARCH_*` names the filter covers (the native one always is).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub architectures: Vec<String>,
    /// Per host architecture, the sub-architectures covered with it: the entry whose
    /// `architecture` is the host's applies. Only one of this and `architectures` may be set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arch_map: Vec<ArchGroup>,
    #[serde(default)]
    pub syscalls: Vec<Rule>,
}

/// One `archMap` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchGroup {
    pub architecture: String,
    #[serde(default)]
    pub sub_architectures: Vec<String>,
}

/// One entry of `syscalls`: an action for the named calls, when their arguments match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    #[serde(default)]
    pub names: Vec<String>,
    /// The older single-name form; not together with `names`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub action: Action,
    /// The errno of `SCMP_ACT_ERRNO` (or the message of `SCMP_ACT_TRACE`); EPERM if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno_ret: Option<u32>,
    /// Conditions on the arguments; all must hold, except that several conditions on the
    /// same argument are alternatives (libseccomp cannot AND them: runc adds one rule each).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<Arg>,
    /// The rule applies only where all of these hold.
    #[serde(default, skip_serializing_if = "Condition::is_empty")]
    pub includes: Condition,
    /// The rule does not apply where any of these holds.
    #[serde(default, skip_serializing_if = "Condition::is_empty")]
    pub excludes: Condition,
}

/// A condition on one argument: `args[index] <op> value` (for `SCMP_CMP_MASKED_EQ`:
/// `args[index] & value == value_two`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Arg {
    pub index: u32,
    pub value: u64,
    #[serde(default)]
    pub value_two: u64,
    pub op: Op,
}

/// Where a rule applies: capabilities (`CAP_…`), host architectures in Go's names
/// (`amd64`, `arm64`…) and a kernel version (`"4.8"`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caps: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arches: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_kernel: Option<KernelVersion>,
}

impl Rule {
    /// `action` for `names`, whatever the arguments, everywhere.
    pub fn new(action: Action, names: &[&str]) -> Rule {
        Rule {
            names: names.iter().map(|n| n.to_string()).collect(),
            name: None,
            action,
            errno_ret: None,
            args: Vec::new(),
            includes: Condition::default(),
            excludes: Condition::default(),
        }
    }
}

impl Condition {
    fn is_empty(&self) -> bool {
        self.caps.is_empty() && self.arches.is_empty() && self.min_kernel.is_none()
    }
}

/// What the filter does with a system call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Kill the calling thread (libseccomp's `SCMP_ACT_KILL`).
    #[serde(rename = "SCMP_ACT_KILL")]
    Kill,
    #[serde(rename = "SCMP_ACT_KILL_THREAD")]
    KillThread,
    #[serde(rename = "SCMP_ACT_KILL_PROCESS")]
    KillProcess,
    /// SIGSYS.
    #[serde(rename = "SCMP_ACT_TRAP")]
    Trap,
    /// Fail with an errno (`errnoRet`).
    #[serde(rename = "SCMP_ACT_ERRNO")]
    Errno,
    /// Notify a ptrace tracer.
    #[serde(rename = "SCMP_ACT_TRACE")]
    Trace,
    /// Allow and log.
    #[serde(rename = "SCMP_ACT_LOG")]
    Log,
    #[serde(rename = "SCMP_ACT_ALLOW")]
    Allow,
    /// Hand the call to a user-space agent: parsed, but berth has no listener for it.
    #[serde(rename = "SCMP_ACT_NOTIFY")]
    Notify,
}

/// A comparison of an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = "SCMP_CMP_NE")]
    NotEqual,
    #[serde(rename = "SCMP_CMP_LT")]
    Less,
    #[serde(rename = "SCMP_CMP_LE")]
    LessOrEqual,
    #[serde(rename = "SCMP_CMP_EQ")]
    Equal,
    #[serde(rename = "SCMP_CMP_GE")]
    GreaterOrEqual,
    #[serde(rename = "SCMP_CMP_GT")]
    Greater,
    #[serde(rename = "SCMP_CMP_MASKED_EQ")]
    MaskedEqual,
}

/// `major.minor` of a kernel, written `"4.8"` in profiles (moby's `KernelVersion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KernelVersion(pub u32, pub u32);

impl KernelVersion {
    /// The leading `major.minor` of a release string such as `6.1.0-18-amd64`.
    pub fn parse(text: &str) -> Option<KernelVersion> {
        let mut parts = text.trim().splitn(3, '.');
        let major = parts.next()?.parse().ok()?;
        let minor: String = parts
            .next()?
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        Some(KernelVersion(major, minor.parse().ok()?))
    }

    /// The running kernel's, from uname(2); `None` if it cannot be read.
    pub fn running() -> Option<KernelVersion> {
        // SAFETY: uname fills the zeroed struct we own; release is NUL-terminated.
        let release = unsafe {
            let mut buf: libc::utsname = std::mem::zeroed();
            if libc::uname(&mut buf) != 0 {
                return None;
            }
            std::ffi::CStr::from_ptr(buf.release.as_ptr())
                .to_string_lossy()
                .into_owned()
        };
        KernelVersion::parse(&release)
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

impl Serialize for KernelVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for KernelVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        // Only `major.minor`, as moby reads it.
        let valid = text.split('.').count() == 2;
        KernelVersion::parse(&text)
            .filter(|_| valid)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "invalid minKernel {text:?}: expected MAJOR.MINOR, e.g. \"4.8\""
                ))
            })
    }
}

/// Why a profile cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("invalid seccomp profile: {0}")]
    Json(#[from] serde_json::Error),
    #[error("invalid seccomp profile: {0}")]
    Invalid(String),
    #[error("invalid seccomp profile: unknown system call {0:?}")]
    UnknownSyscall(String),
    #[error("invalid seccomp profile: unknown architecture {0:?}")]
    UnknownArchitecture(String),
    #[error("invalid seccomp profile: unknown capability {0:?}")]
    UnknownCapability(String),
    #[error("seccomp profile: {0} is not supported by berth")]
    Unsupported(&'static str),
}

/// Reads a profile in docker's format.
pub fn parse(json: &str) -> Result<Profile, ProfileError> {
    let profile: Profile = serde_json::from_str(json)?;
    check(&profile)?;
    Ok(profile)
}

/// What can be checked without compiling: the shape rules of docker's format, capability
/// names, and actions berth cannot carry out.
fn check(profile: &Profile) -> Result<(), ProfileError> {
    if !profile.architectures.is_empty() && !profile.arch_map.is_empty() {
        return Err(ProfileError::Invalid(
            "'architectures' and 'archMap' were both given; use one of them".into(),
        ));
    }
    if profile.default_action == Action::Notify {
        return Err(ProfileError::Unsupported(
            "SCMP_ACT_NOTIFY as the default action",
        ));
    }
    for rule in &profile.syscalls {
        if rule.name.is_some() && !rule.names.is_empty() {
            return Err(ProfileError::Invalid(
                "a rule has both 'name' and 'names'; use one of them".into(),
            ));
        }
        if rule.name.is_none() && rule.names.is_empty() {
            return Err(ProfileError::Invalid("a rule names no system call".into()));
        }
        if rule.action == Action::Notify {
            return Err(ProfileError::Unsupported("SCMP_ACT_NOTIFY"));
        }
        if let Some(arg) = rule.args.iter().find(|a| a.index > 5) {
            return Err(ProfileError::Invalid(format!(
                "argument index {} out of range (system calls have 6 arguments)",
                arg.index
            )));
        }
        for cap in rule.includes.caps.iter().chain(&rule.excludes.caps) {
            if capabilities::number(cap).is_none() {
                return Err(ProfileError::UnknownCapability(cap.clone()));
            }
        }
    }
    Ok(())
}

/// The host a filter is chosen for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Host {
    /// libseccomp's name of the native architecture, e.g. `SCMP_ARCH_X86_64`.
    pub arch: &'static str,
    /// Go's name of it (`amd64`), which `includes.arches` and `excludes.arches` use.
    pub go_arch: &'static str,
    /// The running kernel's version; `None`: unknown, so no `minKernel` is met.
    pub kernel: Option<KernelVersion>,
}

impl Host {
    /// This machine.
    pub fn this() -> Host {
        let (arch, go_arch) = native_arch();
        Host {
            arch,
            go_arch,
            kernel: KernelVersion::running(),
        }
    }
}

/// The native architecture in libseccomp's and in Go's names.
fn native_arch() -> (&'static str, &'static str) {
    if cfg!(target_arch = "x86_64") {
        ("SCMP_ARCH_X86_64", "amd64")
    } else if cfg!(target_arch = "aarch64") {
        ("SCMP_ARCH_AARCH64", "arm64")
    } else if cfg!(target_arch = "riscv64") {
        ("SCMP_ARCH_RISCV64", "riscv64")
    } else if cfg!(target_arch = "s390x") {
        ("SCMP_ARCH_S390X", "s390x")
    } else if cfg!(all(target_arch = "powerpc64", target_endian = "little")) {
        ("SCMP_ARCH_PPC64LE", "ppc64le")
    } else {
        ("SCMP_ARCH_NATIVE", "unknown")
    }
}

/// A profile made concrete for one container: the rules that apply, one system call each.
#[derive(Debug, Clone, PartialEq)]
pub struct Selected {
    pub default_action: Action,
    pub default_errno: u32,
    /// `SCMP_ARCH_*` names besides the native one.
    pub arches: Vec<String>,
    pub rules: Vec<SelectedRule>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SelectedRule {
    pub syscall: String,
    pub action: Action,
    /// The errno (or trace message) of `Errno` and `Trace`.
    pub errno: u32,
    pub args: Vec<Arg>,
}

impl Selected {
    /// The rules for `syscall`, in profile order.
    pub fn rules_for<'a>(&'a self, syscall: &'a str) -> impl Iterator<Item = &'a SelectedRule> {
        self.rules.iter().filter(move |r| r.syscall == syscall)
    }

    /// Whether `syscall` is allowed without conditions on its arguments.
    pub fn allows(&self, syscall: &str) -> bool {
        self.rules_for(syscall)
            .any(|r| r.action == Action::Allow && r.args.is_empty())
    }
}

/// EPERM, docker's errno for refused calls.
const EPERM: u32 = libc::EPERM as u32;

/// The rules of `profile` that apply to a container with bounding set `caps` on `host`.
/// A rule is skipped when an `excludes` entry holds (an architecture equal to the host's,
/// any of its capabilities in `caps`, a kernel at least `minKernel`) or an `includes` entry
/// does not (the host's architecture not listed, a capability missing, an older kernel).
pub fn select(profile: &Profile, caps: CapSet, host: &Host) -> Selected {
    let holds_cap = |name: &String| capabilities::number(name).is_some_and(|n| caps.contains(n));
    let kernel_at_least = |min: &KernelVersion| host.kernel.is_some_and(|running| running >= *min);
    let mut rules = Vec::new();
    for rule in &profile.syscalls {
        let ex = &rule.excludes;
        if ex.arches.iter().any(|a| a == host.go_arch)
            || ex.caps.iter().any(holds_cap)
            || ex.min_kernel.as_ref().is_some_and(kernel_at_least)
        {
            continue;
        }
        let inc = &rule.includes;
        if (!inc.arches.is_empty() && !inc.arches.iter().any(|a| a == host.go_arch))
            || !inc.caps.iter().all(holds_cap)
            || inc
                .min_kernel
                .as_ref()
                .is_some_and(|min| !kernel_at_least(min))
        {
            continue;
        }
        for name in rule.name.iter().chain(&rule.names) {
            rules.push(SelectedRule {
                syscall: name.clone(),
                action: rule.action,
                errno: rule.errno_ret.unwrap_or(EPERM),
                args: rule.args.clone(),
            });
        }
    }
    let arches = if profile.architectures.is_empty() {
        profile
            .arch_map
            .iter()
            .filter(|group| group.architecture == host.arch)
            .flat_map(|group| std::iter::once(&group.architecture).chain(&group.sub_architectures))
            .cloned()
            .collect()
    } else {
        profile.architectures.clone()
    };
    Selected {
        default_action: profile.default_action,
        default_errno: profile.default_errno_ret.unwrap_or(EPERM),
        arches: arches.into_iter().filter(|a| a != host.arch).collect(),
        rules,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AMD64: Host = Host {
        arch: "SCMP_ARCH_X86_64",
        go_arch: "amd64",
        kernel: Some(KernelVersion(6, 1)),
    };

    /// A small profile in docker's format, as a user would write it.
    const USER_PROFILE: &str = r#"{
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "archMap": [
            {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
            {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}
        ],
        "syscalls": [
            {"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW", "comment": "basics"},
            {"name": "getpid", "action": "SCMP_ACT_ALLOW"},
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
            {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
             "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
            {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
            {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
            {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
            {"names": ["uname"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
            {"names": ["getuid"], "action": "SCMP_ACT_LOG", "excludes": {"minKernel": "5.0"}}
        ],
        "listenerPath": "/ignored"
    }"#;

    #[test]
    fn dockers_format_parses() {
        let p = parse(USER_PROFILE).unwrap();
        assert_eq!(p.default_action, Action::Errno);
        assert_eq!(p.default_errno_ret, Some(1));
        assert_eq!(p.arch_map.len(), 2);
        assert_eq!(p.syscalls.len(), 9);
        assert_eq!(p.syscalls[1].name.as_deref(), Some("getpid"));
        let clone = &p.syscalls[3];
        assert_eq!(
            clone.args,
            [Arg {
                index: 0,
                value: 0x7E02_0000,
                value_two: 0,
                op: Op::MaskedEqual
            }]
        );
        assert_eq!(clone.excludes.caps, ["CAP_SYS_ADMIN"]);
        assert_eq!(p.syscalls[5].includes.min_kernel, Some(KernelVersion(4, 8)));
        assert_eq!(p.syscalls[7].errno_ret, Some(38));
    }

    #[test]
    fn bad_profiles_say_what_is_wrong() {
        let err = |json: &str| parse(json).unwrap_err().to_string();
        let e = err("{\"defaultAction\": ");
        assert!(
            e.starts_with("invalid seccomp profile: EOF while parsing"),
            "{e}"
        );
        let e = err(r#"{"defaultAction": "SCMP_ACT_MAYBE"}"#);
        assert!(e.contains("unknown variant `SCMP_ACT_MAYBE`"), "{e}");
        assert!(
            e.contains("SCMP_ACT_ALLOW"),
            "the known ones are listed: {e}"
        );
        let e = err(r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                          "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_SOMETIMES"}]}]}"#);
        assert!(e.contains("unknown variant `SCMP_CMP_SOMETIMES`"), "{e}");
        let e = err(r#"{"syscalls": []}"#);
        assert!(e.contains("missing field `defaultAction`"), "{e}");
        let e = err(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86"],
            "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}"#,
        );
        assert!(e.contains("'architectures' and 'archMap'"), "{e}");
        let e = err(r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"name": "read", "names": ["write"], "action": "SCMP_ACT_ALLOW"}]}"#);
        assert!(e.contains("both 'name' and 'names'"), "{e}");
        let e = err(r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                          "includes": {"caps": ["CAP_WIZARDRY"]}}]}"#);
        assert_eq!(
            e,
            "invalid seccomp profile: unknown capability \"CAP_WIZARDRY\""
        );
        let e = err(r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                          "includes": {"minKernel": "four"}}]}"#);
        assert!(e.contains("invalid minKernel \"four\""), "{e}");
        let e = err(r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                          "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}"#);
        assert!(e.contains("argument index 6"), "{e}");
        let e = err(r#"{"defaultAction": "SCMP_ACT_NOTIFY"}"#);
        assert!(e.contains("not supported"), "{e}");
        let e = err(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "SCMP_ACT_ALLOW"}]}"#,
        );
        assert!(e.contains("names no system call"), "{e}");
        assert!(err("[]").starts_with("invalid seccomp profile: invalid length 0"));
        assert!(err("\"profile\"").starts_with("invalid seccomp profile: invalid type"));
    }

    fn caps(names: &[&str]) -> CapSet {
        let mut set = CapSet::docker_default();
        for name in names {
            set.0 |= 1 << capabilities::number(name).unwrap();
        }
        set
    }

    #[test]
    fn rules_follow_capabilities_arches_and_kernel() {
        let p = parse(USER_PROFILE).unwrap();
        let plain = select(&p, CapSet::docker_default(), &AMD64);
        assert!(plain.allows("read") && plain.allows("getpid"));
        assert!(!plain.allows("mount"), "mount needs CAP_SYS_ADMIN");
        assert_eq!(
            plain.rules_for("clone").count(),
            1,
            "clone without namespaces"
        );
        assert!(plain.allows("ptrace"), "6.1 >= 4.8");
        assert!(plain.allows("arch_prctl"));
        assert_eq!(plain.rules_for("uname").next().unwrap().errno, 38);
        assert_eq!(plain.rules_for("getuid").count(), 0, "excluded from 5.0 on");
        assert_eq!(plain.default_errno, 1);
        assert_eq!(plain.arches, ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]);

        let admin = select(&p, caps(&["SYS_ADMIN"]), &AMD64);
        assert!(admin.allows("mount"));
        assert_eq!(
            admin.rules_for("clone").count(),
            0,
            "the masked rule is excluded"
        );

        let old = Host {
            kernel: Some(KernelVersion(4, 7)),
            ..AMD64
        };
        let old = select(&p, CapSet::docker_default(), &old);
        assert!(!old.allows("ptrace"));
        assert!(old.rules_for("getuid").count() == 1);
        let unknown = Host {
            kernel: None,
            ..AMD64
        };
        assert!(!select(&p, CapSet::docker_default(), &unknown).allows("ptrace"));

        let arm = Host {
            arch: "SCMP_ARCH_AARCH64",
            go_arch: "arm64",
            kernel: Some(KernelVersion(6, 1)),
        };
        let arm = select(&p, CapSet::docker_default(), &arm);
        assert!(!arm.allows("arch_prctl"));
        assert_eq!(arm.arches, ["SCMP_ARCH_ARM"]);
    }

    #[test]
    fn architectures_list_is_taken_as_is() {
        let p = parse(
            r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]}"#,
        )
        .unwrap();
        assert_eq!(select(&p, CapSet(0), &AMD64).arches, ["SCMP_ARCH_X86"]);
        // Neither: only the native one (libseccomp's default).
        let p = parse(r#"{"defaultAction": "SCMP_ACT_ALLOW"}"#).unwrap();
        assert!(select(&p, CapSet(0), &AMD64).arches.is_empty());
    }

    #[test]
    fn kernel_versions_read_like_uname() {
        assert_eq!(
            KernelVersion::parse("6.1.0-18-amd64"),
            Some(KernelVersion(6, 1))
        );
        assert_eq!(
            KernelVersion::parse("6.18.44-fc-v1272"),
            Some(KernelVersion(6, 18))
        );
        assert_eq!(KernelVersion::parse("4.8"), Some(KernelVersion(4, 8)));
        assert_eq!(KernelVersion::parse("5.10rc1"), Some(KernelVersion(5, 10)));
        assert_eq!(KernelVersion::parse("x.1"), None);
        assert!(KernelVersion(4, 10) > KernelVersion(4, 8));
        assert!(KernelVersion::running().is_some());
    }
}
