# hearth: remove container web
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
hearth_unit=systemd-nspawn@web.service
if systemctl list-unit-files --quiet systemd-nspawn@.service >/dev/null 2>&1; then
  systemctl disable --now --quiet "$hearth_unit" 2>/dev/null || true
fi
hearth_remove /etc/systemd/nspawn/web.nspawn
hearth_remove /etc/systemd/system/systemd-nspawn@web.service.d/50-hearth.conf
hearth_remove /var/lib/hearth/nspawn/web/etc_systemd_network_10-hearth.network
hearth_remove /var/lib/hearth/nspawn/web/etc_hostname
hearth_remove /var/lib/hearth/nspawn/web/root_.ssh_authorized_keys
rmdir -- /etc/systemd/system/systemd-nspawn@web.service.d /var/lib/hearth/nspawn/web 2>/dev/null || true
if [ "$hearth_changed" != 0 ]; then systemctl daemon-reload; fi
if [ -d /var/lib/machines/web ]; then rm -rf --one-file-system -- /var/lib/machines/web; echo "hearth: removed /var/lib/machines/web"; fi
