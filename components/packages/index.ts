// DebianPackages: Debian packages installed (pinned and held where asked), every packaged daemon masked unless kept.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { rehearsalPoint } from "../core/owner";
import { remoteScript } from "../host";
import { claimOnHost, ownerMark } from "../ownership";
import type { ServiceDependency } from "../refs";
import { PACKAGES_TYPE } from "../tokens";
import { check } from "../validate";
import { DebianPackagesArgs, ResolvedPackages, resolvePackagesArgs } from "./args";
import type { PackagesProps } from "./props";
import { renderPackages, reportedMasks, reportedPackages } from "./render";

export { DebianPackagesArgs, ResolvedPackages, resolvePackagesArgs, PackagesProps };
export { PackageSpec, PackagesSpec, RenderedPackages, renderPackages, reportedMasks, reportedPackages } from "./render";
export {
    DebianPackagesArgsSchema,
    DebianPackageSpec,
    debianPackagesShape,
    checkDebianPackages,
    packageSpecSchema,
    packageEntry,
    PACKAGE_NAME,
    PACKAGE_NAME_ALLOWED,
    PACKAGE_VERSION,
    PACKAGE_VERSION_ALLOWED,
    MASKABLE_UNIT,
    UNIT_ALLOWED,
} from "./schema";

export class DebianPackages extends pulumi.ComponentResource {
    /** Each declared package's installed version, as the host reports it. */
    readonly packages: pulumi.Output<Record<string, string>>;
    /** The packaged units this resource keeps masked (sorted). */
    readonly masked: pulumi.Output<string[]>;
    /** Content hash of what hearth converges the packages to. */
    readonly hash: pulumi.Output<string>;
    /** The command that installs the packages; depend on it to run after they are installed. */
    readonly command: command.remote.Command;
    /** The command whose delete releases holds (and removes the packages on opt-in). */
    readonly lifecycle: command.remote.Command;
    /** For a SystemdService's `after`/`requires`/`wants`: the packages are installed (and their units masked) first. */
    readonly dependency: ServiceDependency;

    constructor(name: string, args: DebianPackagesArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const r = check(() => resolvePackagesArgs(args));
        const { spec } = r;
        // One resource per package on a host: two would fight over its version, its hold and its units' masks.
        const mark = ownerMark(PACKAGES_TYPE, name, opts, false);
        spec.packages.forEach((p, i) => claimOnHost(r.host, `apt package ${p.name}`, mark, `packages[${i}]`, p.name));
        // A kept unit is left unmasked by one resource only (another masking or keeping it would undo this one).
        spec.keepUnits.forEach((u, i) => claimOnHost(r.host, `apt packaged unit ${u}`, mark, `keepUnits[${i}]`, u));
        rehearsalPoint();
        super(PACKAGES_TYPE, name, {
            host: r.host.name,
            packages: spec.packages.map((p) => ({ name: p.name, ...(p.version !== undefined ? { version: p.version } : {}), hold: p.hold })),
            keepUnits: spec.keepUnits,
            ...(spec.removeOnDelete ? { removeOnDelete: spec.removeOnDelete } : {}),
        } satisfies PackagesProps, opts);
        const rendered = renderPackages(spec, mark);
        const cmds = remoteScript(`${name}-packages`, { host: r.host, script: rendered.script, deleteScript: rendered.deleteScript, hash: rendered.hash, check: rendered.check }, { parent: this });
        this.command = cmds.converge;
        this.lifecycle = cmds.lifecycle!;
        this.dependency = { label: `DebianPackages '${name}'`, host: r.host, units: [], mounts: [], files: [], resources: [cmds.converge] };
        this.packages = this.command.stdout.apply((out) => reportedPackages(out));
        this.masked = this.command.stdout.apply((out) => reportedMasks(out));
        this.hash = pulumi.output(rendered.hash);
        this.registerOutputs({ packages: this.packages, masked: this.masked, hash: this.hash });
    }
}
