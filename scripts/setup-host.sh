#!/usr/bin/env bash
# Installs the Debian packages jremus needs to build, test and benchmark on a fresh Debian 12
# host (idempotent; installs only what is missing). Run as root.
set -euo pipefail

PACKAGES=(
  gcc make binutils libc6-dev linux-libc-dev   # test guest and the ABI probe
  maven                                        # the build
  qemu-system-x86                              # side-by-side reference VMM for tests and benchmarks
  acpica-tools                                 # iasl: validates the ACPI tables we generate
  cpio xz-utils kmod                           # Linux image builder checks
  iproute2                                     # TAP devices and namespaces (networking tests)
  redis-tools                                  # redis-cli and redis-benchmark drive the guest server
  dpkg-dev                                     # apt-get source (lwIP for the test guest)
  pacemaker pacemaker-cli-utils corosync resource-agents socat   # the namespaced test cluster and ocf:jremus:vm
  libxml2-utils tcpdump   # ocf-tester validates meta-data with xmllint; the partition test watches the segment
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup-host: missing packages ${missing[*]}; run as root (or install them) first" >&2
    exit 1
  fi
  echo "setup-host: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [[ ! -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]]; then
  echo "setup-host: JDK 25 is expected at /usr/lib/jvm/temurin-25-jdk-amd64 (Temurin 25)" >&2
  exit 1
fi
