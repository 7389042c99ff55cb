#!/usr/bin/env bash
# Runs a command as root inside a throw-away QEMU VM whose kernel has a pure cgroup v2
# hierarchy (cgroup_no_v1=all; cgroup2 at /sys/fs/cgroup with every controller enabled in
# the root's cgroup.subtree_control), and exits with the command's status.
#
# usage: scripts/cgroupv2-vm.sh [options] -- COMMAND [ARGS...]
#   -a SRC[:DST]  copy a host file into the guest at DST (default: its real path); ELF files
#                 bring the shared libraries ldd lists. Repeatable.
#   -M MODULE     load an extra kernel module (dependencies resolved). Repeatable.
#   -m SIZE       guest RAM (default 1G)        -c N     vCPUs (default 2)
#   -t SECONDS    kill the VM after this long (default 600; exit 124)
#   -v            show the guest's console as it boots
# The command runs in the leaf cgroup /runner, with cwd /root and PATH=/bin:/sbin; the guest
# root is a tmpfs (so pivot_root works) holding a static busybox at /bin/busybox.
# Its stdout and stderr arrive on this script's stdout after the VM stops (the guest's serial
# console carries both). Exit: the command's status; 124 timeout; 125 harness failure.
#
# The kernel is Debian's (the package linux-image-amd64 depends on), fetched once with
# `apt-get download` into ${BERTH_VM_CACHE:-~/.cache/berth-cgroupv2-vm} and unpacked there
# with dpkg-deb -x: nothing is installed on the host. BERTH_VM_KPKG picks another package.
# No KVM is assumed: TCG boots in a few seconds because the uncompressed kernel is booted
# through its PVH entry point (no real-mode BIOS boot, no in-guest decompression).
# Host needs: qemu-system-x86, busybox-static, xz-utils (scripts/test-cgroup-v2.sh installs).
set -euo pipefail

die() { echo "cgroupv2-vm: $*" >&2; exit 125; }
is_elf() { [[ $(head -c4 "$1" 2>/dev/null | tr -d '\0') == $'\x7fELF' ]]; }

ADDS=() MODULES=(overlay) MEM=1G CPUS=2 TIMEOUT=600 VERBOSE=0
while getopts "a:M:m:c:t:vh" opt; do
  case $opt in
    a) ADDS+=("$OPTARG");;
    M) MODULES+=("$OPTARG");;
    m) MEM=$OPTARG;;
    c) CPUS=$OPTARG;;
    t) TIMEOUT=$OPTARG;;
    v) VERBOSE=1;;
    h) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0;;
    *) die "unknown option (see -h)";;
  esac
