// Datasets and databases created from what was planned; connection details for the stack outputs.
import * as pulumi from "@pulumi/pulumi";
import {
    PostgresDb,
    PostgresDbArgs,
    ZfsDataset,
    ZfsDatasetArgs,
} from "../../components";
import { Planned } from "./datasets";

export interface Storage {
    readonly datasets: Map<string, ZfsDataset>;
    readonly databases: Map<string, PostgresDb>;
}

export function createStorage(
    datasets: readonly Planned<ZfsDatasetArgs>[],
    databases: readonly Planned<PostgresDbArgs>[],
    optsFor: (kind: "dataset" | "database", name: string) => pulumi.ComponentResourceOptions = () => ({}),
): Storage {
    return {
        datasets: new Map(datasets.map(([name, args]) => [name, new ZfsDataset(name, args, optsFor("dataset", name))])),
        databases: new Map(databases.map(([name, args]) => [name, new PostgresDb(name, args, optsFor("database", name))])),
    };
}

/** Database connection details for the stack outputs; the URIs carry the password and stay secret. */
export function databaseOutputs(dbs: Map<string, PostgresDb>): Record<string, Record<string, pulumi.Output<unknown>>> {
    return Object.fromEntries([...dbs].map(([name, db]) => [name, { host: db.host, port: db.port, database: db.database, user: db.user, uri: db.uri, pooledUri: db.pooledUri }]));
}
