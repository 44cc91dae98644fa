# hearth: postgres database app

hearth_owner=site/prod/hearth:postgres:Database/app
hearth_aliases=(site/prod/hearth:postgres:Database/old-app)
hearth_adopt=0
pg_port=5432
pg_socket=/var/run/postgresql
pg_hba_dir=/etc/hearth/postgres/5432/hba.d
pg_state=/var/lib/hearth/postgres/5432
bouncer_dir=/etc/pgbouncer
bouncer_frag=/etc/hearth/pgbouncer
hearth_lock postgres
hearth_pg_start "$pg_socket" "$pg_port" postgresql@15-main.service
hearth_private_tmp
hearth_secret_sql=$hearth_tmp
hearth_frame "$hearth_secret_sql"
hearth_private_tmp
hearth_sql=$hearth_tmp
hearth_frame "$hearth_sql"
hearth_pg_probe "$pg_socket" "$pg_port" app app
if [ "$hearth_role_new" = 0 ]; then hearth_claim 'role "app"' "$hearth_role_mark"; fi
if [ "$hearth_db_new" = 0 ]; then hearth_claim 'database "app"' "$hearth_db_mark"; fi
hearth_private_tmp
hearth_session=$hearth_tmp
hearth_ds=tank/pg/app
if [ "$(zfs get -H -o value mounted "$hearth_ds")" != yes ]; then hearth_die 1 "dataset $hearth_ds is not mounted; refusing to place tablespace hearth_app on the directory beneath it"; fi
hearth_mnt=$(zfs get -H -o value mountpoint "$hearth_ds")
hearth_dir "$hearth_mnt"
hearth_loc="$hearth_mnt/pg"
if [ ! -e "$hearth_loc" ] && [ ! -L "$hearth_loc" ]; then
  mkdir -m 0700 -- "$hearth_loc"
  hearth_step
fi
if [ ! -d "$hearth_loc" ] || [ -L "$hearth_loc" ]; then hearth_die 65 "$hearth_loc is not a directory"; fi
if [ "$(stat -c '%a %U %G' -- "$hearth_loc")" != "700 postgres postgres" ]; then
  chown postgres:postgres -- "$hearth_loc"
  chmod 0700 -- "$hearth_loc"
  hearth_step
fi
printf '%s' '-- hearth: tablespace hearth_app on the database'"'"'s dataset
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SELECT NOT EXISTS (SELECT 1 FROM pg_tablespace WHERE spcname = '"'"'hearth_app'"'"') AS hearth_new_ts \gset
\if :hearth_new_ts
CREATE TABLESPACE "hearth_app" OWNER postgres LOCATION :'"'"'hearth_ts_location'"'"';
\endif
SELECT set_config('"'"'hearth.ts_location'"'"', :'"'"'hearth_ts_location'"'"', false) \g /dev/null
DO $hearth$
DECLARE loc text;
BEGIN
  SELECT pg_tablespace_location(oid) INTO loc FROM pg_tablespace WHERE spcname = '"'"'hearth_app'"'"';
  IF loc <> current_setting('"'"'hearth.ts_location'"'"') THEN
    RAISE EXCEPTION '"'"'hearth: tablespace hearth_app is at %, not on the dataset at %; move it by hand'"'"', loc, current_setting('"'"'hearth.ts_location'"'"');
  END IF;
