// ZfsDataset arguments: their documented shape, and resolving them into a checked DatasetSpec before any resource exists.
import type { Host } from "../host";
import { hostPath } from "../core/rules";
import { check, checkInt, checkOneOf, checkPattern, fail, isHost } from "../validate";
import { DATASET_NAME, DatasetSpec, MAX_DATASET_LENGTH, SNAPSHOT_LABEL, USER_PROPERTY, compressionFamily, poolOf } from "./render";
import { SNAPSHOT_CLASSES, SnapshotEvery, SnapshotSchedule } from "./snapshots";

export interface ZfsSnapshotPolicy {
    /** How often the timer runs; it also sets the finest class that can be kept. */
    readonly every: SnapshotEvery;
    /** How many snapshots of each class to keep; a class left out (or 0) is not taken. */
    readonly keep: { readonly hourly?: number; readonly daily?: number; readonly weekly?: number };
}

export interface ZfsDatasetArgs {
    /** The host whose pool holds the dataset; its facts must say `zfs: true`. */
    readonly host: Host;
    /** Full dataset name, `pool/path` (the pool itself is never managed). */
    readonly dataset: string;
    /**
     * Compression algorithm; must be one the host's facts list in `zfsCompression`.
     * @default - inherited from the parent
     */
    readonly compression?: string;
    /** Record size in KiB, a power of two from 1 to 128. @default - inherited */
    readonly recordsizeKiB?: number;
    /** Quota on the dataset and its descendants, in MiB. @default - none (inherited) */
    readonly quotaMiB?: number;
    /** Quota on the dataset alone, in MiB. @default - none */
    readonly refquotaMiB?: number;
    /** Space guaranteed to the dataset, in MiB. @default - none */
    readonly reservationMiB?: number;
    /** An absolute path, `none` or `legacy`. @default - inherited (`/<pool>/<path>` under a default pool) */
    readonly mountpoint?: string;
    /** @default - ZFS default (`on`) */
    readonly canmount?: "on" | "off" | "noauto";
    /** @default - inherited */
    readonly atime?: boolean;
    /** @default - inherited */
    readonly readonly?: boolean;
    /** @default - inherited */
    readonly xattr?: "on" | "off" | "sa";
    /** User properties (`module:name` → value); `hearth:` keys are reserved. @default {} */
    readonly userProperties?: Readonly<Record<string, string>>;
    /**
     * Native encryption (aes-256-gcm) with a raw key generated on the host under /etc/hearth/zfs-keys; only at
     * creation, and only where the host's facts say `zfsEncryption: true`.
     * @default false
     */
    readonly encryption?: boolean;
    /**
     * Take over an existing dataset whose `hearth:owner` mark names another resource, or that has none (its data is
     * never touched; the mark is rewritten to this resource). @default false
     */
    readonly adopt?: boolean;
    /** Earlier values of `dataset`: the first that exists is renamed (`zfs rename`) to `dataset`. @default [] */
    readonly previousNames?: readonly string[];
    /** Snapshot (`pool/ds@name`) to clone from when the dataset does not exist yet. @default - a new empty dataset */
    readonly origin?: string;
    /** Scheduled snapshots with retention, run by a hardened systemd timer. @default - none */
    readonly snapshots?: ZfsSnapshotPolicy;
    /** Destroy the dataset (and its snapshots) when the resource is deleted. @default false (kept, mark removed) */
    readonly destroyOnDelete?: boolean;
    /** With `destroyOnDelete`, also destroy child datasets and clones; without it they make the delete fail. @default false */
    readonly recursive?: boolean;
}

export interface ResolvedDataset {
    readonly host: Host;
    readonly spec: DatasetSpec;
    readonly snapshots?: SnapshotSchedule;
    /** What the `mountpoint` output says before the host reports it. */
    readonly mountpoint: string;
}

const COMPRESSION = /^(off|on|lzjb|zle|lz4|gzip|gzip-[1-9]|zstd|zstd-([1-9]|1[0-9]))$/;
const MIB = 1024 * 1024;
const MAX_MIB = 2 ** 30; // 1 PiB

