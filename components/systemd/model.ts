// The resolved, validated shape of a SystemdService that the pure renderer consumes (no Pulumi types in it).
import type { ResolvedLoosenings } from "./schema";

export type { ResolvedLoosenings };

export type NetworkMode = "none" | "local" | "internet";
export type RestartPolicy = "on-failure" | "always" | "no";
export type OomPolicy = "kill" | "stop" | "continue";

/** Who the service runs as. `packaged` = a drop-in keeps the packaged unit's own User=. */
export type Identity =
    | { readonly kind: "dynamic" }
    | { readonly kind: "named"; readonly name: string; readonly reason: string }
    | { readonly kind: "root"; readonly reason: string }
    | { readonly kind: "packaged" };

export interface BindPath {
    readonly source: string;
    readonly target: string;
}

export interface ResolvedTimer {
    readonly onCalendar: string;
    readonly persistent: boolean;
    readonly randomizedDelaySec: number;
}

export interface ResolvedSocket {
    /** The ListenStream= value, already validated. */
    readonly listenStream: string;
    /** The port the socket listens on, when it is a TCP socket (to keep targetPort off it). */
    readonly listenPort?: number;
    readonly idleStopSec: number;
    /** Where the app listens, on 127.0.0.1 (inside its own network namespace when network is "none"). */
    readonly targetPort: number;
}

/** A config file of the service: written at `source` (below HEARTH_ETC), bound read-only at `target` inside it. */
export interface ResolvedFile {
    readonly target: string;
    readonly source: string;
    readonly mode: number;
    /** The text, when given as a plain string; undefined when it is an Output (framed on stdin when it resolves). */
    readonly content?: string;
}

/** A typed reference (components/refs.ts) as the unit needs it: what to order after, pull in, mount and watch. */
export interface ResolvedDependency {
    readonly label: string;
    readonly units: readonly string[];
    readonly mounts: readonly string[];
    readonly files: readonly string[];
}

export type ServiceType = "simple" | "exec" | "notify" | "oneshot";

export interface ResolvedService {
    /** The Pulumi resource name, for the file header. */
    readonly name: string;
    /** The full unit name hearth manages: `web.service`, or the packaged unit a drop-in sits on. */
    readonly unitName: string;
    /** Present for a drop-in over a packaged unit. */
    readonly dropIn?: { readonly unit: string; readonly name: string };
    readonly description?: string;
    /** argv; empty for a drop-in. */
    readonly execStart: readonly string[];
    /** Sorted by name. */
    readonly environment: readonly (readonly [string, string])[];
    readonly identity: Identity;
    readonly stateDirectory?: string;
    readonly cacheDirectory?: string;
    readonly runtimeDirectory?: string;
    readonly logsDirectory?: string;
    readonly bindPaths: readonly BindPath[];
    readonly bindReadOnlyPaths: readonly BindPath[];
    readonly readWritePaths: readonly string[];
    readonly network: NetworkMode;
    readonly listenPorts: readonly number[];
    readonly memoryMaxMiB?: number;
    readonly cpuQuotaPercent?: number;
    readonly tasksMax?: number;
    readonly oomPolicy: OomPolicy;
    readonly restart: RestartPolicy;
    readonly restartSec: number;
    /** Credential names, sorted; their values travel as secret stdin frames in this order. */
    readonly credentials: readonly string[];
    readonly timer?: ResolvedTimer;
    readonly socket?: ResolvedSocket;
    readonly loosen: ResolvedLoosenings;
    readonly hostname?: string;
    readonly enable: boolean;
    /** ConditionPathExists= of the service unit. */
    readonly startWhenExists?: string;
    /** Type= of a full unit ("exec", or "oneshot" for a timer job); "exec" for a drop-in (not written). */
    readonly type: ServiceType;
    /** ExecReload= argv; empty without one (a change of files or credentials then restarts). */
    readonly execReload: readonly string[];
    readonly workingDirectory?: string;
    /** EnvironmentFile= as given (a leading '-' makes it optional). */
    readonly environmentFile?: string;
    /** Config files, sorted by target. */
    readonly files: readonly ResolvedFile[];
    readonly after: readonly ResolvedDependency[];
    readonly requires: readonly ResolvedDependency[];
    readonly wants: readonly ResolvedDependency[];
}

/**
 * The first line of every file earlier releases wrote for a service, read now as the legacy mark. Files written by
 * this release never carry it: a delete of an earlier release still stored in some state (it removes files carrying
 * exactly this line) must never remove a file that a resource of this release owns.
 */
export const MANAGED_MARKER = "# Managed by hearth (hearth:systemd:Service): local edits are overwritten.";

/** The first line of every file this release writes for a service (its owner line follows). */
export const MANAGED_HEADER = "# Managed by hearth: local edits are overwritten.";

export const UNIT_DIR = "/etc/systemd/system";
export const CREDSTORE_DIR = "/etc/credstore";
export const SOCKET_PROXYD = "/lib/systemd/systemd-socket-proxyd";
/** hearth's own configuration tree: each service's files below `<unit>/` (a drop-in's below `<unit>.d/<name>/`). */
export const HEARTH_ETC = "/usr/local/etc/hearth";

/** The tree a service's config files live in: this resource's alone (its files carry its mark). */
export function filesDir(unitName: string, dropIn?: { readonly name: string }): string {
    return dropIn ? `${HEARTH_ETC}/${unitName}.d/${dropIn.name}` : `${HEARTH_ETC}/${unitName}`;
}

/** The base of a unit name: `web.service` → `web`. */
export function unitBase(unitName: string): string {
    return unitName.replace(/\.service$/, "");
}

/** Names of the units a socket-activated service adds: the socket and the idle-stopping proxy it starts. */
export function proxyUnits(unitName: string): { socket: string; proxy: string } {
    const base = unitBase(unitName);
    return { socket: `${base}-proxy.socket`, proxy: `${base}-proxy.service` };
}

export function timerUnit(unitName: string): string {
    return `${unitBase(unitName)}.timer`;
}

export function credentialPath(unitName: string, cred: string): string {
    return `${CREDSTORE_DIR}/${unitName}/${cred}`;
}

/**
 * Units an operator reaches the host through, or that log, name and connect it: the SSH daemon, journald, logind,
 * D-Bus, networkd and resolved. A drop-in may harden them but never cut them off (no private network, no IP deny,
 * no address-family list without IP), and hearth never restarts them: the drop-in applies at their next restart.
 */
const LIFELINE_UNIT =
    /^(sshd?(@[A-Za-z0-9:_.-]*)?\.(service|socket)|systemd-journald([@-][A-Za-z0-9:_.-]*)?\.(service|socket)|systemd-logind\.service|dbus(-broker)?\.(service|socket)|systemd-networkd\.(service|socket)|systemd-resolved\.service)$/;

export function isLifelineUnit(unit: string): boolean {
    return LIFELINE_UNIT.test(unit);
}
