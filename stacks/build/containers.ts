// nspawn containers from the site config.
import { NspawnContainer, Host, NspawnContainerArgs, resolveContainerArgs } from "../../components";
import { ContainerConfig } from "../config/containers";
import { ProblemCollector } from "../config/problems";
import { SecretSource } from "./hosts";

export interface PlannedContainer {
    readonly name: string;
    readonly args: NspawnContainerArgs;
    /** Addresses without their prefix length, for DNS records. */
    readonly ips: string[];
}

/**
 * The config schema has run every argument rule of the component on each entry; what is left needs the Host: a ZFS
 * clone needs a host whose facts say zfs (the component's resolver checks it, with the ZfsDataset's own rules).
 */
export function planContainers(items: readonly ContainerConfig[], hosts: Map<string, Host>, secret: SecretSource, problems: ProblemCollector): PlannedContainer[] {
    const out: PlannedContainer[] = [];
    items.forEach((c, i) => {
        const host = hosts.get(c.host);
        if (!host) return;
        const { name, host: _h, ssh, ...rest } = c;
        const args: NspawnContainerArgs = { ...rest, host, ssh: { authorizedKey: ssh.authorizedKey, privateKey: secret(ssh.privateKey) } };
        if ("zfs" in c.rootfs && problems.run(`hearth:containers[${i}]`, () => resolveContainerArgs(name, args)) === undefined) return;
        out.push({ name, args, ips: c.addresses.map((a) => a.split("/")[0]) });
    });
    return out;
}

export function createContainers(planned: readonly PlannedContainer[]): Map<string, NspawnContainer> {
    return new Map(planned.map((c) => [c.name, new NspawnContainer(c.name, c.args)]));
}
