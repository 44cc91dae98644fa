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
# A database that lost its tablespace moves back to pg_default before its dataset can be released.
if [ "$hearth_db_new" = 0 ]; then
  printf '%s' '-- hearth: database app leaves tablespace hearth_app (no longer declared) for pg_default
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SELECT EXISTS (SELECT 1 FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = '"'"'app'"'"' AND t.spcname = '"'"'hearth_app'"'"') AS hearth_move_back \gset
\if :hearth_move_back
ALTER DATABASE "app" SET TABLESPACE pg_default;
\endif
SELECT EXISTS (SELECT 1 FROM pg_tablespace WHERE spcname = '"'"'hearth_app'"'"' AND coalesce(shobj_description(oid, '"'"'pg_tablespace'"'"'), '"'"'hearth:managed'"'"') = ANY (ARRAY['"'"'hearth-owner: site/prod/hearth:postgres:Database/app'"'"', '"'"'hearth-owner: site/prod/hearth:postgres:Database/old-app'"'"', '"'"'hearth:managed'"'"']::text[])) AS hearth_old_ts \gset
\if :hearth_old_ts
DROP TABLESPACE "hearth_app";
\endif
' >>"$hearth_session"
fi
if [ "$hearth_role_new" = 1 ]; then printf '%s' 'BEGIN; CREATE ROLE "app" NOLOGIN; COMMENT ON ROLE "app" IS '"'"'hearth-owner: site/prod/hearth:postgres:Database/app'"'"'; COMMIT;
' >>"$hearth_session"; fi
if [ "$hearth_db_new" = 1 ]; then printf '%s' '-- hearth: create database app under hearth_new_2fc4808dc439e5f0a5f99f55, mark it, rename it into place
\set ON_ERROR_STOP on
SET client_min_messages = warning;
DROP DATABASE IF EXISTS "hearth_new_2fc4808dc439e5f0a5f99f55" WITH (FORCE);
CREATE DATABASE "hearth_new_2fc4808dc439e5f0a5f99f55" OWNER "app";
COMMENT ON DATABASE "hearth_new_2fc4808dc439e5f0a5f99f55" IS '"'"'hearth-owner: site/prod/hearth:postgres:Database/app'"'"';
ALTER DATABASE "hearth_new_2fc4808dc439e5f0a5f99f55" RENAME TO "app";
' >>"$hearth_session"; fi
cat -- "$hearth_secret_sql" "$hearth_sql" >>"$hearth_session"
hearth_pg_converge "$pg_socket" "$pg_port" app "$hearth_session"
if [ "$hearth_role_new" = 1 ]; then hearth_say 'created role app'; fi
if [ "$hearth_db_new" = 1 ]; then hearth_say 'created database app'; fi
hearth_say 'database app and role app converged'
hearth_found=$(if [ -f /etc/hearth/postgres/5432/hba.d/app.db.conf ]; then hearth_pg_fragment_owner /etc/hearth/postgres/5432/hba.d/app.db.conf; fi)
if [ -n "$hearth_found" ]; then hearth_claim 'pg_hba fragment /etc/hearth/postgres/5432/hba.d/app.db.conf' "$hearth_found"; fi
hearth_install /etc/hearth/postgres/5432/hba.d/app.db.conf 0644 root root
hearth_pg_drop_strays "$pg_hba_dir" .conf app.db.conf
hearth_pg_drop_strays "$bouncer_frag/databases.d" .ini -
hearth_pg_drop_strays "$bouncer_frag/users.d" .txt -
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
hearth_bouncer_apply "$bouncer_dir" "$bouncer_frag" 0
hearth_say 'uri host port 5432 database app user app'
