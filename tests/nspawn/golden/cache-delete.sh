# hearth: remove container cache
# <components/core/runtime.sh>
hearth_owner=hearth/home/hearth:nspawn:Container/web
hearth_aliases=(hearth/home/hearth:nspawn:Container/old-web)
hearth_adopt=0
hearth_unit=systemd-nspawn@cache.service
hearth_lock nspawn-cache
if [ ! -e /etc/systemd/nspawn/cache.nspawn ] && [ ! -L /etc/systemd/nspawn/cache.nspawn ]; then hearth_say 'container cache: /etc/systemd/nspawn/cache.nspawn is gone; nothing of it to remove'; exit 0; fi
hearth_found=$(hearth_file_owner /etc/systemd/nspawn/cache.nspawn '# hearth: container cache. Managed by hearth: edits are overwritten.')
if ! hearth_mine "$hearth_found"; then hearth_say 'container cache is not this resource'"'"'s (hearth/home/hearth:nspawn:Container/web): its /etc/systemd/nspawn/cache.nspawn is marked'" '${hearth_found:-by no hearth resource}'; leaving it alone"; exit 0; fi
hearth_template=0
if systemctl list-unit-files --quiet systemd-nspawn@.service >/dev/null 2>&1; then hearth_template=1; fi
if [ "$hearth_template" = 1 ]; then
  if systemctl is-enabled --quiet "$hearth_unit" 2>/dev/null; then systemctl disable --quiet --no-reload "$hearth_unit"; hearth_step; fi
  if ! hearth_unit_idle "$hearth_unit"; then systemctl stop "$hearth_unit"; hearth_step; fi
  hearth_unit_idle "$hearth_unit" || hearth_die 75 'container cache did not stop'
fi
hearth_remove /var/lib/hearth/nspawn/cache/etc_systemd_network_10-hearth.network
hearth_remove /var/lib/hearth/nspawn/cache/etc_hostname
hearth_remove /var/lib/hearth/nspawn/cache/root_.ssh_authorized_keys
hearth_rmdir /var/lib/hearth/nspawn/cache
hearth_forget nspawn/cache
hearth_forget nspawn-identity/cache
hearth_forget nspawn-hostkey/cache
hearth_by="nspawn-by/$(printf %s "$hearth_owner" | sha256sum | cut -c1-32)"
if [ "$(hearth_applied "$hearth_by")" = cache ]; then hearth_forget "$hearth_by"; fi
hearth_remove /etc/systemd/system/systemd-nspawn@cache.service.d/50-hearth.conf
hearth_rmdir /etc/systemd/system/systemd-nspawn@cache.service.d
if [ "$hearth_template" = 1 ]; then hearth_daemon_reload "$hearth_unit"; fi
hearth_remove /etc/systemd/nspawn/cache.nspawn
