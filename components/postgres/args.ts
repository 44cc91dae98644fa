// PostgresDb arguments resolved into a PostgresSpec: the schema (schema.ts) checks them, this adds defaults and
// derived values. Throws ArgumentError (with the argument's path) before any resource exists.
import * as pulumi from "@pulumi/pulumi";
import type { Host } from "../host";
import { hostAddress, parseArgs } from "../core/schema";
import { isOutput } from "../validate";
import { ResolvedDataset, ZfsDatasetArgs, resolveZfsDatasetArgs } from "../zfs";
import { DEFAULT_PATHS, PostgresSpec } from "./render";
import { PostgresDbArgs, PostgresDbArgsSchema, PostgresUntrustedLanguage } from "./schema";

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

/** Checks every argument (schema.ts) and resolves defaults; throws an ArgumentError naming the argument. */
export function resolvePostgresDbArgs(args: PostgresDbArgs): ResolvedPostgres {
    const a = parseArgs(PostgresDbArgsSchema, args);
    const destroyOnDelete = a.destroyOnDelete ?? false;
    const database = a.database;
    const grants = (a.grants ?? []).map((g) => ({ role: g.role, schema: g.schema ?? "public", privileges: g.privileges ?? ["USAGE" as const], tables: g.tables ?? [] }));
    const clients = (a.clients ?? []).map((c) => (typeof c === "string" ? { cidr: c, ssl: false } : { cidr: c.cidr, ssl: c.ssl ?? false }));
    const pooler = a.pooler && { port: a.pooler.port ?? 6432, listenAddress: a.pooler.listenAddress ?? "127.0.0.1", poolMode: a.pooler.poolMode ?? "transaction" };

    let dataset: ResolvedPostgres["dataset"];
    let tablespace: string | undefined;
    if (a.tablespace !== undefined) {
        // 8 KiB records match PostgreSQL's page size, so a page write never rewrites a larger record.
        const dsArgs: ZfsDatasetArgs = { recordsizeKiB: 8, ...a.tablespace, host: a.host, destroyOnDelete, recursive: false };
        dataset = { args: dsArgs, resolved: resolveZfsDatasetArgs(dsArgs, ["tablespace"]) };
        tablespace = `hearth_${database}`.slice(0, 63);
    }

    return {
        host: a.host,
        passwordVersion: a.passwordVersion ?? 1,
        // `address` goes into the `uri` outputs: an Output is checked by the same rule when it resolves.
        address: a.address === undefined ? a.host.address : isOutput(a.address) ? a.address.apply((v) => parseArgs(hostAddress(), v, ["address"])) : a.address,
        untrustedLanguages: (a.untrustedLanguages ?? []).map((u) => ({ name: u.name, reason: u.reason.trim() })),
        dataset,
        spec: {
            db: {
                database,
                user: a.user ?? database,
                extensions: a.extensions ?? [],
                schemas: a.schemas ?? [],
                grants,
                tablespace,
                connectionLimit: a.connectionLimit ?? -1,
                adopt: a.adopt ?? false,
            },
            port: a.port ?? 5432,
            socketDir: a.socketDir ?? "/var/run/postgresql",
            unit: `postgresql@${a.host.facts.postgresql.version}-${a.host.facts.postgresql.cluster}.service`,
            clients,
            pooler,
            tablespaceDataset: dataset?.resolved.spec.dataset,
            destroyOnDelete,
            dumpDir: a.dumpDir ?? "/var/backups/hearth/postgres",
            paths: DEFAULT_PATHS,
        },
    };
}
