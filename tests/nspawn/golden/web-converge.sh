# hearth: container web
# <components/core/runtime.sh>
hearth_owner=hearth/home/hearth:nspawn:Container/web
hearth_aliases=(hearth/home/hearth:nspawn:Container/old-web)
hearth_adopt=0
for hearth_tool in systemd-nspawn systemctl ssh-keygen ip setpriv; do command -v "$hearth_tool" >/dev/null || hearth_die 69 "$hearth_tool is missing (systemd-container, openssh-client, iproute2, util-linux)"; done
ip link show dev br-ct >/dev/null 2>&1 || hearth_die 68 'host interface br-ct for container web does not exist'
HEARTH_TREE_IDLE=0
hearth_root=/var/lib/machines/web hearth_unit=systemd-nspawn@web.service
hearth_lock nspawn-web
if [ -e /etc/systemd/nspawn/web.nspawn ] || [ -L /etc/systemd/nspawn/web.nspawn ]; then hearth_claim 'container web' "$(hearth_file_owner /etc/systemd/nspawn/web.nspawn '# hearth: container web. Managed by hearth: edits are overwritten.')"; fi
if [ -e /etc/systemd/system/systemd-nspawn@web.service.d/50-hearth.conf ] || [ -L /etc/systemd/system/systemd-nspawn@web.service.d/50-hearth.conf ]; then hearth_claim 'container web' "$(hearth_file_owner /etc/systemd/system/systemd-nspawn@web.service.d/50-hearth.conf '# hearth: resource limits of container web.')"; fi
hearth_new=web
for hearth_id in "$hearth_owner" "${hearth_aliases[@]}"; do
  [ -n "$hearth_id" ] || continue
  hearth_old=$(hearth_applied "nspawn-by/$(printf %s "$hearth_id" | sha256sum | cut -c1-32)")
  if [ -z "$hearth_old" ] || [ "$hearth_old" = "$hearth_new" ]; then continue; fi
  case $hearth_old in *[!a-z0-9-]*) continue ;; esac
  hearth_f=/etc/systemd/nspawn/"$hearth_old.nspawn"
  if [ -e "$hearth_f" ] && ! hearth_mine "$(hearth_file_owner "$hearth_f")"; then continue; fi
  hearth_say "retiring container $hearth_old (the machine of this resource is now $hearth_new); its tree is kept"
  hearth_old_unit="systemd-nspawn@$hearth_old.service"
  if systemctl is-enabled --quiet "$hearth_old_unit" 2>/dev/null; then systemctl disable --quiet --no-reload "$hearth_old_unit"; hearth_step; fi
  if ! hearth_unit_idle "$hearth_old_unit"; then systemctl stop "$hearth_old_unit"; hearth_step; fi
  hearth_unit_idle "$hearth_old_unit" || hearth_die 75 "container $hearth_old did not stop"
  for hearth_s in /var/lib/hearth/nspawn/"$hearth_old"/*; do if [ -f "$hearth_s" ] || [ -L "$hearth_s" ]; then hearth_remove "$hearth_s"; fi; done
  hearth_rmdir /var/lib/hearth/nspawn/"$hearth_old"
  hearth_forget "nspawn/$hearth_old"
  hearth_forget "nspawn-identity/$hearth_old"
  hearth_forget "nspawn-hostkey/$hearth_old"
  hearth_remove "/etc/systemd/system/systemd-nspawn@$hearth_old.service.d/50-hearth.conf"
  hearth_rmdir "/etc/systemd/system/systemd-nspawn@$hearth_old.service.d"
  hearth_daemon_reload "$hearth_old_unit"
  hearth_remove "$hearth_f"
done
hearth_install /etc/systemd/nspawn/web.nspawn 0644 root root
hearth_install /etc/systemd/system/systemd-nspawn@web.service.d/50-hearth.conf 0644 root root
hearth_install /var/lib/hearth/nspawn/web/etc_systemd_network_10-hearth.network 0600 root root
hearth_install /var/lib/hearth/nspawn/web/etc_hostname 0600 root root
hearth_install /var/lib/hearth/nspawn/web/root_.ssh_authorized_keys 0600 root root
hearth_dir /var/lib/machines 0700
if [ ! -e "$hearth_root" ] && [ ! -L "$hearth_root" ]; then
  [ -d /var/lib/machines/.base-bookworm/usr ] || hearth_die 66 'base tree /var/lib/machines/.base-bookworm has no /usr'
  if [ -e /var/lib/machines/.hearth-new-web ] || [ -L /var/lib/machines/.hearth-new-web ]; then rm -rf --one-file-system -- /var/lib/machines/.hearth-new-web; hearth_step; fi
  cp -a --reflink=auto -- /var/lib/machines/.base-bookworm /var/lib/machines/.hearth-new-web
  hearth_step
  mv -T -- /var/lib/machines/.hearth-new-web "$hearth_root"
  hearth_step
  hearth_say 'copied /var/lib/machines/.base-bookworm to /var/lib/machines/web'
fi
if [ ! -d "$hearth_root" ] || [ -L "$hearth_root" ]; then hearth_die 66 '/var/lib/machines/web is not a directory: the rootfs is missing'; fi
hearth_token=$(hearth_applied nspawn-identity/web)
if [ -z "$hearth_token" ]; then hearth_token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n'); hearth_record nspawn-identity/web "$hearth_token"; fi
hearth_want=$(hearth_digest /etc/systemd/nspawn/web.nspawn /etc/systemd/system/systemd-nspawn@web.service.d/50-hearth.conf /var/lib/hearth/nspawn/web/etc_systemd_network_10-hearth.network /var/lib/hearth/nspawn/web/etc_hostname /var/lib/hearth/nspawn/web/root_.ssh_authorized_keys)
cd -P -- "$hearth_root"
hearth_apply=0
if [ "$(hearth_applied nspawn/web)" != "$hearth_want" ] || [ -z "$(hearth_applied nspawn-hostkey/web)" ]; then
  hearth_apply=1
elif hearth_unit_idle "$hearth_unit"; then
  HEARTH_TREE_IDLE=1
  hearth_mark=$(hearth_read_below . etc/.hearth-container) || hearth_mark=
  [ "$hearth_mark" = web" $hearth_token" ] || hearth_apply=1
  hearth_below_holds . etc/systemd/network/10-hearth.network 0644 /var/lib/hearth/nspawn/web/etc_systemd_network_10-hearth.network || hearth_apply=1
  hearth_below_holds . etc/hostname 0644 /var/lib/hearth/nspawn/web/etc_hostname || hearth_apply=1
  hearth_below_holds . root/.ssh/authorized_keys 0600 /var/lib/hearth/nspawn/web/root_.ssh_authorized_keys || hearth_apply=1
  HEARTH_TREE_IDLE=0
elif [ "$(stat -c %u -- "$hearth_root")" != 0 ]; then
  hearth_mark=$(hearth_read_below . etc/.hearth-container) || hearth_mark=
  [ "$hearth_mark" = web" $hearth_token" ] || hearth_apply=1
  hearth_below_holds . etc/systemd/network/10-hearth.network 0644 /var/lib/hearth/nspawn/web/etc_systemd_network_10-hearth.network || hearth_apply=1
  hearth_below_holds . etc/hostname 0644 /var/lib/hearth/nspawn/web/etc_hostname || hearth_apply=1
  hearth_below_holds . root/.ssh/authorized_keys 0600 /var/lib/hearth/nspawn/web/root_.ssh_authorized_keys || hearth_apply=1
fi
if [ "$hearth_apply" = 1 ]; then
  if ! hearth_unit_idle "$hearth_unit"; then systemctl stop "$hearth_unit"; hearth_step; fi
  hearth_unit_idle "$hearth_unit" || hearth_die 75 'container web did not stop'
  HEARTH_TREE_IDLE=1
  hearth_run_below . test -d usr || hearth_die 66 '/var/lib/machines/web is not an OS tree (no /usr)'
  hearth_mark=$(hearth_read_below . etc/.hearth-container) || hearth_mark=
  if [ "$hearth_mark" != web" $hearth_token" ] && [ "$hearth_mark" != web ]; then
    hearth_put_below . etc/machine-id 0444 </dev/null
    hearth_run_below . bash --noprofile --norc -c 'rm -f -- etc/ssh/ssh_host_*'
    hearth_step
    hearth_private_tmpdir
    hearth_keys=$hearth_tmp
    mkdir -p -- "$hearth_keys/etc/ssh"
    ssh-keygen -q -A -f "$hearth_keys"
    for hearth_k in "$hearth_keys"/etc/ssh/ssh_host_*; do
      case $hearth_k in *.pub) hearth_kmode=0644 ;; *) hearth_kmode=0600 ;; esac
      hearth_put_below . "etc/ssh/${hearth_k##*/}" "$hearth_kmode" <"$hearth_k"
    done
  fi
  hearth_put_below . etc/systemd/network/10-hearth.network 0644 0755 </var/lib/hearth/nspawn/web/etc_systemd_network_10-hearth.network
  hearth_put_below . etc/hostname 0644 0755 </var/lib/hearth/nspawn/web/etc_hostname
  hearth_put_below . root/.ssh/authorized_keys 0600 0700 </var/lib/hearth/nspawn/web/root_.ssh_authorized_keys
  hearth_put_below . etc/.hearth-container 0644 <<<web" $hearth_token"
  hearth_hostkey=$(hearth_read_below . etc/ssh/ssh_host_ed25519_key.pub) || hearth_hostkey=
  if ! [[ $hearth_hostkey =~ ^(ssh-ed25519\ [A-Za-z0-9+/]+=*)(\ .*)?$ ]]; then hearth_die 65 '/var/lib/machines/web/etc/ssh/ssh_host_ed25519_key.pub is not an ed25519 public key'; fi
  hearth_record nspawn-hostkey/web "${BASH_REMATCH[1]}"
  HEARTH_TREE_IDLE=0
