-- hearth: release database app and role app
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'app' AND shobj_description(oid, 'pg_database') = ANY (ARRAY['hearth-owner: site/prod/hearth:postgres:Database/app', 'hearth-owner: site/prod/hearth:postgres:Database/old-app', 'hearth:managed']::text[])) AS hearth_db_marked \gset
SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app' AND shobj_description(oid, 'pg_authid') = ANY (ARRAY['hearth-owner: site/prod/hearth:postgres:Database/app', 'hearth-owner: site/prod/hearth:postgres:Database/old-app', 'hearth:managed']::text[])) AS hearth_role_marked \gset
\if :hearth_db_marked
COMMENT ON DATABASE "app" IS NULL;
\endif
\if :hearth_role_marked
COMMENT ON ROLE "app" IS NULL;
\endif
