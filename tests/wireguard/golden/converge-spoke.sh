# hearth: WireGuard wg-sites for link sites, side cabin
# <components/core/runtime.sh>
hearth_owner=hearth/dev/hearth:wireguard:Link/sites
hearth_aliases=()
hearth_adopt=0
for hearth_tool in wg wg-quick ip; do
  command -v "$hearth_tool" >/dev/null || hearth_die 69 "$hearth_tool is missing: install wireguard-tools and iproute2"
done
hearth_lock wireguard
hearth_dir /etc/wireguard 0700
if [ ! -f /etc/wireguard/wg-sites.key ]; then hearth_die 66 'no private key in /etc/wireguard/wg-sites.key: the key step did not run'; fi
hearth_found=$(hearth_file_owner /etc/wireguard/wg-sites.conf '# hearth: WireGuard link sites, side cabin. Managed by hearth: edits are overwritten.')
if [ -e /etc/wireguard/wg-sites.conf ] || [ -L /etc/wireguard/wg-sites.conf ]; then hearth_claim 'WireGuard interface wg-sites (/etc/wireguard/wg-sites.conf)' "$hearth_found"; fi
mapfile -t hearth_olds < <(hearth_marked /etc/wireguard/*.conf)
for hearth_old in "${hearth_olds[@]}"; do
  if [ "$hearth_old" = /etc/wireguard/wg-sites.conf ]; then continue; fi
  hearth_if=${hearth_old#/etc/wireguard/}
  hearth_if=${hearth_if%.conf}
  if ! [[ $hearth_if =~ ^[a-z][a-z0-9_-]{0,14}$ ]]; then continue; fi
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
  for hearth_f in /etc/wireguard/"$hearth_if".key /etc/wireguard/"$hearth_if".key.v* /etc/wireguard/"$hearth_if".key-version; do
    hearth_remove "$hearth_f"
  done
  hearth_rmdir /etc/wireguard/.hearth
  hearth_forget "wireguard/$hearth_if"
  hearth_remove /etc/wireguard/"$hearth_if".conf
  hearth_say "removed WireGuard interface $hearth_if"
done
hearth_dir /etc/wireguard/.hearth 0700
hearth_install /etc/wireguard/.hearth/wg-sites.conf 0600 root root
hearth_install /etc/wireguard/.hearth/wg-sites.hearth-keys 0700 root root
hearth_install /etc/wireguard/.hearth/wg-sites.restart 0600 root root
hearth_probe=hwv$$
hearth_pid=
if ip link add dev "$hearth_probe" type wireguard 2>/dev/null; then :
elif command -v wireguard-go >/dev/null; then
  WG_PROCESS_FOREGROUND=1 wireguard-go "$hearth_probe" >/dev/null 2>&1 &
  hearth_pid=$!
  for _ in $(seq 50); do [ -S "/var/run/wireguard/$hearth_probe.sock" ] && break; sleep 0.1; done
else
  hearth_die 69 "no WireGuard here: neither the kernel module nor wireguard-go"
fi
hearth_ok=0
if wg-quick strip /etc/wireguard/.hearth/wg-sites.conf | sed -E -e '/^ListenPort = /d' -e '/^Endpoint = /{/^Endpoint = (\[|[0-9.]+:)/!d}' | wg setconf "$hearth_probe" /dev/stdin >&2; then hearth_ok=1; fi
if [ -n "$hearth_pid" ]; then kill "$hearth_pid" 2>/dev/null || true; wait "$hearth_pid" 2>/dev/null || true; fi
ip link del dev "$hearth_probe" 2>/dev/null || true
[ "$hearth_ok" = 1 ] || hearth_die 65 'wg setconf rejected the config for wg-sites; the live one is untouched'
hearth_tmp_in /etc/wireguard
cat -- /etc/wireguard/.hearth/wg-sites.hearth-keys >"$hearth_tmp"
hearth_put "$hearth_tmp" /etc/wireguard/wg-sites.hearth-keys 0700 root root
hearth_tmp_in /etc/wireguard
cat -- /etc/wireguard/.hearth/wg-sites.conf >"$hearth_tmp"
hearth_put "$hearth_tmp" /etc/wireguard/wg-sites.conf 0600 root root
for hearth_f in /etc/wireguard/wg-sites.*.psk /etc/wireguard/.hearth/wg-sites.restart-live; do
  case $hearth_f in '') ;; *) hearth_remove "$hearth_f" ;; esac
done
hearth_want="$(hearth_digest /etc/wireguard/wg-sites.conf /etc/wireguard/wg-sites.hearth-keys) $(hearth_digest /etc/wireguard/.hearth/wg-sites.restart)"
hearth_was=$(hearth_applied wireguard/wg-sites)
if ! systemctl is-enabled --quiet wg-quick@wg-sites.service; then
  systemctl enable --no-reload --quiet wg-quick@wg-sites.service
  hearth_step
fi
if ! systemctl is-active --quiet wg-quick@wg-sites.service; then
  systemctl start wg-quick@wg-sites.service
  hearth_step
  hearth_say 'started wg-quick@wg-sites.service'
elif [ "${hearth_was#* }" != "${hearth_want#* }" ]; then
  systemctl restart wg-quick@wg-sites.service
  hearth_step
  hearth_say 'restarted wg-quick@wg-sites.service'
elif [ "$hearth_was" != "$hearth_want" ]; then
  systemctl reload wg-quick@wg-sites.service
  hearth_step
  /etc/wireguard/wg-sites.hearth-keys wg-sites
  hearth_step
  hearth_say 'reloaded wg-quick@wg-sites.service'
fi
hearth_drifts=$(hearth_wg_diff wg-sites /etc/wireguard/wg-sites.conf /etc/wireguard/wg-sites.key | cut -f1,2)
if [[ $'\n'$hearth_drifts == *$'\n'"drift"$'\t'"interface "* ]]; then
  systemctl restart wg-quick@wg-sites.service
  hearth_step
  hearth_say 'restarted wg-quick@wg-sites.service: the interface was down or gone'
elif [[ $'\n'$hearth_drifts == *$'\n'"drift"$'\t'* ]]; then
  systemctl reload wg-quick@wg-sites.service
  hearth_step
  /etc/wireguard/wg-sites.hearth-keys wg-sites
  hearth_step
  hearth_say 'reloaded wg-quick@wg-sites.service: its peers differed from the config'
fi
if [ "$(wg show wg-sites public-key)" != "$(wg pubkey </etc/wireguard/wg-sites.key)" ]; then
  /etc/wireguard/wg-sites.hearth-keys wg-sites
  hearth_step
fi
hearth_record wireguard/wg-sites "$hearth_want"
