// The exposure score `systemd-analyze security` gives a service unit (systemd 252 as Debian 12 ships it), computed in TypeScript.
//
// Each assessor has a weight and a range; a unit's badness on it (0..range, or "not applicable") adds
// ceil(badness * weight / range) to the sum, and the exposure is ceil(sum * 100 / total weight) tenths on a 0–10 scale.
import { SecurityInfo, BoolSetting, securityInfo } from "./security-info";
import { filterAdmitsGroup } from "./syscalls";
import { UnitSource, unitAssignments } from "./unitfile";

type Assess = (info: SecurityInfo) => number | null;

interface Assessor {
    /** The `json_field` systemd-analyze prints, so results can be compared item by item. */
    readonly field: string;
    readonly weight: number;
    readonly range: number;
    /** Not applicable when the unit runs without default dependencies (early boot). */
    readonly defaultDependenciesOnly?: boolean;
    readonly assess: Assess;
}

function runsPrivileged(i: SecurityInfo): boolean {
    if (i.user === "0" || i.user === "root") return true;
    if (i.dynamicUser) return false;
    return !i.user;
}

const bool = (field: BoolSetting, weight: number, opts: { invert?: boolean; defaultDependenciesOnly?: boolean } = {}): Assessor => ({
    field,
    weight,
    range: 1,
    defaultDependenciesOnly: opts.defaultDependenciesOnly,
    assess: (i) => (opts.invert ? (i.bools[field] ? 1 : 0) : i.bools[field] ? 0 : 1),
});

const cap = (field: string, weight: number, caps: string[]): Assessor => ({
    field: `CapabilityBoundingSet_${field}`,
    weight,
    range: 1,
    assess: (i) => (caps.some((c) => i.capabilityBoundingSet.has(c)) ? 1 : 0),
});

const ns = (name: string, weight: number): Assessor => ({
    field: `RestrictNamespaces_${name}`,
    weight,
    range: 1,
    assess: (i) => (i.restrictNamespaces.has(name) ? 1 : 0),
});

/** Which address-family buckets a unit leaves open: true means the bucket is restricted. */
function familyRestricted(i: SecurityInfo, bucket: "inet" | "unix" | "netlink" | "packet" | "other"): boolean {
    const af = i.addressFamilies;
    if (!af) return false;
    let restricted = af.allowList;
    for (const f of af.families) {
        const b = f === "AF_INET" || f === "AF_INET6" ? "inet" : f === "AF_UNIX" ? "unix" : f === "AF_NETLINK" ? "netlink" : f === "AF_PACKET" ? "packet" : "other";
        if (b === bucket) restricted = !af.allowList;
    }
    return restricted;
}

const af = (field: string, weight: number, bucket: Parameters<typeof familyRestricted>[1]): Assessor => ({
    field: `RestrictAddressFamilies_${field}`,
    weight,
    range: 1,
    assess: (i) => (familyRestricted(i, bucket) ? 0 : 1),
});

const syscalls = (group: string, weight: number): Assessor => ({
    field: `SystemCallFilter_${group.replace(/-/g, "_")}`,
    weight,
    range: 10,
    assess: (i) => {
        const f = i.systemCallFilter;
        if (!f || (!f.allowList && f.names.size === 0)) return 10;
        const admits = filterAdmitsGroup(f, `@${group}`);
        return f.allowList ? (admits ? 9 : 0) : admits ? 10 : 0;
    },
});

function isLocalhost(entry: string): boolean {
    if (entry === "localhost") return true;
    const addr = entry.replace(/\/\d+$/, "");
    return /^127\./.test(addr) || addr === "::1";
}

function ipExpand(list: string[]): string[] {
    return list.flatMap((e) => (e === "any" ? ["0.0.0.0/0", "::/0"] : e === "localhost" ? ["127.0.0.0/8", "::1/128"] : [e]));
}

