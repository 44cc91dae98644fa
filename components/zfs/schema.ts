// ZfsDataset arguments: one zod schema that is their type, their validation and their README table. The checks that
// need the Host's facts (zfs at all, compression features, native encryption) run in resolveZfsDatasetArgs (args.ts).
import { bool, checked, dict, hostPath, int, list, oneOf, pattern, problem, record, say, z } from "../core/schema";
import { hostArg } from "../validate";
import { DATASET_NAME, MAX_DATASET_LENGTH, SNAPSHOT_LABEL, USER_PROPERTY, poolOf } from "./render";
import { SNAPSHOT_CLASSES } from "./snapshots";

export const DATASET_ALLOWED = "a dataset path 'pool/name[/…]' of letters, digits and _ . : - (no '..', '@', spaces, leading '-' or trailing '/')";
export const SNAPSHOT_ALLOWED = "a snapshot name 'pool/dataset@snapshot' (letters, digits and _ . : -)";
export const COMPRESSION = /^(off|on|lzjb|zle|lz4|gzip|gzip-[1-9]|zstd|zstd-([1-9]|1[0-9]))$/;
export const COMPRESSION_ALLOWED = "off, on, lzjb, zle, lz4, gzip, gzip-1..gzip-9, zstd or zstd-1..zstd-19";
/** Largest size argument, in MiB (1 PiB). */
export const MAX_MIB = 2 ** 30;

/** A dataset path `pool/child[/…]` of at most 255 characters (ZFS's own limit). */
export function datasetName(allowed = DATASET_ALLOWED) {
    return z.string(say(allowed)).superRefine((v, ctx) => {
        if (!DATASET_NAME.test(v)) ctx.addIssue({ code: "custom", message: allowed, input: v });
        else if (v.length > MAX_DATASET_LENGTH) ctx.addIssue({ code: "custom", message: `a dataset path of at most ${MAX_DATASET_LENGTH} characters`, input: v });
    });
}

/** Whether `value` is a snapshot name `pool/dataset@label` ZFS accepts. */
export function isSnapshotName(value: string): boolean {
    const at = value.indexOf("@");
    return at > 0 && value.length <= MAX_DATASET_LENGTH && DATASET_NAME.test(value.slice(0, at)) && SNAPSHOT_LABEL.test(value.slice(at + 1));
}

/** A snapshot name `pool/dataset@label`: what a clone starts from. */
export function snapshotName(allowed = SNAPSHOT_ALLOWED) {
    return checked(allowed, isSnapshotName);
}

const USER_VALUE = /^[\x21-\x7e][\x20-\x7e]{0,1023}$/;
const keep = (c: string) => int(0, 1000).optional().describe(`${c} snapshots to keep. @default 0`);

export const zfsSnapshotPolicySchema = record(
    {
        every: oneOf(SNAPSHOT_CLASSES).describe("How often the timer runs; it also sets the finest class that can be kept."),
        keep: record({ hourly: keep("Hourly"), daily: keep("Daily"), weekly: keep("Weekly") }, "a retention")
            .describe("How many snapshots of each class to keep; a class left out (or 0) is not taken."),
    },
    "a snapshot policy",
);

/** Every ZfsDataset argument except `host`: what a PostgresDb tablespace or a container's rootfs clone reuses. */
export const zfsDatasetFields = {
    dataset: datasetName().describe("Full dataset name, `pool/path` (the pool itself is never managed)."),
    compression: pattern(COMPRESSION, COMPRESSION_ALLOWED)
        .optional()
        .describe("Compression algorithm; must be one the host's facts list in `zfsCompression`. @default - inherited from the parent"),
    recordsizeKiB: int(1, 128, "a power of two from 1 to 128")
        .refine((r) => (r & (r - 1)) === 0, say("a power of two from 1 to 128"))
        .optional()
        .describe("Record size in KiB, a power of two from 1 to 128. @default - inherited"),
    quotaMiB: int(1, MAX_MIB).optional().describe("Quota on the dataset and its descendants, in MiB. @default - none (inherited)"),
    refquotaMiB: int(1, MAX_MIB).optional().describe("Quota on the dataset alone, in MiB. @default - none"),
    reservationMiB: int(1, MAX_MIB).optional().describe("Space guaranteed to the dataset, in MiB. @default - none"),
    // A mountpoint covers a tree: one over /etc or /var/lib/postgresql would shadow the system or another manager.
    mountpoint: hostPath({ notSystemTree: true }, ["none", "legacy"])
        .optional()
        .describe("An absolute path, `none` or `legacy`. @default - inherited (`/<pool>/<path>` under a default pool)"),
    canmount: oneOf(["on", "off", "noauto"]).optional().describe("Whether ZFS mounts the dataset. @default - ZFS default (`on`)"),
    atime: bool().optional().describe("Update access times. @default - inherited"),
    readonly: bool().optional().describe("Mount read-only. @default - inherited"),
    xattr: oneOf(["on", "off", "sa"]).optional().describe("Extended attributes (`sa` stores them in the inode). @default - inherited"),
    userProperties: dict(
        USER_PROPERTY,
        "a lowercase user property key 'module:name' (letters, digits, _ . + - :)",
        pattern(USER_VALUE, "1 to 1024 printable ASCII characters, not starting with a space"),
        "a mapping of user property keys 'module:name' to values",
    )
        .readonly()
        .optional()
        .describe("User properties (`module:name` → value); `hearth:` keys are reserved. @default {}"),
    encryption: bool()
        .optional()
        .describe(
            "Native encryption (aes-256-gcm) with a raw key generated on the host under /etc/hearth/zfs-keys; only at creation, and only where the host's facts say `zfsEncryption: true`. @default false",
        ),
    adopt: bool()
        .optional()
        .describe(
            "Take over an existing dataset whose `hearth:owner` mark names another resource, or that has none (its data is never touched; the mark is rewritten to this resource). @default false",
        ),
    previousNames: list(datasetName(), "an array of dataset paths")
        .readonly()
        .optional()
        .describe("Earlier values of `dataset`: the first that exists is renamed (`zfs rename`) to `dataset`. @default []"),
    origin: snapshotName().optional().describe("Snapshot (`pool/ds@name`) to clone from when the dataset does not exist yet. @default - a new empty dataset"),
    snapshots: zfsSnapshotPolicySchema.optional().describe("Scheduled snapshots with retention, run by a hardened systemd timer. @default - none"),
    destroyOnDelete: bool().optional().describe("Destroy the dataset (and its snapshots) when the resource is deleted. @default false (kept, mark removed)"),
    recursive: bool()
        .optional()
        .describe("With `destroyOnDelete`, also destroy child datasets and clones; without it they make the delete fail. @default false"),
};

