-- hearth: converge database app owned by role app
\set ON_ERROR_STOP on
SET client_min_messages = warning;
ALTER ROLE "app" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'hearth_verifier';
COMMENT ON ROLE "app" IS 'hearth-owner: site/prod/hearth:postgres:Database/app';
ALTER DATABASE "app" OWNER TO "app";
ALTER DATABASE "app" WITH CONNECTION LIMIT 50;
COMMENT ON DATABASE "app" IS 'hearth-owner: site/prod/hearth:postgres:Database/app';
SELECT t.spcname <> 'hearth_app' AS hearth_move_db FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = 'app' \gset
\if :hearth_move_db
ALTER DATABASE "app" SET TABLESPACE "hearth_app";
\endif
DO $hearth$
DECLARE r record;
BEGIN
  FOR r IN
    SELECT datname FROM pg_database WHERE datname <> 'app' AND datname NOT LIKE 'hearth\_new\_%' ESCAPE '\'
      AND shobj_description(oid, 'pg_database') = ANY (ARRAY['hearth-owner: site/prod/hearth:postgres:Database/app', 'hearth-owner: site/prod/hearth:postgres:Database/old-app']::text[])
  LOOP
    EXECUTE format('COMMENT ON DATABASE %I IS NULL', r.datname);
    RAISE WARNING 'hearth: database % is no longer declared by this resource (renamed); it was kept, with its data, and released', r.datname;
  END LOOP;
  FOR r IN
    SELECT rolname FROM pg_roles WHERE rolname <> 'app' AND shobj_description(oid, 'pg_authid') = ANY (ARRAY['hearth-owner: site/prod/hearth:postgres:Database/app', 'hearth-owner: site/prod/hearth:postgres:Database/old-app']::text[])
  LOOP
    EXECUTE format('ALTER ROLE %I NOLOGIN', r.rolname);
    EXECUTE format('COMMENT ON ROLE %I IS NULL', r.rolname);
    RAISE WARNING 'hearth: role % is no longer declared by this resource (renamed); it may no longer log in and was released', r.rolname;
  END LOOP;
END
$hearth$;
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
SET search_path = public;
CREATE EXTENSION IF NOT EXISTS "pgcrypto";
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
SET search_path = pg_catalog, pg_temp;
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
