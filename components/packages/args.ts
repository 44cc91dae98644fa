// DebianPackages arguments resolved into the spec the renderer takes, before any resource exists.
import type { Host } from "../host";
import { ArgPath, parseArgs } from "../core/schema";
import type { PackagesSpec } from "./render";
import { DebianPackagesArgs, DebianPackagesArgsSchema } from "./schema";

export { DebianPackagesArgs };

export interface ResolvedPackages {
    readonly host: Host;
    readonly spec: PackagesSpec;
}

/** Checks every argument and resolves defaults; throws an ArgumentError whose path sits under `base`. */
export function resolvePackagesArgs(args: DebianPackagesArgs, base: ArgPath = []): ResolvedPackages {
    const a = parseArgs(DebianPackagesArgsSchema, args, base);
    const spec: PackagesSpec = {
        packages: a.packages.map((p) =>
            typeof p === "string" ? { name: p, hold: false } : { name: p.name, ...(p.version !== undefined ? { version: p.version } : {}), hold: p.hold ?? false },
        ),
        keepUnits: [...(a.keepUnits ?? [])],
        ...(a.removeOnDelete ? { removeOnDelete: { reason: a.removeOnDelete.reason } } : {}),
    };
    return { host: a.host, spec };
}
