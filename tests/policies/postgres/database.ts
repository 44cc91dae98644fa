// A real PostgresDb under the mocks, for the postgres policy specs: its recorded props and its converge command.
import type { ResourceValidationArgs } from "@pulumi/policy";
import { PostgresDb, PostgresDbArgs } from "../../../components/postgres";
import { declare, fixtureHost } from "../fixtures";

/** Where the database's pg_hba fragment lands. */
export const HBA = "/etc/hearth/postgres/5432/hba.d/app.db.conf";

export async function database(extra: Partial<PostgresDbArgs> = {}): Promise<{ props: ResourceValidationArgs; converge: ResourceValidationArgs; lifecycle: ResourceValidationArgs }> {
    const d = await declare(() => new PostgresDb("db", { host: fixtureHost(), database: "app", user: "app", clients: ["10.0.0.0/8"], ...extra } as PostgresDbArgs));
    return { props: d.args("db"), converge: d.args("db-database"), lifecycle: d.args("db-database-lifecycle") };
}
