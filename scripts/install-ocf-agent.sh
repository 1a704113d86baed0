#!/usr/bin/env bash
# Installs the Pacemaker resource agent ocf:jremus:vm and a `jremus` command for it.
#
#   scripts/install-ocf-agent.sh [--prefix DIR]
#
# Puts ha/ocf/jremus/vm at DIR/usr/lib/ocf/resource.d/jremus/vm and a wrapper that runs this
# checkout's launcher at DIR/usr/local/sbin/jremus (DIR defaults to /). Run it on every node.
# Needs: resource-agents (ocf-shellfuncs), socat; see docs/operations.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX=/
if [[ "${1:-}" == "--prefix" ]]; then PREFIX="${2:?--prefix needs a directory}"; fi
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then sed -n '2,9p' "$0"; exit 0; fi
AGENT_DIR="$PREFIX/usr/lib/ocf/resource.d/jremus"
install -d "$AGENT_DIR" "$PREFIX/usr/local/sbin"
install -m 0755 "$ROOT/ha/ocf/jremus/vm" "$AGENT_DIR/vm"
cat > "$PREFIX/usr/local/sbin/jremus" <<WRAP
#!/bin/sh
exec "$ROOT/jremus" "\$@"
WRAP
chmod 0755 "$PREFIX/usr/local/sbin/jremus"
for tool in socat crm_attribute; do
  command -v "$tool" >/dev/null 2>&1 || echo "install-ocf-agent: warning: $tool is not installed (apt-get install socat pacemaker-cli-utils)" >&2
done
[[ -f /usr/lib/ocf/lib/heartbeat/ocf-shellfuncs ]] || echo "install-ocf-agent: warning: resource-agents is not installed" >&2
echo "installed $AGENT_DIR/vm and $PREFIX/usr/local/sbin/jremus -> $ROOT/jremus"
