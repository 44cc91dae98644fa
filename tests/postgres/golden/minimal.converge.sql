-- hearth: converge database app owned by role app
\set ON_ERROR_STOP on
SET client_min_messages = warning;
ALTER ROLE "app" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'hearth_verifier';
COMMENT ON ROLE "app" IS 'hearth-owner: site/prod/hearth:postgres:Database/app';
ALTER DATABASE "app" OWNER TO "app";
ALTER DATABASE "app" WITH CONNECTION LIMIT -1;
COMMENT ON DATABASE "app" IS 'hearth-owner: site/prod/hearth:postgres:Database/app';
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
    WHERE d.datname = 'app' AND a.grantee <> 0 AND a.grantee <> d.datdba AND a.grantee <> ALL (SELECT oid FROM pg_roles WHERE rolname = ANY (ARRAY[]::text[]))
  LOOP
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM %s', 'app', r.grantee);
  END LOOP;
END
$hearth$;
\connect "app"
SET client_min_messages = warning;
