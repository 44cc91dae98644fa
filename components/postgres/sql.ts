// PostgresDb SQL: identifier and literal quoting, and the psql scripts that converge and delete a database (pure).

/** Role, database and schema names hearth accepts: lowercase, so the quoted and unquoted forms name the same thing. */
export const SQL_IDENT = /^[a-z_][a-z0-9_]{0,62}$/;
/** Extension names (`uuid-ossp` has a dash). */
export const EXTENSION_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
/** The comment that marks a role or database as hearth's: hearth only alters, unmarks or drops what carries it. */
export const MANAGED_COMMENT = "hearth:managed";

export const SCHEMA_PRIVILEGES = ["USAGE", "CREATE"] as const;
export const TABLE_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"] as const;
export type SchemaPrivilege = (typeof SCHEMA_PRIVILEGES)[number];
export type TablePrivilege = (typeof TABLE_PRIVILEGES)[number];

export interface ResolvedGrant {
    readonly role: string;
    readonly schema: string;
    readonly privileges: readonly SchemaPrivilege[];
    readonly tables: readonly TablePrivilege[];
}

export interface DbSpec {
    readonly database: string;
    readonly user: string;
    readonly extensions: readonly string[];
    /** Schemas created in the database, owned by `user`. */
    readonly schemas: readonly string[];
    readonly grants: readonly ResolvedGrant[];
    /** Tablespace on the database's own dataset; its location arrives as psql variable `hearth_ts_location`. */
    readonly tablespace?: string;
    /** -1 = no limit. */
    readonly connectionLimit: number;
    readonly adopt: boolean;
}

/** A double-quoted SQL identifier. Names are validated first; quoting still makes keywords and case harmless. */
export function quoteIdent(name: string): string {
    if (name.includes("\0")) throw new Error("identifier contains NUL");
    return `"${name.replace(/"/g, '""')}"`;
}

/** A standard-conforming SQL string literal; backslashes and NUL are refused rather than escaped. */
export function quoteLiteral(value: string): string {
    if (/[\0\\]/.test(value)) throw new Error("SQL literal contains NUL or a backslash");
    return `'${value.replace(/'/g, "''")}'`;
}

/** Every schema whose privileges this database declares: its own schemas and any schema named in a grant. */
export function managedSchemas(spec: DbSpec): string[] {
    return [...new Set([...spec.schemas, ...spec.grants.map((g) => g.schema)])].sort();
}

function array(values: readonly string[]): string {
    return values.length ? `ARRAY[${values.map(quoteLiteral).join(", ")}]::text[]` : "ARRAY[]::text[]";
}

/** Refuses a role or database that exists without hearth's mark, unless the user chose to adopt it. */
function ownershipCheck(spec: DbSpec): string[] {
    if (spec.adopt) return [];
    const role = quoteLiteral(spec.user);
    const db = quoteLiteral(spec.database);
    return [
        "DO $hearth$",
        "BEGIN",
        `  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${role} AND coalesce(shobj_description(oid, 'pg_authid'), '') <> ${quoteLiteral(MANAGED_COMMENT)}) THEN`,
        `    RAISE EXCEPTION ${quoteLiteral(`hearth: role "${spec.user}" exists and is not managed by hearth; set adopt: true to take it over`)};`,
        "  END IF;",
        `  IF EXISTS (SELECT 1 FROM pg_database WHERE datname = ${db} AND coalesce(shobj_description(oid, 'pg_database'), '') <> ${quoteLiteral(MANAGED_COMMENT)}) THEN`,
        `    RAISE EXCEPTION ${quoteLiteral(`hearth: database "${spec.database}" exists and is not managed by hearth; set adopt: true to take it over`)};`,
        "  END IF;",
        "END",
        "$hearth$;",
    ];
}

/** Creates the tablespace on the dataset (psql variable `hearth_ts_location`) and refuses one found elsewhere. */
function tablespaceSql(ts: string): string[] {
    const name = quoteLiteral(ts);
    return [
        `SELECT NOT EXISTS (SELECT 1 FROM pg_tablespace WHERE spcname = ${name}) AS hearth_new_ts \\gset`,
        "\\if :hearth_new_ts",
        `CREATE TABLESPACE ${quoteIdent(ts)} OWNER postgres LOCATION :'hearth_ts_location';`,
        "\\endif",
        // psql variables do not reach into DO bodies; a session setting carries the expected location there.
        "SELECT set_config('hearth.ts_location', :'hearth_ts_location', false) \\g /dev/null",
        "DO $hearth$",
        "DECLARE loc text;",
        "BEGIN",
        `  SELECT pg_tablespace_location(oid) INTO loc FROM pg_tablespace WHERE spcname = ${name};`,
        "  IF loc <> current_setting('hearth.ts_location') THEN",
        `    RAISE EXCEPTION 'hearth: tablespace ${ts} is at %, not on the dataset at %; move it by hand', loc, current_setting('hearth.ts_location');`,
        "  END IF;",
        "END",
        "$hearth$;",
    ];
}

