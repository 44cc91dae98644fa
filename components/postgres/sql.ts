// PostgresDb SQL: identifier and literal quoting, and the psql scripts that converge and delete a database (pure).

import { createHash } from "crypto";

/** Role, database and schema names hearth accepts: lowercase, so the quoted and unquoted forms name the same thing. */
export const SQL_IDENT = /^[a-z_][a-z0-9_]{0,62}$/;
/** Extension names (`uuid-ossp` has a dash). */
export const EXTENSION_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
/** The comment earlier releases put on every role and database hearth made: adopted and rewritten (see markComment). */
export const LEGACY_COMMENT = "hearth:managed";

/**
 * The comment that names the one resource owning a role, database or tablespace (its owner id, see core/owner.ts):
 * hearth only alters, unmarks or drops what carries its own mark.
 */
export function markComment(ownerId: string): string {
    return `hearth-owner: ${ownerId}`;
}

/** The comments a delete accepts as its own: its mark, its aliases' marks and the legacy mark. */
export function ownComments(mark: { readonly id: string; readonly aliases: readonly string[] }): string[] {
    return [markComment(mark.id), ...mark.aliases.map(markComment), LEGACY_COMMENT];
}

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

/** The owner marks as a SQL array, for `= ANY (...)`. */
function marksArray(mark: OwnerMarkLike): string {
    return array([mark.id, ...mark.aliases].map(markComment));
}

/** What the SQL renderers need of an owner mark (core/owner.ts's OwnerMark). */
export interface OwnerMarkLike {
    readonly id: string;
    readonly aliases: readonly string[];
}

/**
 * Creates the tablespace on the dataset (psql variable `hearth_ts_location`), marks it, and refuses one found
 * elsewhere. CREATE TABLESPACE cannot run in a transaction; a run stopped before the COMMENT re-runs the COMMENT.
 */
export function renderTablespaceSql(ts: string, mark: OwnerMarkLike): string {
    const name = quoteLiteral(ts);
    return [
        `-- hearth: tablespace ${ts} on the database's dataset`,
        "\\set ON_ERROR_STOP on",
        "SET client_min_messages = warning;",
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
        `COMMENT ON TABLESPACE ${quoteIdent(ts)} IS ${quoteLiteral(markComment(mark.id))};`,
        "",
    ].join("\n");
}

/**
 * Without a tablespace: a database still in hearth's tablespace (`tablespace` was dropped from the resource) moves
 * back to pg_default, and the then empty tablespace is dropped, before anything else; a tablespace that still holds
 * anything stops the run (ON_ERROR_STOP), so the dataset under it is never released while it holds data.
 */
export function renderMoveBackSql(spec: DbSpec, ts: string, mark: OwnerMarkLike): string {
    return [
        `-- hearth: database ${spec.database} leaves tablespace ${ts} (no longer declared) for pg_default`,
        "\\set ON_ERROR_STOP on",
        "SET client_min_messages = warning;",
        `SELECT EXISTS (SELECT 1 FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = ${quoteLiteral(spec.database)} AND t.spcname = ${quoteLiteral(ts)}) AS hearth_move_back \\gset`,
        "\\if :hearth_move_back",
        `ALTER DATABASE ${quoteIdent(spec.database)} SET TABLESPACE pg_default;`,
        "\\endif",
        // Only hearth's own tablespace (earlier releases did not mark tablespaces).
        `SELECT EXISTS (SELECT 1 FROM pg_tablespace WHERE spcname = ${quoteLiteral(ts)} AND coalesce(shobj_description(oid, 'pg_tablespace'), ${quoteLiteral(LEGACY_COMMENT)}) = ANY (${array(ownComments(mark))})) AS hearth_old_ts \\gset`,
        "\\if :hearth_old_ts",
        `DROP TABLESPACE ${quoteIdent(ts)};`,
        "\\endif",
        "",
    ].join("\n");
}

