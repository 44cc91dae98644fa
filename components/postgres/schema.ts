// PostgresDb arguments: one zod schema that is their type, their validation and the source of the README's table.
import { z } from "zod";
import { parseCidr, isIp } from "../core/ip";
import { bool, hostAddress, hostPath, int, list, oneOf, pattern, port, problem, reasonInWords, record, say } from "../core/schema";
import { hostArg, inputArg } from "../validate";
import { checkZfsDataset, zfsDatasetFields } from "../zfs/schema";
import { EXTENSION_NAME, SCHEMA_PRIVILEGES, SQL_IDENT, TABLE_PRIVILEGES } from "./sql";

const IDENT_ALLOWED = "a lowercase SQL name: a letter or '_', then letters, digits or '_', at most 63 characters";
const EXTENSION_ALLOWED = "an extension name: lowercase letters, digits, '_' or '-', at most 63 characters";
const CIDR_ALLOWED = "an IPv4 or IPv6 network in CIDR form, e.g. 10.0.0.0/24 or fd00::/64";
const UNIQUE = "each value at most once";

const RESERVED_DATABASES = ["postgres", "template0", "template1"] as const;
const RESERVED_ROLES = ["postgres", "public", "none", "current_user", "session_user", "current_role"] as const;

/**
 * Procedural languages whose functions run unsandboxed as the server's OS user (PostgreSQL calls them untrusted):
 * the `u` variants, and extensions that are untrusted only (PL/R, PL/sh) or bring one (PL/Java's `javau`).
 */
export const UNTRUSTED_LANGUAGES = ["plpythonu", "plpython2u", "plpython3u", "plperlu", "pltclu", "plluau", "plv8u", "pljavau", "pljava", "plr", "plsh", "plrustu"];

/** A known untrusted language, or any `pl…u` (the naming PostgreSQL uses for untrusted variants). */
export function isUntrustedLanguage(extension: string): boolean {
    return UNTRUSTED_LANGUAGES.includes(extension) || /^pl[a-z0-9_]*u$/.test(extension);
}

/** A lowercase SQL name (role, database, schema) that is not `pg_*` and none of `reserved`. */
function sqlName(reserved: readonly string[] = []) {
    return z.string(say(IDENT_ALLOWED)).superRefine((v, ctx) => {
        if (!SQL_IDENT.test(v)) problem(ctx, [], v, IDENT_ALLOWED);
        else if (v.startsWith("pg_")) problem(ctx, [], v, "a name not starting with 'pg_' (reserved by PostgreSQL)");
        else if (reserved.includes(v)) problem(ctx, [], v, `a name other than ${reserved.map((r) => `'${r}'`).join(", ")} (hearth never manages those)`);
    });
}

/** A list whose items (by `key`) appear at most once; a repeat is reported at the list with the repeated value. */
function unique<T extends z.ZodType>(item: T, allowed: string, max: number, key: (v: z.output<T>) => unknown = (v) => v) {
    return list(item, allowed, max).readonly().superRefine((vs, ctx) => {
        if (ctx.issues.length) return;
        const seen = new Set<unknown>();
        for (const v of vs) {
            const k = key(v);
            if (seen.has(k)) return problem(ctx, [], k, UNIQUE);
            seen.add(k);
        }
    });
}

/** An untrusted language's reason: the shared reason rule, and in words. */
const languageReason = reasonInWords;

const extensionName = () => pattern(EXTENSION_NAME, EXTENSION_ALLOWED);

export const untrustedLanguageSchema = record(
    {
        name: extensionName()
            .refine(isUntrustedLanguage, say(`an untrusted procedural language (${UNTRUSTED_LANGUAGES.join(", ")}); trusted extensions need no opt-in`))
            .describe("The extension name, as in `extensions` (e.g. `plpython3u`)."),
        reason: languageReason().describe("Why the database needs it: one line, 8 to 200 printable ASCII characters (the policy pack reads it)."),
    },
    "an untrusted language opt-in",
);

