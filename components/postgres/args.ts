// PostgresDb arguments: their documented shape, and resolving them into a checked PostgresSpec before any resource exists.
import * as net from "net";
import * as pulumi from "@pulumi/pulumi";
import type { Host } from "../host";
import { hostAddress, hostPath } from "../core/rules";
import { check, checkInt, checkOneOf, checkPattern, checkReason, fail, isHost } from "../validate";
import { ResolvedDataset, ZfsDatasetArgs, resolveZfsDatasetArgs } from "../zfs/args";
import { DEFAULT_PATHS, HbaClient, PoolerSpec, PostgresSpec } from "./render";
import { EXTENSION_NAME, ResolvedGrant, SCHEMA_PRIVILEGES, SQL_IDENT, SchemaPrivilege, TABLE_PRIVILEGES, TablePrivilege } from "./sql";

export interface PostgresGrant {
    /** An existing role that gets the privileges (created elsewhere, e.g. another PostgresDb's user). */
    readonly role: string;
    /** @default "public" */
    readonly schema?: string;
    /** Privileges on the schema. @default ["USAGE"] */
    readonly privileges?: readonly SchemaPrivilege[];
    /** Privileges on every table in the schema, now and (default privileges) later. @default [] */
    readonly tables?: readonly TablePrivilege[];
}

export interface PostgresPooler {
    /** @default 6432 */
    readonly port?: number;
    /** Address pgbouncer listens on: an IP literal or `*`. @default "127.0.0.1" */
    readonly listenAddress?: string;
    /** @default "transaction" */
    readonly poolMode?: "session" | "transaction";
}

/** An untrusted procedural language the database may have, and why. */
export interface PostgresUntrustedLanguage {
    /** The extension name, as in `extensions` (e.g. `plpython3u`). */
    readonly name: string;
    /** Why the database needs it: one line, 8 to 200 printable ASCII characters (the policy pack reads it). */
    readonly reason: string;
}

/** The database's own dataset: a ZfsDataset (on the same host) holding its tablespace. */
export type PostgresTablespace = Omit<ZfsDatasetArgs, "host" | "destroyOnDelete" | "recursive">;

export interface PostgresDbArgs {
    /** The host running PostgreSQL (scripts connect as the `postgres` OS user over the unix socket). */
    readonly host: Host;
    /** Database name: lowercase letters, digits and `_`, at most 63 characters. */
    readonly database: string;
    /** The login role that owns the database. @default - the database name */
    readonly user?: string;
    /** The server's port. @default 5432 */
    readonly port?: number;
    /** Directory of the server's unix socket. @default "/var/run/postgresql" */
    readonly socketDir?: string;
    /** The address clients use in `uri`. @default - the host's address */
    readonly address?: pulumi.Input<string>;
    /**
     * Extensions created in the database (never dropped when removed from this list). An untrusted procedural
     * language (`plpython3u`, `plperlu`, `pltclu`, ...) also needs an entry in `untrustedLanguages`. @default []
     */
    readonly extensions?: readonly string[];
    /**
     * The explicit, reasoned opt-in for each untrusted procedural language in `extensions`: code in such a language
     * runs unsandboxed as the server's OS user. @default []
     */
    readonly untrustedLanguages?: readonly PostgresUntrustedLanguage[];
    /** Schemas created in the database, owned by the role. @default [] */
    readonly schemas?: readonly string[];
    /** Privileges for other roles; on every schema named here or in `schemas`, these are exactly the grants. @default [] */
    readonly grants?: readonly PostgresGrant[];
    /** Networks (CIDR) allowed to log in as the role over TCP, with scram-sha-256 (`hostssl` when `ssl`). @default [] */
    readonly clients?: readonly (string | { readonly cidr: string; readonly ssl?: boolean })[];
    /** Bump to rotate the password in place (a new random password, same role and data). @default 1 */
    readonly passwordVersion?: number;
    /** Connections allowed to the database at once. @default - no limit */
    readonly connectionLimit?: number;
    /** Put the database on its own ZFS dataset, as its tablespace. @default - the cluster's default tablespace */
    readonly tablespace?: PostgresTablespace;
    /** List the database in the host's pgbouncer (userlist with SCRAM verifiers, 0600). @default - no pooler */
    readonly pooler?: PostgresPooler;
    /** Take over an existing role or database that has no hearth mark. @default false */
    readonly adopt?: boolean;
    /** Drop the database, role (and its dataset) on delete, after a final pg_dump into `dumpDir`. @default false */
    readonly destroyOnDelete?: boolean;
    /** Where the final dump goes before a destroy. @default "/var/backups/hearth/postgres" */
    readonly dumpDir?: string;
}

