// ZfsDataset arguments resolved into a checked DatasetSpec before any resource exists: the schema (schema.ts) checks
// the arguments themselves; what is left here needs the Host's facts, and derives what the renderer takes.
import type { Host } from "../host";
import { ArgumentError } from "../core/errors";
import { ArgPath, argName, parseArgs } from "../core/schema";
import { DatasetSpec, compressionFamily } from "./render";
import { SnapshotSchedule } from "./snapshots";
import { ZfsDatasetArgs, ZfsDatasetArgsSchema, ZfsSnapshotPolicy } from "./schema";

export { ZfsDatasetArgs, ZfsSnapshotPolicy };

export interface ResolvedDataset {
    readonly host: Host;
    readonly spec: DatasetSpec;
    readonly snapshots?: SnapshotSchedule;
    /** What the `mountpoint` output says before the host reports it. */
    readonly mountpoint: string;
}

const MIB = 1024 * 1024;

/** `"tablespace."` (the older form) or `["rootfs", "zfs"]`: where the dataset's arguments sit in a parent's. */
function basePath(prefix: string | ArgPath): ArgPath {
    return typeof prefix === "string" ? prefix.split(".").filter((p) => p !== "") : prefix;
}

/**
 * The checks that need the host's facts: ZFS at all, the compression family, native encryption. Throws an
 * ArgumentError whose path sits under `base`. The site config runs it after its schema (which already ran the rest).
 */
export function checkZfsHostFacts(host: Host, v: { readonly compression?: string; readonly encryption?: boolean }, base: ArgPath = []): void {
    const fail = (arg: string, value: unknown, allowed: string): never => {
        throw new ArgumentError(argName([...base, arg]), value, allowed, [...base, arg]);
    };
    const facts = host.facts;
    if (!facts.zfs) fail("host", host.name, "a host whose facts declare zfs: true");
    if (v.compression !== undefined && !facts.zfsCompression.includes(compressionFamily(v.compression))) {
        fail("compression", v.compression, `an algorithm the pool on host '${host.name}' supports (${facts.zfsCompression.join(", ")}); declare more in host facts.zfsCompression only if the pool has the feature`);
    }
    if (v.encryption && !facts.zfsEncryption) {
        fail("encryption", true, `false: the pool on host '${host.name}' does not support native encryption (host facts.zfsEncryption is false)`);
    }
}

/**
 * Checks every argument (the schema, then the host's facts) and resolves defaults. Throws an ArgumentError whose path
 * sits under `prefix` (e.g. `tablespace.compression`) before anything is registered.
 */
export function resolveZfsDatasetArgs(args: ZfsDatasetArgs, prefix: string | ArgPath = ""): ResolvedDataset {
    const base = basePath(prefix);
    const a = parseArgs(ZfsDatasetArgsSchema, args, base);
    checkZfsHostFacts(a.host, a, base);
    const properties: Record<string, string> = {};
    // zfs prints gzip-6 as "gzip"; storing the printed form keeps a re-run from seeing a false change.
    if (a.compression !== undefined) properties.compression = a.compression === "gzip-6" ? "gzip" : a.compression;
    if (a.recordsizeKiB !== undefined) properties.recordsize = String(a.recordsizeKiB * 1024);
    if (a.quotaMiB !== undefined) properties.quota = String(a.quotaMiB * MIB);
    if (a.refquotaMiB !== undefined) properties.refquota = String(a.refquotaMiB * MIB);
    if (a.reservationMiB !== undefined) properties.reservation = String(a.reservationMiB * MIB);
    if (a.mountpoint !== undefined) properties.mountpoint = a.mountpoint;
    if (a.canmount !== undefined) properties.canmount = a.canmount;
    if (a.atime !== undefined) properties.atime = a.atime ? "on" : "off";
    if (a.readonly !== undefined) properties.readonly = a.readonly ? "on" : "off";
    if (a.xattr !== undefined) properties.xattr = a.xattr;

    const p = a.snapshots;
    const snapshots: SnapshotSchedule | undefined = p && { every: p.every, keep: { hourly: p.keep.hourly ?? 0, daily: p.keep.daily ?? 0, weekly: p.keep.weekly ?? 0 } };
    const spec: DatasetSpec = {
        dataset: a.dataset,
        properties,
        userProperties: { ...a.userProperties },
        encryption: a.encryption ?? false,
        adopt: a.adopt ?? false,
        previousNames: [...(a.previousNames ?? [])],
        origin: a.origin,
        destroyOnDelete: a.destroyOnDelete ?? false,
        recursive: a.recursive ?? false,
        autosnap: snapshots !== undefined,
    };
    return { host: a.host, spec, snapshots, mountpoint: properties.mountpoint ?? `/${a.dataset}` };
}