export const grantSchema = record(
    {
        role: sqlName(RESERVED_ROLES).describe("An existing role that gets the privileges (created elsewhere, e.g. another PostgresDb's user)."),
        schema: sqlName(["information_schema"]).optional().describe("The schema the privileges are on. @default \"public\""),
        privileges: unique(oneOf(SCHEMA_PRIVILEGES), "a list of schema privileges", 4).optional().describe("Privileges on the schema. @default [\"USAGE\"]"),
        tables: unique(oneOf(TABLE_PRIVILEGES), "a list of table privileges", 8)
            .optional()
            .describe("Privileges on every table in the schema, now and (default privileges) later. @default []"),
    },
    "a grant",
);

const clientCidr = () => z.string(say(CIDR_ALLOWED)).refine((v) => parseCidr(v) !== undefined, say(CIDR_ALLOWED));

export const clientSchema = z.union(
    [clientCidr(), record({ cidr: clientCidr().describe("The network."), ssl: bool().optional().describe("Require TLS (`hostssl`). @default false") }, "a client")],
    say(`${CIDR_ALLOWED}, or { cidr, ssl? }`),
);

const LISTEN_ALLOWED = "an IPv4 or IPv6 address, or '*' for all";

export const poolerSchema = record(
    {
        port: port().optional().describe("The port pgbouncer listens on. @default 6432"),
        listenAddress: z
            .string(say(LISTEN_ALLOWED))
            .refine((v) => v === "*" || isIp(v), say(LISTEN_ALLOWED))
            .optional()
            .describe("Address pgbouncer listens on: an IP literal or `*`. @default \"127.0.0.1\""),
        poolMode: oneOf(["session", "transaction"]).optional().describe("pgbouncer's pool mode. @default \"transaction\""),
    },
    "a pooler",
);

// The database's own dataset: ZfsDataset's fields and rules, without `host`, `destroyOnDelete` and `recursive` (those
// follow the database). The ZfsDataset resolver checks it against the host's facts too.
const { destroyOnDelete: _destroy, recursive: _recursive, ...tablespaceFields } = zfsDatasetFields;
export const tablespaceSchema = record(tablespaceFields, "a tablespace dataset (ZfsDataset arguments without host, destroyOnDelete and recursive)").superRefine(checkZfsDataset);
export type PostgresTablespace = z.input<typeof tablespaceSchema>;

