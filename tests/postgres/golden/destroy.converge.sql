-- hearth: converge database app owned by role app
\set ON_ERROR_STOP on
SET client_min_messages = warning;
DO $hearth$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app' AND coalesce(shobj_description(oid, 'pg_authid'), '') <> 'hearth:managed') THEN
    RAISE EXCEPTION 'hearth: role "app" exists and is not managed by hearth; set adopt: true to take it over';
  END IF;
  IF EXISTS (SELECT 1 FROM pg_database WHERE datname = 'app' AND coalesce(shobj_description(oid, 'pg_database'), '') <> 'hearth:managed') THEN
    RAISE EXCEPTION 'hearth: database "app" exists and is not managed by hearth; set adopt: true to take it over';
  END IF;
END
$hearth$;
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app') AS hearth_new_role \gset
\if :hearth_new_role
CREATE ROLE "app" LOGIN;
\endif
ALTER ROLE "app" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'hearth_verifier';
COMMENT ON ROLE "app" IS 'hearth:managed';
SELECT NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'app') AS hearth_new_db \gset
\if :hearth_new_db
CREATE DATABASE "app" OWNER "app";
\endif
ALTER DATABASE "app" OWNER TO "app";
ALTER DATABASE "app" WITH CONNECTION LIMIT -1;
COMMENT ON DATABASE "app" IS 'hearth:managed';
REVOKE ALL ON DATABASE "app" FROM PUBLIC;
DO $hearth$
DECLARE r record;
BEGIN
  FOR r IN
    SELECT DISTINCT a.grantee::regrole::text AS grantee
    FROM pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) a
    WHERE d.datname = 'app' AND a.grantee <> 0 AND a.grantee <> d.datdba AND a.grantee <> ALL (SELECT oid FROM pg_roles WHERE rolname = ANY (ARRAY[]::text[]))
  LOOP
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM %s', 'app', r.grantee);
  END LOOP;
END
$hearth$;
\connect "app"
SET client_min_messages = warning;
