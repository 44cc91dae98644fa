# hearth: postgres database app (delete)

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
hearth_pg_wait "$pg_socket" "$pg_port"
if [ -f /etc/hearth/postgres/5432/hba.d/app.db.conf ]; then
  hearth_found=$(hearth_pg_fragment_owner /etc/hearth/postgres/5432/hba.d/app.db.conf)
  if hearth_mine "$hearth_found"; then
    hearth_remove /etc/hearth/postgres/5432/hba.d/app.db.conf
  else
    hearth_say 'leaving /etc/hearth/postgres/5432/hba.d/app.db.conf: it is owned by '"$hearth_found"
  fi
fi
if [ -f /etc/hearth/pgbouncer/databases.d/app.db.ini ]; then
  hearth_found=$(hearth_pg_fragment_owner /etc/hearth/pgbouncer/databases.d/app.db.ini)
  if hearth_mine "$hearth_found"; then
    hearth_remove /etc/hearth/pgbouncer/databases.d/app.db.ini
  else
    hearth_say 'leaving /etc/hearth/pgbouncer/databases.d/app.db.ini: it is owned by '"$hearth_found"
  fi
fi
if [ -f /etc/hearth/pgbouncer/users.d/app.role.txt ]; then
  hearth_found=$(hearth_pg_fragment_owner /etc/hearth/pgbouncer/users.d/app.role.txt)
  if hearth_mine "$hearth_found"; then
    hearth_remove /etc/hearth/pgbouncer/users.d/app.role.txt
  else
    hearth_say 'leaving /etc/hearth/pgbouncer/users.d/app.role.txt: it is owned by '"$hearth_found"
  fi
fi
if [ -f /etc/hearth/postgres/5432/hba.d/app.conf ]; then
  hearth_found=$(hearth_pg_fragment_owner /etc/hearth/postgres/5432/hba.d/app.conf)
  if hearth_mine "$hearth_found"; then
    hearth_remove /etc/hearth/postgres/5432/hba.d/app.conf
  else
    hearth_say 'leaving /etc/hearth/postgres/5432/hba.d/app.conf: it is owned by '"$hearth_found"
  fi
fi
if [ -f /etc/hearth/pgbouncer/databases.d/app.ini ]; then
  hearth_found=$(hearth_pg_fragment_owner /etc/hearth/pgbouncer/databases.d/app.ini)
  if hearth_mine "$hearth_found"; then
    hearth_remove /etc/hearth/pgbouncer/databases.d/app.ini
  else
    hearth_say 'leaving /etc/hearth/pgbouncer/databases.d/app.ini: it is owned by '"$hearth_found"
  fi
fi
if [ -f /etc/hearth/pgbouncer/users.d/app.txt ]; then
  hearth_found=$(hearth_pg_fragment_owner /etc/hearth/pgbouncer/users.d/app.txt)
  if hearth_mine "$hearth_found"; then
    hearth_remove /etc/hearth/pgbouncer/users.d/app.txt
  else
    hearth_say 'leaving /etc/hearth/pgbouncer/users.d/app.txt: it is owned by '"$hearth_found"
  fi
fi
hearth_pg_drop_strays "$pg_hba_dir" .conf -
hearth_pg_drop_strays "$bouncer_frag/databases.d" .ini -
hearth_pg_drop_strays "$bouncer_frag/users.d" .txt -
hearth_pg_update_hba "$pg_socket" "$pg_port" "$pg_hba_dir" "$pg_state"
hearth_bouncer_apply "$bouncer_dir" "$bouncer_frag" 0
hearth_pg_probe "$pg_socket" "$pg_port" app app
if [ "$hearth_db_new" = 0 ] && ! hearth_mine "$hearth_db_mark"; then
  hearth_say 'database app is not this resource'"'"'s (mark: '"${hearth_db_mark:-none}); the delete leaves it alone"
fi
if [ "$hearth_role_new" = 0 ] && ! hearth_mine "$hearth_role_mark"; then
  hearth_say 'role app is not this resource'"'"'s (mark: '"${hearth_role_mark:-none}); the delete leaves it alone"
fi
printf '%s' '-- hearth: release database app and role app
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = '"'"'app'"'"' AND shobj_description(oid, '"'"'pg_database'"'"') = ANY (ARRAY['"'"'hearth-owner: site/prod/hearth:postgres:Database/app'"'"', '"'"'hearth-owner: site/prod/hearth:postgres:Database/old-app'"'"', '"'"'hearth:managed'"'"']::text[])) AS hearth_db_marked \gset
SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '"'"'app'"'"' AND shobj_description(oid, '"'"'pg_authid'"'"') = ANY (ARRAY['"'"'hearth-owner: site/prod/hearth:postgres:Database/app'"'"', '"'"'hearth-owner: site/prod/hearth:postgres:Database/old-app'"'"', '"'"'hearth:managed'"'"']::text[])) AS hearth_role_marked \gset
\if :hearth_db_marked
COMMENT ON DATABASE "app" IS NULL;
\endif
\if :hearth_role_marked
COMMENT ON ROLE "app" IS NULL;
\endif
SELECT EXISTS (SELECT 1 FROM pg_tablespace WHERE spcname = '"'"'hearth_app'"'"' AND shobj_description(oid, '"'"'pg_tablespace'"'"') = ANY (ARRAY['"'"'hearth-owner: site/prod/hearth:postgres:Database/app'"'"', '"'"'hearth-owner: site/prod/hearth:postgres:Database/old-app'"'"', '"'"'hearth:managed'"'"']::text[])) AS hearth_ts_marked \gset
\if :hearth_ts_marked
COMMENT ON TABLESPACE "hearth_app" IS NULL;
\endif
' | hearth_pg_psql "$pg_socket" "$pg_port"
hearth_step
hearth_say 'kept database app and role app; no longer managed by hearth'
