# hearth: remove WireGuard wg-sites
# <components/core/runtime.sh>
hearth_owner=hearth/dev/hearth:wireguard:Link/sites
hearth_aliases=()
hearth_adopt=0
hearth_lock wireguard
hearth_found=$(hearth_file_owner /etc/wireguard/wg-sites.conf '# hearth: WireGuard link sites, side rack. Managed by hearth: edits are overwritten.')
if [ ! -e /etc/wireguard/wg-sites.conf ]; then hearth_found=$(hearth_file_owner /etc/wireguard/.hearth/wg-sites.conf '# hearth: WireGuard link sites, side rack. Managed by hearth: edits are overwritten.'); fi
if [ ! -e /etc/wireguard/wg-sites.conf ] && [ ! -e /etc/wireguard/.hearth/wg-sites.conf ]; then
  hearth_say 'WireGuard wg-sites: nothing of it is left to remove'
  exit 0
fi
if ! hearth_mine "$hearth_found"; then
  hearth_say 'leaving WireGuard wg-sites alone: it is owned by'" ${hearth_found:-no hearth resource}, not $hearth_owner"
  exit 0
fi
hearth_if=wg-sites
if systemctl is-enabled --quiet "wg-quick@$hearth_if.service" 2>/dev/null || systemctl is-active --quiet "wg-quick@$hearth_if.service"; then
  systemctl disable --now --no-reload --quiet "wg-quick@$hearth_if.service"
  hearth_step
fi
if ip link show dev "$hearth_if" >/dev/null 2>&1; then
  ip link del dev "$hearth_if"
  hearth_step
fi
for hearth_f in /etc/wireguard/"$hearth_if".*.psk /etc/wireguard/"$hearth_if".hearth-keys /etc/wireguard/.hearth/"$hearth_if".hearth-keys /etc/wireguard/.hearth/"$hearth_if".restart /etc/wireguard/.hearth/"$hearth_if".restart-live /etc/wireguard/.hearth/"$hearth_if".conf; do
  hearth_remove "$hearth_f"
done
hearth_rmdir /etc/wireguard/.hearth
hearth_forget "wireguard/$hearth_if"
hearth_remove /etc/wireguard/"$hearth_if".conf
hearth_say "removed WireGuard interface $hearth_if"