function checkDataset(arg: string, value: unknown): string {
    checkPattern(arg, value, DATASET_NAME, "a dataset path 'pool/name[/…]' of letters, digits and _ . : - (no '..', '@', spaces, leading '-' or trailing '/')");
    if ((value as string).length > MAX_DATASET_LENGTH) fail(arg, value, `a dataset path of at most ${MAX_DATASET_LENGTH} characters`);
    return value as string;
}

function checkBool(arg: string, value: unknown): boolean {
    if (typeof value !== "boolean") fail(arg, value, "true or false");
    return value;
}

function sizeMiB(arg: string, value: number | undefined): string | undefined {
    if (value === undefined) return undefined;
    return String(checkInt(arg, value, 1, MAX_MIB) * MIB);
}

function resolveSnapshots(p: ZfsSnapshotPolicy | undefined, a: (arg: string) => string): SnapshotSchedule | undefined {
    if (p === undefined) return undefined;
    const every = checkOneOf(a("snapshots.every"), p.every, SNAPSHOT_CLASSES);
    const keep = { hourly: 0, daily: 0, weekly: 0 };
    for (const c of SNAPSHOT_CLASSES) {
        const n = p.keep?.[c];
        if (n === undefined) continue;
        keep[c] = checkInt(a(`snapshots.keep.${c}`), n, 0, 1000);
        if (keep[c] > 0 && SNAPSHOT_CLASSES.indexOf(c) < SNAPSHOT_CLASSES.indexOf(every)) {
            fail(a(`snapshots.keep.${c}`), n, `0 when snapshots.every is "${every}" (a timer that runs ${every} cannot make ${c} snapshots)`);
        }
    }
    if (keep.hourly + keep.daily + keep.weekly === 0) fail(a("snapshots.keep"), p.keep, "at least one class with a count above 0");
    return { every, keep };
}

