# hearth: zfs dataset tank/srv/app
# <components/core/runtime.sh>
hearth_owner=home/prod/hearth:zfs:Dataset/data
hearth_aliases=()
hearth_adopt=0
hearth_lock zfs
ds=tank/srv/app
pool=tank
if ! zfs list -H -o name "$pool" >/dev/null; then hearth_die 69 "pool $pool is not available (is ZFS running and the pool imported?)"; fi
if ! hearth_zfs_feature "$pool" lz4_compress; then
  zfs_supported='off on lzjb gzip gzip-1..gzip-9 zle'
  if hearth_zfs_feature "$pool" lz4_compress; then zfs_supported="$zfs_supported lz4"; fi
  if hearth_zfs_feature "$pool" zstd_compress; then zfs_supported="$zfs_supported zstd zstd-1..zstd-19"; fi
  hearth_die 65 'property '"'"'compression'"'"' = lz4 needs the pool feature lz4_compress, which pool '"$pool"' does not have; it supports compression '"$zfs_supported"
fi
if ! hearth_zfs_feature "$pool" encryption; then
  hearth_die 65 'property '"'"'encryption'"'"' = aes-256-gcm needs the pool feature encryption, which pool '"$pool"' does not have; it supports no native encryption'
fi
hearth_mount_safe /srv/app
if ! hearth_zfs_exists "$ds"; then hearth_zfs_mount_places "$ds" /srv/app; fi
zfs_created=0
if hearth_zfs_exists "$ds"; then
  zfs_found=$(hearth_zfs_mark "$ds")
  hearth_claim "dataset $ds" "$zfs_found"
  hearth_zfs_own "$ds"
elif hearth_zfs_exists tank/old-app; then
  zfs_prev=tank/old-app
  zfs_found=$(hearth_zfs_mark "$zfs_prev")
  hearth_claim "dataset $zfs_prev" "$zfs_found"
  hearth_zfs_own "$zfs_prev"
  hearth_zfs_snapshot_before "$zfs_prev" "rename:$ds"
  hearth_zfs_unmount "$zfs_prev"
  zfs_renamed=0
  for _ in $(seq 1 50); do if zfs rename -p "$zfs_prev" "$ds" 2>/dev/null; then zfs_renamed=1; break; fi; sleep 0.2; done
  if [ "$zfs_renamed" = 0 ]; then zfs rename -p "$zfs_prev" "$ds"; fi
  hearth_step
  hearth_say "renamed $zfs_prev to $ds"
elif hearth_zfs_exists tank/legacy/app; then
  zfs_prev=tank/legacy/app
  zfs_found=$(hearth_zfs_mark "$zfs_prev")
  hearth_claim "dataset $zfs_prev" "$zfs_found"
  hearth_zfs_own "$zfs_prev"
  hearth_zfs_snapshot_before "$zfs_prev" "rename:$ds"
  hearth_zfs_unmount "$zfs_prev"
  zfs_renamed=0
  for _ in $(seq 1 50); do if zfs rename -p "$zfs_prev" "$ds" 2>/dev/null; then zfs_renamed=1; break; fi; sleep 0.2; done
  if [ "$zfs_renamed" = 0 ]; then zfs rename -p "$zfs_prev" "$ds"; fi
  hearth_step
  hearth_say "renamed $zfs_prev to $ds"
else
  zfs_mp=/srv/app
  if [ -d "$zfs_mp" ] && [ ! -L "$zfs_mp" ] && [ -n "$(ls -A -- "$zfs_mp")" ] && ! mountpoint -q -- "$zfs_mp"; then
    hearth_die 65 "refusing to create $ds: its mountpoint $zfs_mp is a directory that is not empty (a dataset renamed without previousNames? list the old name in previousNames to rename it; or move the files away)"
  fi
  zfs_key=/etc/hearth/zfs-keys/tank/srv/app.key
  hearth_dir /etc/hearth
  hearth_dir /etc/hearth/zfs-keys/tank/srv 0700
  if [ ! -s "$zfs_key" ]; then
    hearth_tmp_in /etc/hearth/zfs-keys/tank/srv
    head -c 32 /dev/urandom >"$hearth_tmp"
    hearth_put "$hearth_tmp" "$zfs_key" 0400 root root
  fi
  zfs create -p -o encryption=aes-256-gcm -o keyformat=raw -o "keylocation=file://$zfs_key" -o "hearth:owner=$hearth_owner" -o atime=off -o compression=lz4 -o mountpoint=/srv/app -o quota=10737418240 -o recordsize=16384 -o xattr=sa -o 'com.example:owner=ops team' -o hearth:props=atime,compression,mountpoint,quota,recordsize,xattr,com.example:owner "$ds"
  hearth_step
  hearth_say "created $ds"
  zfs_created=1
fi
zfs_prevs=(tank/old-app tank/legacy/app)
for zfs_prev in "${zfs_prevs[@]}"; do
  if hearth_zfs_exists "$zfs_prev"; then hearth_warn "warning: $zfs_prev still exists beside $ds"; else hearth_zfs_forget "$zfs_prev"; fi
done
if [ "$(hearth_zfs_get "$ds" encryption)" = off ]; then
  hearth_die 65 "property 'encryption' can only be chosen when a dataset is created; $ds exists unencrypted (copy the data into a new encrypted dataset instead)"
fi
# shellcheck disable=SC2054 # commas inside one property value (hearth:props), not separators
zfs_want=(atime=off compression=lz4 mountpoint=/srv/app quota=10737418240 recordsize=16384 xattr=sa 'com.example:owner=ops team' hearth:props=atime,compression,mountpoint,quota,recordsize,xattr,com.example:owner)
zfs_sets=()
for zfs_kv in "${zfs_want[@]}"; do
  if ! hearth_zfs_has "$ds" "$zfs_kv"; then zfs_sets+=("$zfs_kv"); fi
done
zfs_keep=,atime,compression,mountpoint,quota,recordsize,xattr,com.example:owner,
zfs_unsets=()
IFS=, read -r -a zfs_old <<<"$(hearth_zfs_get "$ds" hearth:props)"
for zfs_p in "${zfs_old[@]}"; do
  if [[ ! $zfs_p =~ ^[a-z0-9_][a-z0-9_.:+-]*$ ]] || [[ $zfs_p == hearth:* ]]; then continue; fi
  case $zfs_keep in *",$zfs_p,"*) continue ;; esac
  if [ "$(zfs get -H -o source "$zfs_p" "$ds")" = local ]; then zfs_unsets+=("$zfs_p"); fi
done
if [ "${#zfs_sets[@]}" -gt 0 ] || [ "${#zfs_unsets[@]}" -gt 0 ]; then
  if [ "$zfs_created" = 0 ]; then hearth_zfs_snapshot_before "$ds" 4a2992a06dcb7179bd517201f280a66e; fi
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
hearth_install /usr/local/lib/hearth/zfs-autosnap 0755 root root
hearth_say "mountpoint=$(hearth_zfs_get "$ds" mountpoint)"
