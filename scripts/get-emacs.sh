#!/usr/bin/env bash
# Unpack a private Emacs 30 (emacs-nox from Debian bookworm-backports, with its built-in Eglot)
# into DIR without installing anything system-wide, and write DIR/emacs: a launcher that finds
# the private lisp, data and dump files. Idempotent: a working DIR/emacs is left as it is.
#   usage: get-emacs.sh [DIR]        (default: <repo>/.tools/emacs)   then: DIR/emacs --batch ...
# Needs: Debian bookworm (the backport is built against its libc), apt-get, dpkg, the Debian
# package registry, ~150 MB of disk. The libraries it lacks (libgccjit0, libtree-sitter0, ...)
# are unpacked beside it and given to the loader only, so processes Emacs starts (the language
# server) run with the system's own libraries.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$repo/.tools/emacs}
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
[ -x "$dir/emacs" ] && "$dir/emacs" --batch -Q --eval '(require (quote eglot))' >/dev/null 2>&1 \
  && { echo "$dir/emacs ready"; exit 0; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cat >"$work/bookworm.sources" <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
mkdir -p "$work/lists/partial" "$work/debs"
apt=(-o Acquire::Check-Valid-Until=false -o Dir::Etc::SourceList="$work/bookworm.sources"
     -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$work/lists" -o Debug::NoLocking=1
     -o APT::Sandbox::User=root)
apt-get "${apt[@]}" -qq update
bpo=(emacs-nox emacs-bin-common emacs-common)
# The shared libraries Emacs and libgccjit link against (all but libc, which is the system's).
libs=$(apt-cache "${apt[@]}" depends emacs-nox/bookworm-backports libgccjit0 \
  | sed -n 's/^ *Depends: \(lib[^ <>]*\)$/\1/p' | grep -v -x -e libc6 -e libc6-dev -e 'libgcc-.*-dev' \
  | sort -u)
(cd "$work/debs" && apt-get "${apt[@]}" -qq download "${bpo[@]/%//bookworm-backports}" $libs)
rm -rf "$dir/root"
for f in "$work"/debs/*.deb; do dpkg -x "$f" "$dir/root"; done
root="$dir/root"
lib="$root/usr/lib/x86_64-linux-gnu"
dump=$(ls "$root"/usr/libexec/emacs/*/x86_64-linux-gnu/*.pdmp | head -1)
ver=$(basename "$(dirname "$(dirname "$dump")")")
cat >"$dir/emacs" <<LAUNCH
#!/bin/sh
export EMACSLOADPATH="$root/usr/share/emacs/$ver/lisp"
export EMACSDATA="$root/usr/share/emacs/$ver/etc"
export EMACSPATH="$root/usr/libexec/emacs/$ver/x86_64-linux-gnu"
export EMACSDOC="$root/usr/share/emacs/$ver/etc"
exec /lib64/ld-linux-x86-64.so.2 --library-path "$lib" "$root/usr/bin/emacs-nox" --dump-file="$dump" "\$@"
LAUNCH
chmod +x "$dir/emacs"
"$dir/emacs" --batch -Q --eval '(progn (require (quote eglot)) (message "%s, eglot loads" (emacs-version)))'
