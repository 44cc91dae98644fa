// NspawnContainer arguments: their documented shape, and resolving them into a checked spec before any resource exists.
import * as pulumi from "@pulumi/pulumi";
import type { Host } from "../host";
import { hostPath } from "../core/rules";
import { check, checkInt, checkOneOf, checkPattern, checkReason, fail, HOST_NAME, isHost } from "../validate";
import { parseIPv4, parseIPv4Cidr } from "../net/ipv4";
import { parseIPv6, parseIPv6Cidr } from "../net/ipv6";
import { resolveZfsDatasetArgs } from "../zfs/args";
import { ContainerSpec, MACHINES_DIR } from "./render";

export interface NspawnBindMount {
    /** Absolute path on the host. */
    readonly source: string;
    /** Absolute path in the container. @default - the same as `source` */
    readonly target?: string;
    /** Mount read-write. @default false */
    readonly readWrite?: boolean;
}

export interface NspawnCapability {
    /** e.g. `CAP_NET_ADMIN`; nspawn's default set needs no entry. */
    readonly name: string;
    /** Why the container needs it (the policy pack reads this). */
    readonly reason: string;
}

export interface NspawnContainerArgs {
    readonly host: Host;
    /** Machine name. @default - the resource name */
    readonly machine?: string;
    /**
     * The root filesystem, at /var/lib/machines/<machine>:
     * - `{ zfs: { origin, dataset } }`: a ZfsDataset cloned from a base snapshot (instant, copy-on-write);
     * - `{ copyFrom: "/path/to/base" }`: a plain directory copied once from a base tree (hosts without ZFS);
     * - `{ existing: true }`: a tree someone already put there (never deleted by hearth).
     */
    readonly rootfs: { readonly zfs: { readonly origin: string; readonly dataset: string } } | { readonly copyFrom: string } | { readonly existing: true };
    /** @default - the machine name */
    readonly hostname?: string;
    /** Private network: a veth whose host end joins `bridge`, or a macvlan on a host interface. */
    readonly network: { readonly bridge: string } | { readonly macvlan: string };
    /** Static addresses of the container's interface (`addr/len`); the first is where its SSH answers. */
    readonly addresses: readonly string[];
    /** Default gateways (one per family at most). @default [] */
    readonly gateways?: readonly string[];
    /** @default [] (read-only unless `readWrite`) */
    readonly bindMounts?: readonly NspawnBindMount[];
    /** Capabilities beyond nspawn's default set, each with a reason. @default [] */
    readonly capabilities?: readonly NspawnCapability[];
    /** @default 2048 */
    readonly memoryMaxMiB?: number;
    /** Percent of one CPU. @default - no quota */
    readonly cpuQuotaPercent?: number;
    /** @default 4096 */
    readonly tasksMax?: number;
    /**
     * How the picked uid range is applied to the rootfs: `map` (idmapped mount, files untouched), `chown` (a
     * recursive chown on first boot; for filesystems without idmapped mounts, such as FUSE), or `auto` (map where the
     * kernel and filesystem can). @default "auto"
     */
    readonly privateUsersOwnership?: "auto" | "chown" | "map";
    /** Run on a throwaway copy of the rootfs that vanishes when the container stops. @default false */
    readonly ephemeral?: boolean;
    /** Root's login: the public key is authorized inside; the private key (a secret) is how `host` connects. */
    readonly ssh: { readonly authorizedKey: string; readonly privateKey: pulumi.Output<string> };
    /** Reach the container's SSH through `host` as a jump host (for a bridge the workstation cannot route to). @default false */
    readonly sshViaHost?: boolean;
    /**
     * Destroy the root filesystem (the copied tree, or the ZFS clone) when the container is deleted. Container data is
     * kept unless asked; an `existing` tree is never removed. @default false
     */
    readonly destroyOnDelete?: boolean;
    /** @deprecated Data is kept by default now; `true` is accepted (and changes nothing), `false` is refused. */
    readonly keepData?: boolean;
    /**
     * Take over a machine whose `.nspawn` file another resource (or nobody) owns, rewriting its mark so the other
     * resource's delete leaves it alone. A renamed resource needs `aliases` instead. @default false
     */
    readonly adopt?: boolean;
}

export interface ResolvedContainer {
    readonly host: Host;
    readonly spec: ContainerSpec;
    readonly zfs?: { readonly origin: string; readonly dataset: string };
    readonly privateKey: pulumi.Output<string>;
    readonly sshViaHost: boolean;
    /** The address SSH answers on (the first address, without its prefix). */
    readonly sshAddress: string;
}

