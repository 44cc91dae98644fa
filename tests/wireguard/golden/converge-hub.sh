# hearth: WireGuard wg-sites for link sites, side rack
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
for hearth_tool in wg wg-quick ip; do
  command -v "$hearth_tool" >/dev/null || { echo "hearth: $hearth_tool is missing: install wireguard-tools and iproute2" >&2; exit 69; }
done
[ -s /etc/wireguard/wg-sites.key ] || { echo "hearth: no private key in /etc/wireguard/wg-sites.key: the key step did not run" >&2; exit 66; }
if [ -e /etc/wireguard/wg-sites.conf ] && ! head -n 1 /etc/wireguard/wg-sites.conf | grep -q '^# hearth: WireGuard link '; then echo "hearth: /etc/wireguard/wg-sites.conf exists and was not written by hearth; move it away first" >&2; exit 73; fi
mkdir -p /etc/wireguard/.hearth && chmod 0700 /etc/wireguard /etc/wireguard/.hearth
hearth_install /etc/wireguard/.hearth/wg-sites.conf 0600 root root
hearth_install /etc/wireguard/.hearth/wg-sites.hearth-keys 0700 root root
hearth_install /etc/wireguard/.hearth/wg-sites.restart 0600 root root
hearth_keys=0
hearth_psk=/etc/wireguard/wg-sites.cabin.psk.new
hearth_frame "$hearth_psk"
if cmp -s -- "$hearth_psk" /etc/wireguard/wg-sites.cabin.psk; then rm -f -- "$hearth_psk"; else mv -f -T -- "$hearth_psk" /etc/wireguard/wg-sites.cabin.psk; hearth_keys=1; fi
hearth_psk=/etc/wireguard/wg-sites.vps.psk.new
hearth_frame "$hearth_psk"
if cmp -s -- "$hearth_psk" /etc/wireguard/wg-sites.vps.psk; then rm -f -- "$hearth_psk"; else mv -f -T -- "$hearth_psk" /etc/wireguard/wg-sites.vps.psk; hearth_keys=1; fi
for hearth_f in /etc/wireguard/wg-sites.*.psk; do case $hearth_f in /etc/wireguard/wg-sites.cabin.psk|/etc/wireguard/wg-sites.vps.psk) ;; *) hearth_remove "$hearth_f" ;; esac; done
hearth_probe=hwv$$
hearth_pid=
if ip link add dev "$hearth_probe" type wireguard 2>/dev/null; then :
elif command -v wireguard-go >/dev/null; then
  WG_PROCESS_FOREGROUND=1 wireguard-go "$hearth_probe" >/dev/null 2>&1 &
  hearth_pid=$!
  for _ in $(seq 50); do [ -S "/var/run/wireguard/$hearth_probe.sock" ] && break; sleep 0.1; done
else
  echo "hearth: no WireGuard here: neither the kernel module nor wireguard-go" >&2; exit 69
fi
hearth_ok=0
if wg-quick strip /etc/wireguard/.hearth/wg-sites.conf | sed -E -e '/^ListenPort = /d' -e '/^Endpoint = /{/^Endpoint = (\[|[0-9.]+:)/!d}' | wg setconf "$hearth_probe" /dev/stdin; then hearth_ok=1; fi
if [ -n "$hearth_pid" ]; then kill "$hearth_pid" 2>/dev/null || true; wait "$hearth_pid" 2>/dev/null || true; fi
ip link del dev "$hearth_probe" 2>/dev/null || true
[ "$hearth_ok" = 1 ] || { echo "hearth: wg setconf rejected the config for wg-sites; the live one is untouched" >&2; exit 65; }
hearth_live=0
hearth_promote() {
  if ! cmp -s -- "$1" "$2" || [ "$(stat -c %a -- "$1")" != "$(stat -c %a -- "$2")" ]; then
    cp -p -- "$1" "$2.hearth-new" && mv -f -T -- "$2.hearth-new" "$2"
    hearth_live=1
    echo "hearth: wrote $2"
  fi
}
hearth_restart=0
cmp -s -- /etc/wireguard/.hearth/wg-sites.restart /etc/wireguard/.hearth/wg-sites.restart-live || hearth_restart=1
hearth_promote /etc/wireguard/.hearth/wg-sites.hearth-keys /etc/wireguard/wg-sites.hearth-keys
hearth_promote /etc/wireguard/.hearth/wg-sites.conf /etc/wireguard/wg-sites.conf
systemctl is-enabled --quiet wg-quick@wg-sites.service || systemctl enable --quiet wg-quick@wg-sites.service
if ! systemctl is-active --quiet wg-quick@wg-sites.service; then
  systemctl start wg-quick@wg-sites.service
elif [ "$hearth_restart" != 0 ]; then
  systemctl restart wg-quick@wg-sites.service
elif [ "$hearth_live" != 0 ] || [ "$hearth_keys" != 0 ]; then
  systemctl reload wg-quick@wg-sites.service
  /etc/wireguard/wg-sites.hearth-keys wg-sites
fi
wg show wg-sites public-key >/dev/null
cp -p -- /etc/wireguard/.hearth/wg-sites.restart /etc/wireguard/.hearth/wg-sites.restart-live
