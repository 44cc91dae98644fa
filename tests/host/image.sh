#!/bin/bash
# Builds the Debian bookworm rootfs that host tests boot, packed as a zstd tarball (tests/host/harness.ts caches it).
#
# usage: image.sh OUTPUT.tar.zst PKG[,PKG...]
# The mirror is the one apt on this machine uses for bookworm, so CI and developers need no extra setting.
# Everything per host (hostname, address, SSH keys) is written by the harness after unpacking, never here:
# one image serves every host, so it must carry no identity (no machine-id, no SSH host key).
set -euo pipefail
umask 022

out=${1:?usage: image.sh OUTPUT.tar.zst PKG[,PKG...]}
packages=${2:?usage: image.sh OUTPUT.tar.zst PKG[,PKG...]}
case $packages in *[!a-z0-9.+,-]*) echo "image.sh: bad package list: $packages" >&2; exit 2 ;; esac
case $out in /*) ;; *) echo "image.sh: OUTPUT must be absolute: $out" >&2; exit 2 ;; esac

# Prints "URI KEYRING" for the first enabled bookworm source of type deb (deb822 files first, then one-line lists).
apt_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && suites ~ /(^| )bookworm( |$)/ && enabled != "no" && uri != "") {
          print uri, (keyring == "" ? "-" : keyring); found = 1; exit
        }
        types = suites = uri = keyring = enabled = ""
      }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]*#/ { next }
      /^[ \t]/ { next }
      { key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, "") }
      key == "types" { types = $0 } key == "suites" { suites = $0 } key == "enabled" { enabled = tolower($0) }
      key == "uris" { split($0, u, " "); uri = u[1] } key == "signed-by" { keyring = $0 }
      END { if (!found) flush() }
    ' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1 == "deb" {
      i = 2; kr = "-"
      if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) { if ($i ~ /signed-by=/) { kr = $i; sub(/.*signed-by=/, "", kr); sub(/\]$/, "", kr) } i++ } i++ }
      if ($(i + 1) == "bookworm") { print $i, kr; exit }
    }' "$f"
  done
}

read -r mirror keyring < <(apt_mirror | head -n 1) || true
if [ -z "${mirror:-}" ]; then
  echo "image.sh: no bookworm 'deb' source in /etc/apt/sources.list{,.d/}; debootstrap needs a Debian mirror" >&2
  exit 1
fi
keyring_opt=()
if [ "$keyring" != "-" ] && [ -f "$keyring" ]; then keyring_opt=(--keyring="$keyring"); fi

mkdir -p -- "$(dirname -- "$out")"
# Two test processes may ask for the same image at once: the second waits and reuses the first one's result.
exec 9>"$out.lock"
flock 9
if [ -s "$out" ]; then exit 0; fi

work=$(mktemp -d "$(dirname -- "$out")/build.XXXXXX")
cleanup() {
  # debootstrap mounts /proc and /sys inside the target; never rm across a mount.
  findmnt -rn -o TARGET | awk -v w="$work/" 'index($0, w) == 1' | sort -r | while read -r m; do umount -l -- "$m" || true; done
  rm -rf --one-file-system -- "$work"
}
trap cleanup EXIT
root=$work/rootfs

echo "image.sh: debootstrap bookworm from $mirror with $packages" >&2
if ! debootstrap --variant=minbase "${keyring_opt[@]}" --include="$packages" bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -n 40 "$work/debootstrap.log" >&2
  tail -n 40 "$root/debootstrap/debootstrap.log" >&2 2>/dev/null || true
  exit 1
fi

# No identity in the image: systemd makes a machine-id at first boot, the harness writes the SSH host key.
: >"$root/etc/machine-id"
rm -f -- "$root/var/lib/dbus/machine-id" "$root"/etc/ssh/ssh_host_*
# debootstrap copies these from the build machine; its resolver would leak in and stall sshd's reverse lookups.
echo "nameserver 127.0.0.1" >"$root/etc/resolv.conf"
echo localhost >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"

cat >"$root/etc/ssh/sshd_config.d/hearth-test.conf" <<'EOF'
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
EOF

# The stock unit fails its OOM-adjust step in a container; the init script itself works.
mkdir -p "$root/etc/systemd/system/zfs-fuse.service.d"
cat >"$root/etc/systemd/system/zfs-fuse.service.d/hearth-test.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=-/etc/init.d/zfs-fuse start
EOF

systemctl --root="$root" enable systemd-networkd.service >/dev/null 2>&1
# Periodic maintenance would compete for the two CPUs with the tests and has nothing to do in a throwaway host.
systemctl --root="$root" disable apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer e2scrub_reap.service >/dev/null 2>&1 || true

# Package caches, lists and docs are a third of the tarball and never used in a test host.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/* "$root"/var/log/*.log "$root/debootstrap"

tar -C "$root" --numeric-owner --xattrs --xattrs-include='*' --acls -cf - . | zstd -3 -T0 -q -o "$work/image.tar.zst"
mv -f -T -- "$work/image.tar.zst" "$out"
echo "image.sh: wrote $out ($(du -h -- "$out" | cut -f1))" >&2
