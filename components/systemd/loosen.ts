// Named loosenings of the default sandbox (each needs a written reason) and the path arguments they interact with.
import * as pulumi from "@pulumi/pulumi";
import { checkReason, fail } from "../validate";
import { isHiddenTree, isSystemTree, isUnitPath, UNIT_PATH_ALLOWED } from "./check";
import { BindPath, ResolvedLoosenings } from "./model";
import type { SystemdBindPath } from "./args";

/**
 * Each loosening turns one default off or widens it, and its `reason` is written into the unit as a comment
 * (and read by the policy pack).
 */
export interface SystemdLoosenings {
    /** Writable paths anywhere, system trees included (`ReadWritePaths=`). */
    readonly writablePaths?: { readonly paths: readonly string[]; readonly reason: string };
    /** Capabilities kept in the bounding set (and ambient for a non-root user); turns PrivateUsers off. */
    readonly capabilities?: { readonly caps: readonly string[]; readonly reason: string };
    /** Address families added to `RestrictAddressFamilies=` (e.g. AF_NETLINK). */
    readonly addressFamilies?: { readonly families: readonly string[]; readonly reason: string };
    /** System call groups allowed again after `~@privileged @resources` (e.g. @setuid, @chown). */
    readonly syscallGroups?: { readonly groups: readonly string[]; readonly reason: string };
    /** Namespace types the service may create (`RestrictNamespaces=` becomes this allow list). */
    readonly namespaces?: { readonly namespaces: readonly string[]; readonly reason: string };
    /** `MemoryDenyWriteExecute=no`, for JIT compilers. */
    readonly memoryDenyWriteExecute?: { readonly reason: string };
    /** `PrivateDevices=no` and no DevicePolicy, for hardware access. */
    readonly privateDevices?: { readonly reason: string };
    /** `PrivateUsers=no`. */
    readonly privateUsers?: { readonly reason: string };
    /** `ProtectHome=read-only` instead of hiding /home, /root and /run/user. */
    readonly protectHome?: { readonly reason: string };
    /** `ProcSubset=all`: the service sees /proc's system files (e.g. zfs-fuse's `zfs` reads /proc/mounts). */
    readonly procSubset?: { readonly reason: string };
}

export const CAPABILITIES = [
    "CAP_AUDIT_CONTROL", "CAP_AUDIT_READ", "CAP_AUDIT_WRITE", "CAP_BLOCK_SUSPEND", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
    "CAP_KILL", "CAP_LEASE", "CAP_LINUX_IMMUTABLE", "CAP_MAC_ADMIN", "CAP_MAC_OVERRIDE", "CAP_MKNOD", "CAP_NET_ADMIN",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_RAW", "CAP_PERFMON", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP",
    "CAP_SETUID", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_CHROOT", "CAP_SYS_MODULE", "CAP_SYS_NICE", "CAP_SYS_PACCT",
    "CAP_SYS_PTRACE", "CAP_SYS_RAWIO", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_SYSLOG", "CAP_WAKE_ALARM",
] as const;

export const ADDRESS_FAMILIES = [
    "AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET", "AF_ALG", "AF_BLUETOOTH", "AF_CAN", "AF_VSOCK", "AF_XDP", "AF_KEY", "AF_TIPC",
] as const;

/** systemd 252's named groups, as `systemd-analyze syscall-filter` lists them (@default and @known make no sense here). */
export const SYSCALL_GROUPS = [
    "@aio", "@basic-io", "@chown", "@clock", "@cpu-emulation", "@debug", "@file-system", "@io-event", "@ipc", "@keyring",
    "@memlock", "@module", "@mount", "@network-io", "@obsolete", "@pkey", "@privileged", "@process", "@raw-io", "@reboot",
    "@resources", "@setuid", "@signal", "@swap", "@sync", "@system-service", "@timer",
] as const;

export const NAMESPACES = ["cgroup", "ipc", "net", "mnt", "pid", "user", "uts"] as const;

/** A reason that ends up in a unit comment: one line of printable ASCII that says something. */
export function checkReasonText(arg: string, v: unknown): string {
    const reason = checkReason(arg, v);
    if (!/[A-Za-z]{3}/.test(reason)) fail(arg, v, "a reason in words (8 to 200 printable ASCII characters)");
    return reason.trim();
}

const LOOSENINGS = ["writablePaths", "capabilities", "addressFamilies", "syscallGroups", "namespaces", "memoryDenyWriteExecute", "privateDevices", "privateUsers", "protectHome", "procSubset"];

function obj(arg: string, v: unknown, shape: string, keys: readonly string[]): Record<string, unknown> {
    if (typeof v !== "object" || v === null || Array.isArray(v) || pulumi.Output.isInstance(v)) fail(arg, v, shape);
    for (const k of Object.keys(v)) if (!keys.includes(k)) fail(`${arg}.${k}`, (v as any)[k], `one of the fields ${keys.join(", ")}`);
    return v as Record<string, unknown>;
}