export const ASSESSORS: readonly Assessor[] = [
    {
        field: "UserOrDynamicUser", weight: 2000, range: 10,
        assess: (i) => (i.user === "nobody" ? 9 : i.dynamicUser && i.user !== "0" && i.user !== "root" ? 0 : i.user && !["0", "root"].includes(i.user) ? 0 : 10),
    },
    { field: "SupplementaryGroups", weight: 200, range: 1, assess: (i) => (runsPrivileged(i) ? null : i.supplementaryGroups.length > 0 ? 1 : 0) },
    bool("PrivateDevices", 1000),
    bool("PrivateMounts", 1000),
    bool("PrivateNetwork", 2500),
    bool("PrivateTmp", 1000, { defaultDependenciesOnly: true }),
    bool("PrivateUsers", 1000),
    bool("ProtectControlGroups", 1000),
    bool("ProtectKernelModules", 1000),
    bool("ProtectKernelTunables", 1000),
    bool("ProtectKernelLogs", 1000),
    bool("ProtectClock", 1000),
    {
        field: "ProtectHome", weight: 1000, range: 10, defaultDependenciesOnly: true,
        assess: (i) => ({ yes: 0, "read-only": 5, tmpfs: 1 } as Record<string, number>)[i.protectHome] ?? 10,
    },
    bool("ProtectHostname", 50),
    {
        field: "ProtectSystem", weight: 1000, range: 10, defaultDependenciesOnly: true,
        assess: (i) => ({ yes: 5, full: 3, strict: 0 } as Record<string, number>)[i.protectSystem] ?? 10,
    },
    {
        field: "RootDirectoryOrRootImage", weight: 200, range: 1, defaultDependenciesOnly: true,
        assess: (i) => ((!i.rootDirectory || i.rootDirectory === "/") && (!i.rootImage || i.rootImage === "/") ? 1 : 0),
    },
    bool("LockPersonality", 100),
    bool("MemoryDenyWriteExecute", 100),
    bool("NoNewPrivileges", 1000),
    cap("CAP_SYS_ADMIN", 1500, ["CAP_SYS_ADMIN"]),
    cap("CAP_SET_UID_GID_PCAP", 1500, ["CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP"]),
    cap("CAP_SYS_PTRACE", 1500, ["CAP_SYS_PTRACE"]),
    cap("CAP_SYS_TIME", 1000, ["CAP_SYS_TIME"]),
    cap("CAP_NET_ADMIN", 1000, ["CAP_NET_ADMIN"]),
    cap("CAP_SYS_RAWIO", 1000, ["CAP_SYS_RAWIO"]),
    cap("CAP_SYS_MODULE", 1000, ["CAP_SYS_MODULE"]),
    cap("CAP_AUDIT", 500, ["CAP_AUDIT_CONTROL", "CAP_AUDIT_READ", "CAP_AUDIT_WRITE"]),
    cap("CAP_SYSLOG", 500, ["CAP_SYSLOG"]),
    cap("CAP_SYS_NICE_RESOURCE", 500, ["CAP_SYS_NICE", "CAP_SYS_RESOURCE"]),
    cap("CAP_MKNOD", 500, ["CAP_MKNOD"]),
    cap("CAP_CHOWN_FSETID_SETFCAP", 1000, ["CAP_CHOWN", "CAP_FSETID", "CAP_SETFCAP"]),
    cap("CAP_DAC_FOWNER_IPC_OWNER", 1000, ["CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_IPC_OWNER"]),
    cap("CAP_KILL", 500, ["CAP_KILL"]),
    // systemd's own field name carries the stray parenthesis.
    cap("CAP_NET_BIND_SERVICE_BROADCAST_RAW)", 500, ["CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_RAW"]),
    cap("CAP_SYS_BOOT", 100, ["CAP_SYS_BOOT"]),
    cap("CAP_MAC", 100, ["CAP_MAC_ADMIN", "CAP_MAC_OVERRIDE"]),
    cap("CAP_LINUX_IMMUTABLE", 75, ["CAP_LINUX_IMMUTABLE"]),
    cap("CAP_IPC_LOCK", 50, ["CAP_IPC_LOCK"]),
    cap("CAP_SYS_CHROOT", 50, ["CAP_SYS_CHROOT"]),
    cap("CAP_BLOCK_SUSPEND", 25, ["CAP_BLOCK_SUSPEND"]),
    cap("CAP_WAKE_ALARM", 25, ["CAP_WAKE_ALARM"]),
    cap("CAP_LEASE", 25, ["CAP_LEASE"]),
    cap("CAP_SYS_TTY_CONFIG", 25, ["CAP_SYS_TTY_CONFIG"]),
    cap("CAP_SYS_PACCT", 25, ["CAP_SYS_PACCT"]),
    cap("CAP_BPF", 25, ["CAP_BPF"]),
    {
        field: "UMask", weight: 100, range: 10,
        assess: (i) => ((i.umask & 0o002) === 0 ? 10 : (i.umask & 0o004) === 0 ? 5 : (i.umask & 0o020) === 0 ? 2 : (i.umask & 0o040) === 0 ? 1 : 0),
    },
    { field: "KeyringMode", weight: 1000, range: 1, assess: (i) => (i.keyringMode === "private" ? 0 : 1) },
    { field: "ProtectProc", weight: 1000, range: 3, assess: (i) => (i.protectProc === "noaccess" ? 1 : ["invisible", "ptraceable"].includes(i.protectProc) ? 0 : 3) },
    { field: "ProcSubset", weight: 10, range: 1, assess: (i) => (i.procSubset === "pid" ? 0 : 1) },
    { field: "NotifyAccess", weight: 1000, range: 1, assess: (i) => (i.notifyAccess === "all" ? 1 : 0) },
    { field: "RemoveIPC", weight: 100, range: 1, assess: (i) => (runsPrivileged(i) ? null : i.bools.RemoveIPC ? 0 : 1) },
    bool("Delegate", 100, { invert: true }),
    bool("RestrictRealtime", 500),
    bool("RestrictSUIDSGID", 1000),
    ns("user", 1500),
    ns("mnt", 500),
    ns("ipc", 500),
    ns("pid", 500),
    ns("cgroup", 500),
    ns("net", 500),
    ns("uts", 100),
    af("AF_INET_INET6", 1500, "inet"),
    af("AF_UNIX", 25, "unix"),
    af("AF_NETLINK", 200, "netlink"),
    af("AF_PACKET", 1000, "packet"),
    af("OTHER", 1250, "other"),
    {
        field: "SystemCallArchitectures", weight: 1000, range: 10,
        assess: (i) => (i.systemCallArchitectures.size === 0 ? 10 : i.systemCallArchitectures.size === 1 && i.systemCallArchitectures.has("native") ? 0 : 8),
    },
    syscalls("swap", 1000),
    syscalls("obsolete", 250),
    syscalls("clock", 1000),
    syscalls("cpu-emulation", 250),
    syscalls("debug", 1000),
    syscalls("mount", 1000),
    syscalls("module", 1000),
    syscalls("raw-io", 1000),
    syscalls("reboot", 1000),
    syscalls("privileged", 700),
    syscalls("resources", 700),
    {
        field: "IPAddressDeny", weight: 1000, range: 10,
        assess: (i) => {
            if (i.ipCustomFilters) return 0;
            const deny = ipExpand(i.ipDeny);
            if (!(deny.includes("0.0.0.0/0") && deny.includes("::/0"))) return 10;
            const allow = ipExpand(i.ipAllow);
            if (allow.some((a) => !isLocalhost(a))) return 5;
            return allow.length > 0 ? 2 : 0;
        },
    },
    {
        field: "DeviceAllow", weight: 1000, range: 10,
        assess: (i) => (["strict", "closed"].includes(i.devicePolicy) ? (i.deviceAllow.length > 0 ? 5 : 0) : 10),
    },
    { field: "AmbientCapabilities", weight: 500, range: 1, assess: (i) => (i.ambientCapabilities.size > 0 ? 1 : 0) },
];

export interface ExposureItem {
    readonly field: string;
    readonly weight: number;
    readonly range: number;
    /** null when the setting does not apply to this unit. */
    readonly badness: number | null;
}

export interface Exposure {
    /** 0.0–10.0, one decimal, as systemd-analyze prints it. */
    readonly exposure: number;
    readonly items: readonly ExposureItem[];
}

/** Scores facts already gathered. */
export function assessSecurity(info: SecurityInfo): Exposure {
    let badnessSum = 0;
    let weightSum = 0;
    const items = ASSESSORS.map((a): ExposureItem => {
        const badness = a.defaultDependenciesOnly && !info.defaultDependencies ? null : a.assess(info);
        if (badness !== null) {
            badnessSum += Math.ceil((badness * a.weight) / a.range);
            weightSum += a.weight;
        }
        return { field: a.field, weight: a.weight, range: a.range, badness };
    });
    return { exposure: Math.ceil((badnessSum * 100) / weightSum) / 10, items };
}

/** Scores a unit (main file plus drop-ins) the way `systemd-analyze security --offline=true` does. */
export function unitExposure(unit: UnitSource): Exposure {
    return assessSecurity(securityInfo(unit.name, unitAssignments(unit)));
}
