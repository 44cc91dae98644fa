#!/bin/bash
# npm run bench:converge (and bench:check, which passes --check first): installs what the comparison needs on a fresh
# Debian machine (ansible-core, the test-host tools), then runs it.
set -euo pipefail
cd "$(dirname -- "$0")/.."
missing=()
for tool in ansible-playbook:ansible-core debootstrap:debootstrap systemd-nspawn:systemd-container zstd:zstd psql:postgresql-client ssh:openssh-client; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool##*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bench: installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -q
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}"
fi
bench=bench/converge.ts
if [ "${1:-}" = "--check" ]; then bench=bench/check.ts; shift; fi
exec npx tsx "$bench" "$@"
