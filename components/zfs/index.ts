// ZfsDataset: a hearth-owned ZFS dataset created, adopted, renamed or cloned in place, with scheduled snapshots.
import type { DatasetProps } from "../core/props";
import { rehearsalPoint, rehearseChildren, declaredUnder } from "../core/owner";
import * as pulumi from "@pulumi/pulumi";
import type { ServiceDependency } from "../refs";
import * as command from "@pulumi/command";
import { Host, remoteScript } from "../host";
import { claimOnHost, ownerMark } from "../ownership";
import { ZFS_MOUNTPOINT } from "../core/protocols";
import { contentHash } from "../shell";
import { SystemdService, SystemdServiceArgs, resolveServiceArgs } from "../systemd";
import { DATASET_TYPE } from "../tokens";
import { check } from "../validate";
import { ResolvedDataset, ZfsDatasetArgs, ZfsSnapshotPolicy, checkZfsHostFacts, resolveZfsDatasetArgs } from "./args";
import { renderDataset } from "./render";
import { SnapshotSchedule, autosnapArgs } from "./snapshots";

export { ZfsDatasetArgs, ZfsSnapshotPolicy, checkZfsHostFacts, resolveZfsDatasetArgs, ResolvedDataset };
export { DATASET_NAME, LEGACY_PROP, MANAGED_PROP, OWNER_PROP, PROPS_PROP, renderDataset, DatasetSpec } from "./render";
export { AUTOSNAP_TOOL, SnapshotEvery, SnapshotSchedule } from "./snapshots";
export {
    ZfsDatasetArgsSchema,
    zfsDatasetShape,
    zfsDatasetFields,
    zfsSnapshotPolicySchema,
    checkZfsDataset,
    ZfsDatasetFieldValues,
    datasetName,
    snapshotName,
    isSnapshotName,
} from "./schema";

/** A unit name for a dataset's snapshot timer: readable, and unique per dataset through a hash suffix. */
export function snapshotUnitName(dataset: string): string {
    const slug = dataset.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 36).replace(/-+$/, "");
    return `zfs-snapshot-${slug}-${contentHash(dataset).slice(0, 8)}`;
}

/** The hardened timer job that takes and prunes a dataset's scheduled snapshots. */
export function snapshotServiceArgs(host: Host, dataset: string, schedule: SnapshotSchedule): SystemdServiceArgs {
    return {
        host,
        unitName: snapshotUnitName(dataset),
        description: `hearth scheduled snapshots of ZFS dataset ${dataset}`,
        execStart: autosnapArgs(dataset, schedule),
        runAsRoot: { reason: "ZFS snapshot and destroy are root-only (the zfs ioctls, or the zfs-fuse socket)" },
        network: "none",
        timer: { onCalendar: schedule.every, persistent: true },
        loosen: {
            privateDevices: { reason: "the zfs command reaches the kernel module through /dev/zfs" },
            capabilities: { caps: ["CAP_SYS_ADMIN"], reason: "ZFS checks CAP_SYS_ADMIN before it takes or destroys a snapshot" },
            procSubset: { reason: "zfs (zfs-fuse's in particular) reads /proc/mounts, which ProcSubset=pid hides" },
        },
    };
}

/** The mountpoint the converge script reports (`hearth: mountpoint=…`), if it ran. */
export function reportedMountpoint(stdout: string | undefined): string | undefined {
    return ZFS_MOUNTPOINT.parse(stdout);
}

export class ZfsDataset extends pulumi.ComponentResource {
    /** The dataset's full name (`pool/path`), known once it exists. */
    readonly name: pulumi.Output<string>;
    /** Where the dataset is mounted, as the host reports it (`none`/`legacy` when not mounted by ZFS). */
    readonly mountpoint: pulumi.Output<string>;
    /** Content hash of what hearth converges the dataset to. */
    readonly hash: pulumi.Output<string>;
    /** The command that converges the dataset; depend on it to run after the dataset exists. */
    readonly command: command.remote.Command;
    /** The command whose delete keeps (or destroys) the dataset; depend on it to be deleted before the dataset is. */
    readonly lifecycle: command.remote.Command;
    /** The timer job taking scheduled snapshots, when `snapshots` is set. */
    readonly snapshotService?: SystemdService;
    /** For a SystemdService's `after`/`requires`/`wants`: the mountpoint must be mounted first (`RequiresMountsFor=`). */
    readonly dependency: ServiceDependency;

