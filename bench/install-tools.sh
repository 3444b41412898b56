#!/usr/bin/env bash
# Installs the tools `make bench` measures Berth against (bubblewrap, crun and gVisor's
# runsc, from Debian's apt) when they are missing and this runs as root with apt-get. Never
# used by the tests. The plain-QEMU baseline and the microvm driver also need
# qemu-system-x86 and a guest kernel: `berth setup --driver microvm` installs and builds
# both (or point BERTH_BENCH_KERNEL at a kernel); without them they are reported as not
# measurable.
set -euo pipefail
missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v crun >/dev/null 2>&1 || missing+=(crun)
command -v runsc >/dev/null 2>&1 || missing+=(runsc)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "bench: ${missing[*]} missing; their baselines will be skipped (install as root with apt-get)" >&2
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
