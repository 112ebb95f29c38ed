#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# PID 1 of the harness' QEMU guests, in place of virtme-ng-init (check.sh boots
# with vng --append "init=<this> rbi_mode=MODE"). virtme-ng-init starts udev and
# waits for it to settle: on the debug kernel under TCG that alone took 300 s
# (udevadm settle's timeout) of a 634 s boot, and the suites need nothing udev
# makes. This sets up what they need and runs guest.sh.
#
# The kernel passes unknown name=value boot options to init as environment:
# rbi_mode (guest.sh's MODE), and vng's virtme_initmount0 (the --rwdir path
# without its leading /, shared over 9p under the tag virtme.initmount0).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
HERE=$(cd "$(dirname "$0")" && pwd)

say() { echo "guest-init: $*"; }

mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sys /sys
mountpoint -q /dev || mount -t devtmpfs -o mode=0755 dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620 devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
for n in fd:/proc/self/fd stdin:/proc/self/fd/0 stdout:/proc/self/fd/1 stderr:/proc/self/fd/2; do
	[ -e "/dev/${n%%:*}" ] || ln -s "${n#*:}" "/dev/${n%%:*}"
done
mount -t tmpfs -o mode=0755 run /run
# /tmp and /var/tmp writable, with the host's files still visible through them
# (the clone and its output directory may well be under /tmp): an overlay with a
# tmpfs upper layer, as virtme-ng-init makes; failing that, TMPDIR on /run.
mkdir -p /run/tmp && chmod 1777 /run/tmp
for d in /tmp /var/tmp; do
	u=/run/overlay$d
	mkdir -p "$u/upper" "$u/work" && chmod 1777 "$u/upper"
	mount -t overlay -o "lowerdir=$d,upperdir=$u/upper,workdir=$u/work" overlay "$d" ||
		export TMPDIR=/run/tmp
done
mount -t debugfs debugfs /sys/kernel/debug
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
ip link set lo up 2>/dev/null
hostname rbi-guest 2>/dev/null

rc=1
if [ -z "${virtme_initmount0:-}" ] || [ -z "${rbi_mode:-}" ]; then
	say "no virtme_initmount0 or rbi_mode on the kernel command line"
else
	out=/$virtme_initmount0
	mkdir -p "$out" 2>/dev/null
	if mount -t 9p -o trans=virtio,version=9p2000.L,access=any,msize=512000 \
		virtme.initmount0 "$out"; then
		cd "$out" || exit 1
		say "running guest.sh $out $rbi_mode at $(cut -d' ' -f1 /proc/uptime) s of uptime"
		setsid bash "$HERE/guest.sh" "$out" "$rbi_mode" </dev/null
		rc=$?
		say "guest.sh exited $rc"
	else
		say "could not mount the output directory $out"
	fi
fi
# vng's exit status is what the guest writes to the virtio-serial port named
# virtme.ret (udev would link it as /dev/virtio-ports/virtme.ret).
for port in /sys/class/virtio-ports/*; do
	[ "$(cat "$port/name" 2>/dev/null)" = virtme.ret ] && echo "$rc" >"/dev/${port##*/}"
done
sync
echo "guest-init: powering off at $(cut -d' ' -f1 /proc/uptime) s of uptime"
poweroff -f
# Not reached unless poweroff failed; PID 1 exiting panics the kernel, and
# vng's QEMU stops instead of rebooting.
exit "$rc"