    constructor(name: string, args: ZfsDatasetArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const r = check(() => resolveZfsDatasetArgs(args));
        const { spec } = r;
        const svcArgs = r.snapshots ? snapshotServiceArgs(r.host, spec.dataset, r.snapshots) : undefined;
        // The timer's own checks run now too, so nothing registers if they would fail.
        if (svcArgs) check(() => resolveServiceArgs(`${name}-snapshots`, svcArgs));
        // One resource per dataset on a host: a second one naming it (or a previous name of it) is refused now.
        const mark = ownerMark(DATASET_TYPE, name, opts, spec.adopt);
        claimOnHost(r.host, `dataset ${spec.dataset}`, mark, "dataset", spec.dataset);
        spec.previousNames.forEach((p, i) => claimOnHost(r.host, `dataset ${p}`, mark, `previousNames[${i}]`, p));
        // One dataset per mountpoint on a host: the second one mounted there would hide the first. `none` and `legacy`
        // are not places, and a dataset that never mounts (canmount off) only passes its mountpoint to its children.
        const mountpoint = spec.properties.mountpoint;
        if (mountpoint?.startsWith("/") && spec.properties.canmount !== "off") claimOnHost(r.host, `mountpoint ${mountpoint}`, mark, "mountpoint", mountpoint);
        rehearseChildren(`${DATASET_TYPE} '${name}'`, () => svcArgs && new SystemdService(`${name}-snapshots`, { ...svcArgs, ...(spec.adopt ? { adopt: true } : {}) }), ["snapshots"]);
        rehearsalPoint();
        super(DATASET_TYPE, name, {
            host: r.host.name,
            dataset: spec.dataset,
            properties: spec.properties,
            userProperties: spec.userProperties,
            encryption: spec.encryption,
            adopt: spec.adopt,
            previousNames: spec.previousNames,
            origin: spec.origin,
            snapshots: r.snapshots,
            destroyOnDelete: spec.destroyOnDelete,
            recursive: spec.recursive,
        } satisfies DatasetProps, opts);
        const rendered = renderDataset(spec, mark);
        // The converge command only ever updates in place; the delete (keep, or destroy on opt-in) lives on the
        // lifecycle command, which no replacement can run.
        const cmds = remoteScript(
            `${name}-dataset`,
            { host: r.host, script: rendered.script, stdin: rendered.stdin || undefined, deleteScript: rendered.deleteScript, hash: rendered.hash, check: rendered.check },
            { parent: this },
        );
        this.command = cmds.converge;
        this.lifecycle = cmds.lifecycle!;
        if (svcArgs) {
            // The timer follows the dataset resource's renames: under an alias of this resource, the timer's old
            // name is an alias of the timer (so its ownership mark on the unit files is accepted as its own).
            const aliases = (opts.aliases ?? [])
                .filter((a): a is pulumi.Alias => typeof a === "object" && a !== null && !pulumi.Output.isInstance(a) && typeof (a as pulumi.Alias).name === "string")
                .map((a): pulumi.Alias => ({ ...(a.stack !== undefined ? { stack: a.stack } : {}), ...(a.project !== undefined ? { project: a.project } : {}), name: `${a.name as string}-snapshots` }));
            // Taking a dataset over takes its timer over too (its unit name comes from the dataset's name).
            this.snapshotService = declaredUnder(["snapshots"], () => new SystemdService(`${name}-snapshots`, { ...svcArgs, ...(spec.adopt ? { adopt: true } : {}) },
                { parent: this, dependsOn: [cmds.converge], ...(aliases.length ? { aliases } : {}) }));
        }
        const mounted = r.mountpoint.startsWith("/") ? [r.mountpoint] : [];
        this.dependency = { label: `ZfsDataset '${name}'`, host: r.host, units: [], mounts: mounted, files: [], resources: [cmds.converge] };
        this.name = this.command.stdout.apply(() => spec.dataset);
        this.mountpoint = this.command.stdout.apply((out) => reportedMountpoint(out) ?? r.mountpoint);
        this.hash = pulumi.output(rendered.hash);
        this.registerOutputs({ name: this.name, mountpoint: this.mountpoint, hash: this.hash });
    }
}
