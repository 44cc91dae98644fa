// Datasets, databases and containers from the site config: args checked by each component's resolver first, created after.
import * as pulumi from "@pulumi/pulumi";
import {
    Host,
    NspawnContainer,
    NspawnContainerArgs,
    PostgresDb,
    PostgresDbArgs,
    resolveContainerArgs,
    resolvePostgresDbArgs,
    resolveZfsDatasetArgs,
    ZfsDataset,
    ZfsDatasetArgs,
} from "../../components";
import { ContainerConfig, DatabaseConfig, DatasetConfig } from "../config/storage";
import { ProblemCollector } from "../config/remap";
import { SecretSource } from "./hosts";

type Planned<A> = [name: string, args: A];

export function planDatasets(items: readonly DatasetConfig[], hosts: Map<string, Host>, problems: ProblemCollector): Planned<ZfsDatasetArgs>[] {
    const out: Planned<ZfsDatasetArgs>[] = [];
    items.forEach((d, i) => {
        const host = hosts.get(d.host);
        if (!host) return;
        const { name, host: _h, ...rest } = d;
        const args: ZfsDatasetArgs = { ...rest, host };
        if (problems.run(`hearth:datasets[${i}]`, () => resolveZfsDatasetArgs(args))) out.push([name, args]);
    });
    return out;
}

export function planDatabases(items: readonly DatabaseConfig[], hosts: Map<string, Host>, problems: ProblemCollector): Planned<PostgresDbArgs>[] {
    const out: Planned<PostgresDbArgs>[] = [];
    items.forEach((d, i) => {
        const host = hosts.get(d.host);
        if (!host) return;
        const { name, host: _h, ...rest } = d;
        const args: PostgresDbArgs = { ...rest, host };
        if (problems.run(`hearth:databases[${i}]`, () => resolvePostgresDbArgs(args))) out.push([name, args]);
    });
    return out;
}

export interface PlannedContainer {
    readonly name: string;
    readonly args: NspawnContainerArgs;
    /** Stands in for the container's own Host while the site is checked (resolvers only need a Host); no resource. */
    readonly standIn: Host;
    /** Addresses without their prefix length, for DNS records. */
    readonly ips: string[];
}

export function planContainers(items: readonly ContainerConfig[], hosts: Map<string, Host>, secret: SecretSource, problems: ProblemCollector): PlannedContainer[] {
    const out: PlannedContainer[] = [];
    items.forEach((c, i) => {
        const host = hosts.get(c.host);
        if (!host) return;
        const { name, host: _h, ssh, ...rest } = c;
        const args: NspawnContainerArgs = { ...rest, host, ssh: { authorizedKey: ssh.authorizedKey, privateKey: secret(ssh.privateKey) } };
        const r = problems.run(`hearth:containers[${i}]`, () => resolveContainerArgs(name, args));
        if (!r) return;
        // Used only to check the services placed in the container; it never connects. The container's host key exists
        // only once it has booted, so it is an unknown here.
        const standIn = new Host({ name: r.spec.machine, address: r.sshAddress, privateKey: r.privateKey, hostKey: pulumi.output(pulumi.unknown as unknown as string) });
        out.push({ name, args, standIn, ips: r.spec.addresses.map((a) => a.split("/")[0]) });
    });
    return out;
}

export interface Storage {
    readonly datasets: Map<string, ZfsDataset>;
    readonly databases: Map<string, PostgresDb>;
}

export function createStorage(datasets: readonly Planned<ZfsDatasetArgs>[], databases: readonly Planned<PostgresDbArgs>[]): Storage {
    return {
        datasets: new Map(datasets.map(([name, args]) => [name, new ZfsDataset(name, args)])),
        databases: new Map(databases.map(([name, args]) => [name, new PostgresDb(name, args)])),
    };
}

export function createContainers(planned: readonly PlannedContainer[]): Map<string, NspawnContainer> {
    return new Map(planned.map((c) => [c.name, new NspawnContainer(c.name, c.args)]));
}

/** Database connection details for the stack outputs; the URIs carry the password and stay secret. */
export function databaseOutputs(dbs: Map<string, PostgresDb>): Record<string, Record<string, pulumi.Output<unknown>>> {
    return Object.fromEntries([...dbs].map(([name, db]) => [name, { host: db.host, port: db.port, database: db.database, user: db.user, uri: db.uri, pooledUri: db.pooledUri }]));
}
