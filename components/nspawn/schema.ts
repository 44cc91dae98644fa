// NspawnContainer arguments: one zod schema that is their type, their validation and their README table. What needs
// more than the arguments (the resource name as the default machine, the host's facts for a ZFS clone) is resolved in
// resolveContainerArgs (args.ts).
import { parseCidr, parseIp, width } from "../core/ip";
import { bool, checked, hostPath, int, label, list, oneOf, pattern, problem, reason, record, say, sshPublicKey, z } from "../core/schema";
import { isSystemTree, SYSTEM_TREE_ALLOWED } from "../core/rules";
import { CAPABILITIES } from "../core/vocab";
import { hostArg, secretArg } from "../validate";
import { checkZfsDataset, datasetName, snapshotName } from "../zfs/schema";
import { MACHINES_DIR } from "./render";

export const MACHINE_ALLOWED = "a machine name: a lowercase DNS label of 1 to 63 characters (a-z, 0-9, '-'; no dots or slashes)";
export const ROOTFS_ALLOWED = "exactly one of { zfs: { origin, dataset } }, { copyFrom: path } or { existing: true }";
export const NETWORK_ALLOWED = "exactly one of { bridge: name } or { macvlan: host interface }: containers always get a private network";
export const ADDRESS_ALLOWED = "an interface address with its prefix, e.g. \"10.231.40.2/24\" or \"fd12:3456:789a:1::2/64\"";
export const AUTHORIZED_KEY_ALLOWED = "one OpenSSH public key line (`ssh-ed25519 AAAA… comment`), no options";
export const KEEP_DATA_ALLOWED = "true or unset: container data is kept on delete by default; set destroyOnDelete: true to destroy it";

/** A Linux interface name (IFNAMSIZ: at most 15 characters). */
const IFNAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/;
const ifname = (allowed: string) => pattern(IFNAME, allowed);

/** An address on the container's interface: `addr/len` with a prefix that leaves room for a network (not /0, not /32 or /128). */
function interfaceAddress() {
    return checked(ADDRESS_ALLOWED, (v) => {
        const c = parseCidr(v);
        return c !== undefined && c.prefixLength > 0 && c.prefixLength < width(c.family);
    });
}

/** Root's authorized key: the core OpenSSH public key rule (a pasted private key is never shown), trimmed first. */
function authorizedKey() {
    return z.string(say(AUTHORIZED_KEY_ALLOWED)).trim().pipe(sshPublicKey(AUTHORIZED_KEY_ALLOWED));
}

export const nspawnBindMountSchema = record(
    {
        source: hostPath().describe("Absolute path on the host."),
        target: hostPath().optional().describe("Absolute path in the container. @default - the same as `source`"),
        readWrite: bool().optional().describe("Mount read-write. @default false"),
    },
    "a bind mount",
);

export const nspawnCapabilitySchema = record(
    {
        name: z.enum(CAPABILITIES, say("a Linux capability nspawn knows, e.g. CAP_NET_ADMIN")).describe("e.g. `CAP_NET_ADMIN`; nspawn's default set needs no entry."),
        reason: reason().describe("Why the container needs it (the policy pack reads this)."),
    },
    "a capability",
);

/** A ZFS clone as the rootfs: the ZfsDataset rules for the dataset and its origin (same pool, outside the dataset). */
export const nspawnZfsRootfsSchema = record(
    {
        origin: snapshotName("a base snapshot 'pool/dataset@snapshot' (letters, digits and _ . : -)").describe("The base snapshot to clone, `pool/dataset@snapshot`."),
        dataset: datasetName().describe("The clone's dataset, `pool/path`."),
    },
    "a ZFS clone { origin, dataset }",
).superRefine(checkZfsDataset);

/**
 * A union of single-key forms whose argument type refuses two forms at once, as the check does (TypeScript's own union
 * check lets a second form's key through).
 */
function exclusive<S extends z.ZodType>(schema: S) {
    return schema as unknown as z.ZodType<z.output<S>, Exclusive<z.input<S>>>;
}
type Exclusive<T, All extends PropertyKey = T extends unknown ? keyof T : never> = T extends unknown ? T & { readonly [K in Exclude<All, keyof T>]?: never } : never;

export const nspawnRootfsSchema = exclusive(z.union(
    [
        record({ zfs: nspawnZfsRootfsSchema.describe("A ZfsDataset child cloned from `origin`, mounted at /var/lib/machines/<machine>; the host's facts need `zfs: true`.") }, "a rootfs"),
        record({ copyFrom: hostPath().describe("A base tree copied once (`cp -a --reflink=auto`), outside /var/lib/machines/<machine>.") }, "a rootfs"),
        record({ existing: z.literal(true, say("true")).describe("A tree already at /var/lib/machines/<machine>; never removed by hearth.") }, "a rootfs"),
    ],
    say(ROOTFS_ALLOWED),
));

export const nspawnNetworkSchema = exclusive(z.union(
    [
        record({ bridge: ifname("an existing host bridge name (1 to 15 of a-z A-Z 0-9 _ . -)").describe("A veth whose host end joins this existing bridge.") }, "a network"),
        record({ macvlan: ifname("an existing host interface name (1 to 15 of a-z A-Z 0-9 _ . -)").describe("A macvlan on this existing host interface.") }, "a network"),
    ],
    say(NETWORK_ALLOWED),
));

