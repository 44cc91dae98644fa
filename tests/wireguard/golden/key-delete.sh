# hearth: remove WireGuard keys of wg-sites
# <components/core/runtime.sh>
hearth_owner=hearth/dev/hearth:wireguard:Link/sites
hearth_aliases=()
hearth_adopt=0
hearth_lock wireguard
hearth_found=$(hearth_file_owner /etc/wireguard/wg-sites.conf '# hearth: WireGuard link sites, side rack. Managed by hearth: edits are overwritten.')
if [ -e /etc/wireguard/wg-sites.conf ] && ! hearth_mine "$hearth_found"; then
  hearth_say 'leaving the keys of wg-sites alone: the interface is owned by'" $hearth_found, not $hearth_owner"
  exit 0
fi
for hearth_f in /etc/wireguard/wg-sites.key /etc/wireguard/wg-sites.key.v* /etc/wireguard/wg-sites.key-version; do
  hearth_remove "$hearth_f"
done
