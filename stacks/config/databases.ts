// Site config for PostgreSQL databases (PostgresDbArgs).
import { z } from "zod";
import { SCHEMA_PRIVILEGES, TABLE_PRIVILEGES } from "../../components/postgres/sql";
import { bool, int, label, list, oneOf, reason, record } from "./fields";
import { hostPathField } from "./rules";

/**
 * Rules the component owns in full (dataset names, CIDRs, SQL names) are left to it; its errors come back at the key
 * path. Host paths are checked here too, by the same core rule the component uses.
 */
const text = (allowed: string) => z.string({ error: () => allowed });
import { datasetFields } from "./datasets";

const cidrClient = z.union([text("a CIDR network"), record({ cidr: text("a CIDR network"), ssl: bool().optional() }, "a client")], {
    error: () => "a CIDR network, or { cidr, ssl }",
});

export const databaseSchema = record(
    {
        name: label(),
        host: label("the name of a host in hearth:hosts"),
        database: text("a lowercase SQL name"),
        user: text("a lowercase SQL name").optional(),
        port: int(1, 65535).optional(),
        socketDir: hostPathField().optional(),
        address: text("the address clients use").optional(),
        extensions: list(text("an extension name"), "a list of extension names", 64).optional(),
        untrustedLanguages: list(record({ name: text("an extension name"), reason: reason() }, "an untrusted language opt-in"), "a list of { name, reason }", 16).optional(),
        schemas: list(text("a lowercase SQL name"), "a list of schema names", 64).optional(),
        grants: list(
            record(
                {
                    role: text("a role name"),
                    schema: text("a schema name").optional(),
                    privileges: list(oneOf(SCHEMA_PRIVILEGES), "a list of schema privileges", 4).optional(),
                    tables: list(oneOf(TABLE_PRIVILEGES), "a list of table privileges", 8).optional(),
                },
                "a grant",
            ),
            "a list of grants",
            64,
        ).optional(),
        clients: list(cidrClient, "a list of client networks", 64).optional(),
        passwordVersion: int(1, 1_000_000).optional(),
        connectionLimit: int(1, 100_000).optional(),
        tablespace: record(datasetFields, "a tablespace dataset").optional(),
        pooler: record({ port: int(1, 65535).optional(), listenAddress: text("an IP address or '*'").optional(), poolMode: oneOf(["session", "transaction"]).optional() }, "a pooler").optional(),
        adopt: bool().optional(),
        destroyOnDelete: bool().optional(),
        dumpDir: hostPathField({ notSystemTree: true }).optional(),
    },
    "a database",
);
export type DatabaseConfig = z.infer<typeof databaseSchema>;
export const databasesSchema = list(databaseSchema, "a list of databases", 500);
