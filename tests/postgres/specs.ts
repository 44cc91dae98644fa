// PostgresSpec fixtures for renderer specs: the defaults resolvePostgresDbArgs gives, overridden per case.
import { DEFAULT_PATHS, PostgresSpec } from "../../components/postgres/render";
import { DbSpec } from "../../components/postgres/sql";

export function pgSpec(over: Omit<Partial<PostgresSpec>, "db"> & { db?: Partial<DbSpec> }): PostgresSpec {
    const { db, ...rest } = over;
    return {
        port: 5432,
        socketDir: "/var/run/postgresql",
        unit: "postgresql@15-main.service",
        clients: [],
        destroyOnDelete: false,
        dumpDir: "/var/backups/hearth/postgres",
        paths: DEFAULT_PATHS,
        ...rest,
        db: { database: "app", user: "app", extensions: [], schemas: [], grants: [], connectionLimit: -1, adopt: false, ...db },
    };
}