/** The role, created and marked in one transaction: a run stopped anywhere leaves either nothing or a marked role. */
export function renderCreateRoleSql(spec: DbSpec, mark: OwnerMarkLike): string {
    return `BEGIN; CREATE ROLE ${quoteIdent(spec.user)} NOLOGIN; COMMENT ON ROLE ${quoteIdent(spec.user)} IS ${quoteLiteral(markComment(mark.id))}; COMMIT;\n`;
}

/**
 * The name a new database is created under before it is marked and renamed into place (CREATE DATABASE cannot share
 * a transaction with its COMMENT). It is derived from the owner and the database, so it is this resource's alone: a
 * database by this name is a leftover of an interrupted create (never used: nothing connects to it) and is dropped.
 */
export function tempDatabaseName(spec: DbSpec, mark: OwnerMarkLike): string {
    return `hearth_new_${createHash("sha256").update(`${mark.id}\0${spec.database}`).digest("hex").slice(0, 24)}`;
}

/**
 * The psql script that creates the database under its temp name, marks it and renames it into place. psql sends each
 * statement on its own (none may share a transaction with CREATE DATABASE), and each commits before the next starts:
 * a session stopped after any of them leaves a leftover under the temp name (dropped by the re-run, which starts
 * over) or, after the rename, the marked database under its real name (which the re-run finds and converges).
 */
export function renderCreateDatabaseSql(spec: DbSpec, mark: OwnerMarkLike): string {
    const tmp = quoteIdent(tempDatabaseName(spec, mark));
    return [
        `-- hearth: create database ${spec.database} under ${tempDatabaseName(spec, mark)}, mark it, rename it into place`,
        "\\set ON_ERROR_STOP on",
        "SET client_min_messages = warning;",
        `DROP DATABASE IF EXISTS ${tmp} WITH (FORCE);`,
        `CREATE DATABASE ${tmp} OWNER ${quoteIdent(spec.user)}${spec.tablespace !== undefined ? ` TABLESPACE ${quoteIdent(spec.tablespace)}` : ""};`,
        `COMMENT ON DATABASE ${tmp} IS ${quoteLiteral(markComment(mark.id))};`,
        `ALTER DATABASE ${tmp} RENAME TO ${quoteIdent(spec.database)};`,
        "",
    ].join("\n");
}

/**
 * A role or database this resource marked under another name (the `database` or `user` argument changed) is released:
 * the role may no longer log in, both lose the mark, and the database and its data stay.
 */
