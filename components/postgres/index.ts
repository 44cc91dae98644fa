// PostgresDb: a role and its database on a host's PostgreSQL, with pg_hba, optional ZFS tablespace and pgbouncer entry.
import type { DatabaseProps } from "../core/props";
import { rehearsalPoint, rehearseChildren, declaredUnder } from "../core/owner";
import * as pulumi from "@pulumi/pulumi";
import type { ServiceDependency } from "../refs";
import * as random from "@pulumi/random";
import * as command from "@pulumi/command";
import { DATABASE_TYPE } from "../tokens";
import { remoteScript } from "../host";
import { childAliases, claimOnHost, listenOnHost, ownerMark } from "../ownership";
import { ZfsDataset } from "../zfs";
import { check } from "../validate";
import { ResolvedPostgres, resolvePostgresDbArgs } from "./args";
import { PostgresDbArgs, PostgresGrant, PostgresPooler, PostgresTablespace, PostgresUntrustedLanguage } from "./schema";
import { convergeStdin, renderScripts } from "./render";
import { scramVerifier } from "./scram";

export { PostgresDbArgs, PostgresGrant, PostgresPooler, PostgresTablespace, PostgresUntrustedLanguage, ResolvedPostgres, resolvePostgresDbArgs };
export { PostgresDbArgsSchema, postgresDbShape, checkPostgresDb, isUntrustedLanguage, UNTRUSTED_LANGUAGES } from "./schema";
export { renderScripts as renderPostgresScripts, PostgresSpec, PostgresPaths } from "./render";
export { scramVerifier } from "./scram";
export { quoteIdent, quoteLiteral, SQL_IDENT } from "./sql";

/** `postgresql://user:password@host:port/database`, with an IPv6 host in brackets. */
export function postgresUri(host: string, port: number, database: string, user: string, password: string): string {
    const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
    return `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${h}:${port}/${encodeURIComponent(database)}`;
}

const LOOPBACK = ["127.0.0.1", "::1"];

export class PostgresDb extends pulumi.ComponentResource {
    /** The address clients connect to. */
    readonly host: pulumi.Output<string>;
    readonly port: pulumi.Output<number>;
    readonly database: pulumi.Output<string>;
    readonly user: pulumi.Output<string>;
    /** The role's password (secret); it changes only when `passwordVersion` does. */
    readonly password: pulumi.Output<string>;
    /** Direct connection URI (secret). */
    readonly uri: pulumi.Output<string>;
    /** Connection URI through pgbouncer (secret); undefined without a pooler. */
    readonly pooledUri: pulumi.Output<string | undefined>;
    /** The tablespace's dataset, when the database has its own. */
    readonly dataset?: ZfsDataset;
    /** The command that converges the database; depend on it to run after the database exists. */
    readonly command: command.remote.Command;
    /** For a SystemdService's `after`/`requires`/`wants`: the server's unit (and pgbouncer's, with a pooler). */
    readonly dependency: ServiceDependency;

