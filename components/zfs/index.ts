// ZfsDataset: a hearth-owned ZFS dataset created, adopted, renamed or cloned in place, with scheduled snapshots.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { remoteScript } from "../host";
import { DATASET_TYPE } from "../tokens";
import { ResolvedDataset, ZfsDatasetArgs, ZfsSnapshotPolicy, resolveZfsDatasetArgs } from "./args";
import { renderDataset } from "./render";

export { ZfsDatasetArgs, ZfsSnapshotPolicy, resolveZfsDatasetArgs, ResolvedDataset };
export { DATASET_NAME, MANAGED_PROP, PROPS_PROP, renderDataset, DatasetSpec } from "./render";
export { AUTOSNAP_TOOL, SnapshotEvery, SnapshotSchedule } from "./snapshots";

/** The mountpoint the converge script reports (`hearth: mountpoint=…`), if it ran. */
export function reportedMountpoint(stdout: string | undefined): string | undefined {
    const m = /^hearth: mountpoint=(.+)$/m.exec(stdout ?? "");
    return m ? m[1] : undefined;
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

    constructor(name: string, args: ZfsDatasetArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const r = resolveZfsDatasetArgs(args);
        const { spec } = r;
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
        }, opts);
        const rendered = renderDataset(spec);
        this.command = remoteScript(
            `${name}-dataset`,
            { host: r.host, script: rendered.script, deleteScript: rendered.deleteScript, hash: rendered.hash },
            { parent: this },
        );
        this.name = this.command.stdout.apply(() => spec.dataset);
        this.mountpoint = this.command.stdout.apply((out) => reportedMountpoint(out) ?? r.mountpoint);
        this.hash = pulumi.output(rendered.hash);
        this.registerOutputs({ name: this.name, mountpoint: this.mountpoint, hash: this.hash });
    }
}
