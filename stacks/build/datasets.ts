// ZFS datasets from the site config: the config schema ran the component's own rules; what needs the Host (its
// facts) runs here, before any component is constructed.
import { checkZfsHostFacts, Host, ZfsDatasetArgs } from "../../components";
import { DatasetConfig } from "../config/datasets";
import { ProblemCollector } from "../config/problems";

export type Planned<A> = [name: string, args: A];

export function planDatasets(items: readonly DatasetConfig[], hosts: Map<string, Host>, problems: ProblemCollector): Planned<ZfsDatasetArgs>[] {
    const out: Planned<ZfsDatasetArgs>[] = [];
    items.forEach((d, i) => {
        const host = hosts.get(d.host);
        if (!host) return;
        const { name, host: _h, dependsOn: _d, ...rest } = d;
        const ok = problems.run(`hearth:datasets[${i}]`, () => {
            checkZfsHostFacts(host, rest);
            return true;
        });
        if (ok) out.push([name, { ...rest, host }]);
    });
    return out;
}
