// Typed references between components: what a SystemdService may order itself after (`after`), pull in (`requires`,
// `wants`) and restart with. Each referenceable component (SystemdService, ZfsDataset, PostgresDb, HostFile,
// DebianPackages) exposes a `dependency` of this shape; SystemdService turns it into unit lines, a resource
// dependency and, for files, part of its restart decision.
import * as pulumi from "@pulumi/pulumi";
import type { Host } from "./host";

/** What a component offers to a SystemdService that names it in `after`, `requires` or `wants`. */
export interface ServiceDependency {
    /** Who it is, for errors and the plan: e.g. `ZfsDataset 'data'`. */
    readonly label: string;
    /** The host it lives on: a service may only depend on objects of its own host. */
    readonly host: Host;
    /** systemd units to order after (`After=`) and, for `requires`/`wants`, to pull in (`Requires=`/`Wants=`). */
    readonly units: readonly string[];
    /** Paths that must be mounted before the service starts (`RequiresMountsFor=`); for a dataset, its mountpoint. */
    readonly mounts: readonly string[];
    /**
     * Files on the host whose content the service uses (a HostFile): part of the service's restart decision on the
     * host (a changed file restarts it, or reloads it when it declares `execReload`).
     */
    readonly files: readonly string[];
    /**
     * A hash of those files' content as declared (secret when the content is): carried by the service's converge
     * command, so a changed file makes an otherwise unchanged service converge again. Absent without files.
     */
    readonly contentHash?: pulumi.Output<string>;
    /** The resources to depend on (their converge commands), so the object exists before the service converges. */
    readonly resources: readonly pulumi.Resource[];
}

/** A component that a SystemdService may reference in `after`, `requires` or `wants`. */
export interface Dependable {
    readonly dependency: ServiceDependency;
}

/**
 * Recognised by shape, not `instanceof` (two loaded copies of hearth have two classes each): an object with a
 * `dependency` holding a label, units, mounts, files and resources.
 */
export function isDependable(value: unknown): value is Dependable {
    if (typeof value !== "object" || value === null) return false;
    const d = (value as { dependency?: unknown }).dependency;
    if (typeof d !== "object" || d === null) return false;
    const dep = d as Partial<ServiceDependency>;
    return (
        typeof dep.label === "string" &&
        Array.isArray(dep.units) &&
        Array.isArray(dep.mounts) &&
        Array.isArray(dep.files) &&
        Array.isArray(dep.resources) &&
        dep.resources.every((r) => pulumi.Resource.isInstance(r))
    );
}
