-- hearth: release database app and role app
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'app' AND shobj_description(oid, 'pg_database') = 'hearth:managed') AS hearth_db_marked \gset
SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app' AND shobj_description(oid, 'pg_authid') = 'hearth:managed') AS hearth_role_marked \gset
\if :hearth_db_marked
COMMENT ON DATABASE "app" IS NULL;
\endif
\if :hearth_role_marked
COMMENT ON ROLE "app" IS NULL;
\endif