/** Linux capabilities nspawn accepts by name (capability.h, kernel 6.x). */
export const CAPABILITIES = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
    "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
    "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
    "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
] as const;

const IFNAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/;
const SSH_PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/]{20,8192}={0,3}( [\x21-\x7e][\x20-\x7e]{0,199})?$/;

/**
 * A host or container path (a `Bind=` side, the base tree to copy): the shared host-path rule, which also keeps out
 * ':' (nspawn's separator), shell, glob and specifier characters.
 */
function checkBindPath(arg: string, value: unknown): string {
    return check(() => hostPath(arg, value));
}

function checkAddress(arg: string, value: unknown): { text: string; ip: string; v6: boolean } {
    const s = typeof value === "string" ? value : "";
    const v6 = s.includes(":");
    const c = v6 ? parseIPv6Cidr(s) : parseIPv4Cidr(s, false);
    const len = c ? ("prefixLength" in c ? c.prefixLength : 0) : 0;
    if (!c || len === 0 || len === (v6 ? 128 : 32)) fail(arg, value, "an interface address with its prefix, e.g. \"10.231.40.2/24\" or \"fd12:3456:789a:1::2/64\"");
    return { text: s, ip: s.split("/")[0], v6 };
}

/** Resolves and checks every argument (the rootfs dataset too); throws a ResourceError naming the first bad one. */
export function resolveContainerArgs(name: string, args: NspawnContainerArgs): ResolvedContainer {
    if (!args || typeof args !== "object") fail("args", args, "NspawnContainerArgs");
    if (!isHost(args.host)) fail("host", typeof args.host, "a hearth Host");
    const machine = checkPattern("machine", args.machine ?? name, HOST_NAME, "a machine name: a lowercase DNS label of 1 to 63 characters (a-z, 0-9, '-'; no dots or slashes)");
    const hostname = checkPattern("hostname", args.hostname ?? machine, HOST_NAME, "a lowercase DNS label");
    const root = `${MACHINES_DIR}/${machine}`;

    const rf = args.rootfs as Record<string, unknown> | undefined;
    const kinds = rf && typeof rf === "object" ? Object.keys(rf) : [];
    if (kinds.length !== 1 || !["zfs", "copyFrom", "existing"].includes(kinds[0])) fail("rootfs", kinds, "exactly one of { zfs: { origin, dataset } }, { copyFrom: path } or { existing: true }");
    let rootfs: ContainerSpec["rootfs"];
    let zfs: ResolvedContainer["zfs"];
    if ("zfs" in args.rootfs) {
        const z = args.rootfs.zfs;
        if (!z || typeof z.origin !== "string") fail("rootfs.zfs.origin", z?.origin, "a base snapshot 'pool/dataset@snapshot'");
        resolveZfsDatasetArgs({ host: args.host, dataset: z.dataset, origin: z.origin, mountpoint: root }, "rootfs.zfs.");
        zfs = { origin: z.origin, dataset: z.dataset };
        rootfs = { kind: "zfs", dataset: z.dataset };
    } else if ("copyFrom" in args.rootfs) {
        const from = checkBindPath("rootfs.copyFrom", args.rootfs.copyFrom);
        if (from === root || from.startsWith(`${root}/`)) fail("rootfs.copyFrom", from, `a base tree outside the container's own ${root}`);
        rootfs = { kind: "copy", from };
    } else {
        if (args.rootfs.existing !== true) fail("rootfs.existing", args.rootfs.existing, "true");
        rootfs = { kind: "existing" };
    }

    const net = args.network as Record<string, unknown> | undefined;
    let network: ContainerSpec["network"];
    if (net && typeof net === "object" && Object.keys(net).length === 1 && "bridge" in net) {
        network = { kind: "bridge", iface: checkPattern("network.bridge", net.bridge, IFNAME, "an existing host bridge name (1 to 15 of a-z A-Z 0-9 _ . -)") };
    } else if (net && typeof net === "object" && Object.keys(net).length === 1 && "macvlan" in net) {
        network = { kind: "macvlan", iface: checkPattern("network.macvlan", net.macvlan, IFNAME, "an existing host interface name (1 to 15 of a-z A-Z 0-9 _ . -)") };
    } else {
        fail("network", net, "exactly one of { bridge: name } or { macvlan: host interface }: containers always get a private network");
    }

    if (!Array.isArray(args.addresses) || args.addresses.length === 0) fail("addresses", args.addresses, "a non-empty array of interface addresses");
    const addresses = args.addresses.map((a, i) => checkAddress(`addresses[${i}]`, a));
    const gateways = (args.gateways ?? []).map((g, i) => {
        const v6 = typeof g === "string" && g.includes(":");
        if (typeof g !== "string" || (v6 ? parseIPv6(g) : parseIPv4(g)) === undefined) fail(`gateways[${i}]`, g, "an IP address without prefix");
        return g;
    });
    if (new Set(gateways.map((g) => g.includes(":"))).size !== gateways.length) fail("gateways", gateways, "at most one gateway per address family");

    const binds = (args.bindMounts ?? []).map((b, i) => {
        if (!b || typeof b !== "object") fail(`bindMounts[${i}]`, b, "{ source, target?, readWrite? }");
        if (b.readWrite !== undefined && typeof b.readWrite !== "boolean") fail(`bindMounts[${i}].readWrite`, b.readWrite, "true or false");
        const readWrite = b.readWrite === true;
        // A writable bind of a system tree hands the container's root the host's /etc, /usr, ... .
        const source = check(() => hostPath(`bindMounts[${i}].source`, b.source, { notSystemTree: readWrite }));
        const target = checkBindPath(`bindMounts[${i}].target`, b.target ?? source);
        return { source, target, readWrite };
    });
    const targets = new Set<string>();
    binds.forEach((b, i) => {
        if (targets.has(b.target)) fail(`bindMounts[${i}].target`, b.target, "a target no other bind mount uses");
        targets.add(b.target);
    });
    const capabilities = (args.capabilities ?? []).map((c, i) => {
        const cap = checkPattern(`capabilities[${i}].name`, c?.name, /^CAP_[A-Z_]{2,30}$/, "a capability name like CAP_NET_ADMIN");
        if (!(CAPABILITIES as readonly string[]).includes(cap)) fail(`capabilities[${i}].name`, cap, "a Linux capability nspawn knows");
        return { name: cap, reason: checkReason(`capabilities[${i}].reason`, c.reason) };
    });
    if (args.ephemeral !== undefined && typeof args.ephemeral !== "boolean") fail("ephemeral", args.ephemeral, "true or false");
    const keyText = typeof args.ssh?.authorizedKey === "string" ? args.ssh.authorizedKey.trim() : args.ssh?.authorizedKey;
    const authorizedKey = checkPattern("ssh.authorizedKey", keyText, SSH_PUBLIC_KEY, "one OpenSSH public key line (`ssh-ed25519 AAAA… comment`), no options");
    if (!pulumi.Output.isInstance(args.ssh.privateKey)) fail("ssh.privateKey", typeof args.ssh.privateKey === "string" ? "<a plain string>" : args.ssh.privateKey, "a Pulumi secret Output (a plain key would be stored in state in clear text)");

    const spec: ContainerSpec = {
        machine,
        hostname,
        rootfs,
        network,
        addresses: addresses.map((a) => a.text),
        gateways,
        binds,
        capabilities,
        memoryMaxMiB: checkInt("memoryMaxMiB", args.memoryMaxMiB ?? 2048, 32, 1 << 24),
        cpuQuotaPercent: args.cpuQuotaPercent === undefined ? undefined : checkInt("cpuQuotaPercent", args.cpuQuotaPercent, 1, 100 * 1024),
        tasksMax: checkInt("tasksMax", args.tasksMax ?? 4096, 16, 4194304),
        ephemeral: args.ephemeral === true,
        ownership: checkOneOf("privateUsersOwnership", args.privateUsersOwnership ?? "auto", ["auto", "chown", "map"] as const),
        authorizedKey,
        destroyOnDelete: args.destroyOnDelete === true,
    };
    for (const k of ["destroyOnDelete", "adopt"] as const) if (args[k] !== undefined && typeof args[k] !== "boolean") fail(k, args[k], "true or false");
    if (args.keepData !== undefined && args.keepData !== true) fail("keepData", args.keepData, "true or unset: container data is kept on delete by default; set destroyOnDelete: true to destroy it");
    if (args.keepData === true && spec.destroyOnDelete) fail("destroyOnDelete", true, "false or unset when keepData is true");
    return { host: args.host, spec, zfs, privateKey: pulumi.secret(args.ssh.privateKey), sshViaHost: args.sshViaHost === true, sshAddress: addresses[0].ip };
}