function list<T extends string>(arg: string, v: unknown, allowed: readonly T[]): T[] {
    if (!Array.isArray(v) || v.length === 0 || v.length > allowed.length) fail(arg, v, `a non-empty list drawn from ${allowed.join(" ")}`);
    v.forEach((x, i) => {
        if (typeof x !== "string" || !(allowed as readonly string[]).includes(x)) fail(`${arg}[${i}]`, x, `one of ${allowed.join(" ")}`);
    });
    if (new Set(v).size !== v.length) fail(arg, v, "distinct entries");
    return [...(v as T[])].sort();
}

function reasonOnly(arg: string, v: unknown): { reason: string } {
    const o = obj(arg, v, "{ reason }", ["reason"]);
    return { reason: checkReasonText(`${arg}.reason`, o.reason) };
}

export function resolveLoosenings(v: unknown): ResolvedLoosenings {
    if (v === undefined) return {};
    const l = obj("loosen", v, "an object of named loosenings", LOOSENINGS);
    const out: Record<string, unknown> = {};
    if (l.writablePaths !== undefined) {
        const o = obj("loosen.writablePaths", l.writablePaths, "{ paths, reason }", ["paths", "reason"]);
        out.writablePaths = { paths: pathList("loosen.writablePaths.paths", o.paths, false, 1), reason: checkReasonText("loosen.writablePaths.reason", o.reason) };
    }
    if (l.capabilities !== undefined) {
        const o = obj("loosen.capabilities", l.capabilities, "{ caps, reason }", ["caps", "reason"]);
        out.capabilities = { caps: list("loosen.capabilities.caps", o.caps, CAPABILITIES), reason: checkReasonText("loosen.capabilities.reason", o.reason) };
    }
    if (l.addressFamilies !== undefined) {
        const o = obj("loosen.addressFamilies", l.addressFamilies, "{ families, reason }", ["families", "reason"]);
        out.addressFamilies = { families: list("loosen.addressFamilies.families", o.families, ADDRESS_FAMILIES), reason: checkReasonText("loosen.addressFamilies.reason", o.reason) };
    }
    if (l.syscallGroups !== undefined) {
        const o = obj("loosen.syscallGroups", l.syscallGroups, "{ groups, reason }", ["groups", "reason"]);
        out.syscallGroups = { groups: list("loosen.syscallGroups.groups", o.groups, SYSCALL_GROUPS), reason: checkReasonText("loosen.syscallGroups.reason", o.reason) };
    }
    if (l.namespaces !== undefined) {
        const o = obj("loosen.namespaces", l.namespaces, "{ namespaces, reason }", ["namespaces", "reason"]);
        out.namespaces = { namespaces: list("loosen.namespaces.namespaces", o.namespaces, NAMESPACES), reason: checkReasonText("loosen.namespaces.reason", o.reason) };
    }
    for (const k of ["memoryDenyWriteExecute", "privateDevices", "privateUsers", "protectHome", "procSubset"] as const) {
        if (l[k] !== undefined) out[k] = reasonOnly(`loosen.${k}`, l[k]);
    }
    return out as ResolvedLoosenings;
}

/**
 * A list of unit paths. With `plainOnly`, system trees are refused (they need `loosen.writablePaths`); `/proc`,
 * `/sys`, `/dev` and the credential stores are refused everywhere.
 */
function pathList(arg: string, v: unknown, plainOnly: boolean, min = 0): string[] {
    if (v === undefined && min === 0) return [];
    if (!Array.isArray(v) || v.length < min || v.length > 64) fail(arg, v, `an array of ${min ? "1" : "0"} to 64 absolute paths`);
    return v.map((p, i) => checkPath(`${arg}[${i}]`, p, plainOnly));
}

function checkPath(arg: string, p: unknown, plainOnly: boolean): string {
    if (!isUnitPath(p)) fail(arg, p, UNIT_PATH_ALLOWED);
    if (isHiddenTree(p)) fail(arg, p, "a path outside /proc, /sys, /dev and the credential stores");
    if (plainOnly && isSystemTree(p)) fail(arg, p, "a path outside the system trees (/etc, /usr, /home, /root, /boot, /var and /run themselves, ...); use 'loosen.writablePaths' with a reason");
    return p;
}

function bindList(arg: string, v: unknown, writable: boolean): BindPath[] {
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.length > 64) fail(arg, v, "an array of at most 64 paths or { source, target }");
    return v.map((b, i) => {
        if (typeof b === "string") {
            const p = checkPath(`${arg}[${i}]`, b, writable);
            return { source: p, target: p };
        }
        const o = obj(`${arg}[${i}]`, b, "a path or { source, target }", ["source", "target"]);
        return { source: checkPath(`${arg}[${i}].source`, o.source, writable), target: checkPath(`${arg}[${i}].target`, o.target, writable) };
    });
}

export function resolvePaths(args: {
    readonly bindPaths?: readonly SystemdBindPath[];
    readonly bindReadOnlyPaths?: readonly SystemdBindPath[];
    readonly readWritePaths?: readonly string[];
}): { bindPaths: BindPath[]; bindReadOnlyPaths: BindPath[]; readWritePaths: string[] } {
    return {
        bindPaths: bindList("bindPaths", args.bindPaths, true),
        bindReadOnlyPaths: bindList("bindReadOnlyPaths", args.bindReadOnlyPaths, false),
        readWritePaths: pathList("readWritePaths", args.readWritePaths, true),
    };
}