/** Checks every argument and resolves defaults; throws a ResourceError naming the argument before anything is registered. */
export function resolveZfsDatasetArgs(args: ZfsDatasetArgs, prefix = ""): ResolvedDataset {
    const a = (arg: string) => prefix + arg;
    if (!args || typeof args !== "object") fail(a("args"), args, "an object with at least 'host' and 'dataset'");
    if (!isHost(args.host)) fail(a("host"), typeof args.host, "a hearth Host");
    const facts = args.host.facts;
    if (!facts.zfs) fail(a("host"), args.host.name, "a host whose facts declare zfs: true");
    const dataset = checkDataset(a("dataset"), args.dataset);
    const pool = poolOf(dataset);

    const properties: Record<string, string> = {};
    if (args.compression !== undefined) {
        const c = checkPattern(a("compression"), args.compression, COMPRESSION, "off, on, lzjb, zle, lz4, gzip, gzip-1..gzip-9, zstd or zstd-1..zstd-19");
        const family = compressionFamily(c);
        if (!facts.zfsCompression.includes(family)) {
            fail(a("compression"), c, `an algorithm the pool on host '${args.host.name}' supports (${facts.zfsCompression.join(", ")}); declare more in host facts.zfsCompression only if the pool has the feature`);
        }
        // zfs prints gzip-6 as "gzip"; storing the printed form keeps a re-run from seeing a false change.
        properties.compression = c === "gzip-6" ? "gzip" : c;
    }
    if (args.recordsizeKiB !== undefined) {
        const r = args.recordsizeKiB;
        if (typeof r !== "number" || !Number.isInteger(r) || r < 1 || r > 128 || (r & (r - 1)) !== 0) {
            fail(a("recordsizeKiB"), r, "a power of two from 1 to 128");
        }
        properties.recordsize = String(r * 1024);
    }
    const sizes: [keyof ZfsDatasetArgs & string, string][] = [["quotaMiB", "quota"], ["refquotaMiB", "refquota"], ["reservationMiB", "reservation"]];
    for (const [arg, prop] of sizes) {
        const v = sizeMiB(a(arg), args[arg] as number | undefined);
        if (v !== undefined) properties[prop] = v;
    }
    if (args.mountpoint !== undefined) {
        const m = args.mountpoint;
        // A mountpoint covers a tree: one over /etc or /var/lib/postgresql would shadow the system or another manager.
        properties.mountpoint = m === "none" || m === "legacy" ? m : check(() => hostPath(a("mountpoint"), m, { notSystemTree: true }));
    }
    if (args.canmount !== undefined) properties.canmount = checkOneOf(a("canmount"), args.canmount, ["on", "off", "noauto"]);
    if (args.atime !== undefined) properties.atime = checkBool(a("atime"), args.atime) ? "on" : "off";
    if (args.readonly !== undefined) properties.readonly = checkBool(a("readonly"), args.readonly) ? "on" : "off";
    if (args.xattr !== undefined) properties.xattr = checkOneOf(a("xattr"), args.xattr, ["on", "off", "sa"]);

    const userProperties: Record<string, string> = {};
    for (const [k, v] of Object.entries(args.userProperties ?? {})) {
        checkPattern(a(`userProperties["${k}"]`), k, USER_PROPERTY, "a lowercase user property key 'module:name' (letters, digits, _ . + - :)");
        if (k.startsWith("hearth:")) fail(a(`userProperties["${k}"]`), k, "a key outside the reserved 'hearth:' namespace");
        userProperties[k] = checkPattern(a(`userProperties["${k}"]`), v, /^[\x21-\x7e][\x20-\x7e]{0,1023}$/, "1 to 1024 printable ASCII characters, not starting with a space");
        if (v === "-") fail(a(`userProperties["${k}"]`), v, "a value other than '-' (zfs prints '-' for an unset property)");
    }

    const encryption = args.encryption === undefined ? false : checkBool(a("encryption"), args.encryption);
    if (encryption && !facts.zfsEncryption) {
        fail(a("encryption"), true, `false: the pool on host '${args.host.name}' does not support native encryption (host facts.zfsEncryption is false)`);
    }

    let origin: string | undefined;
    if (args.origin !== undefined) {
        const o = args.origin;
        const at = typeof o === "string" ? o.indexOf("@") : -1;
        if (at < 0 || !DATASET_NAME.test(o.slice(0, at)) || !SNAPSHOT_LABEL.test(o.slice(at + 1)) || o.length > MAX_DATASET_LENGTH) {
            fail(a("origin"), o, "a snapshot name 'pool/dataset@snapshot' (letters, digits and _ . : -)");
        }
        if (poolOf(o) !== pool) fail(a("origin"), o, `a snapshot in the dataset's own pool '${pool}' (clones cannot cross pools)`);
        if (o.startsWith(`${dataset}@`) || o.startsWith(`${dataset}/`)) fail(a("origin"), o, `a snapshot outside '${dataset}' itself`);
        if (encryption) fail(a("encryption"), true, "false together with 'origin' (a clone always has its origin's encryption)");
        origin = o;
    }

    const previousNames: string[] = [];
    if (args.previousNames !== undefined && !Array.isArray(args.previousNames)) fail(a("previousNames"), args.previousNames, "an array of dataset paths");
    for (const [i, p] of (args.previousNames ?? []).entries()) {
        const arg = `previousNames[${i}]`;
        checkDataset(a(arg), p);
        if (p === dataset || previousNames.includes(p)) fail(a(arg), p, "a name different from 'dataset' and from the other previous names");
        if (poolOf(p) !== pool) fail(a(arg), p, `a dataset in the same pool '${pool}' (zfs rename cannot cross pools)`);
        if (dataset.startsWith(`${p}/`) || p.startsWith(`${dataset}/`)) fail(a(arg), p, `a dataset that is neither a parent nor a child of '${dataset}'`);
        previousNames.push(p);
    }

    const adopt = args.adopt === undefined ? false : checkBool(a("adopt"), args.adopt);
    const destroyOnDelete = args.destroyOnDelete === undefined ? false : checkBool(a("destroyOnDelete"), args.destroyOnDelete);
    const recursive = args.recursive === undefined ? false : checkBool(a("recursive"), args.recursive);
    if (recursive && !destroyOnDelete) fail(a("recursive"), true, "false unless destroyOnDelete is true (recursive only widens a destroy)");
    const snapshots = resolveSnapshots(args.snapshots, a);

    return {
        host: args.host,
        spec: { dataset, properties, userProperties, encryption, adopt, previousNames, origin, destroyOnDelete, recursive, autosnap: snapshots !== undefined },
        snapshots,
        mountpoint: properties.mountpoint ?? `/${dataset}`,
    };
}
