// The base tree NspawnContainer host specs clone: the test host's own tree as a ZFS snapshot, shifted once to a
// 65536-aligned uid range (zfs-fuse has no idmapped mounts).

/** The test host's own tree, trimmed of what a container never runs (PostgreSQL's JIT, its server), as a ZFS base snapshot. */
export const BASE = String.raw`set -euo pipefail
truncate -s 3G /var/lib/hearth-tank.img
zpool create tank /var/lib/hearth-tank.img
zfs create -o mountpoint=/var/lib/hearth-base tank/base
cd /var/lib/hearth-base
tar -C / --one-file-system -cf - \
  --exclude=./usr/lib/x86_64-linux-gnu/libLLVM-14.so.1 --exclude='./usr/lib/x86_64-linux-gnu/libz3.so*' \
  --exclude=./usr/lib/postgresql --exclude=./var/lib/postgresql --exclude=./var/cache --exclude=./var/log/journal \
  --exclude='./var/lib/hearth-*' --exclude=./var/lib/machines --exclude=./var/lib/zfs --exclude=./etc/zfs \
  ./usr ./etc ./var | tar -xpf -
for l in bin sbin lib lib64; do ln -s "usr/$l" "$l"; done
mkdir -p proc sys dev run tmp root home srv mnt opt media boot var/cache var/log/journal
chmod 1777 tmp; chmod 0700 root
: > etc/machine-id
rm -f etc/ssh/ssh_host_* etc/systemd/network/10-hearth-host0.network root/.ssh/authorized_keys
for u in postgresql zfs-fuse knot pgbouncer; do ln -sf /dev/null "etc/systemd/system/$u.service"; done
# zfs-fuse has no idmapped mounts and nspawn's own recursive chown fails on it (EINVAL), so the cached base is
# shifted once, here: nspawn's PrivateUsers=pick takes the range the root directory is owned by.
python3 - <<'PY'
import os
BASE = 0x00A00000
for d, dirs, files in os.walk(".", topdown=False):
    for n in dirs + files:
        p = os.path.join(d, n); st = os.lstat(p)
        os.lchown(p, BASE + st.st_uid % 65536, BASE + st.st_gid % 65536)
        if not os.path.islink(p): os.chmod(p, st.st_mode & 0o7777)
st = os.lstat("."); os.lchown(".", BASE, BASE)
PY
zfs snapshot tank/base@bookworm`;
