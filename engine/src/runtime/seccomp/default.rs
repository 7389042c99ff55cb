//! berth's default seccomp profile: docker's allow-list, as data. Everything not allowed here
//! fails with EPERM; a few calls are allowed only with the capability that makes them useful
//! (moby's default profile decides the same way), and the calls that reach kernel state no
//! namespace isolates (keyrings, swap, kexec, modules without the capability…) stay refused.
//!
//! The lists are grouped by what the calls touch. Names that exist on only some ABIs (the
//! 32-bit `*32`/`*64`/`*_time64` variants, `socketcall`) are listed once: the compiler adds
//! each rule to every covered architecture that has the call.

use super::profile::{Action, ArchGroup, Arg, Condition, KernelVersion, Op, Profile, Rule};

/// Paths, descriptors, metadata and extended attributes, and plain reads and writes.
#[rustfmt::skip]
const FILES: &[&str] = &[
    "access", "faccessat", "faccessat2", "chdir", "fchdir", "getcwd", "chmod", "fchmod",
    "fchmodat", "chown", "fchown", "fchownat", "lchown", "creat", "open", "openat", "openat2",
    "close", "close_range", "dup", "dup2", "dup3", "fcntl", "flock", "fsync", "fdatasync", "sync",
    "syncfs", "sync_file_range", "fadvise64", "fallocate", "readahead", "ftruncate", "truncate",
    "link", "linkat", "symlink", "symlinkat", "unlink", "unlinkat", "rename", "renameat",
    "renameat2", "mkdir", "mkdirat", "rmdir", "mknod", "mknodat", "readlink", "readlinkat", "stat",
    "lstat", "fstat", "newfstatat", "statx", "statfs", "fstatfs", "getdents", "getdents64",
    "lseek", "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
    "preadv2", "pwritev2", "sendfile", "splice", "tee", "vmsplice", "copy_file_range", "umask",
    "utime", "utimes", "utimensat", "futimesat", "ioctl", "getxattr", "lgetxattr", "fgetxattr",
    "setxattr", "lsetxattr", "fsetxattr", "listxattr", "llistxattr", "flistxattr", "removexattr",
    "lremovexattr", "fremovexattr", "name_to_handle_at", "fanotify_mark", "inotify_init",
    "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "memfd_create", "memfd_secret",
    "pipe", "pipe2",
];

/// Waiting on many descriptors, event and timer descriptors, asynchronous I/O.
#[rustfmt::skip]
const EVENTS: &[&str] = &[
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_wait", "epoll_wait_old",
    "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "poll", "ppoll", "select", "pselect6",
    "signalfd", "signalfd4", "timerfd_create", "timerfd_gettime", "timerfd_settime", "io_setup",
    "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents", "io_uring_setup",
    "io_uring_enter", "io_uring_register",
];

/// The process's own memory.
#[rustfmt::skip]
const MEMORY: &[&str] = &[
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync", "mlock",
    "mlock2", "mlockall", "munlock", "munlockall", "membarrier", "remap_file_pages", "pkey_alloc",
    "pkey_free", "pkey_mprotect",
];

/// Running programs, process and thread life, scheduling of one's own tasks, limits.
/// `clone` and `clone3` are absent: see [`profile`] for their argument rules.
#[rustfmt::skip]
const PROCESSES: &[&str] = &[
    "execve", "execveat", "exit", "exit_group", "fork", "vfork", "wait4", "waitid", "getpid",
    "getppid", "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid", "getpriority",
    "setpriority", "getrlimit", "setrlimit", "prlimit64", "getrusage", "prctl", "seccomp",
    "set_tid_address", "set_robust_list", "get_robust_list", "rseq", "futex", "futex_waitv",
    "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getattr", "sched_setattr",
    "sched_getparam", "sched_setparam", "sched_getscheduler", "sched_setscheduler",
    "sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval", "getcpu",
    "ioprio_get", "ioprio_set", "uname", "sysinfo", "getrandom", "restart_syscall", "pidfd_open",
    "pidfd_send_signal", "process_mrelease", "landlock_create_ruleset", "landlock_add_rule",
    "landlock_restrict_self", "get_thread_area", "set_thread_area",
];

