# hearth: zfs dataset tank/machines/web
# <components/core/runtime.sh>
hearth_owner=home/prod/hearth:zfs:Dataset/data
hearth_aliases=()
hearth_adopt=0
hearth_lock zfs
ds=tank/machines/web
pool=tank
if ! zfs list -H -o name "$pool" >/dev/null; then hearth_die 69 "pool $pool is not available (is ZFS running and the pool imported?)"; fi
if ! hearth_zfs_exists "$ds"; then hearth_zfs_mount_places "$ds" ''; fi
zfs_created=0
if hearth_zfs_exists "$ds"; then
  zfs_found=$(hearth_zfs_mark "$ds")
  hearth_claim "dataset $ds" "$zfs_found"
  hearth_zfs_own "$ds"
else
  zfs_origin=tank/images/debian@v1
  if ! hearth_zfs_exists "$zfs_origin"; then hearth_die 66 "origin snapshot $zfs_origin does not exist"; fi
  zfs clone -p -o "hearth:owner=$hearth_owner" -o readonly=off -o hearth:props=readonly "$zfs_origin" "$ds"
  hearth_step
  hearth_say "cloned $zfs_origin to $ds"
  zfs_created=1
fi
# shellcheck disable=SC2054 # commas inside one property value (hearth:props), not separators
zfs_want=(readonly=off hearth:props=readonly)
zfs_sets=()
for zfs_kv in "${zfs_want[@]}"; do
  if ! hearth_zfs_has "$ds" "$zfs_kv"; then zfs_sets+=("$zfs_kv"); fi
done
zfs_keep=,readonly,
zfs_unsets=()
IFS=, read -r -a zfs_old <<<"$(hearth_zfs_get "$ds" hearth:props)"
for zfs_p in "${zfs_old[@]}"; do
  if [[ ! $zfs_p =~ ^[a-z0-9_][a-z0-9_.:+-]*$ ]] || [[ $zfs_p == hearth:* ]]; then continue; fi
  case $zfs_keep in *",$zfs_p,"*) continue ;; esac
  if [ "$(zfs get -H -o source "$zfs_p" "$ds")" = local ]; then zfs_unsets+=("$zfs_p"); fi
done
if [ "${#zfs_sets[@]}" -gt 0 ] || [ "${#zfs_unsets[@]}" -gt 0 ]; then
  if [ "$zfs_created" = 0 ]; then hearth_zfs_snapshot_before "$ds" c5f36077344307fc68d37787492e0255; fi
  for zfs_p in "${zfs_unsets[@]}"; do hearth_zfs_inherit "$ds" "$zfs_p"; done
  for zfs_kv in "${zfs_sets[@]}"; do
    if [[ $zfs_kv == mountpoint=* ]]; then hearth_zfs_unmount "$ds"; fi
    hearth_zfs_set "$ds" "$zfs_kv"
  done
elif [ "$zfs_created" = 0 ]; then
  hearth_say "$ds unchanged"
fi
hearth_zfs_mount "$ds"
zfs_marked=$(zfs get -H -o name,value -s local hearth:owner)
while IFS=$'\t' read -r zfs_name zfs_mark; do
  if [ "$zfs_mark" = "$hearth_owner" ] && [ "$zfs_name" != "$ds" ] && [[ $zfs_name != *@* ]]; then
    hearth_zfs_forget "$zfs_name"
    hearth_zfs_disown "$zfs_name"
    hearth_say "$zfs_name carried this resource's mark but is no longer its dataset: kept with its data and snapshots, no longer managed by hearth"
  fi
done <<<"$zfs_marked"
hearth_say "mountpoint=$(hearth_zfs_get "$ds" mountpoint)"
