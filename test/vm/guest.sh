#!/bin/bash
# PID 1 of the test guest, on the host's root under a tmpfs overlay (see init.sh). It mounts what
# a Debian system would have, makes the unpacked kernel's modules and headers appear where libbcc
# and modprobe look (/lib/modules/$(uname -r), /usr/src), runs each test file of the job, writes
# each file's TAP and exit status into the run's share, and powers the guest off.
set -u
share=/bpfkit-vm
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null || true
ip link set lo up
hostname bpfkit-vm

# Written by test/vm/run.ts: REPO, KERNEL_ROOT, MODULES_DIR, TEST_FILES (an array), TIMEOUT_S.
# shellcheck source=/dev/null
source "$share/job.sh"

release=$(uname -r)
mkdir -p /lib/modules /usr/src
ln -sfn "$MODULES_DIR" "/lib/modules/$release"
for headers in "$KERNEL_ROOT"/usr/src/*; do ln -sfn "$headers" "/usr/src/${headers##*/}"; done
# A Debian system loads loop when /dev/loop-control is first opened (udev creates the node from
# modules.devname); this guest has no udev, so the tests' loop devices need it loaded here.
modprobe loop 2>/dev/null || true

echo "bpfkit-vm: $(uname -r), $(nproc) CPUs, up $(cut -d' ' -f1 /proc/uptime) s; ${#TEST_FILES[@]} test files"
export CI=true BPFKIT_VM_GUEST=1 BPFKIT_TEST_BUILT=1 BPFKIT_COMPILE_CACHE_DIR="$share/compile"
cd "$REPO" || exit 1
mkdir -p "$share/tap"
for file in "${TEST_FILES[@]}"; do
    name=${file##*/}
    start=$(cut -d' ' -f1 /proc/uptime)
    timeout --kill-after=10 "$TIMEOUT_S" node --import tsx --test --test-concurrency=1 \
        --test-reporter=tap --test-reporter-destination="$share/tap/$name.tap" \
        --test-reporter=spec --test-reporter-destination=stdout "$file"
    status=$?
    end=$(cut -d' ' -f1 /proc/uptime)
    echo "$name $status $start $end" >> "$share/files"
    echo "bpfkit-vm: $name exit $status ($start..$end s)"
done
echo done > "$share/finished"
sync
echo o > /proc/sysrq-trigger
sleep 30
