// The sandbox a SystemdService runs in: hardening on by default, each loosening explicit and explained in the unit.
//
// Pure: turns a resolved service (or the proxy in front of it) into [Service] lines for the INI serializer.
import { IniLine } from "./ini";
import { BindPath, Identity, NetworkMode, ResolvedLoosenings } from "./model";

/** Addresses a "local" service may talk to: loopback, link-local, multicast, RFC 1918 and IPv6 ULA (home LAN, VPN). */
export const LOCAL_ADDRESSES = "localhost link-local multicast 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 fc00::/7";

export interface SandboxSpec {
    readonly identity: Identity;
    readonly network: NetworkMode;
    /**
     * The process uses IP only on loopback: the socket-activated app inside its private network, and the proxy in
     * front of it. Adds AF_INET/AF_INET6 and limits IP traffic to localhost.
     */
    readonly loopbackInet: boolean;
    /** Ports the process may bind (SocketBindAllow=); every other port is denied once IP is allowed at all. */
    readonly listenPorts: readonly number[];
    /** Ports it may bind that need no CAP_NET_BIND_SERVICE accounting (the socket-activated app's target port). */
    readonly bindPorts?: readonly number[];
    readonly readWritePaths: readonly string[];
    readonly bindPaths: readonly BindPath[];
    readonly bindReadOnlyPaths: readonly BindPath[];
    readonly loosen: ResolvedLoosenings;
}

function loosening(name: string, reason: string): IniLine {
    return { comment: `hearth loosening '${name}': ${reason}` };
}

function bindSpec(b: BindPath): string {
    return b.source === b.target ? b.source : `${b.source}:${b.target}`;
}

/** Capabilities the service needs: CAP_NET_BIND_SERVICE for a port below 1024, plus any loosened ones, sorted. */
export function neededCapabilities(spec: Pick<SandboxSpec, "listenPorts" | "loosen">): string[] {
    const caps = new Set(spec.loosen.capabilities?.caps ?? []);
    if (spec.listenPorts.some((p) => p < 1024)) caps.add("CAP_NET_BIND_SERVICE");
    return [...caps].sort();
}

function identityLines(identity: Identity): IniLine[] {
    switch (identity.kind) {
        case "dynamic":
            return [["DynamicUser", "yes"]];
        case "named":
            return [{ comment: `hearth runs this service as the system user '${identity.name}': ${identity.reason}` }, ["User", identity.name]];
        case "root":
            return [loosening("runAsRoot", identity.reason), ["User", "root"]];
        case "packaged":
            return [];
    }
}

function networkLines(spec: SandboxSpec): IniLine[] {
    const lines: IniLine[] = [];
    const families = spec.network === "none" && !spec.loopbackInet ? ["AF_UNIX"] : ["AF_UNIX", "AF_INET", "AF_INET6"];
    if (spec.network === "none") lines.push(["PrivateNetwork", "yes"]);
    lines.push(["RestrictAddressFamilies", families.join(" ")]);
    if (spec.loosen.addressFamilies) {
        lines.push(loosening("addressFamilies", spec.loosen.addressFamilies.reason));
        lines.push(["RestrictAddressFamilies", spec.loosen.addressFamilies.families.join(" ")]);
    }
    // IP filters are cgroup BPF programs: they also guard a private namespace's loopback, so allow it where used.
    if (spec.network === "local") lines.push(["IPAddressAllow", LOCAL_ADDRESSES]);
    else if (spec.loopbackInet) lines.push(["IPAddressAllow", "localhost"]);
    if (spec.network !== "internet" || spec.loopbackInet) lines.push(["IPAddressDeny", "any"]);
    // bind() is limited to the declared ports in any namespace; ephemeral (port 0) binds stay allowed.
    if (families.includes("AF_INET")) {
        for (const p of [...spec.listenPorts, ...(spec.bindPorts ?? [])]) lines.push(["SocketBindAllow", String(p)]);
        lines.push(["SocketBindDeny", "any"]);
    }
    return lines;
}

/**
 * The [Service] sandbox lines. Order groups them for a reader: identity, filesystem, kernel, privileges, network,
 * system calls. Every loosening is preceded by a comment carrying its reason.
 */