done
shift $((OPTIND - 1))
[[ $# -ge 1 ]] || die "no command given (see -h)"

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is missing (apt-get install qemu-system-x86)"
BUSYBOX=/bin/busybox
[[ -x $BUSYBOX ]] && ! ldd "$BUSYBOX" >/dev/null 2>&1 || die "a static $BUSYBOX is needed (apt-get install busybox-static)"

# ---- kernel: Debian's package, unpacked into the cache once ----
CACHE=${BERTH_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth-cgroupv2-vm}
mkdir -p "$CACHE"
PKG=${BERTH_VM_KPKG:-}
if [[ -z $PKG ]]; then
  # A kernel already unpacked is reused; apt is asked only the first time.
  PKG=$(cd "$CACHE" && ls -1d linux-image-*-amd64 2>/dev/null | sort -V | tail -1 || true)
fi
if [[ -z $PKG ]]; then
  resolve_kpkg() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'; }
  PKG=$(resolve_kpkg)
  if [[ -z $PKG ]]; then apt-get update -qq >&2 || true; PKG=$(resolve_kpkg); fi
  [[ -n $PKG ]] || die "cannot resolve the package linux-image-amd64 depends on"
fi
KVER=${PKG#linux-image-}
KDIR=$CACHE/$PKG
if [[ ! -f $KDIR/boot/vmlinuz-$KVER ]]; then
  echo "cgroupv2-vm: fetching $PKG into $CACHE (once)" >&2
  as_root=(); [[ $(id -u) == 0 ]] && as_root=(-o APT::Sandbox::User=root)
  (cd "$CACHE" && rm -f "${PKG}"_*.deb && apt-get -qq "${as_root[@]}" download "$PKG" >&2) \
    || die "apt-get download $PKG failed"
  rm -rf "$KDIR.tmp"
  dpkg-deb -x "$CACHE/${PKG}"_*.deb "$KDIR.tmp"
  rm -f "$CACHE/${PKG}"_*.deb
  "$BUSYBOX" depmod -b "$KDIR.tmp" "$KVER" || die "depmod failed"
  rm -rf "$KDIR"; mv "$KDIR.tmp" "$KDIR"
fi
MODDIR=$KDIR/lib/modules/$KVER
BZIMAGE=$KDIR/boot/vmlinuz-$KVER

# The ELF vmlinux inside the bzImage, for a PVH boot (Debian sets CONFIG_PVH=y).
VMLINUX=$CACHE/vmlinux-$KVER
if [[ ! -s $VMLINUX ]] && grep -q '^CONFIG_PVH=y' "$KDIR/boot/config-$KVER" 2>/dev/null; then
  for off in $(LC_ALL=C grep -a -b -o $'\xfd7zXZ\x00' "$BZIMAGE" | cut -d: -f1 | head -3); do
    tail -c +$((off + 1)) "$BZIMAGE" | xz -dc 2>/dev/null > "$VMLINUX.tmp" || true
    if is_elf "$VMLINUX.tmp"; then mv "$VMLINUX.tmp" "$VMLINUX"; break; fi
  done
  rm -f "$VMLINUX.tmp"
fi
KERNEL=$BZIMAGE
[[ -s $VMLINUX ]] && KERNEL=$VMLINUX

# ---- initramfs ----
WORK=$(mktemp -d /tmp/berth-vm.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
R=$WORK/root
mkdir -p "$R"/{bin,sbin,etc,proc,sys,dev,tmp,run,root,newroot,harness}
cp "$BUSYBOX" "$R/bin/busybox"

add_file() { # SRC DST
  mkdir -p "$R$(dirname "$2")"
  cp -L "$1" "$R$2"
  if is_elf "$1"; then
    local lib
    for lib in $(ldd "$1" 2>/dev/null | grep -oE '/[^ ]+' || true); do
      [[ -e $lib && ! -e $R$lib ]] || continue
      mkdir -p "$R$(dirname "$lib")"; cp -L "$lib" "$R$lib"
    done
  fi
}
for a in "${ADDS[@]}"; do
  src=${a%%:*}; dst=${a#*:}; [[ $a == *:* ]] || dst=$(realpath "$src")
  [[ -f $src ]] || die "-a: $src is not a file"
  add_file "$src" "$dst"
done

# Modules in load order (dependencies first), decompressed, from modules.dep.
declare -A SEEN=()
ORDER=()
resolve() { # path relative to MODDIR
  [[ -n ${SEEN[$1]:-} ]] && return
  SEEN[$1]=1
  local dep
  for dep in $(grep -m1 "^$1:" "$MODDIR/modules.dep" | cut -d: -f2-); do resolve "$dep"; done
  ORDER+=("$1")
}
for m in "${MODULES[@]}"; do
  p=$(grep -m1 -E "(^|/)(${m}|${m//_/-})\.ko(\.xz|\.zst)?:" "$MODDIR/modules.dep" | cut -d: -f1 || true)
  if [[ -z $p ]]; then
    grep -qE "/(${m}|${m//_/-})\.ko" "$MODDIR/modules.builtin" || die "kernel module $m not found"
    continue
  fi
  resolve "$p"
done
mkdir -p "$R/lib/modules"
: > "$R/harness/modules"
for p in "${ORDER[@]}"; do
  out=$R/lib/modules/$(basename "${p%.xz}"); out=${out%.zst}
  case $p in
    *.xz) xz -dc "$MODDIR/$p" > "$out";;
    *.zst) zstd -qdc "$MODDIR/$p" > "$out";;
    *) cp "$MODDIR/$p" "$out";;
  esac
  echo "/lib/modules/$(basename "$out")" >> "$R/harness/modules"
done

# The command, shell-quoted.
q() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
{ printf 'exec'; for arg in "$@"; do printf ' %s' "$(q "$arg")"; done; echo; } > "$R/harness/cmd"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$R/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$R/etc/group"

cat > "$R/init" <<'INIT'
#!/bin/busybox sh
# Stage 1, on the initramfs: pivot_root(2) refuses to move the initial rootfs, so copy
# everything to a tmpfs and switch_root into it.
/bin/busybox mount -t proc proc /proc
if [ ! -e /.stage2 ]; then
  /bin/busybox mount -t tmpfs -o mode=0755 root /newroot
  for d in /*; do
    case $d in /proc|/newroot) continue;; esac
    /bin/busybox cp -a "$d" /newroot/
  done
  /bin/busybox mkdir -p /newroot/proc /newroot/newroot
  /bin/busybox touch /newroot/.stage2
  /bin/busybox umount /proc
  exec /bin/busybox switch_root /newroot /init
fi
/bin/busybox --install -s /bin
export PATH=/bin:/sbin HOME=/root
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t mqueue mqueue /dev/mqueue
chmod 1777 /tmp
mount --make-rshared /
hostname cgv2vm
ip link set lo up
for m in $(cat /harness/modules); do insmod "$m" || echo "insmod $m failed" > /dev/console; done
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
ctrls=""
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do ctrls="$ctrls +$c"; done
echo $ctrls > /sys/fs/cgroup/cgroup.subtree_control
mkdir /sys/fs/cgroup/runner
cd /root
# The command runs in a leaf cgroup (cgroup v2 allows processes only in leaves, the root
# excepted), with the console as its stdout and stderr.
echo "@@BERTH_VM_START@@" > /dev/console
sh -c 'echo $$ > /sys/fs/cgroup/runner/cgroup.procs && . /harness/cmd' </dev/null >/dev/console 2>&1
echo "@@BERTH_VM_EXIT=$?@@" > /dev/console
sync
poweroff -f
INIT
chmod 755 "$R/init"
(cd "$R" && find . | "$BUSYBOX" cpio -o -H newc -R 0:0 2>/dev/null) > "$WORK/initrd" || die "cpio failed"

# ---- boot ----
APPEND="console=ttyS0 quiet loglevel=1 cgroup_no_v1=all panic=-1 rdinit=/init"
APPEND+=" tsc=reliable no_timer_check mitigations=off i8042.noaux i8042.nokbd i8042.nopnp"
: > "$WORK/console"
if [[ $VERBOSE == 1 ]]; then tail -f "$WORK/console" >&2 & TAIL=$!; fi
set +e
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -accel tcg,thread=multi -cpu max -M pc \
  -smp "$CPUS" -m "$MEM" -nodefaults -no-user-config -nographic -no-reboot -nic none \
  -kernel "$KERNEL" -initrd "$WORK/initrd" -append "$APPEND" \
  -chardev file,id=con,path="$WORK/console" -serial chardev:con \
  </dev/null >"$WORK/qemu.log" 2>&1
qrc=$?
set -e
[[ -n ${TAIL:-} ]] && kill "$TAIL" 2>/dev/null
rc=$(grep -a -o '@@BERTH_VM_EXIT=[0-9]*@@' "$WORK/console" | tail -1 | tr -dc '0-9')
if [[ $VERBOSE == 0 ]]; then
  # The command's output: the console between the markers.
  sed -n '/@@BERTH_VM_START@@/,/@@BERTH_VM_EXIT=/{/@@BERTH_VM_/d;p}' "$WORK/console" | tr -d '\r'
fi
if [[ -z $rc ]]; then
  echo "cgroupv2-vm: the guest gave no exit status (qemu status $qrc)" >&2
  cat "$WORK/qemu.log" >&2
  [[ $qrc == 124 || $qrc == 137 ]] && exit 124
  exit 125
fi
exit "$rc"