export const postgresDbShape = {
    host: hostArg().describe("The host running PostgreSQL (scripts connect as the `postgres` OS user over the unix socket, with `runuser`)."),
    database: sqlName(RESERVED_DATABASES).describe("Database name: lowercase letters, digits and `_`, at most 63 characters; not `pg_*`, `postgres`, `template0` or `template1`."),
    user: sqlName(RESERVED_ROLES).optional().describe("The login role that owns the database (one role per PostgresDb): the same rule as `database`; not `pg_*`, `postgres` or `public`. @default - the database name"),
    port: port().optional().describe("The server's port. @default 5432"),
    socketDir: hostPath().optional().describe("Directory of the server's unix socket. @default \"/var/run/postgresql\""),
    address: inputArg(hostAddress()).optional().describe("The address clients use in `uri`: an IP literal or a DNS name. @default - the host's address"),
    extensions: unique(extensionName(), "a list of extension names", 64)
        .optional()
        .describe(
            "Extensions created in the database (`CREATE EXTENSION IF NOT EXISTS`; never dropped when removed from this list, which " +
                "could drop data). An untrusted procedural language (`plpython3u`, `plperlu`, `pltclu`, ...) also needs an entry in " +
                "`untrustedLanguages`. @default []",
        ),
    untrustedLanguages: unique(untrustedLanguageSchema, "a list of { name, reason }", 16, (u) => u.name)
        .optional()
        .describe(
            "The explicit, reasoned opt-in for each untrusted procedural language in `extensions` (`plpython3u`, `plperlu`, `pltclu`, " +
                "`plluau`, `plv8u`, `pljava`/`pljavau`, `plr`, `plsh` and any other `pl…u`): code in such a language runs unsandboxed as the " +
                "server's OS user, with its access to every database's files. An entry that `extensions` does not list, or that names a " +
                "trusted extension, is refused. @default []",
        ),
    schemas: unique(sqlName(["public", "information_schema"]), "a list of schema names", 64)
        .optional()
        .describe("Schemas created in the database, owned by the role (not `public` or `information_schema`). @default []"),
    grants: unique(grantSchema, "a list of grants", 64, (g) => `${g.role}@${g.schema ?? "public"}`)
        .optional()
        .describe("Privileges for other roles; on every schema named here or in `schemas`, these are exactly the grants (schema, existing tables, " +
                "default privileges for new tables), set in one transaction. Grantees get `CONNECT`; `PUBLIC` does not. @default []"),
    clients: unique(clientSchema, "a list of client networks", 64, (c) => parseCidr(typeof c === "string" ? c : c.cidr)?.text)
        .optional()
        .describe("Networks (CIDR) allowed to log in as the role over TCP, with scram-sha-256 (`hostssl` when `ssl`): `host \"db\" \"user\" <cidr> " +
                "scram-sha-256`; there is no way to ask for another method. @default []"),
    passwordVersion: int(1, 1_000_000).optional().describe("Bump to rotate the password in place (a new random password applied with `ALTER ROLE … PASSWORD`, same role and data). @default 1"),
    connectionLimit: int(1, 100_000).optional().describe("Connections allowed to the database at once (`ALTER DATABASE … CONNECTION LIMIT`). @default - no limit"),
    tablespace: tablespaceSchema
        .optional()
        .describe(
            "Put the database on its own ZFS dataset: ZfsDataset arguments without `host` (`recordsizeKiB` defaults to 8, PostgreSQL's page " +
                "size). The database lives in tablespace `hearth_<database>` at `<mountpoint>/pg`; the dataset's snapshots are crash-consistent " +
                "for the database's files (WAL stays in the cluster's data directory). @default - the cluster's default tablespace",
        ),
    pooler: poolerSchema.optional().describe("List the database in the host's pgbouncer (userlist with SCRAM verifiers, 0600); all PostgresDb poolers on a host share one " +
            "pgbouncer and must agree on its port and address. @default - no pooler"),
    adopt: bool().optional().describe("Take over an existing role or database that has no hearth mark. @default false"),
    destroyOnDelete: bool().optional().describe("Drop the database, its tablespace and role (and destroy its dataset) on delete, after a final `pg_dump -Fc` into `dumpDir`. @default false (kept, marks removed)"),
    // Root writes the final dump there: not into a system tree, nor into PostgreSQL's own (the postgres user's) tree.
    dumpDir: hostPath({ notSystemTree: true }).optional().describe("Where the final dump goes before a destroy (0700 root): a host path outside the system trees and PostgreSQL's own `/var/lib/postgresql`. @default \"/var/backups/hearth/postgres\""),
};

type Shape = z.output<z.ZodObject<typeof postgresDbShape>>;

/** The rules between arguments; they run only when every argument passed its own rule. */
export function checkPostgresDb(v: Omit<Shape, "host" | "address">, ctx: z.RefinementCtx): void {
    if (ctx.issues.length) return;
    const extensions = v.extensions ?? [];
    const languages = v.untrustedLanguages ?? [];
    languages.forEach((u, i) => {
        if (!extensions.includes(u.name)) problem(ctx, ["untrustedLanguages", i, "name"], u.name, "a language that 'extensions' also lists (an opt-in for nothing is a stale loosening)");
    });
    extensions.forEach((e, i) => {
        if (isUntrustedLanguage(e) && !languages.some((u) => u.name === e)) {
            problem(ctx, ["extensions", i], e, `a trusted extension; '${e}' is an untrusted procedural language (its functions run unsandboxed as the server's OS user) and needs untrustedLanguages: [{ name: "${e}", reason: "..." }]`);
        }
    });
    const user = v.user ?? v.database;
    (v.grants ?? []).forEach((g, i) => {
        if (g.role === user) problem(ctx, ["grants", i, "role"], g.role, "a role other than the database's own user (it owns everything already)");
    });
    const serverPort = v.port ?? 5432;
    if (v.pooler && (v.pooler.port ?? 6432) === serverPort) problem(ctx, ["pooler", "port"], v.pooler.port ?? 6432, `a port other than the server's own (${serverPort})`);
}

export const PostgresDbArgsSchema = record(postgresDbShape, "PostgresDbArgs").superRefine(checkPostgresDb);

export type PostgresDbArgs = z.input<typeof PostgresDbArgsSchema>;
export type PostgresGrant = z.input<typeof grantSchema>;
export type PostgresPooler = z.input<typeof poolerSchema>;
export type PostgresUntrustedLanguage = z.input<typeof untrustedLanguageSchema>;
