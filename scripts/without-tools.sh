#!/usr/bin/env bash
# Runs a command as on a machine without the build and browser tools, to
# prove that the pure tests need none of them:
#   scripts/without-tools.sh npm run test:unit
# PATH is rebuilt with every folder that holds one of the tools replaced by a
# copy (symbolic links) that lacks it. As root, where unshare works, the
# command also runs in its own mount namespace with /dev/null bound over the
# tools' absolute paths, so code that spawns /usr/bin/docker-registry or
# /usr/bin/chromium by path fails too (the machine itself is left alone).
set -euo pipefail

TOOLS=(buildah podman docker docker-registry registry chromium chromium-browser debootstrap busybox)

if [ "${1-}" = --inside ]; then
  # In the private mount namespace: every absolute path of the tools becomes
  # a stand-in that notes the call in $2 and fails as a missing tool would.
  stand_in=$2
  shift 2
  for tool in "${TOOLS[@]}"; do
    for dir in /usr/bin /usr/sbin /usr/local/bin /usr/local/sbin /bin /sbin; do
      if [ -e "$dir/$tool" ] && [ ! -L "$dir" ]; then mount --bind "$stand_in" "$dir/$tool"; fi
    done
  done
  exec "$@"
fi

[ $# -gt 0 ] || { echo "usage: scripts/without-tools.sh COMMAND [ARG…]" >&2; exit 2; }

shims=$(mktemp -d "${TMPDIR:-/tmp}/envctl-without-tools-XXXXXX")
trap 'rm -rf "$shims"' EXIT
hidden() { local n=$1 t; for t in "${TOOLS[@]}"; do [ "$n" = "$t" ] && return 0; done; return 1; }

path=()
i=0
IFS=: read -r -a dirs <<<"$PATH"
for dir in "${dirs[@]}"; do
  [ -d "$dir" ] || continue
  holds=false
  for tool in "${TOOLS[@]}"; do [ -e "$dir/$tool" ] && holds=true; done
  if ! $holds; then path+=("$dir"); continue; fi
  i=$((i + 1))
  copy="$shims/$i"
  mkdir "$copy"
  for entry in "$dir"/*; do
    name=${entry##*/}
    hidden "$name" || ln -s "$entry" "$copy/$name"
  done
  path+=("$copy")
done
PATH=$(IFS=:; echo "${path[*]}")
export PATH

for tool in "${TOOLS[@]}"; do
  if command -v "$tool" >/dev/null; then echo "without-tools: $tool is still on PATH" >&2; exit 1; fi
done

if [ "$(id -u)" -eq 0 ] && unshare -m --propagation private true 2>/dev/null; then
  echo "without-tools: hidden from PATH and by path: ${TOOLS[*]}" >&2
  calls="$shims/calls"
  : >"$calls"
  printf '#!/bin/sh\necho "$0 $* (in $PWD)" >>%q\necho "$0: not installed here (scripts/without-tools.sh)" >&2\nexit 127\n' "$calls" >"$shims/stand-in"
  chmod +x "$shims/stand-in"
  status=0
  unshare -m --propagation private bash "$(cd "$(dirname "$0")" && pwd)/without-tools.sh" --inside "$shims/stand-in" "$@" || status=$?
  if [ -s "$calls" ]; then
    echo "without-tools: the command tried these hidden tools by path:" >&2
    sed 's/^/  /' "$calls" >&2
  fi
  exit "$status"
else
  echo "without-tools: hidden from PATH (not by absolute path: needs root and unshare): ${TOOLS[*]}" >&2
  "$@"
fi
