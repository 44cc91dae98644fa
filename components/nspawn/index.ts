// NspawnContainer: a systemd-nspawn machine on a ZFS clone or a directory, with private users and network, that is itself a Host.
import type { ContainerProps } from "../core/props";
import { rehearsalPoint, rehearseChildren, declaredUnder } from "../core/owner";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { Host, remoteScript } from "../host";
import { childAliases, claimOnHost, claimUnlessUsedOnHost, dropInObject, dropInTargetObject, ownerMark, unitObject } from "../ownership";
import { NSPAWN_HOST_KEY } from "../core/protocols";
import { contentHash, frameStdin } from "../shell";
import { CONTAINER_TYPE } from "../tokens";
import { ZfsDataset, ZfsDatasetArgs } from "../zfs";
import { check } from "../validate";
import { NspawnBindMount, NspawnCapability, NspawnContainerArgs, ResolvedContainer, resolveContainerArgs } from "./args";
import { dropInPath, MACHINES_DIR, renderCheck, renderConverge, renderDelete } from "./render";

export { NspawnContainerArgs, NspawnBindMount, NspawnCapability, resolveContainerArgs };
export { checkNspawnContainer, nspawnContainerFields, nspawnContainerShape, NspawnContainerArgsSchema, nspawnSshSchema } from "./schema";

/** The rootfs clone's dataset arguments (the child `<name>-rootfs`). */
function rootfsArgs(r: ResolvedContainer, spec: ResolvedContainer["spec"], args: NspawnContainerArgs): ZfsDatasetArgs {
    return {
        host: r.host,
        dataset: r.zfs!.dataset,
        origin: r.zfs!.origin,
        mountpoint: `${MACHINES_DIR}/${spec.machine}`,
        destroyOnDelete: spec.destroyOnDelete,
        ...(args.adopt !== undefined ? { adopt: args.adopt } : {}),
    };
}

export class NspawnContainer extends pulumi.ComponentResource {
    /** The machine name (`machinectl`, `systemd-nspawn@<machine>.service`). */
    readonly machine: string;
    /** Where the container's SSH answers (its first address, without prefix). */
    readonly address: string;
    /** The container's own SSH host key, made on its host for this clone (`ssh-ed25519 AAAA…`). */
    readonly hostKey: pulumi.Output<string>;
    /** The container as a Host: give it to other components (a SystemdService inside it). Usable once it runs. */
    readonly host: Host;
    /** The root filesystem dataset, when cloned from a ZFS snapshot. */
    readonly dataset?: ZfsDataset;
    /** The command that converges and starts the container. */
    readonly command: command.remote.Command;

    constructor(name: string, args: NspawnContainerArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const r = check(() => resolveContainerArgs(name, args));
        const { spec } = r;
        const mark = ownerMark(CONTAINER_TYPE, name, opts, args.adopt);
        // A renamed parent's child was named after the old name: its mark follows the parent's aliases.
        const rootfsAliases = childAliases(opts, "-rootfs");
        claimOnHost(r.host, `machine ${spec.machine}`, mark, "machine", spec.machine);
        // Its unit and the drop-in it writes on it are the container's, claimed by the names a SystemdService uses: a
        // service's drop-in over the unit (its limits, its hardening) is refused, and so is one there before it.
        const unit = `systemd-nspawn@${spec.machine}.service`;
        claimUnlessUsedOnHost(r.host, unitObject(unit), dropInTargetObject(unit), mark, "machine", spec.machine, (by) =>
            `a machine whose unit no other resource on this host puts a drop-in on (systemd unit ${unit} has a drop-in of ${by}, which would change the container's)`);
        claimOnHost(r.host, dropInObject(dropInPath(spec.machine)), mark, "machine", spec.machine);
        rehearseChildren(`${CONTAINER_TYPE} '${name}'`, () => r.zfs && new ZfsDataset(`${name}-rootfs`, rootfsArgs(r, spec, args)), ["rootfs", "zfs"]);
        rehearsalPoint();
        super(CONTAINER_TYPE, name, {
            host: r.host.name,
            machine: spec.machine,
            rootfs: spec.rootfs,
            network: spec.network,
            addresses: spec.addresses,
            binds: spec.binds,
            capabilities: spec.capabilities,
            limits: { memoryMaxMiB: spec.memoryMaxMiB, cpuQuotaPercent: spec.cpuQuotaPercent, tasksMax: spec.tasksMax },
            ephemeral: spec.ephemeral,
            destroyOnDelete: spec.destroyOnDelete,
            owner: mark.id,
        } satisfies ContainerProps, opts);
        this.machine = spec.machine;
        this.address = r.sshAddress;

        if (r.zfs) {
            this.dataset = declaredUnder(["rootfs", "zfs"], () => new ZfsDataset(`${name}-rootfs`, rootfsArgs(r, spec, args), { parent: this, aliases: rootfsAliases }));
        }
        const converge = renderConverge(spec, mark);
        this.command = remoteScript(`${name}-container`, {
            host: r.host,
            script: converge.script,
            stdin: frameStdin(converge.files.map((f) => f.content)),
            deleteScript: renderDelete(spec, mark),
            hash: contentHash(converge.script, ...converge.files.map((f) => `${f.path}\0${f.content}`)),
            check: renderCheck(spec),
            // The container stops before its dataset is destroyed.
            deleteBefore: this.dataset ? [this.dataset] : [],
        }, { parent: this, dependsOn: this.dataset ? [this.dataset] : [] }).converge;

        this.hostKey = this.command.stdout.apply((out) => {
            const k = NSPAWN_HOST_KEY.parse(out);
            if (!k) throw new pulumi.ResourceError(`container ${spec.machine} on ${r.host.name} reported no SSH host key (stdout: ${JSON.stringify(out.slice(-300))}).`, this);
            return k;
        });
        const parent = r.host.connection;
        this.host = new Host({
            name: spec.machine,
            // Through the command's output, so whatever targets this Host waits until the container runs.
            address: this.command.stdout.apply(() => r.sshAddress),
            privateKey: r.privateKey,
            hostKey: this.hostKey,
            ...(r.sshViaHost ? {
                proxy: {
                    address: parent.host,
                    port: r.host.port,
                    user: r.host.user,
                    privateKey: pulumi.secret(pulumi.output(parent.privateKey).apply((k) => k ?? "")),
                    hostKey: r.host.hostKey,
                },
            } : {}),
        });
        this.registerOutputs({ machine: this.machine, address: this.address, hostKey: this.hostKey });
    }
}