export interface ResolvedPostgres {
    readonly host: Host;
    readonly spec: PostgresSpec;
    readonly passwordVersion: number;
    readonly address: pulumi.Input<string>;
    /** Untrusted procedural languages in `spec.db.extensions`, each with its reason. */
    readonly untrustedLanguages: readonly PostgresUntrustedLanguage[];
    /** Args of the tablespace's ZfsDataset, already checked. */
    readonly dataset?: { readonly args: ZfsDatasetArgs; readonly resolved: ResolvedDataset };
}

const IDENT_ALLOWED = "a lowercase SQL name: a letter or '_', then letters, digits or '_', at most 63 characters";
const RESERVED_DATABASES = ["postgres", "template0", "template1"];
const RESERVED_ROLES = ["postgres", "public", "none", "current_user", "session_user", "current_role"];

function ident(arg: string, value: unknown, reserved: readonly string[] = []): string {
    checkPattern(arg, value, SQL_IDENT, IDENT_ALLOWED);
    const v = value as string;
    if (v.startsWith("pg_")) fail(arg, v, "a name not starting with 'pg_' (reserved by PostgreSQL)");
    if (reserved.includes(v)) fail(arg, v, `a name other than ${reserved.map((r) => `'${r}'`).join(", ")} (hearth never manages those)`);
    return v;
}

/**
 * Procedural languages whose functions run unsandboxed as the server's OS user (PostgreSQL calls them untrusted):
 * the `u` variants, and extensions that are untrusted only (PL/R, PL/sh) or bring one (PL/Java's `javau`).
 */
export const UNTRUSTED_LANGUAGES = ["plpythonu", "plpython2u", "plpython3u", "plperlu", "pltclu", "plluau", "plv8u", "pljavau", "pljava", "plr", "plsh", "plrustu"];

/** A known untrusted language, or any `pl…u` (the naming PostgreSQL uses for untrusted variants). */
export function isUntrustedLanguage(extension: string): boolean {
    return UNTRUSTED_LANGUAGES.includes(extension) || /^pl[a-z0-9_]*u$/.test(extension);
}

function resolveUntrustedLanguages(value: unknown, extensions: readonly string[]): PostgresUntrustedLanguage[] {
    const given = list("untrustedLanguages", value).map((u0, i) => {
        const u = u0 as PostgresUntrustedLanguage;
        if (!u || typeof u !== "object" || Array.isArray(u)) fail(`untrustedLanguages[${i}]`, u, "{ name, reason }");
        for (const k of Object.keys(u)) if (k !== "name" && k !== "reason") fail(`untrustedLanguages[${i}].${k}`, (u as any)[k], "one of the fields name, reason");
        const name = checkPattern(`untrustedLanguages[${i}].name`, u.name, EXTENSION_NAME, "an extension name");
        if (!isUntrustedLanguage(name)) fail(`untrustedLanguages[${i}].name`, name, `an untrusted procedural language (${UNTRUSTED_LANGUAGES.join(", ")}); trusted extensions need no opt-in`);
        if (!extensions.includes(name)) fail(`untrustedLanguages[${i}].name`, name, "a language that 'extensions' also lists (an opt-in for nothing is a stale loosening)");
        const reason = checkReason(`untrustedLanguages[${i}].reason`, u.reason);
        if (!/[A-Za-z]{3}/.test(reason)) fail(`untrustedLanguages[${i}].reason`, reason, "a reason in words (8 to 200 printable ASCII characters)");
        return { name, reason: reason.trim() };
    });
    unique("untrustedLanguages", given.map((u) => u.name));
    extensions.forEach((e, i) => {
        if (isUntrustedLanguage(e) && !given.some((u) => u.name === e)) {
            fail(`extensions[${i}]`, e, `a trusted extension; '${e}' is an untrusted procedural language (its functions run unsandboxed as the server's OS user) and needs untrustedLanguages: [{ name: "${e}", reason: "..." }]`);
        }
    });
    return given;
}