/** Moves an existing database onto its tablespace: a copy, then removal of the old files; it needs no open connections. */
function moveToTablespaceSql(spec: DbSpec, ts: string): string[] {
    return [
        `SELECT t.spcname <> ${quoteLiteral(ts)} AS hearth_move_db FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = ${quoteLiteral(spec.database)} \\gset`,
        "\\if :hearth_move_db",
        `ALTER DATABASE ${quoteIdent(spec.database)} SET TABLESPACE ${quoteIdent(ts)};`,
        "\\endif",
    ];
}

/** Grants inside the database, as one transaction: every managed schema's ACLs are reset to exactly what is declared. */
function grantsSql(spec: DbSpec): string[] {
    const schemas = managedSchemas(spec);
    if (schemas.length === 0) return [];
    const owner = quoteLiteral(spec.user);
    const lines = [
        "DO $hearth$",
        "DECLARE r record;",
        "BEGIN",
    ];
    for (const role of [...new Set(spec.grants.map((g) => g.role))].sort()) {
        lines.push(
            `  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${quoteLiteral(role)}) THEN`,
            `    RAISE EXCEPTION ${quoteLiteral(`hearth: role "${role}" named in grants does not exist`)};`,
            "  END IF;",
        );
    }
    lines.push(
        "  FOR r IN",
        "    SELECT DISTINCT n.nspname AS schema, a.grantee::regrole::text AS grantee",
        "    FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a",
        `    WHERE n.nspname = ANY (${array(schemas)}) AND a.grantee <> 0 AND a.grantee <> n.nspowner AND a.grantee <> ${owner}::regrole`,
        "  LOOP",
        "    EXECUTE format('REVOKE ALL ON SCHEMA %I FROM %s', r.schema, r.grantee);",
        "  END LOOP;",
        "  FOR r IN",
        "    SELECT DISTINCT n.nspname AS schema, a.grantee::regrole::text AS grantee",
        "    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN LATERAL aclexplode(c.relacl) a",
        `    WHERE n.nspname = ANY (${array(schemas)}) AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.grantee <> 0 AND a.grantee <> c.relowner AND a.grantee <> ${owner}::regrole`,
        "  LOOP",
        "    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %s', r.schema, r.grantee);",
        "  END LOOP;",
        "  FOR r IN",
        "    SELECT DISTINCT n.nspname AS schema, a.grantee::regrole::text AS grantee",
        "    FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace CROSS JOIN LATERAL aclexplode(d.defaclacl) a",
        `    WHERE n.nspname = ANY (${array(schemas)}) AND d.defaclrole = ${owner}::regrole AND d.defaclobjtype = 'r' AND a.grantee <> ${owner}::regrole`,
        "  LOOP",
        `    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I REVOKE ALL ON TABLES FROM %s', ${owner}, r.schema, r.grantee);`,
        "  END LOOP;",
    );
    for (const g of spec.grants) {
        const s = quoteIdent(g.schema);
        const to = quoteIdent(g.role);
        if (g.privileges.length) lines.push(`  GRANT ${g.privileges.join(", ")} ON SCHEMA ${s} TO ${to};`);
        if (g.tables.length) {
            lines.push(
                `  GRANT ${g.tables.join(", ")} ON ALL TABLES IN SCHEMA ${s} TO ${to};`,
                `  ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(spec.user)} IN SCHEMA ${s} GRANT ${g.tables.join(", ")} ON TABLES TO ${to};`,
            );
        }
    }
    lines.push("END", "$hearth$;");
    return lines;
}

/** Database-level ACL: only the owner and the declared grantees may connect (PUBLIC may not). */
function databaseAclSql(spec: DbSpec): string[] {
    const grantees = [...new Set(spec.grants.map((g) => g.role))].sort();
    const db = quoteIdent(spec.database);
    return [
        `REVOKE ALL ON DATABASE ${db} FROM PUBLIC;`,
        "DO $hearth$",
        "DECLARE r record;",
        "BEGIN",
        "  FOR r IN",
        "    SELECT DISTINCT a.grantee::regrole::text AS grantee",
        "    FROM pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) a",
        `    WHERE d.datname = ${quoteLiteral(spec.database)} AND a.grantee <> 0 AND a.grantee <> d.datdba AND a.grantee <> ALL (SELECT oid FROM pg_roles WHERE rolname = ANY (${array(grantees)}))`,
        "  LOOP",
        `    EXECUTE format('REVOKE ALL ON DATABASE %I FROM %s', ${quoteLiteral(spec.database)}, r.grantee);`,
        "  END LOOP;",
        "END",
        "$hearth$;",
        ...grantees.map((g) => `GRANT CONNECT ON DATABASE ${db} TO ${quoteIdent(g)};`),
    ];
}

