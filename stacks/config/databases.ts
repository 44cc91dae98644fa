// Site config for PostgreSQL databases: PostgresDb's own schema, with the host named and a plain address.
import { z } from "zod";
import { checkPostgresDb, postgresDbShape, rules } from "../../components";
import { label, list, record } from "./fields";
import { dependsOnField } from "./services";

/** A PostgresDb entry: the component's arguments and rules; `host` is the name of an entry in hearth:hosts. */
export const databaseSchema = record(
    {
        name: label(),
        ...postgresDbShape,
        host: label("the name of a host in hearth:hosts"),
        // A config value is never an Output: only the plain half of the component's `pulumi.Input`.
        address: rules.hostAddress().optional().describe(postgresDbShape.address.description ?? ""),
        dependsOn: dependsOnField(),
    },
    "a database",
).superRefine(checkPostgresDb);
export type DatabaseConfig = z.infer<typeof databaseSchema>;
export const databasesSchema = list(databaseSchema, "a list of databases", 500);