export function sandboxLines(spec: SandboxSpec): IniLine[] {
    const l = spec.loosen;
    const caps = neededCapabilities(spec);
    const lines: IniLine[] = [...identityLines(spec.identity)];

    lines.push(["ProtectSystem", "strict"]);
    if (l.protectHome) lines.push(loosening("protectHome", l.protectHome.reason), ["ProtectHome", "read-only"]);
    else lines.push(["ProtectHome", "yes"]);
    lines.push(["PrivateTmp", "yes"]);
    if (l.privateDevices) lines.push(loosening("privateDevices", l.privateDevices.reason), ["PrivateDevices", "no"]);
    else lines.push(["PrivateDevices", "yes"], ["DevicePolicy", "closed"]);
    lines.push(["PrivateMounts", "yes"], ["PrivateIPC", "yes"]);
    if (spec.readWritePaths.length) lines.push(["ReadWritePaths", spec.readWritePaths.join(" ")]);
    if (l.writablePaths) lines.push(loosening("writablePaths", l.writablePaths.reason), ["ReadWritePaths", l.writablePaths.paths.join(" ")]);
    if (spec.bindPaths.length) lines.push(["BindPaths", spec.bindPaths.map(bindSpec).join(" ")]);
    if (spec.bindReadOnlyPaths.length) lines.push(["BindReadOnlyPaths", spec.bindReadOnlyPaths.map(bindSpec).join(" ")]);
    lines.push(["UMask", "0077"]);

    lines.push(
        ["ProtectKernelTunables", "yes"],
        ["ProtectKernelModules", "yes"],
        ["ProtectKernelLogs", "yes"],
        ["ProtectControlGroups", "yes"],
        ["ProtectClock", "yes"],
        ["ProtectHostname", "yes"],
        ["ProtectProc", "invisible"],
    );
    if (l.procSubset) lines.push(loosening("procSubset", l.procSubset.reason), ["ProcSubset", "all"]);
    else lines.push(["ProcSubset", "pid"]);
    if (l.privateUsers) {
        lines.push(loosening("privateUsers", l.privateUsers.reason), ["PrivateUsers", "no"]);
    } else if (caps.length > 0) {
        // A capability held inside a private user namespace does not reach the host's network or files.
        lines.push({ comment: `PrivateUsers is off because ${caps.join(", ")} must act in the host user namespace` }, ["PrivateUsers", "no"]);
    } else {
        lines.push(["PrivateUsers", "yes"]);
    }

    lines.push(["NoNewPrivileges", "yes"]);
    if (l.capabilities) lines.push(loosening("capabilities", l.capabilities.reason));
    else if (caps.length) lines.push({ comment: "CAP_NET_BIND_SERVICE because listenPorts has a port below 1024" });
    lines.push(["CapabilityBoundingSet", caps.join(" ")]);
    // Root keeps its bounding set without ambient capabilities; any other user needs them to hold a capability at all.
    if (caps.length && spec.identity.kind !== "root" && spec.identity.kind !== "packaged") lines.push(["AmbientCapabilities", caps.join(" ")]);
    lines.push(
        ["RestrictSUIDSGID", "yes"],
        ["LockPersonality", "yes"],
        ["RestrictRealtime", "yes"],
        ["RemoveIPC", "yes"],
        ["KeyringMode", "private"],
    );
    if (l.memoryDenyWriteExecute) lines.push(loosening("memoryDenyWriteExecute", l.memoryDenyWriteExecute.reason), ["MemoryDenyWriteExecute", "no"]);
    else lines.push(["MemoryDenyWriteExecute", "yes"]);
    if (l.namespaces) lines.push(loosening("namespaces", l.namespaces.reason), ["RestrictNamespaces", l.namespaces.namespaces.join(" ")]);
    else lines.push(["RestrictNamespaces", "yes"]);

    lines.push(...networkLines(spec));

    lines.push(["SystemCallArchitectures", "native"], ["SystemCallFilter", "@system-service"], ["SystemCallFilter", "~@privileged @resources"]);
    if (l.syscallGroups) lines.push(loosening("syscallGroups", l.syscallGroups.reason), ["SystemCallFilter", l.syscallGroups.groups.join(" ")]);
    // Refused calls fail with EPERM instead of killing the process (a clock read under ~@privileged would SIGSYS).
    lines.push(["SystemCallErrorNumber", "EPERM"]);
    return lines;
}