/** Every argument but `host` and `ssh.privateKey`: what the site config takes as it is. */
export const nspawnContainerFields = {
    machine: label(MACHINE_ALLOWED).optional().describe("Machine name. @default - the resource name"),
    rootfs: nspawnRootfsSchema.describe("The root filesystem, at /var/lib/machines/<machine>: exactly one of `zfs` (a copy-on-write clone), `copyFrom` (hosts without ZFS) or `existing`."),
    hostname: label("a lowercase DNS label").optional().describe("The container's hostname. @default - the machine name"),
    network: nspawnNetworkSchema.describe("Private network, always: exactly one of `bridge` or `macvlan`."),
    addresses: list(interfaceAddress(), "a non-empty array of interface addresses", 16, 1)
        .readonly()
        .describe("Static addresses of the container's interface (`addr/len`); the first is where its SSH answers."),
    gateways: list(checked("an IP address without prefix", (v) => parseIp(v) !== undefined), "an array of gateway addresses", 2)
        .readonly()
        .optional()
        .describe("Default gateways (one per address family at most). @default []"),
    bindMounts: list(nspawnBindMountSchema, "an array of bind mounts { source, target?, readWrite? }", 64)
        .readonly()
        .optional()
        .describe("Host paths mounted into the container, read-only unless `readWrite`. @default []"),
    capabilities: list(nspawnCapabilitySchema, "an array of capabilities { name, reason }", CAPABILITIES.length)
        .readonly()
        .optional()
        .describe("Capabilities beyond nspawn's default set, each with a reason. @default []"),
    memoryMaxMiB: int(32, 1 << 24).optional().describe("Memory limit (MemoryMax= of the container's unit), in MiB. @default 2048"),
    cpuQuotaPercent: int(1, 100 * 1024).optional().describe("Percent of one CPU. @default - no quota"),
    tasksMax: int(16, 4194304).optional().describe("Most tasks (TasksMax= of the container's unit). @default 4096"),
    privateUsersOwnership: oneOf(["auto", "chown", "map"])
        .optional()
        .describe(
            "How the picked uid range is applied to the rootfs: `map` (idmapped mount, files untouched), `chown` (a recursive chown on first boot; " +
                "for filesystems without idmapped mounts, such as FUSE), or `auto` (map where the kernel and filesystem can). @default \"auto\"",
        ),
    ephemeral: bool().optional().describe("Run on a throwaway copy of the rootfs that vanishes when the container stops. @default false"),
    sshViaHost: bool()
        .optional()
        .describe("Reach the container's SSH through `host` as a jump host (for a bridge the workstation cannot route to). @default false"),
    destroyOnDelete: bool()
        .optional()
        .describe(
            "Destroy the root filesystem (the copied tree, or the ZFS clone) when the container is deleted. Container data is kept unless asked; " +
                "an `existing` tree is never removed. @default false",
        ),
    keepData: z
        .literal(true, say(KEEP_DATA_ALLOWED))
        .optional()
        .describe("Deprecated: data is kept by default now; `true` is accepted (and changes nothing), `false` is refused. @default - unset"),
    adopt: bool()
        .optional()
        .describe(
            "Take over a machine whose `.nspawn` file another resource (or nobody) owns, rewriting its mark so the other resource's delete " +
                "leaves it alone. A renamed resource needs `aliases` instead. @default false",
        ),
};

export const nspawnSshSchema = record(
    {
        authorizedKey: authorizedKey().describe("Root's public key, authorized inside the container."),
        privateKey: secretArg().describe("The private half (a Pulumi secret): how `host` connects."),
    },
    "the container's SSH login { authorizedKey, privateKey }",
);

export const nspawnContainerShape = {
    host: hostArg().describe("Where the container runs."),
    ...nspawnContainerFields,
    ssh: nspawnSshSchema.describe("Root's login: the public key is authorized inside; the private key (a secret) is how `host` connects."),
};

/** The values the cross-field check reads (a site config entry has them too). */
export type NspawnContainerValues = Partial<z.output<z.ZodObject<typeof nspawnContainerFields>>>;

/**
 * The rules between fields: a copied base outside the container's own tree (when the machine is known), one gateway
 * per family, a writable bind that does not cover a system tree, one bind per target, keepData against destroyOnDelete.
 */
export function checkNspawnContainer(v: NspawnContainerValues, ctx: z.RefinementCtx): void {
    const rootfs = v.rootfs;
    if (rootfs && "copyFrom" in rootfs && v.machine !== undefined) {
        const root = `${MACHINES_DIR}/${v.machine}`;
        if (rootfs.copyFrom === root || rootfs.copyFrom.startsWith(`${root}/`)) problem(ctx, ["rootfs", "copyFrom"], rootfs.copyFrom, `a base tree outside the container's own ${root}`);
    }
    const gateways = v.gateways ?? [];
    const families = gateways.map((g) => parseIp(g)?.family).filter((f) => f !== undefined);
    if (new Set(families).size !== families.length) problem(ctx, ["gateways"], gateways, "at most one gateway per address family");
    const targets = new Set<string>();
    (v.bindMounts ?? []).forEach((b, i) => {
        // A writable bind of a system tree hands the container's root the host's /etc, /usr, ... .
        if (b.readWrite && isSystemTree(b.source)) problem(ctx, ["bindMounts", i, "source"], b.source, SYSTEM_TREE_ALLOWED);
        const target = b.target ?? b.source;
        if (targets.has(target)) problem(ctx, ["bindMounts", i, "target"], target, "a target no other bind mount uses");
        targets.add(target);
    });
    if (v.keepData === true && v.destroyOnDelete === true) problem(ctx, ["destroyOnDelete"], true, "false or unset when keepData is true");
}

export const NspawnContainerArgsSchema = record(nspawnContainerShape, "NspawnContainerArgs").superRefine(checkNspawnContainer);

export type NspawnContainerArgs = z.input<typeof NspawnContainerArgsSchema>;
export type NspawnBindMount = z.input<typeof nspawnBindMountSchema>;
export type NspawnCapability = z.input<typeof nspawnCapabilitySchema>;
