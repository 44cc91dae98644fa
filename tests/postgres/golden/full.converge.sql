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
SELECT NOT EXISTS (SELECT 1 FROM pg_tablespace WHERE spcname = 'hearth_app') AS hearth_new_ts \gset
\if :hearth_new_ts
CREATE TABLESPACE "hearth_app" OWNER postgres LOCATION :'hearth_ts_location';
\endif
SELECT set_config('hearth.ts_location', :'hearth_ts_location', false) \g /dev/null
DO $hearth$
DECLARE loc text;
BEGIN
  SELECT pg_tablespace_location(oid) INTO loc FROM pg_tablespace WHERE spcname = 'hearth_app';
  IF loc <> current_setting('hearth.ts_location') THEN
    RAISE EXCEPTION 'hearth: tablespace hearth_app is at %, not on the dataset at %; move it by hand', loc, current_setting('hearth.ts_location');
  END IF;
END
$hearth$;
SELECT NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'app') AS hearth_new_db \gset
\if :hearth_new_db
CREATE DATABASE "app" OWNER "app" TABLESPACE "hearth_app";
\endif
ALTER DATABASE "app" OWNER TO "app";
ALTER DATABASE "app" WITH CONNECTION LIMIT 50;
COMMENT ON DATABASE "app" IS 'hearth:managed';
SELECT t.spcname <> 'hearth_app' AS hearth_move_db FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = 'app' \gset
\if :hearth_move_db
ALTER DATABASE "app" SET TABLESPACE "hearth_app";
\endif
REVOKE ALL ON DATABASE "app" FROM PUBLIC;
DO $hearth$
DECLARE r record;
BEGIN
  FOR r IN
    SELECT DISTINCT a.grantee::regrole::text AS grantee
    FROM pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) a
    WHERE d.datname = 'app' AND a.grantee <> 0 AND a.grantee <> d.datdba AND a.grantee <> ALL (SELECT oid FROM pg_roles WHERE rolname = ANY (ARRAY['reporting']::text[]))
  LOOP
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM %s', 'app', r.grantee);
  END LOOP;
END
$hearth$;
GRANT CONNECT ON DATABASE "app" TO "reporting";
\connect "app"
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS "pgcrypto";
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
CREATE SCHEMA IF NOT EXISTS "app" AUTHORIZATION "app";
CREATE SCHEMA IF NOT EXISTS "audit" AUTHORIZATION "app";
DO $hearth$
DECLARE r record;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reporting') THEN
    RAISE EXCEPTION 'hearth: role "reporting" named in grants does not exist';
  END IF;
  FOR r IN
    SELECT DISTINCT n.nspname AS schema, a.grantee::regrole::text AS grantee
    FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a
    WHERE n.nspname = ANY (ARRAY['app', 'audit']::text[]) AND a.grantee <> 0 AND a.grantee <> n.nspowner AND a.grantee <> 'app'::regrole
  LOOP
    EXECUTE format('REVOKE ALL ON SCHEMA %I FROM %s', r.schema, r.grantee);
  END LOOP;
  FOR r IN
    SELECT DISTINCT n.nspname AS schema, a.grantee::regrole::text AS grantee
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN LATERAL aclexplode(c.relacl) a
    WHERE n.nspname = ANY (ARRAY['app', 'audit']::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.grantee <> 0 AND a.grantee <> c.relowner AND a.grantee <> 'app'::regrole
  LOOP
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %s', r.schema, r.grantee);
  END LOOP;
  FOR r IN
    SELECT DISTINCT n.nspname AS schema, a.grantee::regrole::text AS grantee
    FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace CROSS JOIN LATERAL aclexplode(d.defaclacl) a
    WHERE n.nspname = ANY (ARRAY['app', 'audit']::text[]) AND d.defaclrole = 'app'::regrole AND d.defaclobjtype = 'r' AND a.grantee <> 'app'::regrole
  LOOP
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I REVOKE ALL ON TABLES FROM %s', 'app', r.schema, r.grantee);
  END LOOP;
  GRANT USAGE ON SCHEMA "app" TO "reporting";
  GRANT SELECT ON ALL TABLES IN SCHEMA "app" TO "reporting";
  ALTER DEFAULT PRIVILEGES FOR ROLE "app" IN SCHEMA "app" GRANT SELECT ON TABLES TO "reporting";
END
$hearth$;