function releaseRenamedSql(spec: DbSpec, mark: OwnerMarkLike): string[] {
    const marks = marksArray(mark);
    return [
        "DO $hearth$",
        "DECLARE r record;",
        "BEGIN",
        "  FOR r IN",
        `    SELECT datname FROM pg_database WHERE datname <> ${quoteLiteral(spec.database)} AND datname NOT LIKE 'hearth\\_new\\_%' ESCAPE '\\'`,
        `      AND shobj_description(oid, 'pg_database') = ANY (${marks})`,
        "  LOOP",
        "    EXECUTE format('COMMENT ON DATABASE %I IS NULL', r.datname);",
        "    RAISE WARNING 'hearth: database % is no longer declared by this resource (renamed); it was kept, with its data, and released', r.datname;",
        "  END LOOP;",
        "  FOR r IN",
        `    SELECT rolname FROM pg_roles WHERE rolname <> ${quoteLiteral(spec.user)} AND shobj_description(oid, 'pg_authid') = ANY (${marks})`,
        "  LOOP",
        "    EXECUTE format('ALTER ROLE %I NOLOGIN', r.rolname);",
        "    EXECUTE format('COMMENT ON ROLE %I IS NULL', r.rolname);",
        "    RAISE WARNING 'hearth: role % is no longer declared by this resource (renamed); it may no longer log in and was released', r.rolname;",
        "  END LOOP;",
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
 * The settings script for `psql -X -v ON_ERROR_STOP=1` as the postgres superuser, connected to `postgres`, run once
 * the role and the database exist (and were claimed by the script). It expects the psql variable `hearth_verifier`
 * (set by the secret stdin frame read before it). Every step is idempotent: re-running it changes nothing.
 */
export function renderConvergeSql(spec: DbSpec, mark: OwnerMarkLike): string {
    const role = quoteIdent(spec.user);
    const db = quoteIdent(spec.database);
    const own = quoteLiteral(markComment(mark.id));
    const lines = [
        `-- hearth: converge database ${spec.database} owned by role ${spec.user}`,
        "\\set ON_ERROR_STOP on",
        "SET client_min_messages = warning;",
        // A pre-computed SCRAM verifier is stored as is, whatever password_encryption says.
        `ALTER ROLE ${role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'hearth_verifier';`,
        `COMMENT ON ROLE ${role} IS ${own};`,
        `ALTER DATABASE ${db} OWNER TO ${role};`,
        `ALTER DATABASE ${db} WITH CONNECTION LIMIT ${spec.connectionLimit};`,
        `COMMENT ON DATABASE ${db} IS ${own};`,
    ];
    if (spec.tablespace !== undefined) lines.push(...moveToTablespaceSql(spec, spec.tablespace));
    lines.push(...releaseRenamedSql(spec, mark), ...databaseAclSql(spec), `\\connect ${db}`, "SET client_min_messages = warning;");
    // Inside the database its owner controls, only the system catalog resolves a name (hearth_pg_psql connects with
    // search_path=pg_catalog,pg_temp; the owner's ALTER DATABASE ... SET search_path does not apply): a function or an
    // operator the owner planted in a schema of theirs never runs as postgres. Extensions are created in public, as
    // the default path would put them, and the path is pinned again after.
    if (spec.extensions.length) {
        lines.push("SET search_path = public;");
        for (const e of spec.extensions) lines.push(`CREATE EXTENSION IF NOT EXISTS ${quoteIdent(e)};`);
        lines.push("SET search_path = pg_catalog, pg_temp;");
    }
    for (const s of spec.schemas) lines.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(s)} AUTHORIZATION ${role};`);
    lines.push(...grantsSql(spec), "");
    return lines.join("\n");
}

/**
 * The delete script. By default it only removes this resource's marks: the database, its data, the role and its
 * password stay. With `destroy` (run only after the caller took a dump) it drops the database, its tablespace and
 * the role, each only if it carries this resource's mark (or an alias's, or the legacy mark); a role that still owns
 * objects elsewhere is kept with a warning. Objects marked by another resource are left alone.
 */
export function renderDeleteSql(spec: DbSpec, destroy: boolean, mark: OwnerMarkLike): string {
    const role = quoteIdent(spec.user);
    const db = quoteIdent(spec.database);
    const mine = array(ownComments(mark));
    const marked = (catalog: string, col: string, name: string, kind: string) =>
        `SELECT EXISTS (SELECT 1 FROM ${catalog} WHERE ${col} = ${quoteLiteral(name)} AND shobj_description(oid, '${kind}') = ANY (${mine}))`;
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
        );
        if (spec.tablespace !== undefined) {
            lines.push(
                `${marked("pg_tablespace", "spcname", spec.tablespace, "pg_tablespace")} AS hearth_ts_marked \\gset`,
                "\\if :hearth_ts_marked",
                `COMMENT ON TABLESPACE ${quoteIdent(spec.tablespace)} IS NULL;`,
                "\\endif",
            );
        }
        lines.push("");
        return lines.join("\n");
    }
    lines.push("\\if :hearth_db_marked", `DROP DATABASE ${db} WITH (FORCE);`);
    if (spec.tablespace !== undefined) {
        // The tablespace goes with the database it was made for (earlier releases did not mark tablespaces).
        lines.push(
            `SELECT EXISTS (SELECT 1 FROM pg_tablespace WHERE spcname = ${quoteLiteral(spec.tablespace)} AND coalesce(shobj_description(oid, 'pg_tablespace'), ${quoteLiteral(LEGACY_COMMENT)}) = ANY (${mine})) AS hearth_ts_exists \\gset`,
            "\\if :hearth_ts_exists",
            `DROP TABLESPACE ${quoteIdent(spec.tablespace)};`,
            "\\endif",
        );
    }
    lines.push(
        "\\endif",
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