/// Sending, handling and waiting for signals.
#[rustfmt::skip]
const SIGNALS: &[&str] = &[
    "kill", "tkill", "tgkill", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending",
    "rt_sigsuspend", "rt_sigtimedwait", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaltstack",
    "pause", "alarm",
];

/// Reading clocks, sleeping and timers. `adjtimex` and `clock_adjtime` only read the clock
/// without CAP_SYS_TIME; setting it is in [`BY_CAPABILITY`].
#[rustfmt::skip]
const TIME: &[&str] = &[
    "time", "gettimeofday", "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep",
    "adjtimex", "clock_adjtime", "getitimer", "setitimer", "timer_create", "timer_delete",
    "timer_gettime", "timer_settime", "timer_getoverrun", "times",
];

/// Users, groups and capabilities of the process itself (the kernel checks the rights).
#[rustfmt::skip]
const IDENTITY: &[&str] = &[
    "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups", "setuid",
    "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid",
    "setgroups", "capget", "capset",
];

/// Sockets once made (`socket` itself has an argument rule).
#[rustfmt::skip]
const NETWORK: &[&str] = &[
    "socketpair", "bind", "connect", "listen", "accept", "accept4", "getsockname", "getpeername",
    "getsockopt", "setsockopt", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg",
    "shutdown",
];

/// System V IPC and POSIX message queues (the container has its own IPC namespace).
#[rustfmt::skip]
const IPC: &[&str] = &[
    "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop", "semctl", "shmget",
    "shmat", "shmdt", "shmctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive",
    "mq_notify", "mq_getsetattr",
];

/// The same services under the names the 32-bit ABIs (i386, arm) give them: 16/32-bit id
/// variants, 64-bit file offsets, multiplexers, and the 64-bit time (`y2038`) variants.
#[rustfmt::skip]
const COMPAT_32BIT: &[&str] = &[
    "chown32", "fchown32", "lchown32", "getuid32", "geteuid32", "getgid32", "getegid32",
    "getresuid32", "getresgid32", "getgroups32", "setuid32", "setgid32", "setreuid32",
    "setregid32", "setresuid32", "setresgid32", "setfsuid32", "setfsgid32", "setgroups32",
    "fcntl64", "fstat64", "fstatat64", "lstat64", "stat64", "statfs64", "fstatfs64", "ftruncate64",
    "truncate64", "_llseek", "mmap2", "fadvise64_64", "sendfile64", "ugetrlimit", "_newselect",
    "waitpid", "sigprocmask", "sigreturn", "socketcall", "ipc", "send", "recv", "clock_adjtime64",
    "clock_getres_time64", "clock_gettime64", "clock_nanosleep_time64", "futex_time64",
    "io_pgetevents_time64", "mq_timedreceive_time64", "mq_timedsend_time64", "ppoll_time64",
    "pselect6_time64", "recvmmsg_time64", "rt_sigtimedwait_time64", "sched_rr_get_interval_time64",
    "semtimedop_time64", "timer_gettime64", "timer_settime64", "timerfd_gettime64",
    "timerfd_settime64", "utimensat_time64",
];

/// Calls allowed only to a container whose bounding set has the capability: without it the
/// kernel would refuse most of them anyway, and the filter keeps their code out of reach.
const BY_CAPABILITY: &[(&str, &[&str])] = &[
    ("CAP_DAC_READ_SEARCH", &["open_by_handle_at"]),
    (
        "CAP_SYS_ADMIN",
        &[
            "bpf",
            "clone",
            "clone3",
            "fanotify_init",
            "fsconfig",
            "fsmount",
            "fsopen",
            "fspick",
            "lookup_dcookie",
            "mount",
            "mount_setattr",
            "move_mount",
            "open_tree",
            "perf_event_open",
            "quotactl",
            "quotactl_fd",
            "setdomainname",
            "sethostname",
            "setns",
            "syslog",
            "umount",
            "umount2",
            "unshare",
        ],
    ),
    ("CAP_SYS_BOOT", &["reboot"]),
    ("CAP_SYS_CHROOT", &["chroot"]),
    (
        "CAP_SYS_MODULE",
        &["init_module", "finit_module", "delete_module"],
    ),
    ("CAP_SYS_PACCT", &["acct"]),
    (
        "CAP_SYS_PTRACE",
        &[
            "ptrace",
            "process_vm_readv",
            "process_vm_writev",
            "kcmp",
            "pidfd_getfd",
            "process_madvise",
        ],
    ),
    ("CAP_SYS_RAWIO", &["iopl", "ioperm"]),
    (
        "CAP_SYS_TIME",
        &["settimeofday", "stime", "clock_settime", "clock_settime64"],
    ),
    ("CAP_SYS_TTY_CONFIG", &["vhangup"]),
    (
        "CAP_SYS_NICE",
        &[
            "get_mempolicy",
            "mbind",
            "set_mempolicy",
            "set_mempolicy_home_node",
        ],
    ),
    ("CAP_SYSLOG", &["syslog"]),
    ("CAP_BPF", &["bpf"]),
    ("CAP_PERFMON", &["perf_event_open"]),
];

