# hearth: remove container web
# <components/core/runtime.sh>
hearth_owner=hearth/home/hearth:nspawn:Container/web
hearth_aliases=(hearth/home/hearth:nspawn:Container/old-web)
hearth_adopt=0
hearth_unit=systemd-nspawn@web.service
hearth_lock nspawn-web
if [ ! -e /etc/systemd/nspawn/web.nspawn ] && [ ! -L /etc/systemd/nspawn/web.nspawn ]; then hearth_say 'container web: /etc/systemd/nspawn/web.nspawn is gone; nothing of it to remove'; exit 0; fi
hearth_found=$(hearth_file_owner /etc/systemd/nspawn/web.nspawn '# hearth: container web. Managed by hearth: edits are overwritten.')
if ! hearth_mine "$hearth_found"; then hearth_say 'container web is not this resource'"'"'s (hearth/home/hearth:nspawn:Container/web): its /etc/systemd/nspawn/web.nspawn is marked'" '${hearth_found:-by no hearth resource}'; leaving it alone"; exit 0; fi
hearth_template=0
if systemctl list-unit-files --quiet systemd-nspawn@.service >/dev/null 2>&1; then hearth_template=1; fi
if [ "$hearth_template" = 1 ]; then
  if systemctl is-enabled --quiet "$hearth_unit" 2>/dev/null; then systemctl disable --quiet --no-reload "$hearth_unit"; hearth_step; fi
  if ! hearth_unit_idle "$hearth_unit"; then systemctl stop "$hearth_unit"; hearth_step; fi
  hearth_unit_idle "$hearth_unit" || hearth_die 75 'container web did not stop'
fi
hearth_remove /var/lib/hearth/nspawn/web/etc_systemd_network_10-hearth.network
hearth_remove /var/lib/hearth/nspawn/web/etc_hostname
hearth_remove /var/lib/hearth/nspawn/web/root_.ssh_authorized_keys
hearth_rmdir /var/lib/hearth/nspawn/web
hearth_forget nspawn/web
hearth_forget nspawn-identity/web
hearth_forget nspawn-hostkey/web
hearth_by="nspawn-by/$(printf %s "$hearth_owner" | sha256sum | cut -c1-32)"
if [ "$(hearth_applied "$hearth_by")" = web ]; then hearth_forget "$hearth_by"; fi
if [ -e /var/lib/machines/web ]; then hearth_say 'kept /var/lib/machines/web (set destroyOnDelete to remove a copied rootfs with its container)'; fi
hearth_remove /etc/systemd/system/systemd-nspawn@web.service.d/50-hearth.conf
hearth_rmdir /etc/systemd/system/systemd-nspawn@web.service.d
if [ "$hearth_template" = 1 ]; then hearth_daemon_reload "$hearth_unit"; fi
hearth_remove /etc/systemd/nspawn/web.nspawn