function list(arg: string, value: unknown): readonly unknown[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) fail(arg, value, "an array");
    return value;
}

function checkBool(arg: string, value: unknown, dflt: boolean): boolean {
    if (value === undefined) return dflt;
    if (typeof value !== "boolean") fail(arg, value, "true or false");
    return value;
}

export function checkCidr(arg: string, value: unknown): string {
    const m = typeof value === "string" ? /^([0-9a-fA-F:.]+)\/([0-9]{1,3})$/.exec(value) : null;
    const family = m ? net.isIP(m[1]) : 0;
    if (!m || family === 0 || Number(m[2]) > (family === 4 ? 32 : 128)) {
        fail(arg, value, "an IPv4 or IPv6 network in CIDR form, e.g. 10.0.0.0/24 or fd00::/64");
    }
    return value as string;
}

function unique<T>(arg: string, values: readonly T[]): readonly T[] {
    const seen = new Set<T>();
    for (const v of values) {
        if (seen.has(v)) fail(arg, v, "each value at most once");
        seen.add(v);
    }
    return values;
}

function resolvePooler(p: PostgresPooler | undefined, serverPort: number): PoolerSpec | undefined {
    if (p === undefined) return undefined;
    if (typeof p !== "object" || p === null) fail("pooler", p, "an object");
    const port = checkInt("pooler.port", p.port ?? 6432, 1, 65535);
    if (port === serverPort) fail("pooler.port", port, `a port other than the server's own (${serverPort})`);
    const listenAddress = p.listenAddress ?? "127.0.0.1";
    if (typeof listenAddress !== "string" || (listenAddress !== "*" && net.isIP(listenAddress) === 0)) {
        fail("pooler.listenAddress", listenAddress, "an IPv4 or IPv6 address, or '*' for all");
    }
    const poolMode = checkOneOf("pooler.poolMode", p.poolMode ?? "transaction", ["session", "transaction"] as const);
    return { port, listenAddress, poolMode };
}

