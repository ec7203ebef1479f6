#!/usr/bin/env bash
# test-deps.sh: what the tests need beyond `make deps` — Debian's prometheus, whose promtool and
# server test the exporter (test/kernel/exporter.test.ts), and man-db and groff, which render the
# man pages (test/unit/man.test.ts; minimal images lack them), and nftables, whose drop rules
# provoke retransmits and drops inside the network tools' test namespaces, and libfuse3-dev with
# pkg-config, which build the slow FUSE file system fileslower's test reads. Idempotent.
#
# The package's postinst would start a prometheus daemon; a policy-rc.d that refuses service
# starts is put in place for the install (only if the machine has none) and removed after, so no
# stray daemon is left running.
set -euo pipefail
log() { printf 'test-deps: %s\n' "$*"; }
die() { printf 'test-deps: error: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "test-deps.sh: must be run as root" >&2; exit 2; }
# shellcheck source=apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

ensure_packages man-db groff-base nftables libfuse3-dev pkg-config

if is_installed prometheus; then
    log "present: prometheus"
    exit 0
fi
created=
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    created=1
fi
trap '[ -n "$created" ] && rm -f /usr/sbin/policy-rc.d' EXIT
ensure_packages prometheus
command -v promtool >/dev/null || die "prometheus is installed but promtool is missing"
