// What a service unit's settings amount to after systemd loads it: the facts `systemd-analyze security` scores.
//
// Mirrors systemd 252's parsing (how repeated and inverted assignments merge) and its load-time patching (DynamicUser=
// implying a strict sandbox, PrivateDevices= dropping CAP_MKNOD, ProtectClock= adding char-rtc to a device ACL).
import { CAPABILITIES, NAMESPACES } from "../../components/core/vocab";
import { UnitAssignment, parseBoolean, words } from "./unitfile";
import { syscallFilter, SyscallFilter } from "./syscalls";

export interface SecurityInfo {
    defaultDependencies: boolean;
    user?: string;
    dynamicUser: boolean;
    supplementaryGroups: string[];
    /** Capabilities left in the bounding set. */
    capabilityBoundingSet: Set<string>;
    ambientCapabilities: Set<string>;
    bools: Record<BoolSetting, boolean>;
    protectHome: string;
    protectSystem: string;
    protectProc: string;
    procSubset: string;
    keyringMode: string;
    notifyAccess?: string;
    umask: number;
    rootDirectory?: string;
    rootImage?: string;
    /** Namespace types the service may still create. */
    restrictNamespaces: Set<string>;
    addressFamilies?: { allowList: boolean; families: Set<string> };
    systemCallArchitectures: Set<string>;
    systemCallFilter?: SyscallFilter;
    ipDeny: string[];
    ipAllow: string[];
    ipCustomFilters: boolean;
    devicePolicy: string;
    deviceAllow: string[];
}

export const BOOL_SETTINGS = [
    "PrivateDevices", "PrivateMounts", "PrivateNetwork", "PrivateTmp", "PrivateUsers", "ProtectControlGroups",
    "ProtectKernelModules", "ProtectKernelTunables", "ProtectKernelLogs", "ProtectClock", "ProtectHostname",
    "LockPersonality", "MemoryDenyWriteExecute", "NoNewPrivileges", "RemoveIPC", "Delegate", "RestrictRealtime",
    "RestrictSUIDSGID",
] as const;
export type BoolSetting = (typeof BOOL_SETTINGS)[number];

function capabilitySet(value: string): Set<string> {
    return new Set(words(value).map((w) => w.toUpperCase()).filter((w) => (CAPABILITIES as readonly string[]).includes(w)));
}

/**
 * The merge rule systemd uses for capability and namespace sets: an inverted list removes from the current set; a plain
 * list replaces the set while it still has its initial value and adds to it afterwards; an empty value empties it.
 */
function mergeSet(current: Set<string>, initial: readonly string[], value: string, parse: (v: string) => Set<string>): Set<string> {
    const invert = value.startsWith("~");
    const listed = parse(invert ? value.slice(1) : value);
    if (invert) return new Set([...current].filter((x) => !listed.has(x)));
    if (value === "") return new Set();
    const untouched = current.size === initial.length && initial.every((x) => current.has(x));
    return untouched ? listed : new Set([...current, ...listed]);
}

/** Builds the security facts from a unit's assignments (main file then drop-ins). */
export function securityInfo(unitName: string, assignments: readonly UnitAssignment[]): SecurityInfo {
    const info: SecurityInfo = {
        defaultDependencies: true,
        dynamicUser: false,
        supplementaryGroups: [],
        capabilityBoundingSet: new Set(CAPABILITIES),
        ambientCapabilities: new Set(),
        bools: Object.fromEntries(BOOL_SETTINGS.map((b) => [b, false])) as Record<BoolSetting, boolean>,
        protectHome: "no",
        protectSystem: "no",
        protectProc: "default",
        procSubset: "all",
        keyringMode: "private",
        umask: 0o022,
        restrictNamespaces: new Set(NAMESPACES),
        systemCallArchitectures: new Set(),
        ipDeny: [],
        ipAllow: [],
        ipCustomFilters: false,
        devicePolicy: "auto",
        deviceAllow: [],
    };
    let filterLines: string[] = [];
    for (const { section, key, value } of assignments) {
        if (section === "Unit" && key === "DefaultDependencies") {
            info.defaultDependencies = parseBoolean(value) ?? info.defaultDependencies;
            continue;
        }
        if (section !== "Service") continue;
        if ((BOOL_SETTINGS as readonly string[]).includes(key)) {
            const b = parseBoolean(value);
            // Delegate= also takes a list of controllers, which turns delegation on.
            if (b !== undefined) info.bools[key as BoolSetting] = b;
            else if (key === "Delegate") info.bools.Delegate = value !== "";
            continue;
        }
        switch (key) {
            case "User": info.user = value === "" ? undefined : value; break;
            case "DynamicUser": info.dynamicUser = parseBoolean(value) ?? info.dynamicUser; break;
            case "SupplementaryGroups": info.supplementaryGroups = value === "" ? [] : [...info.supplementaryGroups, ...words(value)]; break;
            case "CapabilityBoundingSet": info.capabilityBoundingSet = mergeSet(info.capabilityBoundingSet, CAPABILITIES, value, capabilitySet); break;
            case "AmbientCapabilities": info.ambientCapabilities = mergeSet(info.ambientCapabilities, [], value, capabilitySet); break;
            case "ProtectHome": info.protectHome = normalizeTristate(value, ["read-only", "tmpfs"]) ?? info.protectHome; break;
            case "ProtectSystem": info.protectSystem = normalizeTristate(value, ["full", "strict"]) ?? info.protectSystem; break;
            case "ProtectProc": if (["default", "noaccess", "invisible", "ptraceable"].includes(value)) info.protectProc = value; break;
            case "ProcSubset": if (["all", "pid"].includes(value)) info.procSubset = value; break;
            case "KeyringMode": if (["inherit", "private", "shared"].includes(value)) info.keyringMode = value; break;
            case "NotifyAccess": if (["none", "main", "exec", "all"].includes(value)) info.notifyAccess = value; break;
            case "UMask": if (/^[0-7]{1,4}$/.test(value)) info.umask = parseInt(value, 8); break;
            case "RootDirectory": info.rootDirectory = value || undefined; break;
            case "RootImage": info.rootImage = value || undefined; break;
            case "RestrictNamespaces": info.restrictNamespaces = restrictNamespaces(info.restrictNamespaces, value); break;
            case "RestrictAddressFamilies": info.addressFamilies = addressFamilies(info.addressFamilies, value); break;
            case "SystemCallArchitectures":
                info.systemCallArchitectures = value === "" ? new Set() : new Set([...info.systemCallArchitectures, ...words(value)]);
                break;
            case "SystemCallFilter": filterLines = value === "" ? [] : [...filterLines, value]; break;
            case "IPAddressDeny": info.ipDeny = value === "" ? [] : [...info.ipDeny, ...words(value)]; break;
            case "IPAddressAllow": info.ipAllow = value === "" ? [] : [...info.ipAllow, ...words(value)]; break;
            case "IPIngressFilterPath": case "IPEgressFilterPath": info.ipCustomFilters = value !== "" || info.ipCustomFilters; break;
            case "DevicePolicy": if (["auto", "closed", "strict"].includes(value)) info.devicePolicy = value; break;
            case "DeviceAllow": info.deviceAllow = value === "" ? [] : [...info.deviceAllow, value]; break;
        }
    }
    if (filterLines.length > 0) info.systemCallFilter = syscallFilter(filterLines);
    patchContexts(unitName, info);
    return info;
}