/** Checks every argument and resolves defaults; throws a ResourceError naming the argument before anything is registered. */
export function resolvePostgresDbArgs(args: PostgresDbArgs): ResolvedPostgres {
    if (!args || typeof args !== "object") fail("args", args, "an object with at least 'host' and 'database'");
    if (!isHost(args.host)) fail("host", typeof args.host, "a hearth Host");
    const database = ident("database", args.database, RESERVED_DATABASES);
    const user = ident("user", args.user ?? database, RESERVED_ROLES);
    const port = checkInt("port", args.port ?? 5432, 1, 65535);
    const socketDir = check(() => hostPath("socketDir", args.socketDir ?? "/var/run/postgresql"));
    // Root writes the final dump there: not into a system tree, nor into PostgreSQL's own (the postgres user's) tree.
    const dumpDir = check(() => hostPath("dumpDir", args.dumpDir ?? "/var/backups/hearth/postgres", { notSystemTree: true }));

    const extensions = unique("extensions", list("extensions", args.extensions).map((e, i) =>
        checkPattern(`extensions[${i}]`, e, EXTENSION_NAME, "an extension name: lowercase letters, digits, '_' or '-', at most 63 characters")));
    const untrustedLanguages = resolveUntrustedLanguages(args.untrustedLanguages, extensions);
    const schemas = unique("schemas", list("schemas", args.schemas).map((s, i) => ident(`schemas[${i}]`, s, ["public", "information_schema"])));
    const grants: ResolvedGrant[] = list("grants", args.grants).map((g0, i) => {
        const g = g0 as PostgresGrant;
        if (!g || typeof g !== "object") fail(`grants[${i}]`, g, "an object { role, schema?, privileges?, tables? }");
        const role = ident(`grants[${i}].role`, g.role, RESERVED_ROLES);
        if (role === user) fail(`grants[${i}].role`, role, "a role other than the database's own user (it owns everything already)");
        const schema = g.schema === undefined ? "public" : ident(`grants[${i}].schema`, g.schema, ["information_schema"]);
        const privileges = unique(`grants[${i}].privileges`, list(`grants[${i}].privileges`, g.privileges ?? ["USAGE"]).map((p, j) =>
            checkOneOf(`grants[${i}].privileges[${j}]`, p, SCHEMA_PRIVILEGES)));
        const tables = unique(`grants[${i}].tables`, list(`grants[${i}].tables`, g.tables).map((p, j) => checkOneOf(`grants[${i}].tables[${j}]`, p, TABLE_PRIVILEGES)));
        return { role, schema, privileges, tables };
    });
    const pairs = grants.map((g) => `${g.role}@${g.schema}`);
    unique("grants", pairs);

    const clients: HbaClient[] = list("clients", args.clients).map((c, i) => {
        if (typeof c === "string") return { cidr: checkCidr(`clients[${i}]`, c), ssl: false };
        if (!c || typeof c !== "object") fail(`clients[${i}]`, c, "a CIDR string or { cidr, ssl? }");
        const o = c as { cidr: unknown; ssl?: unknown };
        return { cidr: checkCidr(`clients[${i}].cidr`, o.cidr), ssl: checkBool(`clients[${i}].ssl`, o.ssl, false) };
    });
    unique("clients", clients.map((c) => c.cidr));

    const passwordVersion = checkInt("passwordVersion", args.passwordVersion ?? 1, 1, 1_000_000);
    const connectionLimit = args.connectionLimit === undefined ? -1 : checkInt("connectionLimit", args.connectionLimit, 1, 100_000);
    const pooler = resolvePooler(args.pooler, port);
    const adopt = checkBool("adopt", args.adopt, false);
    const destroyOnDelete = checkBool("destroyOnDelete", args.destroyOnDelete, false);

    let dataset: ResolvedPostgres["dataset"];
    let tablespace: string | undefined;
    if (args.tablespace !== undefined) {
        if (!args.tablespace || typeof args.tablespace !== "object") fail("tablespace", args.tablespace, "ZfsDataset arguments without 'host'");
        // 8 KiB records match PostgreSQL's page size, so a page write never rewrites a larger record.
        const dsArgs: ZfsDatasetArgs = { recordsizeKiB: 8, ...args.tablespace, host: args.host, destroyOnDelete, recursive: false };
        dataset = { args: dsArgs, resolved: resolveZfsDatasetArgs(dsArgs, "tablespace.") };
        tablespace = `hearth_${database}`.slice(0, 63);
    }

    return {
        host: args.host,
        passwordVersion,
        address: args.address === undefined ? args.host.address : checkAddress(args.address),
        untrustedLanguages,
        dataset,
        spec: {
            db: { database, user, extensions, schemas, grants, tablespace, connectionLimit, adopt },
            port,
            socketDir,
            clients,
            pooler,
            tablespaceDataset: dataset?.resolved.spec.dataset,
            destroyOnDelete,
            dumpDir,
            paths: DEFAULT_PATHS,
        },
    };
}

/** `address` goes into the `uri` outputs: an IP literal or a DNS name, never anything a URI parser reads more into. */
function checkAddress(value: unknown): pulumi.Input<string> {
    const one = (v: unknown): string => check(() => hostAddress("address", v));
    if (pulumi.Output.isInstance(value)) return (value as pulumi.Output<string>).apply(one);
    return one(value);
}
