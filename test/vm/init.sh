#!/bin/busybox sh
# /init of the test guest's initramfs (busybox only). It loads the modules the root needs, mounts
# the host's root filesystem (shared read-only over 9p) under a tmpfs overlay, so the guest may
# write anywhere without touching the host, mounts the run's own writable share at /bpfkit-vm,
# and hands PID 1 to test/vm/guest.sh on that root. Unknown kernel parameters arrive here as
# environment variables: bpfkit_guest names the script.
/bin/busybox --install -s /bin
export PATH=/bin

fail() {
    echo "bpfkit-vm init: $*"
    echo o > /proc/sysrq-trigger
    sleep 30
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

# Named with their load order (dependencies first) by test/vm/initramfs.ts.
for module in /modules/*.ko; do
    [ -e "$module" ] || continue
    insmod "$module" || fail "insmod $module failed"
done

mkdir -p /lower /rw /newroot
# cache=loose: the host's files do not change under a run, and every open over 9p is costly.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /lower || fail "cannot mount the host's root"
mount -t tmpfs -o mode=0755 tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot || fail "cannot mount the overlay"
mkdir -p /newroot/bpfkit-vm
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 vmshare /newroot/bpfkit-vm || fail "cannot mount the run's share"

[ -n "${bpfkit_guest:-}" ] || fail "no bpfkit_guest= on the kernel command line"
mount --move /dev /newroot/dev
umount /proc /sys
exec switch_root /newroot /bin/bash "$bpfkit_guest"
