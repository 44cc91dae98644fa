# hearth: zfs dataset tank/scratch (delete)
# <components/core/runtime.sh>
hearth_owner=home/prod/hearth:zfs:Dataset/data
hearth_aliases=()
hearth_adopt=0
hearth_lock zfs
ds=tank/scratch
pool=tank
if ! zfs list -H -o name "$pool" >/dev/null; then hearth_die 69 "pool $pool is not available (is ZFS running and the pool imported?)"; fi
if ! hearth_zfs_exists "$ds"; then hearth_say "$ds does not exist; nothing to do"; exit 0; fi
zfs_found=$(hearth_zfs_mark "$ds")
if ! hearth_mine "$zfs_found"; then
  if [ -z "$zfs_found" ]; then hearth_say "$ds is not managed by hearth; left untouched"; else hearth_say "$ds is owned by $zfs_found, not by $hearth_owner; left untouched"; fi
  exit 0
fi
zfs_children=$(zfs list -H -o name -r "$ds" | awk -v ds="$ds" '$0 != ds && index($0, "@") == 0')
zfs_clones=$(zfs list -H -o name,origin -r "$pool" | awk -F '\t' -v p="$ds@" 'index($2, p) == 1 { print $1 }')
zfs_nchildren=$(printf '%s' "$zfs_children" | grep -c . || true)
zfs_nclones=$(printf '%s' "$zfs_clones" | grep -c . || true)
zfs_doomed=$(hearth_zfs_dependents "$ds" "$pool")
while IFS= read -r zfs_d; do
  if [ -z "$zfs_d" ]; then continue; fi
  zfs_found=$(hearth_zfs_mark "$zfs_d")
  if [ -n "$zfs_found" ] && ! hearth_mine "$zfs_found"; then hearth_die 65 "refusing to destroy $ds: $zfs_d below or cloned from it is owned by $zfs_found"; fi
  zfs_kept=$(zfs get -H -o value -s local hearth:kept "$zfs_d")
  if [ -n "$zfs_kept" ]; then hearth_die 65 "refusing to destroy $ds: $zfs_d below or cloned from it holds data kept when $zfs_kept was deleted (move it away, or destroy it by hand)"; fi
done <<<"$zfs_doomed"
hearth_say "destroying $ds with $zfs_nchildren children and $zfs_nclones clones (recursive)"
while IFS= read -r zfs_d; do if [ -n "$zfs_d" ]; then hearth_zfs_unmount "$zfs_d"; fi; done <<<"$zfs_doomed"
zfs_all=$(zfs list -H -o name -r "$ds" | awk 'index($0, "@") == 0' | sort -r)
while IFS= read -r zfs_d; do if [ -n "$zfs_d" ]; then hearth_zfs_unmount "$zfs_d"; fi; done <<<"$zfs_all"
hearth_zfs_forget "$ds"
zfs_gone=0
for _ in $(seq 1 50); do if zfs destroy -R "$ds" 2>/dev/null; then zfs_gone=1; break; fi; sleep 0.2; done
if [ "$zfs_gone" = 0 ]; then zfs destroy -R "$ds"; fi
hearth_step
hearth_say "destroyed $ds"
