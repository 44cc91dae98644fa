// nspawn containers from the site config.
import * as pulumi from "@pulumi/pulumi";
import {
    NspawnContainer,
    Host,
    NspawnContainerArgs,
    resolveContainerArgs,
} from "../../components";
import { ContainerConfig } from "../config/containers";
import { ProblemCollector } from "../config/problems";
import { SecretSource } from "./hosts";

export interface PlannedContainer {
    readonly name: string;
    readonly args: NspawnContainerArgs;
    /** Stands in for the container's own Host while the site is checked (resolvers only need a Host); no resource. */
    readonly standIn: Host;
    /** Addresses without their prefix length, for DNS records. */
    readonly ips: string[];
}

export function planContainers(items: readonly ContainerConfig[], hosts: Map<string, Host>, secret: SecretSource, problems: ProblemCollector): PlannedContainer[] {
    const out: PlannedContainer[] = [];
    items.forEach((c, i) => {
        const host = hosts.get(c.host);
        if (!host) return;
        const { name, host: _h, ssh, ...rest } = c;
        const args: NspawnContainerArgs = { ...rest, host, ssh: { authorizedKey: ssh.authorizedKey, privateKey: secret(ssh.privateKey) } };
        const r = problems.run(`hearth:containers[${i}]`, () => resolveContainerArgs(name, args));
        if (!r) return;
        // Used only to check the services placed in the container; it never connects. The container's host key exists
        // only once it has booted, so it is an unknown here.
        const standIn = new Host({ name: r.spec.machine, address: r.sshAddress, privateKey: r.privateKey, hostKey: pulumi.output(pulumi.unknown as unknown as string) });
        out.push({ name, args, standIn, ips: r.spec.addresses.map((a) => a.split("/")[0]) });
    });
    return out;
}

export function createContainers(planned: readonly PlannedContainer[]): Map<string, NspawnContainer> {
    return new Map(planned.map((c) => [c.name, new NspawnContainer(c.name, c.args)]));
}