fi
cd /
hearth_daemon_reload --dropin /etc/systemd/system/systemd-nspawn@web.service.d/50-hearth.conf "$hearth_unit"
if ! systemctl is-enabled --quiet "$hearth_unit"; then systemctl enable --quiet --no-reload "$hearth_unit"; hearth_step; fi
if ! systemctl is-enabled --quiet machines.target; then systemctl enable --quiet --no-reload machines.target; hearth_step; fi
if ! systemctl is-active --quiet "$hearth_unit"; then
  hearth_t0=$(date +%s%N)
  systemctl start "$hearth_unit" || { hearth_warn 'container web failed to start'; journalctl -u "$hearth_unit" -n 40 --no-pager >&2 || true; exit 75; }
  hearth_step
  hearth_state=
  for _ in $(seq 1800); do
    hearth_state=$(timeout 90 systemctl -M web is-system-running --wait 2>/dev/null || true)
    [ -n "$hearth_state" ] && break
    sleep 0.05
  done
  hearth_ms=$(( ($(date +%s%N) - hearth_t0) / 1000000 ))
  case $hearth_state in
    running) hearth_say 'container web'" running $hearth_ms ms after systemctl start" ;;
    degraded) hearth_warn 'container web'" up but degraded $hearth_ms ms after start: $(systemctl -M web --failed --no-legend --plain 2>/dev/null | cut -d' ' -f1 | tr '\n' ' ')" ;;
    *) hearth_warn 'container web'" did not reach running (state: $hearth_state)"; journalctl -u "$hearth_unit" -n 30 --no-pager >&2 || true; exit 75 ;;
  esac
fi
if [ "$hearth_apply" = 1 ]; then hearth_record nspawn/web "$hearth_want"; fi
hearth_record "nspawn-by/$(printf %s "$hearth_owner" | sha256sum | cut -c1-32)" web
printf 'hearth-nspawn-hostkey: %s\n' "$(hearth_applied nspawn-hostkey/web)"
