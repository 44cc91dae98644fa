// ZFS datasets from the site config.
import {
    Host,
    resolveZfsDatasetArgs,
    ZfsDatasetArgs,
} from "../../components";
import { DatasetConfig } from "../config/datasets";
import { ProblemCollector } from "../config/problems";

export type Planned<A> = [name: string, args: A];

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
