#!/usr/bin/env bash
# Unpack a private Helix (Debian trixie's `hx`, which needs trixie's libc) into DIR without
# installing anything system-wide, and write DIR/hx: a launcher that runs it with the packaged
# loader and libraries. Idempotent: a working DIR/hx is left as it is.
#   usage: get-helix.sh [DIR]        (default: <repo>/.tools/helix)   then: DIR/hx ...
# Needs: apt-get and dpkg (Debian), the Debian package registry, ~80 MB of disk.
# Language servers that hx starts (codestral-ls) run with the system's own libraries: the
# launcher passes the private library path to the loader only, not through LD_LIBRARY_PATH.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$repo/.tools/helix}
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
[ -x "$dir/hx" ] && "$dir/hx" --version >/dev/null 2>&1 && { echo "$dir/hx ready"; exit 0; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cat >"$work/trixie.sources" <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
mkdir -p "$work/lists/partial" "$work/debs"
apt=(-o Acquire::Check-Valid-Until=false -o Dir::Etc::SourceList="$work/trixie.sources"
     -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$work/lists" -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
apt-get "${apt[@]}" -qq update
(cd "$work/debs" && apt-get "${apt[@]}" -qq download hx libc6 libgcc-s1)
rm -rf "$dir/root"
for f in "$work"/debs/*.deb; do dpkg -x "$f" "$dir/root"; done
lib="$dir/root/usr/lib/x86_64-linux-gnu"
# Debian ships the binary and its runtime (queries, themes; no grammars) in /usr/lib/hx.
[ -x "$dir/root/usr/lib/hx/hx" ] || { echo "get-helix.sh: no usr/lib/hx/hx in the package" >&2; exit 1; }
cat >"$dir/hx" <<LAUNCH
#!/bin/sh
export HELIX_RUNTIME="\${HELIX_RUNTIME:-$dir/root/usr/lib/hx/runtime}"
exec "$lib/ld-linux-x86-64.so.2" --library-path "$lib" "$dir/root/usr/lib/hx/hx" "\$@"
LAUNCH
chmod +x "$dir/hx"
"$dir/hx" --version
