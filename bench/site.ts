// The desired state both benchmarks declare: N hardened services, two ZFS datasets and a database with its role.
import * as pulumi from "@pulumi/pulumi";
import type { Host } from "../components/host";
import type { SystemdServiceArgs } from "../components/systemd";
import type { ZfsDatasetArgs } from "../components/zfs";
import type { PostgresDbArgs } from "../components/postgres";

/** What a phase of a benchmark changes relative to the base state. */
export interface SiteChanges {
    /** `MemoryMax=` of these services (by index, from 1), in MiB. */
    readonly memoryMiB?: Readonly<Record<number, number>>;
    /** Quota of the first dataset, in MiB. */
    readonly datasetQuotaMiB?: number;
    /** The database's connection limit. */
    readonly connectionLimit?: number;
}

export interface SiteSpec {
    /** Services go to these hosts in turn; datasets and the database to the first. */
    readonly hosts: readonly Host[];
    readonly services: number;
    /** Where PostgreSQL accepts the database's role over TCP. */
    readonly dbClient: string;
    /** Mix in credentials, timers and socket activation (the plan benchmark), not only plain services. */
    readonly variety?: boolean;
    readonly changes?: SiteChanges;
}

export const BASE_MEMORY_MIB = 64;
export const BASE_QUOTA_MIB = 256;
export const DB = { database: "benchdb", user: "benchapp" } as const;
export const DATASETS = [
    { dataset: "tank/bench-files", mountpoint: "/srv/bench-files", compression: "gzip", recordsizeKiB: 128 },
    { dataset: "tank/bench-logs", mountpoint: "/srv/bench-logs", compression: "lzjb", recordsizeKiB: 16 },
] as const;

export function serviceName(i: number): string {
    return `bench-app-${String(i).padStart(2, "0")}`;
}

export function servicePort(i: number): number {
    return 8000 + i;
}

/** Service `i` (from 1): a static file server on loopback, as locked down as hearth makes it by default. */
export function serviceArgs(i: number, spec: SiteSpec): SystemdServiceArgs {
    const name = serviceName(i);
    const host = spec.hosts[(i - 1) % spec.hosts.length];
    const base: SystemdServiceArgs = {
        host,
        description: `hearth bench app ${i}: a static file server on 127.0.0.1:${servicePort(i)}`,
        execStart: ["/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", `/var/lib/${name}`, String(servicePort(i))],
        stateDirectory: name,
        network: "local",
        listenPorts: [servicePort(i)],
        memoryMaxMiB: spec.changes?.memoryMiB?.[i] ?? BASE_MEMORY_MIB,
        tasksMax: 16,
    };
    if (!spec.variety) return base;
    // One in ten reads a secret, one in seven is a timer job, one in eleven is socket-activated: the shapes a site has.
    if (i % 10 === 0) return { ...base, credentials: { token: pulumi.secret(`bench-token-${i}`) } };
    if (i % 7 === 0) return { ...base, listenPorts: [], network: "none", execStart: ["/usr/bin/true"], timer: { onCalendar: "daily" } };
    if (i % 11 === 0) return { ...base, listenPorts: [], network: "none", socket: { listenStream: 9000 + i, idleStopSec: 60, targetPort: servicePort(i) } };
    return base;
}

export function datasetArgs(k: number, spec: SiteSpec): ZfsDatasetArgs {
    const d = DATASETS[k];
    return {
        host: spec.hosts[0],
        ...d,
        atime: false,
        quotaMiB: k === 0 ? spec.changes?.datasetQuotaMiB ?? BASE_QUOTA_MIB : BASE_QUOTA_MIB,
        userProperties: { "org.example:owner": "bench" },
    };
}

export function databaseArgs(spec: SiteSpec): PostgresDbArgs {
    return {
        host: spec.hosts[0],
        database: DB.database,
        user: DB.user,
        clients: [spec.dbClient],
        ...(spec.changes?.connectionLimit !== undefined ? { connectionLimit: spec.changes.connectionLimit } : {}),
    };
}

/**
 * Declares the site. The component modules are loaded here, not at the top of the file, so the plan benchmark can
 * time importing them apart from running the program.
 */
export function declareSite(spec: SiteSpec): { readonly database: import("../components/postgres").PostgresDb } {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { SystemdService } = require("../components/systemd") as typeof import("../components/systemd");
    const { ZfsDataset } = require("../components/zfs") as typeof import("../components/zfs");
    const { PostgresDb } = require("../components/postgres") as typeof import("../components/postgres");
    /* eslint-enable @typescript-eslint/no-require-imports */
    for (let i = 1; i <= spec.services; i++) new SystemdService(serviceName(i), serviceArgs(i, spec));
    DATASETS.forEach((d, k) => new ZfsDataset(d.dataset.replace(/^tank\//, ""), datasetArgs(k, spec)));
    return { database: new PostgresDb(DB.database, databaseArgs(spec)) };
}
