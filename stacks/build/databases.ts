// PostgreSQL databases from the site config.
import { Host, PostgresDbArgs, resolvePostgresDbArgs } from "../../components";
import { DatabaseConfig } from "../config/databases";
import { ProblemCollector } from "../config/problems";

import { Planned } from "./datasets";

/**
 * The config schema already ran PostgresDb's rules; only a tablespace needs more, the host's facts (zfs, its
 * compression features, native encryption), so only then does the resolver run here, its problems at the key path.
 */
export function planDatabases(items: readonly DatabaseConfig[], hosts: Map<string, Host>, problems: ProblemCollector): Planned<PostgresDbArgs>[] {
    const out: Planned<PostgresDbArgs>[] = [];
    items.forEach((d, i) => {
        const host = hosts.get(d.host);
        if (!host) return;
        const { name, host: _h, dependsOn: _d, ...rest } = d;
        const args: PostgresDbArgs = { ...rest, host };
        if (args.tablespace === undefined || problems.run(`hearth:databases[${i}]`, () => resolvePostgresDbArgs(args))) out.push([name, args]);
    });
    return out;
}