END
$hearth$;
COMMENT ON TABLESPACE "hearth_app" IS '"'"'hearth-owner: site/prod/hearth:postgres:Database/app'"'"';
' >>"$hearth_session"
if [ "$hearth_role_new" = 1 ]; then printf '%s' 'BEGIN; CREATE ROLE "app" NOLOGIN; COMMENT ON ROLE "app" IS '"'"'hearth-owner: site/prod/hearth:postgres:Database/app'"'"'; COMMIT;
' >>"$hearth_session"; fi
if [ "$hearth_db_new" = 1 ]; then printf '%s' '-- hearth: create database app under hearth_new_2fc4808dc439e5f0a5f99f55, mark it, rename it into place
\set ON_ERROR_STOP on
SET client_min_messages = warning;
DROP DATABASE IF EXISTS "hearth_new_2fc4808dc439e5f0a5f99f55" WITH (FORCE);
CREATE DATABASE "hearth_new_2fc4808dc439e5f0a5f99f55" OWNER "app" TABLESPACE "hearth_app";
COMMENT ON DATABASE "hearth_new_2fc4808dc439e5f0a5f99f55" IS '"'"'hearth-owner: site/prod/hearth:postgres:Database/app'"'"';
ALTER DATABASE "hearth_new_2fc4808dc439e5f0a5f99f55" RENAME TO "app";
' >>"$hearth_session"; fi
cat -- "$hearth_secret_sql" "$hearth_sql" >>"$hearth_session"
hearth_pg_converge "$pg_socket" "$pg_port" app "$hearth_session" -v "hearth_ts_location=$hearth_loc"
if [ "$hearth_role_new" = 1 ]; then hearth_say 'created role app'; fi
if [ "$hearth_db_new" = 1 ]; then hearth_say 'created database app'; fi
hearth_say 'database app and role app converged'
hearth_found=$(if [ -f /etc/hearth/postgres/5432/hba.d/app.db.conf ]; then hearth_pg_fragment_owner /etc/hearth/postgres/5432/hba.d/app.db.conf; fi)
if [ -n "$hearth_found" ]; then hearth_claim 'pg_hba fragment /etc/hearth/postgres/5432/hba.d/app.db.conf' "$hearth_found"; fi
hearth_install /etc/hearth/postgres/5432/hba.d/app.db.conf 0644 root root
hearth_pg_drop_strays "$pg_hba_dir" .conf app.db.conf
hearth_others=0
for hearth_f in "$bouncer_frag/databases.d"/*.ini; do
  if [ -f "$hearth_f" ] && [ -z "$(hearth_marked "$hearth_f")" ]; then hearth_others=$((hearth_others + 1)); fi
done
if [ "$hearth_others" -gt 0 ] && [ -f "$bouncer_dir/pgbouncer.ini" ] && ! { grep -qxF 'listen_port = 6432' "$bouncer_dir/pgbouncer.ini" && grep -qxF 'listen_addr = 127.0.0.1' "$bouncer_dir/pgbouncer.ini"; }; then
  hearth_die 1 'pgbouncer on this host already listens elsewhere for other databases; every PostgresDb pooler on a host must use port 6432 and address 127.0.0.1 alike'
fi
hearth_first=""
if [ -f "$bouncer_dir/pgbouncer.ini" ] && [ ! -L "$bouncer_dir/pgbouncer.ini" ]; then IFS= read -r hearth_first <"$bouncer_dir/pgbouncer.ini" || true; fi
if [ -f "$bouncer_dir/pgbouncer.ini" ] && [ "${hearth_first#;; hearth: }" = "$hearth_first" ] && [ ! -e "$bouncer_dir/pgbouncer.ini.hearth-orig" ]; then
  hearth_dir "$bouncer_dir"
  hearth_tmp_in "$bouncer_dir"
  hearth_orig=$hearth_tmp
  cp -p -- "$bouncer_dir/pgbouncer.ini" "$hearth_orig"
  mv -f -T -- "$hearth_orig" "$bouncer_dir/pgbouncer.ini.hearth-orig"
  hearth_step
fi
hearth_found=$(if [ -f /etc/hearth/pgbouncer/databases.d/app.db.ini ]; then hearth_pg_fragment_owner /etc/hearth/pgbouncer/databases.d/app.db.ini; fi)
if [ -n "$hearth_found" ]; then hearth_claim 'pgbouncer entry app' "$hearth_found"; fi
hearth_found=$(if [ -f /etc/hearth/pgbouncer/users.d/app.role.txt ]; then hearth_pg_fragment_owner /etc/hearth/pgbouncer/users.d/app.role.txt; fi)
if [ -n "$hearth_found" ]; then hearth_claim 'pgbouncer user app' "$hearth_found"; fi
hearth_install /etc/pgbouncer/pgbouncer.ini 0640 root postgres
hearth_install /etc/hearth/pgbouncer/databases.d/app.db.ini 0644 root root
hearth_user_dest=/etc/hearth/pgbouncer/users.d/app.role.txt
hearth_dir "${hearth_user_dest%/*}" 0700
hearth_private_tmp
hearth_user=$hearth_tmp
hearth_frame "$hearth_user"
hearth_tmp_in "${hearth_user_dest%/*}"
hearth_user_new=$hearth_tmp
{ printf '; hearth-owner: %s\n' "$hearth_owner"; cat -- "$hearth_user"; } >"$hearth_user_new"
hearth_put "$hearth_user_new" "$hearth_user_dest" 0600 root root
hearth_pg_drop_strays "$bouncer_frag/databases.d" .ini app.db.ini
hearth_pg_drop_strays "$bouncer_frag/users.d" .txt app.role.txt
if [ -f /etc/hearth/postgres/5432/hba.d/app.conf ] && hearth_mine "$(hearth_pg_fragment_owner /etc/hearth/postgres/5432/hba.d/app.conf)"; then
  hearth_remove /etc/hearth/postgres/5432/hba.d/app.conf
fi
if [ -f /etc/hearth/pgbouncer/databases.d/app.ini ] && hearth_mine "$(hearth_pg_fragment_owner /etc/hearth/pgbouncer/databases.d/app.ini)"; then
  hearth_remove /etc/hearth/pgbouncer/databases.d/app.ini
fi
if [ -f /etc/hearth/pgbouncer/users.d/app.txt ] && hearth_mine "$(hearth_pg_fragment_owner /etc/hearth/pgbouncer/users.d/app.txt)"; then
  hearth_remove /etc/hearth/pgbouncer/users.d/app.txt
fi
hearth_pg_update_hba "$pg_socket" "$pg_port" "$pg_hba_dir" "$pg_state"
hearth_bouncer_apply "$bouncer_dir" "$bouncer_frag" 1
hearth_say 'uri host port 5432 database app user app'