/**
 * The converge script for `psql -X -v ON_ERROR_STOP=1` as the postgres superuser, connected to `postgres`. It expects
 * the psql variable `hearth_verifier` (set by the secret stdin frame read before it) and, with a tablespace,
 * `hearth_ts_location`. Every step is idempotent: re-running it on a converged cluster changes nothing.
 */
export function renderConvergeSql(spec: DbSpec): string {
    const role = quoteIdent(spec.user);
    const db = quoteIdent(spec.database);
    const lines = [
        `-- hearth: converge database ${spec.database} owned by role ${spec.user}`,
        "\\set ON_ERROR_STOP on",
        "SET client_min_messages = warning;",
        ...ownershipCheck(spec),
        `SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${quoteLiteral(spec.user)}) AS hearth_new_role \\gset`,
        "\\if :hearth_new_role",
        `CREATE ROLE ${role} LOGIN;`,
        "\\endif",
        // A pre-computed SCRAM verifier is stored as is, whatever password_encryption says.
        `ALTER ROLE ${role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'hearth_verifier';`,
        `COMMENT ON ROLE ${role} IS ${quoteLiteral(MANAGED_COMMENT)};`,
    ];
    if (spec.tablespace !== undefined) lines.push(...tablespaceSql(spec.tablespace));
    lines.push(
        `SELECT NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = ${quoteLiteral(spec.database)}) AS hearth_new_db \\gset`,
        "\\if :hearth_new_db",
        `CREATE DATABASE ${db} OWNER ${role}${spec.tablespace !== undefined ? ` TABLESPACE ${quoteIdent(spec.tablespace)}` : ""};`,
        "\\endif",
        `ALTER DATABASE ${db} OWNER TO ${role};`,
        `ALTER DATABASE ${db} WITH CONNECTION LIMIT ${spec.connectionLimit};`,
        `COMMENT ON DATABASE ${db} IS ${quoteLiteral(MANAGED_COMMENT)};`,
    );
    if (spec.tablespace !== undefined) lines.push(...moveToTablespaceSql(spec, spec.tablespace));
    lines.push(...databaseAclSql(spec), `\\connect ${db}`, "SET client_min_messages = warning;");
    for (const e of spec.extensions) lines.push(`CREATE EXTENSION IF NOT EXISTS ${quoteIdent(e)};`);
    for (const s of spec.schemas) lines.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(s)} AUTHORIZATION ${role};`);
    lines.push(...grantsSql(spec), "");
    return lines.join("\n");
}

/**
 * The delete script. By default it only removes hearth's marks: the database, its data, the role and its password
 * stay. With `destroy` (run only after the caller took a dump) it drops the database, the tablespace and the role,
 * each only if hearth's mark is on it; a role that still owns objects elsewhere is kept with a warning.
 */
export function renderDeleteSql(spec: DbSpec, destroy: boolean): string {
    const role = quoteIdent(spec.user);
    const db = quoteIdent(spec.database);
    const marked = (catalog: string, col: string, name: string, kind: string) =>
        `SELECT EXISTS (SELECT 1 FROM ${catalog} WHERE ${col} = ${quoteLiteral(name)} AND shobj_description(oid, '${kind}') = ${quoteLiteral(MANAGED_COMMENT)})`;
    const lines = [
        `-- hearth: ${destroy ? "drop" : "release"} database ${spec.database} and role ${spec.user}`,
        "\\set ON_ERROR_STOP on",
        "SET client_min_messages = warning;",
        `${marked("pg_database", "datname", spec.database, "pg_database")} AS hearth_db_marked \\gset`,
        `${marked("pg_roles", "rolname", spec.user, "pg_authid")} AS hearth_role_marked \\gset`,
    ];
    if (!destroy) {
        lines.push(
            "\\if :hearth_db_marked",
            `COMMENT ON DATABASE ${db} IS NULL;`,
            "\\endif",
            "\\if :hearth_role_marked",
            `COMMENT ON ROLE ${role} IS NULL;`,
            "\\endif",
            "",
        );
        return lines.join("\n");
    }
    lines.push("\\if :hearth_db_marked", `DROP DATABASE ${db} WITH (FORCE);`, "\\endif");
    if (spec.tablespace !== undefined) {
        lines.push(
            `SELECT EXISTS (SELECT 1 FROM pg_tablespace WHERE spcname = ${quoteLiteral(spec.tablespace)}) AS hearth_ts_exists \\gset`,
            "\\if :hearth_ts_exists",
            `DROP TABLESPACE ${quoteIdent(spec.tablespace)};`,
            "\\endif",
        );
    }
    lines.push(
        "\\if :hearth_role_marked",
        "DO $hearth$",
        "BEGIN",
        `  EXECUTE ${quoteLiteral(`DROP ROLE ${role}`)};`,
        "EXCEPTION WHEN dependent_objects_still_exist THEN",
        `  RAISE WARNING ${quoteLiteral(`hearth: role "${spec.user}" still owns objects or privileges elsewhere; it was kept`)};`,
        "END",
        "$hearth$;",
        "\\endif",
        "",
    );
    return lines.join("\n");
}