export const zfsDatasetShape = {
    host: hostArg().describe("The host whose pool holds the dataset; its facts must say `zfs: true`."),
    ...zfsDatasetFields,
};

/** The dataset fields a cross-field check reads (every one optional, so a shape without some of them can use it). */
export type ZfsDatasetFieldValues = Partial<z.output<z.ZodObject<typeof zfsDatasetFields>>>;

/** The rules between fields (and a user property's key and value beyond their patterns); paths are relative to the fields. */
export function checkZfsDataset(v: ZfsDatasetFieldValues, ctx: z.RefinementCtx): void {
    const dataset = v.dataset;
    const pool = dataset === undefined ? undefined : poolOf(dataset);
    for (const [k, value] of Object.entries(v.userProperties ?? {})) {
        if (k.startsWith("hearth:")) problem(ctx, ["userProperties", k], k, "a key outside the reserved 'hearth:' namespace");
        else if (value === "-") problem(ctx, ["userProperties", k], value, "a value other than '-' (zfs prints '-' for an unset property)");
    }
    if (v.origin !== undefined && dataset !== undefined) {
        const o = v.origin;
        if (poolOf(o) !== pool) problem(ctx, ["origin"], o, `a snapshot in the dataset's own pool '${pool}' (clones cannot cross pools)`);
        else if (o.startsWith(`${dataset}@`) || o.startsWith(`${dataset}/`)) problem(ctx, ["origin"], o, `a snapshot outside '${dataset}' itself`);
        else if (v.encryption) problem(ctx, ["encryption"], true, "false together with 'origin' (a clone always has its origin's encryption)");
    }
    if (dataset !== undefined) {
        const seen: string[] = [];
        (v.previousNames ?? []).forEach((p, i) => {
            const path = ["previousNames", i];
            if (p === dataset || seen.includes(p)) problem(ctx, path, p, "a name different from 'dataset' and from the other previous names");
            else if (poolOf(p) !== pool) problem(ctx, path, p, `a dataset in the same pool '${pool}' (zfs rename cannot cross pools)`);
            else if (dataset.startsWith(`${p}/`) || p.startsWith(`${dataset}/`)) problem(ctx, path, p, `a dataset that is neither a parent nor a child of '${dataset}'`);
            seen.push(p);
        });
    }
    if (v.recursive && !v.destroyOnDelete) problem(ctx, ["recursive"], true, "false unless destroyOnDelete is true (recursive only widens a destroy)");
    if (v.snapshots !== undefined) {
        const { every, keep } = v.snapshots;
        let total = 0;
        for (const c of SNAPSHOT_CLASSES) {
            const n = keep[c] ?? 0;
            total += n;
            if (n > 0 && SNAPSHOT_CLASSES.indexOf(c) < SNAPSHOT_CLASSES.indexOf(every)) {
                problem(ctx, ["snapshots", "keep", c], n, `0 when snapshots.every is "${every}" (a timer that runs ${every} cannot make ${c} snapshots)`);
            }
        }
        if (total === 0) problem(ctx, ["snapshots", "keep"], keep, "at least one class with a count above 0");
    }
}

export const ZfsDatasetArgsSchema = record(zfsDatasetShape, "ZfsDatasetArgs").superRefine(checkZfsDataset);

export type ZfsDatasetArgs = z.input<typeof ZfsDatasetArgsSchema>;
export type ZfsSnapshotPolicy = z.input<typeof zfsSnapshotPolicySchema>;
