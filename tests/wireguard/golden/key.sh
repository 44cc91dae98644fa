# hearth: WireGuard key for wg-sites
# <components/core/runtime.sh>
hearth_owner=hearth/dev/hearth:wireguard:Link/sites
hearth_aliases=()
hearth_adopt=0
for hearth_tool in wg wg-quick ip; do
  command -v "$hearth_tool" >/dev/null || hearth_die 69 "$hearth_tool is missing: install wireguard-tools and iproute2"
done
hearth_lock wireguard
hearth_dir /etc/wireguard 0700
hearth_found=$(hearth_file_owner /etc/wireguard/wg-sites.conf '# hearth: WireGuard link sites, side rack. Managed by hearth: edits are overwritten.')
if [ -e /etc/wireguard/wg-sites.conf ] || [ -L /etc/wireguard/wg-sites.conf ]; then hearth_claim 'WireGuard interface wg-sites (/etc/wireguard/wg-sites.conf)' "$hearth_found"; fi
hearth_key=/etc/wireguard/wg-sites.key
hearth_vkey=/etc/wireguard/wg-sites.key.v3
hearth_want=3
if [ ! -e "$hearth_vkey" ] && [ -f "$hearth_key" ] && [ ! -L "$hearth_key" ] && [ "$(cat -- "$hearth_key-version" 2>/dev/null || true)" = "$hearth_want" ]; then
  mv -f -T -- "$hearth_key" "$hearth_vkey"
  hearth_step
  hearth_say "kept the private key (version $hearth_want) an earlier release generated"
fi
if [ ! -e "$hearth_vkey" ]; then
  hearth_tmp_in /etc/wireguard
  wg genkey >"$hearth_tmp"
  hearth_put "$hearth_tmp" "$hearth_vkey" 0600 root root
  hearth_say "generated a private key (version $hearth_want) in $hearth_vkey"
fi
if [ ! -f "$hearth_vkey" ] || [ -L "$hearth_vkey" ] || [ "$(stat -c '%a %U' -- "$hearth_vkey")" != "600 root" ]; then
  hearth_die 65 "$hearth_vkey is not a root-owned 0600 file; move it away"
fi
if ! [ -L "$hearth_key" ] || [ "$(readlink -- "$hearth_key")" != wg-sites.key.v3 ]; then
  hearth_tmp_in /etc/wireguard
  ln -sfn -- wg-sites.key.v3 "$hearth_tmp"
  mv -f -T -- "$hearth_tmp" "$hearth_key"
  hearth_step
fi
hearth_pub=$(wg pubkey <"$hearth_key")
if ip link show dev wg-sites >/dev/null 2>&1 && [ "$(wg show wg-sites public-key 2>/dev/null || true)" != "$hearth_pub" ]; then
  wg set wg-sites private-key "$hearth_key"
  hearth_step
fi
for hearth_f in /etc/wireguard/wg-sites.key.v* /etc/wireguard/wg-sites.key-version; do
  if [ "$hearth_f" != "$hearth_vkey" ]; then hearth_remove "$hearth_f"; fi
done
printf 'hearth-wg-public-key: %s\n' "$hearth_pub"