/// Calls that exist (or are safe) on some host architectures only, by Go's names of them.
const BY_ARCHITECTURE: &[(&[&str], &[&str])] = &[
    (&["amd64", "x32"], &["arch_prctl"]),
    (&["amd64", "x32", "x86"], &["modify_ldt"]),
    (
        &["arm", "arm64"],
        &[
            "arm_fadvise64_64",
            "arm_sync_file_range",
            "sync_file_range2",
            "breakpoint",
            "cacheflush",
            "set_tls",
        ],
    ),
    (&["ppc64le"], &["sync_file_range2", "swapcontext"]),
    (
        &["s390", "s390x"],
        &[
            "s390_pci_mmio_read",
            "s390_pci_mmio_write",
            "s390_runtime_instr",
        ],
    ),
    (&["riscv64"], &["riscv_flush_icache"]),
];

/// The `personality(2)` values a container may set: Linux (0), 32-bit Linux (PER_LINUX32,
/// 8), either with UNAME26 (0x20000), and the query (0xffffffff). Others, such as
/// ADDR_NO_RANDOMIZE, would weaken the process (address-space randomisation off).
const PERSONALITIES: [u64; 5] = [0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff];

/// The namespace flags of clone(2): without CAP_SYS_ADMIN a container may fork and make
/// threads, but not new namespaces (nor a user namespace, where it would regain
/// capabilities over the new namespaces' objects).
const CLONE_NAMESPACES: u64 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWCGROUP) as u64;

fn allow(names: &[&str]) -> Rule {
    Rule::new(Action::Allow, names)
}

