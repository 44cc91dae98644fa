# hearth: zfs dataset tank/srv/app (delete)
# <components/core/runtime.sh>
hearth_owner=home/prod/hearth:zfs:Dataset/data
hearth_aliases=()
hearth_adopt=0
hearth_lock zfs
ds=tank/srv/app
pool=tank
if ! zfs list -H -o name "$pool" >/dev/null; then hearth_die 69 "pool $pool is not available (is ZFS running and the pool imported?)"; fi
if ! hearth_zfs_exists "$ds"; then hearth_say "$ds does not exist; nothing to do"; exit 0; fi
zfs_found=$(hearth_zfs_mark "$ds")
if ! hearth_mine "$zfs_found"; then
  if [ -z "$zfs_found" ]; then hearth_say "$ds is not managed by hearth; left untouched"; else hearth_say "$ds is owned by $zfs_found, not by $hearth_owner; left untouched"; fi
  exit 0
fi
hearth_zfs_forget "$ds"
hearth_zfs_disown "$ds"
hearth_say "$ds kept with its data and snapshots; it is no longer managed by hearth"
