# hearth: postgres database app
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
pg_port=5432
pg_socket=/var/run/postgresql
pg_hba_dir=/etc/hearth/postgres/5432/hba.d
bouncer_dir=/etc/pgbouncer
bouncer_frag=/etc/hearth/pgbouncer
cd /
hearth_work=$(mktemp -d)
trap 'rm -rf -- "$hearth_work"; if [ -n "$hearth_tmp" ]; then rm -f -- "$hearth_tmp"; fi' EXIT
hearth_psql() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -h "$pg_socket" -p "$pg_port" "$@"; }
# hearth_assemble TARGET MODE OWNER GROUP HEADER DIR SUFFIX: HEADER, then every DIR/*SUFFIX fragment (sorted), only when it changes.
hearth_assemble() {
  local target=$1 new="$1.hearth-new" f
  shopt -s nullglob
  { printf '%s\n' "$5"; for f in "$6"/*"$7"; do cat -- "$f"; done; } > "$new"
  shopt -u nullglob
  chown -- "$3:$4" "$new"
  chmod -- "$2" "$new"
  if [ -f "$target" ] && cmp -s -- "$new" "$target" && [ "$(stat -c '%a %U %G' -- "$target")" = "$(stat -c '%a %U %G' -- "$new")" ]; then
    rm -f -- "$new"
  else
    mv -f -T -- "$new" "$target"
    hearth_changed=$((hearth_changed + 1))
    echo "hearth: wrote $target"
  fi
}
# The server reloads asynchronously; wait until a new session sees the reload so the next login uses the new rules.
hearth_reload_pg() {
  local before
  before=$(hearth_psql -d postgres -At -c 'SELECT pg_conf_load_time()')
  hearth_psql -d postgres -At -c 'SELECT pg_reload_conf()' >/dev/null
  for _ in $(seq 1 50); do
    if [ "$(hearth_psql -d postgres -At -c 'SELECT pg_conf_load_time()')" != "$before" ]; then return 0; fi
    sleep 0.1
  done
  echo "hearth: PostgreSQL did not report the reload within 5s" >&2
}
# Rebuilds hearth's block at the top of pg_hba.conf from the fragments, keeping every other line of the file as it is.
hearth_update_hba() {
  local hba new
  hba=$(hearth_psql -d postgres -At -c 'SHOW hba_file')
  new="$hba.hearth-new"
  shopt -s nullglob
  {
    echo "# BEGIN hearth: PostgresDb entries (change the components, not these lines)"
    for f in "$pg_hba_dir"/*.conf; do cat -- "$f"; done
    echo "# END hearth"
    awk '/^# BEGIN hearth: /{skip=1; next} skip && /^# END hearth$/{skip=0; next} !skip' "$hba"
  } > "$new"
  shopt -u nullglob
  chown --reference="$hba" -- "$new"
  chmod --reference="$hba" -- "$new"
  if cmp -s -- "$new" "$hba"; then rm -f -- "$new"; return 0; fi
  cp -p -- "$hba" "$hba.hearth-prev"
  mv -f -T -- "$new" "$hba"
  # pg_hba_file_rules parses the file on disk: a rule the server would reject is caught before the reload.
  if [ "$(hearth_psql -d postgres -At -c 'SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL')" != 0 ]; then
    mv -f -T -- "$hba.hearth-prev" "$hba"
    echo "hearth: the new pg_hba.conf has errors; the previous one was restored" >&2
    exit 1
  fi
  echo "hearth: updated $hba"
  hearth_reload_pg
}
hearth_wait_pg() {
  for _ in $(seq 1 30); do
    if hearth_psql -d postgres -At -c 'SELECT 1' >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "hearth: cannot reach PostgreSQL on $pg_socket port $pg_port" >&2
  exit 1
}
exec 9>>/run/hearth-postgres.lock
flock 9
hearth_secret_sql="$hearth_work/secret.sql"
hearth_frame "$hearth_secret_sql"
hearth_sql="$hearth_work/converge.sql"
hearth_frame "$hearth_sql"
hearth_wait_pg
hearth_ds=tank/pg/app
if [ "$(zfs get -H -o value mounted "$hearth_ds")" != yes ]; then echo "hearth: dataset $hearth_ds is not mounted; refusing to place tablespace hearth_app on the directory beneath it" >&2; exit 1; fi
hearth_loc="$(zfs get -H -o value mountpoint "$hearth_ds")/pg"
install -d -o postgres -g postgres -m 0700 -- "$hearth_loc"
cat -- "$hearth_secret_sql" "$hearth_sql" | hearth_psql -d postgres -v "hearth_ts_location=$hearth_loc"
echo "hearth: database app and role app converged"
hearth_install /etc/hearth/postgres/5432/hba.d/app.conf 0644 root root
hearth_others=0
if [ -d "$bouncer_frag/databases.d" ]; then hearth_others=$(find "$bouncer_frag/databases.d" -name '*.ini' ! -name app.ini | wc -l); fi
if [ "$hearth_others" -gt 0 ] && [ -f "$bouncer_dir/pgbouncer.ini" ] && ! { grep -qx 'listen_port = 6432' "$bouncer_dir/pgbouncer.ini" && grep -qx 'listen_addr = 127.0.0.1' "$bouncer_dir/pgbouncer.ini"; }; then
  echo "hearth: pgbouncer on this host already listens elsewhere for other databases; every PostgresDb pooler on a host must use port 6432 and address 127.0.0.1 alike" >&2
  exit 1
fi
if [ -f "$bouncer_dir/pgbouncer.ini" ] && ! head -n 1 "$bouncer_dir/pgbouncer.ini" | grep -q '^;; hearth: ' && [ ! -e "$bouncer_dir/pgbouncer.ini.hearth-orig" ]; then
  cp -p -- "$bouncer_dir/pgbouncer.ini" "$bouncer_dir/pgbouncer.ini.hearth-orig"
fi
hearth_bouncer_before=$hearth_changed
hearth_install /etc/pgbouncer/pgbouncer.ini 0640 root postgres
hearth_ini_changed=$((hearth_changed - hearth_bouncer_before))
hearth_install /etc/hearth/pgbouncer/databases.d/app.ini 0644 root root
hearth_user="$hearth_work/user.txt"
hearth_frame "$hearth_user"
hearth_user_dest=/etc/hearth/pgbouncer/users.d/app.txt
mkdir -p -- "$(dirname -- "$hearth_user_dest")"
chmod 0700 -- "$(dirname -- "$hearth_user_dest")"
if ! cmp -s -- "$hearth_user" "$hearth_user_dest"; then
  install -m 0600 -- "$hearth_user" "$hearth_user_dest.hearth-new"
  mv -f -T -- "$hearth_user_dest.hearth-new" "$hearth_user_dest"
  hearth_changed=$((hearth_changed + 1))
fi
hearth_update_hba
hearth_assemble "$bouncer_dir/hearth-databases.ini" 0640 root postgres '[databases]' "$bouncer_frag/databases.d" .ini
hearth_assemble "$bouncer_dir/hearth-userlist.txt" 0600 postgres postgres ';; hearth: pgbouncer users (SCRAM verifiers)' "$bouncer_frag/users.d" .txt
if [ -f "$bouncer_dir/pgbouncer.ini" ] && head -n 1 "$bouncer_dir/pgbouncer.ini" | grep -q '^;; hearth: '; then
  if [ "$hearth_ini_changed" -gt 0 ] || ! systemctl is-active -q pgbouncer; then
    systemctl enable -q pgbouncer
    systemctl restart pgbouncer
    echo 'hearth: restarted pgbouncer'
  elif [ "$hearth_changed" -gt "$hearth_bouncer_before" ]; then
    systemctl reload pgbouncer
    echo 'hearth: reloaded pgbouncer'
  fi
fi
echo "hearth: uri host port 5432 database app user app"