function normalizeTristate(value: string, specials: string[]): string | undefined {
    if (specials.includes(value)) return value;
    const b = parseBoolean(value);
    return b === undefined ? undefined : b ? "yes" : "no";
}

function restrictNamespaces(current: Set<string>, value: string): Set<string> {
    const b = parseBoolean(value);
    // RestrictNamespaces=yes means "none may be created"; the set holds what may still be created.
    if (b !== undefined) return b ? new Set() : new Set(NAMESPACES);
    if (value === "") return new Set(NAMESPACES);
    return mergeSet(current, NAMESPACES, value, (v) => new Set(words(v).filter((w) => (NAMESPACES as readonly string[]).includes(w))));
}

function addressFamilies(current: SecurityInfo["addressFamilies"], value: string): SecurityInfo["addressFamilies"] {
    if (value === "") return undefined;
    if (value === "none") return { allowList: true, families: new Set() };
    const invert = value.startsWith("~");
    const listed = words(invert ? value.slice(1) : value).filter((w) => /^AF_[A-Z0-9_]+$/.test(w));
    const state = current ?? { allowList: !invert, families: new Set<string>() };
    const families = new Set(state.families);
    for (const f of listed) {
        // Listing a family adds it when the list's sense matches the assignment's, and removes it otherwise.
        if (!invert === state.allowList) families.add(f);
        else families.delete(f);
    }
    return { allowList: state.allowList, families };
}

/** The part of systemd's unit_patch_contexts() that changes what is scored. */
function patchContexts(unitName: string, info: SecurityInfo): void {
    const drop = (...caps: string[]) => caps.forEach((c) => info.capabilityBoundingSet.delete(c));
    if (info.bools.PrivateDevices) drop("CAP_MKNOD", "CAP_SYS_RAWIO");
    if (info.bools.ProtectKernelModules) drop("CAP_SYS_MODULE");
    if (info.bools.ProtectKernelLogs) drop("CAP_SYSLOG");
    if (info.bools.ProtectClock) drop("CAP_SYS_TIME", "CAP_WAKE_ALARM");
    if (info.dynamicUser) {
        info.user ??= dynamicUserName(unitName);
        info.bools.PrivateTmp = true;
        info.bools.RemoveIPC = true;
        info.protectSystem = "strict";
        if (info.protectHome === "no") info.protectHome = "read-only";
        info.bools.NoNewPrivileges = true;
        info.bools.RestrictSUIDSGID = true;
    }
    if (info.bools.PrivateDevices && info.devicePolicy === "auto") info.devicePolicy = "closed";
    if ((info.devicePolicy !== "auto" || info.deviceAllow.length > 0) && info.bools.ProtectClock) {
        info.deviceAllow = [...info.deviceAllow, "char-rtc r"];
    }
}

/** DynamicUser= without User= takes the unit name's prefix as the user name when it is a valid one. */
function dynamicUserName(unitName: string): string {
    const prefix = unitName.replace(/\.[a-z]+$/, "").replace(/@.*$/, "");
    return /^[a-zA-Z_][a-zA-Z0-9_-]{0,30}$/.test(prefix) ? prefix : "_du-hashed";
}
