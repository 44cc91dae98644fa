# hearth: container cache
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
for hearth_tool in systemd-nspawn systemctl ssh-keygen ip; do command -v "$hearth_tool" >/dev/null || { echo "hearth: $hearth_tool is missing (systemd-container, openssh-client, iproute2)" >&2; exit 69; }; done
ip link show dev eth0 >/dev/null 2>&1 || { echo "hearth: host interface eth0 for container cache does not exist" >&2; exit 68; }
hearth_root=/var/lib/machines/cache hearth_unit=systemd-nspawn@cache.service
[ -d "$hearth_root/usr" ] && [ ! -L "$hearth_root" ] || { echo "hearth: $hearth_root is not an OS tree (no /usr)" >&2; exit 66; }
hearth_install /etc/systemd/nspawn/cache.nspawn 0644 root root
hearth_install /etc/systemd/system/systemd-nspawn@cache.service.d/50-hearth.conf 0644 root root
hearth_install /var/lib/hearth/nspawn/cache/etc_systemd_network_10-hearth.network 0600 root root
hearth_install /var/lib/hearth/nspawn/cache/etc_hostname 0600 root root
hearth_install /var/lib/hearth/nspawn/cache/root_.ssh_authorized_keys 0600 root root
hearth_owner=$(stat -c %u:%g -- "$hearth_root")
hearth_identity=0
[ "$(cat -- "$hearth_root/etc/.hearth-container" 2>/dev/null || true)" = cache ] || hearth_identity=1
# Never follow a link the container could have planted: every component below the rootfs must be real.
hearth_safe() {
  local rel=$1 p=$hearth_root part
  local IFS=/
  for part in $rel; do p=$p/$part; if [ -L "$p" ]; then echo "hearth: refusing to write through symlink $p" >&2; exit 65; fi; done
}
hearth_inner=0
hearth_differs() { # staged, rel, mode
  [ -f "$hearth_root/$2" ] && cmp -s -- "$1" "$hearth_root/$2" && [ "$(stat -c '%a %u:%g' -- "$hearth_root/$2")" = "$3 $hearth_owner" ] && return 1
  return 0
}
hearth_safe etc/systemd/network/10-hearth.network; if hearth_differs /var/lib/hearth/nspawn/cache/etc_systemd_network_10-hearth.network etc/systemd/network/10-hearth.network 644; then hearth_inner=1; fi
hearth_safe etc/hostname; if hearth_differs /var/lib/hearth/nspawn/cache/etc_hostname etc/hostname 644; then hearth_inner=1; fi
hearth_safe root/.ssh/authorized_keys; if hearth_differs /var/lib/hearth/nspawn/cache/root_.ssh_authorized_keys root/.ssh/authorized_keys 600; then hearth_inner=1; fi
if [ "$hearth_changed" != 0 ] || [ "$hearth_inner" != 0 ] || [ "$hearth_identity" != 0 ]; then
  if systemctl is-active --quiet "$hearth_unit"; then systemctl stop "$hearth_unit"; fi
  systemctl daemon-reload
fi
if [ "$hearth_identity" != 0 ]; then
  hearth_safe etc/ssh; hearth_safe etc/machine-id
  : > "$hearth_root/etc/machine-id"
  rm -f -- "$hearth_root"/etc/ssh/ssh_host_*
  ssh-keygen -q -A -f "$hearth_root"
  chown -- "$hearth_owner" "$hearth_root/etc/machine-id" "$hearth_root"/etc/ssh/ssh_host_*
fi
if hearth_differs /var/lib/hearth/nspawn/cache/etc_systemd_network_10-hearth.network etc/systemd/network/10-hearth.network 644; then hearth_safe etc/systemd/network/10-hearth.network; install -d -m 0755 -o "${hearth_owner%:*}" -g "${hearth_owner#*:}" -- "$hearth_root"/etc/systemd/network; install -m 644 -o "${hearth_owner%:*}" -g "${hearth_owner#*:}" -- /var/lib/hearth/nspawn/cache/etc_systemd_network_10-hearth.network "$hearth_root"/etc/systemd/network/10-hearth.network; echo "hearth: wrote $hearth_root/etc/systemd/network/10-hearth.network"; fi
if hearth_differs /var/lib/hearth/nspawn/cache/etc_hostname etc/hostname 644; then hearth_safe etc/hostname; install -d -m 0755 -o "${hearth_owner%:*}" -g "${hearth_owner#*:}" -- "$hearth_root"/etc; install -m 644 -o "${hearth_owner%:*}" -g "${hearth_owner#*:}" -- /var/lib/hearth/nspawn/cache/etc_hostname "$hearth_root"/etc/hostname; echo "hearth: wrote $hearth_root/etc/hostname"; fi
if hearth_differs /var/lib/hearth/nspawn/cache/root_.ssh_authorized_keys root/.ssh/authorized_keys 600; then hearth_safe root/.ssh/authorized_keys; install -d -m 0700 -o "${hearth_owner%:*}" -g "${hearth_owner#*:}" -- "$hearth_root"/root/.ssh; install -m 600 -o "${hearth_owner%:*}" -g "${hearth_owner#*:}" -- /var/lib/hearth/nspawn/cache/root_.ssh_authorized_keys "$hearth_root"/root/.ssh/authorized_keys; echo "hearth: wrote $hearth_root/root/.ssh/authorized_keys"; fi
if [ "$hearth_identity" != 0 ]; then printf '%s\n' cache > "$hearth_root/etc/.hearth-container"; chown -- "$hearth_owner" "$hearth_root/etc/.hearth-container"; fi
systemctl is-enabled --quiet "$hearth_unit" || systemctl enable --quiet "$hearth_unit"
systemctl is-enabled --quiet machines.target || systemctl enable --quiet machines.target
if ! systemctl is-active --quiet "$hearth_unit"; then
  hearth_t0=$(date +%s%N)
  systemctl start "$hearth_unit" || { echo "hearth: container cache failed to start" >&2; journalctl -u "$hearth_unit" -n 40 --no-pager >&2 || true; exit 75; }
  # Until the container's bus answers, systemctl -M prints nothing; then --wait blocks until boot has finished.
  hearth_state=
  for _ in $(seq 1800); do
    hearth_state=$(timeout 90 systemctl -M cache is-system-running --wait 2>/dev/null || true)
    [ -n "$hearth_state" ] && break
    sleep 0.05
  done
  hearth_ms=$(( ($(date +%s%N) - hearth_t0) / 1000000 ))
  case $hearth_state in
    running) echo "hearth: container cache running $hearth_ms ms after systemctl start" ;;
    degraded) echo "hearth: container cache up but degraded $hearth_ms ms after start: $(systemctl -M cache --failed --no-legend --plain 2>/dev/null | cut -d' ' -f1 | tr '\n' ' ')" >&2 ;;
    *) echo "hearth: container cache did not reach running (state: $hearth_state)" >&2; journalctl -u "$hearth_unit" -n 30 --no-pager >&2 || true; exit 75 ;;
  esac
fi
echo "hearth-nspawn-hostkey: $(cut -d' ' -f1,2 -- "$hearth_root/etc/ssh/ssh_host_ed25519_key.pub")"
