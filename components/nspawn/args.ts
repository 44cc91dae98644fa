// NspawnContainer arguments resolved into a checked ContainerSpec before any resource exists: the schema (schema.ts)
// checks the arguments themselves; what is left here is the machine's default (the resource name), the rootfs clone
// against the host's facts, and the defaults the renderer takes.
import * as pulumi from "@pulumi/pulumi";
import type { Host } from "../host";
import { parseArgs } from "../core/schema";
import { resolveZfsDatasetArgs } from "../zfs";
import { ContainerSpec, MACHINES_DIR } from "./render";
import { NspawnBindMount, NspawnCapability, NspawnContainerArgs, NspawnContainerArgsSchema } from "./schema";

export { NspawnBindMount, NspawnCapability, NspawnContainerArgs };

export interface ResolvedContainer {
    readonly host: Host;
    readonly spec: ContainerSpec;
    readonly zfs?: { readonly origin: string; readonly dataset: string };
    readonly privateKey: pulumi.Output<string>;
    readonly sshViaHost: boolean;
    /** The address SSH answers on (the first address, without its prefix). */
    readonly sshAddress: string;
}

/**
 * Checks every argument (the rootfs clone against the host's facts too) and resolves defaults; throws an ArgumentError
 * naming the first bad argument. `machine` defaults to the resource name, which is checked as the machine.
 */
export function resolveContainerArgs(name: string, args: NspawnContainerArgs): ResolvedContainer {
    const input = args && typeof args === "object" ? { ...args, machine: args.machine === undefined ? name : args.machine } : args;
    const a = parseArgs(NspawnContainerArgsSchema, input);
    const machine = a.machine ?? name;
    const root = `${MACHINES_DIR}/${machine}`;

    let rootfs: ContainerSpec["rootfs"];
    let zfs: ResolvedContainer["zfs"];
    if ("zfs" in a.rootfs) {
        const { origin, dataset } = a.rootfs.zfs;
        // The clone is a ZfsDataset child: everything it would refuse (the host's facts too) is refused here, first.
        resolveZfsDatasetArgs({ host: a.host, dataset, origin, mountpoint: root }, "rootfs.zfs.");
        zfs = { origin, dataset };
        rootfs = { kind: "zfs", dataset };
    } else if ("copyFrom" in a.rootfs) {
        rootfs = { kind: "copy", from: a.rootfs.copyFrom };
    } else {
        rootfs = { kind: "existing" };
    }

    const spec: ContainerSpec = {
        machine,
        hostname: a.hostname ?? machine,
        rootfs,
        network: "bridge" in a.network ? { kind: "bridge", iface: a.network.bridge } : { kind: "macvlan", iface: a.network.macvlan },
        addresses: [...a.addresses],
        gateways: [...(a.gateways ?? [])],
        binds: (a.bindMounts ?? []).map((b) => ({ source: b.source, target: b.target ?? b.source, readWrite: b.readWrite === true })),
        capabilities: (a.capabilities ?? []).map((c) => ({ name: c.name, reason: c.reason })),
        memoryMaxMiB: a.memoryMaxMiB ?? 2048,
        cpuQuotaPercent: a.cpuQuotaPercent,
        tasksMax: a.tasksMax ?? 4096,
        ephemeral: a.ephemeral === true,
        ownership: a.privateUsersOwnership ?? "auto",
        authorizedKey: a.ssh.authorizedKey,
        destroyOnDelete: a.destroyOnDelete === true,
    };
    return { host: a.host, spec, zfs, privateKey: pulumi.secret(a.ssh.privateKey), sshViaHost: a.sshViaHost === true, sshAddress: a.addresses[0].split("/")[0] };
}
