#!/usr/bin/env bash
# The test command (README, and .ci/run): sets up the host, builds jremus and the guest images
# (the test guest, and Debian's kernel + initramfs, cached under ~/.cache/jremus), then runs
# every test: fast unit tests first (module by module), then the whole-system tests on a real
# guest under KVM (jremus-it). KVM tests skip, saying why, where /dev/kvm is absent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

"$ROOT/scripts/setup-host.sh"
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
export PATH="$JAVA_HOME/bin:$PATH"

echo "== building jremus and the guest images"
./jremus image build

echo "== unit tests, then whole-system tests"
mvn -B -ntp verify "$@"
