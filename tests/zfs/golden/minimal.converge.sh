# hearth: zfs dataset tank/app
set -euo pipefail
umask 077
export LC_ALL=C
hearth_changed=0
hearth_tmp=
trap 'if [ -n "$hearth_tmp" ]; then rm -f -- "$hearth_tmp"; fi' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
hearth_frame() {
  local len
  IFS= read -r len || { echo "hearth: stdin ended before a frame for $1" >&2; exit 70; }
  case $len in ''|*[!0-9]*) echo "hearth: bad stdin frame header for $1" >&2; exit 70 ;; esac
  head -c "$len" > "$1"
  if [ "$(stat -c %s -- "$1")" != "$len" ]; then echo "hearth: short stdin frame for $1" >&2; exit 70; fi
}
hearth_install() {
  local path=$1 mode=$2 owner=$3 group=$4 dir base
  dir=$(dirname -- "$path"); base=$(basename -- "$path")
  mkdir -p -- "$dir"
  hearth_tmp="$dir/.$base.hearth-new"
  hearth_frame "$hearth_tmp"
  chown -- "$owner:$group" "$hearth_tmp"
  chmod -- "$mode" "$hearth_tmp"
  if [ -f "$path" ] && [ ! -L "$path" ] && cmp -s -- "$hearth_tmp" "$path" \
     && [ "$(stat -c '%a %U %G' -- "$path")" = "$(stat -c '%a %U %G' -- "$hearth_tmp")" ]; then
    rm -f -- "$hearth_tmp"
  else
    sync -- "$hearth_tmp" 2>/dev/null || true
    mv -f -T -- "$hearth_tmp" "$path"
    hearth_changed=$((hearth_changed + 1))
    echo "hearth: wrote $path"
  fi
  hearth_tmp=
}
hearth_remove() {
  if [ -e "$1" ] || [ -L "$1" ]; then rm -f -- "$1"; hearth_changed=$((hearth_changed + 1)); echo "hearth: removed $1"; fi
}
ds=tank/app
pool=tank
hearth_now=$(date -u +%Y%m%dT%H%M%S.%NZ)
hearth_sets=()
hearth_unsets=()
hearth_created=0
hearth_exists() { zfs list -H -o name "$1" >/dev/null 2>&1; }
hearth_get() { zfs get -H -o value "$1" "$2"; }
hearth_has_feature() {
  local state
  state=$(zpool get -H -o value "feature@$1" "$pool" 2>/dev/null) || return 1
  [ "$state" = enabled ] || [ "$state" = active ]
}
hearth_pool_compression() {
  local s="off on lzjb gzip gzip-1..gzip-9 zle"
  if hearth_has_feature lz4_compress; then s="$s lz4"; fi
  if hearth_has_feature zstd_compress; then s="$s zstd zstd-1..zstd-19"; fi
  echo "$s"
}
hearth_snapshot() {
  if ! hearth_exists "$1@hearth-$hearth_now"; then
    zfs snapshot "$1@hearth-$hearth_now"
    echo "hearth: snapshot $1@hearth-$hearth_now"
  fi
}
hearth_want() {
  local cur
  cur=$(zfs get -Hp -o value,source "$1" "$ds")
  if [ "$cur" != "$2"$'\t'local ]; then hearth_sets+=("$1=$2"); fi
}
if ! zfs list -H -o name "$pool" >/dev/null; then
  echo "hearth: pool $pool is not available (is ZFS running and the pool imported?)" >&2
  exit 1
fi
if hearth_exists "$ds"; then
  :
else
  zfs create -p -o hearth:managed=yes -o hearth:props=none "$ds"
  echo "hearth: created $ds"
  hearth_created=1
fi
if [ "$hearth_created" = 0 ]; then
  if [ "$(hearth_get hearth:managed "$ds")" != yes ]; then
    echo "hearth: $ds exists but is not marked hearth:managed=yes; refusing to change a dataset hearth does not own (set adopt: true to take it over)" >&2
    exit 1
  fi
fi
hearth_want hearth:managed yes
hearth_want hearth:props none
hearth_props=,none,
IFS=, read -r -a hearth_old <<< "$(hearth_get hearth:props "$ds")"
for p in "${hearth_old[@]}"; do
  if [[ ! $p =~ ^[a-z0-9_][a-z0-9_.:+-]*$ ]] || [[ $p == hearth:* ]] || [ "$p" = none ]; then continue; fi
  case $hearth_props in *",$p,"*) ;; *) hearth_unsets+=("$p") ;; esac
done
if [ "${#hearth_sets[@]}" -gt 0 ] || [ "${#hearth_unsets[@]}" -gt 0 ]; then
  if [ "$hearth_created" = 0 ]; then hearth_snapshot "$ds"; fi
  for p in "${hearth_unsets[@]}"; do zfs inherit "$p" "$ds"; echo "hearth: inherit $p"; done
  for kv in "${hearth_sets[@]}"; do
    if [[ $kv == mountpoint=* ]] && [ "$(hearth_get mounted "$ds")" = yes ]; then zfs unmount "$ds"; fi
    zfs set "$kv" "$ds"
    echo "hearth: set $kv"
  done
elif [ "$hearth_created" = 0 ]; then
  echo "hearth: $ds unchanged"
fi
if [ "$(hearth_get canmount "$ds")" = on ] && [[ $(hearth_get mountpoint "$ds") == /* ]] && [ "$(hearth_get mounted "$ds")" = no ]; then
  zfs mount "$ds"
  echo "hearth: mounted $ds"
fi
echo "hearth: mountpoint=$(hearth_get mountpoint "$ds")"
