// PostgresDb's shell functions over the runtime, shared by its converge and delete scripts (pure text, no Pulumi).
// The component's own functions over the runtime (`$\{` in the source is bash's `${`). None writes a file itself:
// pg_hba.conf (in a directory the postgres user owns) is written as postgres with hearth_put_below; everything else
// goes through hearth_install/put/remove below root-only directories.
export const PG_HELPERS = String.raw`pg_psql() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -h "$pg_socket" -p "$pg_port" -d postgres "$@"; }
# pg_q: runs the SQL on stdin, prints unaligned tuples.
pg_q() { pg_psql -At "$@"; }
# pg_mark role|database NAME: prints the owner the object's comment names ("legacy" for the mark of earlier
# releases, nothing for none); fails when there is no such object.
pg_mark() {
  local r
  case $1 in
    role) r=$(pg_q -v "name=$2" <<<"SELECT 'x' || coalesce(shobj_description(oid, 'pg_authid'), '') FROM pg_roles WHERE rolname = :'name'") ;;
    database) r=$(pg_q -v "name=$2" <<<"SELECT 'x' || coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = :'name'") ;;
    *) hearth_die 70 "pg_mark: unknown kind $1" ;;
  esac
  [ -n "$r" ] || return 1
  r=$\{r#x}
  case $r in
    'hearth-owner: '*) printf '%s\n' "$\{r#hearth-owner: }" ;;
    hearth:managed) echo legacy ;;
    *) echo ;;
  esac
}
# pg_fragment_owner FILE: the owner a fragment names; a fragment in hearth's own directories without a line is legacy.
pg_fragment_owner() {
  local found
  found=$(hearth_file_owner "$1")
  printf '%s\n' "$\{found:-legacy}"
}
# pg_drop_strays DIR SUFFIX KEEP: removes the DIR/*SUFFIX fragments this resource marked (found by its mark, under
# any name), except DIR/KEEP: a renamed database or role leaves no access behind.
pg_drop_strays() {
  local f
  [ -d "$1" ] || return 0
  while IFS= read -r f; do
    if [ "$f" != "$1/$3" ]; then hearth_remove "$f"; fi
  done < <(hearth_marked "$1"/*"$2")
}
pg_wait() {
  for _ in $(seq 1 30); do
    if pg_q <<<'SELECT 1' >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  hearth_die 1 "cannot reach PostgreSQL on $pg_socket port $pg_port"
}
# The server reloads asynchronously; wait until a new session sees the reload so the next login uses the new rules.
pg_reload() {
  local before
  before=$(pg_q <<<'SELECT pg_conf_load_time()')
  pg_q <<<'SELECT pg_reload_conf()' >/dev/null
  hearth_step
  for _ in $(seq 1 50); do
    if [ "$(pg_q <<<'SELECT pg_conf_load_time()')" != "$before" ]; then
      hearth_say "reloaded PostgreSQL"
      return 0
    fi
    sleep 0.1
  done
  hearth_warn "PostgreSQL did not report the reload within 5s"
}
# pg_update_hba: hearth's block at the top of the server's hba_file is every fragment of this cluster; every other
# line of the file stays. The file's directory belongs to postgres: it is read and written as postgres (a link planted
# or swapped in there reaches nothing postgres could not reach itself); the text is assembled by root in a private
# temp, and the previous version is kept in root-only state for a rollback. The reload is decided from state: the
# assembled text's digest against what was last applied, and the file against the server's pg_conf_load_time.
pg_update_hba() {
  local hba dir base cur new prev want loaded mtime
  hba=$(pg_q <<<'SHOW hba_file')
  case $hba in /*/*) ;; *) hearth_die 65 "the server reports hba_file '$hba', not an absolute path" ;; esac
  dir=$\{hba%/*}
  base=$\{hba##*/}
  if [ ! -d "$dir" ] || [ -L "$dir" ] || [ "$(stat -c %U -- "$dir")" != postgres ]; then
    hearth_die 65 "refusing to write $hba: $dir is not a directory owned by postgres"
  fi
  hearth_private_tmp
  cur=$hearth_tmp
  hearth_read_below "$dir" "$base" >"$cur"
  if [ ! -s "$cur" ]; then hearth_die 65 "refusing to rebuild $hba: it is missing, empty or not a regular file"; fi
  hearth_private_tmp
  new=$hearth_tmp
  {
    hearth_concat '# BEGIN hearth: PostgresDb entries (change the components, not these lines)' "$pg_hba_dir" .conf
    echo '# END hearth'
    awk '/^# BEGIN hearth: /{skip=1; next} skip && /^# END hearth$/{skip=0; next} !skip' "$cur"
  } >"$new"
  if ! cmp -s -- "$new" "$cur"; then
    hearth_dir "$pg_state" 0700
    hearth_tmp_in "$pg_state"
    prev=$hearth_tmp
    cat -- "$cur" >"$prev"
    hearth_put "$prev" "$pg_state/pg_hba.conf.prev" 0600 root root
    hearth_put_below "$dir" "$base" 0640 <"$new"
  fi
  want=$(sha256sum <"$new" | cut -d' ' -f1)
  loaded=$(pg_q <<<'SELECT floor(extract(epoch FROM pg_conf_load_time()))::bigint')
  mtime=$(hearth_run_below "$dir" stat -c %Y -- "$hba")
  if [ "$(hearth_applied "postgres/$pg_port/hba")" != "$want" ] || [ "$mtime" -gt "$loaded" ]; then
    # pg_hba_file_rules parses the file on disk: a rule the server would reject is caught before the reload.
    if [ "$(pg_q <<<'SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL')" != 0 ]; then
      if [ -f "$pg_state/pg_hba.conf.prev" ]; then hearth_put_below "$dir" "$base" 0640 <"$pg_state/pg_hba.conf.prev"; fi
      hearth_die 1 "the new $hba has errors; the previous one was restored"
    fi
    pg_reload
    hearth_record "postgres/$pg_port/hba" "$want"
  fi
}
# bouncer_apply POOLER: when pgbouncer.ini is hearth's, reassembles pgbouncer's database list and userlist from the
# fragments and makes pgbouncer see them, decided from state: a restart (POOLER=1 only) when pgbouncer.ini differs from
# what was last applied or pgbouncer is not running, a reload when the lists do.
bouncer_apply() {
  local ini=$bouncer_dir/pgbouncer.ini first='' lists conf
  if [ -f "$ini" ] && [ ! -L "$ini" ]; then IFS= read -r first <"$ini" || true; fi
  case $first in ';; hearth: '*) ;; *) return 0 ;; esac
  hearth_assemble "$bouncer_dir/hearth-databases.ini" 0640 root postgres '[databases]' "$bouncer_frag/databases.d" .ini
  hearth_assemble "$bouncer_dir/hearth-userlist.txt" 0600 postgres postgres ';; hearth: pgbouncer users (SCRAM verifiers)' "$bouncer_frag/users.d" .txt
  lists=$(hearth_digest "$bouncer_dir/hearth-databases.ini" "$bouncer_dir/hearth-userlist.txt")
  conf=$(hearth_digest "$ini")
  if [ "$1" = 1 ] && { [ "$(hearth_applied pgbouncer/ini)" != "$conf" ] || ! systemctl is-active -q pgbouncer; }; then
    if ! systemctl is-enabled -q pgbouncer; then
      systemctl enable -q pgbouncer
      hearth_step
    fi
    systemctl restart pgbouncer
    hearth_step
    hearth_say "restarted pgbouncer"
    hearth_record pgbouncer/ini "$conf"
    hearth_record pgbouncer/lists "$lists"
  elif [ "$(hearth_applied pgbouncer/lists)" != "$lists" ]; then
    if systemctl is-active -q pgbouncer; then
      systemctl reload pgbouncer
      hearth_step
      hearth_say "reloaded pgbouncer"
    fi
    hearth_record pgbouncer/lists "$lists"
  fi
}`.replace(/\$\\\{/g, "${");