fn with_arg(mut rule: Rule, index: u32, op: Op, value: u64, value_two: u64) -> Rule {
    rule.args.push(Arg {
        index,
        value,
        value_two,
        op,
    });
    rule
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The default profile, in the same form as a user's (profile::Profile).
pub fn profile() -> Profile {
    let mut rules = Vec::new();
    for group in [
        FILES,
        EVENTS,
        MEMORY,
        PROCESSES,
        SIGNALS,
        TIME,
        IDENTITY,
        NETWORK,
        IPC,
        COMPAT_32BIT,
    ] {
        rules.push(allow(group));
    }
    // Since Linux 4.8 a tracer can no longer use ptrace to get around its tracee's seccomp
    // filter (seccomp(2), "Since Linux 4.8, the seccomp check is performed again after the
    // tracer is notified"), so tracing one's own processes is safe to allow from then on.
    let mut ptrace = allow(&["ptrace", "process_vm_readv", "process_vm_writev"]);
    ptrace.includes.min_kernel = Some(KernelVersion(4, 8));
    rules.push(ptrace);
    // Any socket but vsock (the host's hypervisor channels are no container's business).
    rules.push(with_arg(
        allow(&["socket"]),
        0,
        Op::NotEqual,
        libc::AF_VSOCK as u64,
        0,
    ));
    for persona in PERSONALITIES {
        rules.push(with_arg(allow(&["personality"]), 0, Op::Equal, persona, 0));
    }
    for (arches, names) in BY_ARCHITECTURE {
        let mut rule = allow(names);
        rule.includes.arches = strings(arches);
        rules.push(rule);
    }
    for (cap, names) in BY_CAPABILITY {
        let mut rule = allow(names);
        rule.includes.caps = vec![cap.to_string()];
        rules.push(rule);
    }
    // clone without namespace flags; with CAP_SYS_ADMIN clone is allowed whole (above). On
    // s390 the flags are the second argument.
    let no_admin = || Condition {
        caps: vec!["CAP_SYS_ADMIN".into()],
        ..Condition::default()
    };
    let mut clone = with_arg(allow(&["clone"]), 0, Op::MaskedEqual, CLONE_NAMESPACES, 0);
    clone.excludes = Condition {
        arches: strings(&["s390", "s390x"]),
        ..no_admin()
    };
    rules.push(clone);
    let mut clone_s390 = with_arg(allow(&["clone"]), 1, Op::MaskedEqual, CLONE_NAMESPACES, 0);
    clone_s390.includes.arches = strings(&["s390", "s390x"]);
    clone_s390.excludes = no_admin();
    rules.push(clone_s390);
    // clone3 passes its flags in memory, where a filter cannot look: answer ENOSYS, and the
    // C libraries fall back to clone, whose flags the rule above checks.
    rules.push(Rule {
        errno_ret: Some(libc::ENOSYS as u32),
        excludes: no_admin(),
        ..Rule::new(Action::Errno, &["clone3"])
    });

    let group = |arch: &str, subs: &[&str]| ArchGroup {
        architecture: arch.to_string(),
        sub_architectures: strings(subs),
    };
    Profile {
        default_action: Action::Errno,
        default_errno_ret: Some(libc::EPERM as u32),
        architectures: Vec::new(),
        arch_map: vec![
            group("SCMP_ARCH_X86_64", &["SCMP_ARCH_X86", "SCMP_ARCH_X32"]),
            group("SCMP_ARCH_AARCH64", &["SCMP_ARCH_ARM"]),
            group(
                "SCMP_ARCH_MIPS64",
                &["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"],
            ),
            group(
                "SCMP_ARCH_MIPS64N32",
                &["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"],
            ),
            group(
                "SCMP_ARCH_MIPSEL64",
                &["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"],
            ),
            group(
                "SCMP_ARCH_MIPSEL64N32",
                &["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"],
            ),
            group("SCMP_ARCH_S390X", &["SCMP_ARCH_S390"]),
            group("SCMP_ARCH_RISCV64", &[]),
        ],
        syscalls: rules,
    }
}

#[cfg(test)]
mod tests {
    use super::super::profile::{self, select, Host};
    use super::*;
    use crate::runtime::capabilities::CapSet;

    const AMD64: Host = Host {
        arch: "SCMP_ARCH_X86_64",
        go_arch: "amd64",
        kernel: Some(KernelVersion(6, 1)),
    };

    fn with(names: &[&str]) -> CapSet {
        let mut set = CapSet::docker_default();
        for name in names {
            set.0 |= 1 << crate::runtime::capabilities::number(name).unwrap();
        }
        set
    }

    #[test]
    fn no_name_is_listed_twice_among_the_unconditional_ones() {
        let mut all: Vec<&str> = [
            FILES,
            EVENTS,
            MEMORY,
            PROCESSES,
            SIGNALS,
            TIME,
            IDENTITY,
            NETWORK,
            IPC,
            COMPAT_32BIT,
        ]
        .concat();
        let count = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), count);
        // docker's default allows 349 calls unconditionally.
        assert_eq!(count, 349);
    }

    #[test]
    fn the_default_is_dockers_for_the_default_capabilities() {
        let s = select(&profile(), CapSet::docker_default(), &AMD64);
        for allowed in [
            "read",
            "execve",
            "fork",
            "socketcall",
            "arch_prctl",
            "ptrace",
            "chroot",
        ] {
            assert!(s.allows(allowed), "{allowed}");
        }
        for refused in [
            "keyctl",
            "add_key",
            "request_key",
            "swapon",
            "swapoff",
            "mount",
            "umount2",
            "unshare",
            "setns",
            "reboot",
            "init_module",
            "kexec_load",
            "bpf",
            "acct",
            "kcmp",
            "settimeofday",
            "iopl",
            "open_by_handle_at",
            "pivot_root",
            "userfaultfd",
            "personality",
            "clone",
            "socket",
            "cacheflush",
        ] {
            assert!(!s.allows(refused), "{refused}");
        }
        // clone only without namespace flags; clone3 gets ENOSYS; socket is not vsock.
        let clone: Vec<_> = s.rules_for("clone").collect();
        assert_eq!(clone.len(), 1);
        assert_eq!(clone[0].args[0].op, Op::MaskedEqual);
        assert_eq!(clone[0].args[0].value, 0x7E02_0000);
        let clone3: Vec<_> = s.rules_for("clone3").collect();
        assert_eq!(clone3.len(), 1);
        assert_eq!(
            (clone3[0].action, clone3[0].errno),
            (Action::Errno, libc::ENOSYS as u32)
        );
        assert_eq!(s.rules_for("personality").count(), 5);
        assert_eq!(s.default_action, Action::Errno);
        assert_eq!(s.default_errno, libc::EPERM as u32);
        assert_eq!(s.arches, ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
    }

    #[test]
    fn capabilities_unlock_their_calls() {
        let cases: &[(&str, &[&str])] = &[
            (
                "SYS_ADMIN",
                &[
                    "mount",
                    "umount2",
                    "unshare",
                    "setns",
                    "clone",
                    "clone3",
                    "sethostname",
                ],
            ),
            ("SYS_PTRACE", &["kcmp", "pidfd_getfd", "process_madvise"]),
            (
                "SYS_MODULE",
                &["init_module", "finit_module", "delete_module"],
            ),
            ("SYS_BOOT", &["reboot"]),
            ("SYS_TIME", &["settimeofday", "clock_settime"]),
            ("SYS_NICE", &["mbind", "set_mempolicy"]),
            ("SYS_RAWIO", &["iopl", "ioperm"]),
            ("SYS_PACCT", &["acct"]),
            ("SYSLOG", &["syslog"]),
            ("BPF", &["bpf"]),
            ("PERFMON", &["perf_event_open"]),
            ("DAC_READ_SEARCH", &["open_by_handle_at"]),
            ("SYS_TTY_CONFIG", &["vhangup"]),
        ];
        let plain = select(&profile(), CapSet::docker_default(), &AMD64);
        for (cap, names) in cases {
            let s = select(&profile(), with(&[cap]), &AMD64);
            for name in *names {
                assert!(!plain.allows(name), "{name} without {cap}");
                assert!(s.allows(name), "{name} with {cap}");
            }
        }
        // With CAP_SYS_ADMIN clone is whole: no argument rule, no ENOSYS for clone3.
        let admin = select(&profile(), with(&["SYS_ADMIN"]), &AMD64);
        assert!(admin.rules_for("clone").all(|r| r.args.is_empty()));
        assert!(admin.rules_for("clone3").all(|r| r.action == Action::Allow));
        // Never, whatever the capabilities: keyrings and swap are not namespaced.
        let everything = select(&profile(), CapSet::all(), &AMD64);
        for name in [
            "keyctl",
            "add_key",
            "request_key",
            "swapon",
            "swapoff",
            "kexec_load",
        ] {
            assert_eq!(everything.rules_for(name).count(), 0, "{name}");
        }
        // Without CHROOT (dropped), no chroot.
        let no_chroot = CapSet(CapSet::docker_default().0 & !(1 << 18));
        assert!(!select(&profile(), no_chroot, &AMD64).allows("chroot"));
    }

    #[test]
    fn ptrace_needs_the_capability_before_linux_4_8() {
        let old = Host {
            kernel: Some(KernelVersion(4, 4)),
            ..AMD64
        };
        assert!(!select(&profile(), CapSet::docker_default(), &old).allows("ptrace"));
        assert!(select(&profile(), with(&["SYS_PTRACE"]), &old).allows("ptrace"));
    }

    #[test]
    fn the_default_survives_dockers_json_format() {
        // Written out as JSON and read back through the user-profile parser: the default is
        // an ordinary profile, and the format's names are the ones this module writes.
        let json = serde_json::to_string_pretty(&profile()).unwrap();
        assert!(json.contains("\"defaultAction\": \"SCMP_ACT_ERRNO\""));
        assert!(json.contains("\"subArchitectures\""));
        assert!(json.contains("\"minKernel\": \"4.8\""));
        assert!(json.contains("\"valueTwo\""));
        assert_eq!(profile::parse(&json).unwrap(), profile());
    }
}
