#!/bin/sh
# Fetch lwIP's source from Debian's source package into a per-user cache,
# once. Never copied into the repository.
#   fetch-lwip.sh DEB_VERSION     e.g. 2.1.3+dfsg1-2
# Prints the cached tree's path (containing src/) on stdout.
#
# If the tree is not cached yet: adds a deb-src entry derived from the
# machine's deb822 Debian sources (same URIs/Suites/Components/Signed-By,
# Types: deb-src) in a file of its own (idempotent), runs apt-get update and
# `apt-get source --download-only lwip=DEB_VERSION` in a temporary
# directory, unpacks the orig tarball and renames it into the cache.
set -eu
ver=${1:?usage: fetch-lwip.sh DEB_VERSION}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/jremus/src
dest=$cache/lwip-$ver
if [ -f "$dest/src/core/init.c" ]; then
	echo "$dest"
	exit 0
fi

sources=/etc/apt/sources.list.d/debian.sources
ours=/etc/apt/sources.list.d/jremus-deb-src.sources
log() { echo "fetch-lwip: $*" >&2; }

[ -r "$sources" ] || { log "no $sources (deb822) to derive a deb-src entry from"; exit 1; }
# Every stanza of type deb becomes a deb-src stanza with the same fields.
want=$(awk '
	function flush() {
		if (isdeb && uris != "") {
			printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n", uris, suites, comps
			if (signed != "") printf "Signed-By: %s\n", signed
			printf "\n"
		}
		isdeb = 0; uris = suites = comps = signed = ""
	}
	/^[[:space:]]*$/ { flush(); next }
	/^#/ { next }
	{
		k = $1; sub(/:$/, "", k); v = $0; sub(/^[^:]*:[[:space:]]*/, "", v)
		if (k == "Types") { n = split(v, t, /[[:space:]]+/); for (i = 1; i <= n; i++) if (t[i] == "deb") isdeb = 1 }
		else if (k == "URIs") uris = v
		else if (k == "Suites") suites = v
		else if (k == "Components") comps = v
		else if (k == "Signed-By") signed = v
	}
	END { flush() }' "$sources")
[ -n "$want" ] || { log "no deb stanza in $sources"; exit 1; }
if [ "$(cat "$ours" 2>/dev/null)" != "$want" ]; then
	[ "$(id -u)" = 0 ] || { log "need root to write $ours (or pre-populate $dest)"; exit 1; }
	log "writing $ours"
	printf '%s\n' "$want" > "$ours.tmp"
	mv "$ours.tmp" "$ours"
fi

mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.lwip-fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log "apt-get update"
apt-get update -q >"$tmp/update.log" 2>&1 || { cat "$tmp/update.log" >&2; exit 1; }
log "apt-get source --download-only lwip=$ver"
(cd "$tmp" && apt-get source -q --download-only "lwip=$ver") >"$tmp/source.log" 2>&1 ||
	{ cat "$tmp/source.log" >&2; exit 1; }
orig=$(ls "$tmp"/lwip_*.orig.tar.* 2>/dev/null | head -n 1)
[ -n "$orig" ] || { log "no orig tarball downloaded"; ls -l "$tmp" >&2; exit 1; }
mkdir "$tmp/x"
tar -xf "$orig" -C "$tmp/x"
top=$(ls "$tmp/x")
[ "$(echo "$top" | wc -l)" = 1 ] && [ -f "$tmp/x/$top/src/core/init.c" ] ||
	{ log "unexpected tarball layout in $orig"; exit 1; }
# atomic: a concurrent fetch that won the race leaves its tree in place
mv -T "$tmp/x/$top" "$dest" 2>/dev/null || [ -f "$dest/src/core/init.c" ]
log "cached in $dest"
echo "$dest"