    constructor(name: string, args: PostgresDbArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const r = check(() => resolvePostgresDbArgs(args));
        const { spec } = r;
        const db = spec.db;
        // The one resource that owns the role, the database and their access entries on the host (core/owner.ts).
        const mark = ownerMark(DATABASE_TYPE, name, opts, args.adopt);
        // A renamed parent's child was named after the old name: its mark follows the parent's aliases.
        const tablespaceAliases = childAliases(opts, "-tablespace");
        claimOnHost(r.host, `postgres database ${spec.port}/${db.database}`, mark, "database", db.database);
        claimOnHost(r.host, `postgres role ${spec.port}/${db.user}`, mark, "user", db.user);
        claimOnHost(r.host, `pg_hba fragment ${spec.port}/${db.database}`, mark, "database", db.database);
        if (spec.pooler) {
            claimOnHost(r.host, `pgbouncer database ${db.database}`, mark, "database", db.database);
            claimOnHost(r.host, `pgbouncer user ${db.user}`, mark, "user", db.user);
        }
        // The server's port (every PostgresDb of one cluster declares the same listener) and pgbouncer's, in the host's
        // listener registry: another listener on either port of an overlapping address is refused before anything runs.
        const { version, cluster } = r.host.facts.postgresql;
        listenOnHost(r.host, { protocol: "tcp", port: spec.port, listener: `postgresql@${version}-${cluster}`, scope: "local" }, mark, "port", spec.port);
        if (spec.pooler) {
            const at = spec.pooler.listenAddress;
            // The registry reads `*`, 0.0.0.0 and :: as every address and compares the rest in canonical form.
            listenOnHost(r.host, {
                protocol: "tcp",
                port: spec.pooler.port,
                address: at,
                listener: "pgbouncer",
                scope: LOOPBACK.includes(at) ? "loopback" : "local",
            }, mark, "pooler.port", spec.pooler.port);
        }
        rehearseChildren(`${DATABASE_TYPE} '${name}'`, () => r.dataset && new ZfsDataset(`${name}-tablespace`, r.dataset.args), ["tablespace"]);
        rehearsalPoint();
        super(DATABASE_TYPE, name, {
            host: r.host.name,
            database: db.database,
            user: db.user,
            port: spec.port,
            extensions: db.extensions,
            schemas: db.schemas,
            grants: db.grants,
            clients: spec.clients,
            authMethod: "scram-sha-256",
            pooler: spec.pooler,
            tablespaceDataset: spec.tablespaceDataset,
            passwordVersion: r.passwordVersion,
            adopt: db.adopt,
            destroyOnDelete: spec.destroyOnDelete,
        } satisfies DatabaseProps, opts);

        if (r.dataset) this.dataset = declaredUnder(["tablespace"], () => new ZfsDataset(`${name}-tablespace`, r.dataset!.args, { parent: this, aliases: tablespaceAliases }));
        const password = new random.RandomPassword(
            `${name}-password`,
            // Letters and digits only: the password goes into URIs and pgbouncer's quoted userlist unescaped.
            { length: 32, special: false, minLower: 1, minUpper: 1, minNumeric: 1, keepers: { version: String(r.passwordVersion) } },
            { parent: this },
        );
        const rendered = renderScripts(spec, mark);
        const stdin = pulumi.secret(password.result.apply((pw) => convergeStdin(rendered, spec, scramVerifier(pw, db.user))));
        this.command = remoteScript(
            `${name}-database`,
            {
                host: r.host, script: rendered.script, stdin, deleteScript: rendered.deleteScript, hash: rendered.hash, check: rendered.check,
                // The database leaves its tablespace before the dataset under it is released or destroyed.
                deleteBefore: this.dataset ? [this.dataset.lifecycle] : [],
            },
            { parent: this, dependsOn: this.dataset ? [this.dataset.command] : [] },
        ).converge;

        this.dependency = {
            label: `PostgresDb '${name}'`,
            host: r.host,
            units: [`postgresql@${version}-${cluster}.service`, ...(spec.pooler ? ["pgbouncer.service"] : [])],
            mounts: [],
            files: [],
            resources: [this.command],
        };
        // Every output waits for the converge command, so a consumer never gets credentials for a role not yet there.
        const done = this.command.stdout;
        this.host = pulumi.all([r.address, done]).apply(([a]) => a);
        this.port = done.apply(() => spec.port);
        this.database = done.apply(() => db.database);
        this.user = done.apply(() => db.user);
        this.password = pulumi.secret(pulumi.all([password.result, done]).apply(([pw]) => pw));
        this.uri = pulumi.secret(pulumi.all([r.address, password.result, done]).apply(([a, pw]) => postgresUri(a, spec.port, db.database, db.user, pw)));
        const pooler = spec.pooler;
        this.pooledUri = pooler
            ? pulumi.secret(pulumi.all([r.address, password.result, done]).apply(([a, pw]) => {
                const h = LOOPBACK.includes(pooler.listenAddress) ? pooler.listenAddress : a;
                return postgresUri(h, pooler.port, db.database, db.user, pw);
            }))
            : pulumi.output(undefined);
        this.registerOutputs({
            host: this.host, port: this.port, database: this.database, user: this.user,
            password: this.password, uri: this.uri, pooledUri: this.pooledUri,
        });
    }
}
