// The arguments of a SystemdService, and resolveServiceArgs: every check and default, run before anything registers.
import * as pulumi from "@pulumi/pulumi";
import type { Host } from "../host";
import { freeText, freeTextProblem, hostPath } from "../core/rules";
import { check, checkInt, checkOneOf, checkPattern, fail, isHost } from "../validate";
import { isCalendarExpression, isProtectedUnitBase, isUnitPath, listenStreamText, PACKAGED_SERVICE, parseListenStream, UNIT_BASE, UNIT_PATH_ALLOWED } from "./check";
import { Identity, isLifelineUnit, NetworkMode, OomPolicy, ResolvedService, ResolvedSocket, ResolvedTimer, RestartPolicy } from "./model";
import { checkReasonText, resolveLoosenings, resolvePaths, SystemdLoosenings } from "./loosen";

export { SystemdLoosenings } from "./loosen";

/** A bind mount: the host `source` appears at `target` inside the service (same path when a plain string). */
export type SystemdBindPath = string | { readonly source: string; readonly target: string };

export interface SystemdServiceArgs {
    /** The machine the service runs on. */
    readonly host: Host;
    /**
     * Unit name, with or without `.service` (lowercase letters, digits, `-`, `_`; no template `@`).
     * @default - the resource name
     */
    readonly unitName?: string;
    /** One line saying what the service is. Required for a full unit; a comment in a drop-in. */
    readonly description?: string;
    /** The command as an argv array; `execStart[0]` is an absolute path. Not allowed with `dropIn`. */
    readonly execStart?: readonly string[];
    /** Plain environment variables (names `[A-Z_][A-Z0-9_]*`). Secrets go in `credentials`. @default {} */
    readonly environment?: Readonly<Record<string, string>>;
    /**
     * Who the service runs as: a transient dynamic user, or a named system user (which needs a reason).
     * @default { dynamic: true }
     */
    readonly user?: { readonly dynamic: true } | { readonly name: string; readonly reason: string };
    /** Run as root. Only with a written reason; root still gets an empty capability bounding set. @default - not root */
    readonly runAsRoot?: { readonly reason: string };
    /** `StateDirectory=`: a relative name under /var/lib, kept across restarts and upgrades. @default - none */
    readonly stateDirectory?: string;
    /** `CacheDirectory=`: a relative name under /var/cache. @default - none */
    readonly cacheDirectory?: string;
    /** `RuntimeDirectory=`: a relative name under /run, removed when the service stops. @default - none */
    readonly runtimeDirectory?: string;
    /** `LogsDirectory=`: a relative name under /var/log. @default - none */
    readonly logsDirectory?: string;
    /** Writable bind mounts (system trees need `loosen.writablePaths` instead). @default [] */
    readonly bindPaths?: readonly SystemdBindPath[];
    /** Read-only bind mounts. @default [] */
    readonly bindReadOnlyPaths?: readonly SystemdBindPath[];
    /** Paths left writable under ProtectSystem=strict (system trees need `loosen.writablePaths`). @default [] */
    readonly readWritePaths?: readonly string[];
    /**
     * `none`: a private network namespace, AF_UNIX only. `local`: IPv4/IPv6 limited to loopback, link-local,
     * multicast, RFC 1918 and ULA addresses. `internet`: IPv4/IPv6 anywhere.
     * @default "none"
     */
    readonly network?: NetworkMode;
    /** Ports the service binds itself; one below 1024 grants CAP_NET_BIND_SERVICE (and turns PrivateUsers off). @default [] */
    readonly listenPorts?: readonly number[];
    /** `MemoryMax=` in MiB. @default - no limit */
    readonly memoryMaxMiB?: number;
    /** `CPUQuota=` in percent of one CPU (200 = two CPUs). @default - no limit */
    readonly cpuQuotaPercent?: number;
    /** `TasksMax=`. @default - systemd's DefaultTasksMax */
    readonly tasksMax?: number;
    /** What systemd does when the kernel OOM-kills a process of the service; always written. @default "kill" */
    readonly oomPolicy?: OomPolicy;
    /** `Restart=`. @default "on-failure" ("no" for a timer job) */
    readonly restart?: RestartPolicy;
    /** `RestartSec=` in seconds. @default 5 */
    readonly restartSec?: number;
    /**
     * Secrets, by credential name: each must be a Pulumi secret. Delivered over stdin into
     * `/etc/credstore/<unit>/<name>` (0600 root) and handed to the service with `LoadCredential=`; the service reads
     * `$CREDENTIALS_DIRECTORY/<name>`. @default {}
     */
    readonly credentials?: Readonly<Record<string, pulumi.Output<string>>>;
    /** Run as a job on a schedule (a `.timer`; the service becomes Type=oneshot and is not enabled itself). */
    readonly timer?: {
        /** `OnCalendar=`, e.g. `daily`, `Mon..Fri 09:00`, `*:0/15`. */
        readonly onCalendar: string;
        /** Catch up a run missed while the host was off. @default true */
        readonly persistent?: boolean;
        /** Spread start times by up to this many seconds. @default 0 */
        readonly randomizedDelaySec?: number;
    };
    /**
     * Socket activation that scales to zero: systemd listens on `listenStream`; the first connection starts a
     * `systemd-socket-proxyd` that starts the app and forwards to 127.0.0.1:`targetPort`; after `idleStopSec`
     * without a connection the proxy exits and the app is stopped.
     */
    readonly socket?: {
        /** A port, `address:port` (`[v6]:port`), or an absolute unix socket path. */
        readonly listenStream: string | number;
        /** Seconds without a connection before the app is stopped. */
        readonly idleStopSec: number;
        /** The port the app listens on at 127.0.0.1 (inside its own network namespace when network is "none"). */
        readonly targetPort: number;
    };
    /** Write a drop-in over a packaged unit (hardening and limits only) instead of a full unit. */
    readonly dropIn?: {
        /** The packaged unit, e.g. `nginx.service`. */
        readonly unit: string;
        /** Drop-in file name without `.conf`. @default "50-hearth" */
        readonly name?: string;
    };
    /** Explicit, explained loosenings of the default sandbox. @default {} */
    readonly loosen?: SystemdLoosenings;
    /** DNS name the service answers on (used by DNS records; not written to the unit). @default - none */
    readonly hostname?: string;
    /**
     * Start only once this file exists (`ConditionPathExists=`): until then a start is skipped, not failed. For a
     * service whose configuration another component writes after the unit (knotd and its zone). Not with `dropIn`.
     * @default - always start
     */
    readonly startWhenExists?: string;
    /**
     * Enable and start it (for a timer or socket: the timer or socket); `false` keeps it installed, disabled and
     * stopped. For a drop-in, `false` leaves the packaged unit's enablement alone and only restarts it where it runs.
     * @default true (false for a drop-in)
     */
    readonly enable?: boolean;
}

const DIRECTORY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}(\/[A-Za-z0-9][A-Za-z0-9._-]{0,63}){0,3}$/;
const DIRECTORY_ALLOWED = "a relative path of 1 to 4 segments, each starting with a letter or digit (letters, digits, . _ -), no '..'";
const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;
// Loader hooks would run code in the service; the others are set by systemd itself and overriding them misleads it.
const RESERVED_ENV = /^(LD_.*|CREDENTIALS_DIRECTORY|STATE_DIRECTORY|CACHE_DIRECTORY|LOGS_DIRECTORY|RUNTIME_DIRECTORY|CONFIGURATION_DIRECTORY|LISTEN_FDS|LISTEN_PID|LISTEN_FDNAMES|NOTIFY_SOCKET|WATCHDOG_PID|WATCHDOG_USEC|INVOCATION_ID|JOURNAL_STREAM|MAINPID|SERVICE_RESULT|EXIT_CODE|EXIT_STATUS|MONITOR_.*|TRIGGER_.*)$/;
const CRED_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const DROP_IN_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const KNOWN_ARGS = new Set([
    "host", "unitName", "description", "execStart", "environment", "user", "runAsRoot", "stateDirectory", "cacheDirectory",
    "runtimeDirectory", "logsDirectory", "bindPaths", "bindReadOnlyPaths", "readWritePaths", "network", "listenPorts",
    "memoryMaxMiB", "cpuQuotaPercent", "tasksMax", "oomPolicy", "restart", "restartSec", "credentials", "timer", "socket",
    "dropIn", "loosen", "hostname", "enable", "startWhenExists",
]);

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v) && !pulumi.Output.isInstance(v);
}

function checkKeys(arg: string, v: Record<string, unknown>, known: readonly string[]): void {
    for (const k of Object.keys(v)) if (!known.includes(k)) fail(`${arg}.${k}`, v[k], `one of the known fields ${known.join(", ")}`);
}

/** Free text by the shared rule (no control, bidi or zero-width characters), plus what a unit line needs. */
function checkText(arg: string, v: unknown, max: number): string {
    if (typeof v !== "string" || freeTextProblem(v, { maxLength: max, minLength: 1 }) !== undefined || v !== v.trim() || v.endsWith("\\")) {
        fail(arg, v, `one line of 1 to ${max} visible characters, without control or invisible characters, surrounding spaces or a trailing backslash`);
    }
    return v;
}

function resolveUnitName(name: string, args: SystemdServiceArgs): string {
    const arg = "unitName";
    const given = args.unitName ?? name;
    const allowed =
        args.unitName === undefined
            ? "a unit base name (lowercase letters, digits, '-', '_', at most 63, optional '.service'); the resource name is used when 'unitName' is not given"
            : "a unit base name (lowercase letters, digits, '-', '_', at most 63), optionally ending in '.service'";
    if (typeof given !== "string") fail(arg, given, allowed);
    const base = given.endsWith(".service") ? given.slice(0, -".service".length) : given;
    if (!UNIT_BASE.test(base)) fail(arg, given, allowed);
    if (isProtectedUnitBase(base)) fail(arg, given, "a name that does not shadow a system unit (ssh, dbus, getty, systemd-*, ...); use 'dropIn' to harden a packaged unit");
    return `${base}.service`;
}

function resolveIdentity(args: SystemdServiceArgs): Identity {
    if (args.dropIn !== undefined) return { kind: "packaged" };
    if (args.runAsRoot !== undefined) {
        if (args.user !== undefined) fail("runAsRoot", args.runAsRoot, "not both 'user' and 'runAsRoot'");
        if (!isPlainObject(args.runAsRoot)) fail("runAsRoot", args.runAsRoot, "{ reason: string }");
        checkKeys("runAsRoot", args.runAsRoot, ["reason"]);
        return { kind: "root", reason: checkReasonText("runAsRoot.reason", args.runAsRoot.reason) };
    }
    const u = args.user;
    if (u === undefined) return { kind: "dynamic" };
    if (!isPlainObject(u)) fail("user", u, "{ dynamic: true } or { name, reason }");
    if ("dynamic" in u) {
        checkKeys("user", u, ["dynamic"]);
        if (u.dynamic !== true) fail("user.dynamic", u.dynamic, "true");
        return { kind: "dynamic" };
    }
    checkKeys("user", u, ["name", "reason"]);
    const name = checkPattern("user.name", u.name, USER_NAME, "a POSIX system user name ([a-z_][a-z0-9_-]{0,31})");
    if (name === "root") fail("user.name", name, "a non-root user; running as root needs 'runAsRoot: { reason }'");
    return { kind: "named", name, reason: checkReasonText("user.reason", u.reason) };
}

function resolveExecStart(v: unknown): string[] {
    if (!Array.isArray(v) || v.length === 0 || v.length > 256) fail("execStart", v, "an argv array of 1 to 256 strings");
    if (!isUnitPath(v[0])) fail("execStart[0]", v[0], `an absolute program path: ${UNIT_PATH_ALLOWED}`);
    v.forEach((a, i) => {
        if (typeof a !== "string") {
            fail(`execStart[${i}]`, pulumi.Output.isInstance(a) ? "<Output>" : a, "a plain string of at most 4096 characters without control characters (secrets go in 'credentials')");
        }
        // An argument is read in the unit and in `systemctl status`: no hidden or reordered text either.
        check(() => freeText(`execStart[${i}]`, a, { maxLength: 4096 }));
    });
    return [...v];
}

function resolveEnvironment(v: unknown): [string, string][] {
    if (v === undefined) return [];
    if (!isPlainObject(v)) fail("environment", v, "a record of NAME -> string");
    return Object.keys(v).sort().map((k) => {
        if (!ENV_NAME.test(k)) fail("environment", k, "variable names matching [A-Z_][A-Z0-9_]* (at most 128)");
        if (RESERVED_ENV.test(k)) fail(`environment.${k}`, k, "a name not reserved by systemd or the dynamic loader (LD_*, CREDENTIALS_DIRECTORY, LISTEN_FDS, ...)");
        const val = v[k];
        if (pulumi.Output.isInstance(val)) fail(`environment.${k}`, "<Output>", "a plain string; secrets go in 'credentials', never in Environment=");
        check(() => freeText(`environment.${k}`, val, { maxLength: 4096 }));
        return [k, val] as [string, string];
    });
}

function resolveDirectory(arg: string, v: unknown): string | undefined {
    if (v === undefined) return undefined;
    return checkPattern(arg, v, DIRECTORY, DIRECTORY_ALLOWED);
}

function resolveListenPorts(v: unknown): number[] {
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.length > 64) fail("listenPorts", v, "an array of at most 64 ports");
    const ports = v.map((p, i) => checkInt(`listenPorts[${i}]`, p, 1, 65535));
    if (new Set(ports).size !== ports.length) fail("listenPorts", v, "distinct ports");
    return [...ports].sort((a, b) => a - b);
}

function resolveCredentials(v: unknown): string[] {
    if (v === undefined) return [];
    if (!isPlainObject(v)) fail("credentials", v, "a record of credential name -> secret Output<string>");
    const names = Object.keys(v).sort();
    if (names.length > 64) fail("credentials", names.length, "at most 64 credentials");
    for (const n of names) {
        checkPattern("credentials", n, CRED_NAME, "credential names of letters, digits, _ . - (starting with a letter or digit, at most 63)");
        if (typeof v[n] === "string") fail(`credentials.${n}`, "<plain string>", "a Pulumi secret (config.requireSecret or pulumi.secret); a plain string would be stored in state in clear text");
        if (!pulumi.Output.isInstance(v[n])) fail(`credentials.${n}`, typeof v[n], "a Pulumi secret Output<string>");
    }
    return names;
}

function resolveTimer(v: unknown): ResolvedTimer | undefined {
    if (v === undefined) return undefined;
    if (!isPlainObject(v)) fail("timer", v, "{ onCalendar, persistent?, randomizedDelaySec? }");
    checkKeys("timer", v, ["onCalendar", "persistent", "randomizedDelaySec"]);
    if (!isCalendarExpression(v.onCalendar)) fail("timer.onCalendar", v.onCalendar, "a systemd calendar expression (systemd.time(7)), e.g. 'daily', 'Mon..Fri 09:00', '*-*-* 03:30:00', '*:0/15'");
    if (v.persistent !== undefined && typeof v.persistent !== "boolean") fail("timer.persistent", v.persistent, "a boolean");
    return {
        onCalendar: v.onCalendar,
        persistent: (v.persistent as boolean | undefined) ?? true,
        randomizedDelaySec: v.randomizedDelaySec === undefined ? 0 : checkInt("timer.randomizedDelaySec", v.randomizedDelaySec, 0, 7 * 86400),
    };
}

function resolveSocket(v: unknown, network: NetworkMode): ResolvedSocket | undefined {
    if (v === undefined) return undefined;
    if (!isPlainObject(v)) fail("socket", v, "{ listenStream, idleStopSec, targetPort }");
    checkKeys("socket", v, ["listenStream", "idleStopSec", "targetPort"]);
    const listen = parseListenStream(v.listenStream);
    if (!listen) fail("socket.listenStream", v.listenStream, "a port 1-65535, 'IPv4:port', '[IPv6]:port' or an absolute unix socket path (at most 107 bytes)");
    const targetPort = checkInt("socket.targetPort", v.targetPort, 1, 65535);
    const listenPort = listen.kind === "unix" ? undefined : listen.port;
    if (network !== "none" && listenPort === targetPort) {
        fail("socket.targetPort", targetPort, "a port other than the socket's own when the app shares the host network");
    }
    return { listenStream: listenStreamText(listen), listenPort, idleStopSec: checkInt("socket.idleStopSec", v.idleStopSec, 1, 86400), targetPort };
}

/**
 * A drop-in over the SSH daemon, journald, logind, D-Bus, networkd or resolved may harden the unit but not cut it
 * off. Its network lines come from `network` alone (a drop-in has no socket): "none" writes PrivateNetwork=yes and
 * RestrictAddressFamilies=AF_UNIX, "local" writes IPAddressDeny=any; only "internet" keeps AF_UNIX, AF_INET and
 * AF_INET6 with no IP filter (loosen.addressFamilies only adds families). hearth never restarts these units
 * (script.ts): the drop-in applies at their next restart.
 */
function checkLifeline(unit: string, network: NetworkMode): void {
    const allowed = `"internet" for a drop-in over ${unit}, which hearth may harden but never cut off`;
    if (network === "none") fail("network", network, `${allowed} ("none", the default, writes PrivateNetwork=yes and drops AF_INET/AF_INET6)`);
    if (network === "local") fail("network", network, `${allowed} ("local" writes IPAddressDeny=any)`);
}

/**
 * Validates a SystemdService's arguments and resolves every default. Throws a ResourceError naming the argument,
 * the value and what is allowed; the component calls it before `super()`, so a bad input registers nothing.
 */
export function resolveServiceArgs(name: string, args: SystemdServiceArgs): ResolvedService {
    if (!isPlainObject(args)) fail("args", args, "an object of SystemdServiceArgs");
    for (const k of Object.keys(args)) if (!KNOWN_ARGS.has(k)) fail(k, (args as any)[k], "no such argument (see SystemdServiceArgs)");
    const host = args.host as unknown;
    if (!isHost(host)) {
        fail("host", host === undefined ? "undefined" : typeof host, "a Host");
    }

    let unitName: string;
    let dropIn: ResolvedService["dropIn"];
    if (args.dropIn !== undefined) {
        if (!isPlainObject(args.dropIn)) fail("dropIn", args.dropIn, "{ unit, name? }");
        checkKeys("dropIn", args.dropIn, ["unit", "name"]);
        unitName = checkPattern("dropIn.unit", args.dropIn.unit, PACKAGED_SERVICE, "a packaged service unit name ending in '.service' (e.g. 'nginx.service', 'postgresql@15-main.service')");
        const dropInName = args.dropIn.name === undefined ? "50-hearth" : checkPattern("dropIn.name", args.dropIn.name, DROP_IN_NAME, "a drop-in name (lowercase letters, digits, _ . -, no '.conf')");
        if (dropInName.endsWith(".conf")) fail("dropIn.name", dropInName, "a name without the '.conf' suffix (hearth adds it)");
        dropIn = { unit: unitName, name: dropInName };
        for (const k of ["unitName", "execStart", "environment", "user", "runAsRoot", "credentials", "timer", "socket", "restart", "restartSec"] as const) {
            if (args[k] !== undefined) fail(k, k === "credentials" ? "<credentials>" : args[k], "nothing: a drop-in carries hardening and limits only, the packaged unit keeps its command, identity and restart policy");
        }
    } else {
        unitName = resolveUnitName(name, args);
    }

    const description = args.description === undefined ? undefined : checkText("description", args.description, 200);
    if (!dropIn && description === undefined) fail("description", undefined, "one line saying what the service is");
    const execStart = dropIn ? [] : resolveExecStart(args.execStart);
    const network = args.network === undefined ? "none" : checkOneOf("network", args.network, ["none", "local", "internet"] as const);
    if (dropIn && isLifelineUnit(dropIn.unit)) checkLifeline(dropIn.unit, network);
    const listenPorts = resolveListenPorts(args.listenPorts);
    if (listenPorts.length && network === "none") fail("listenPorts", args.listenPorts, "no ports with network 'none' (a private network namespace); use network 'local' or 'internet', or 'socket'");
    if (args.timer !== undefined && args.socket !== undefined) fail("socket", "<socket>", "not both 'timer' and 'socket'");
    const socket = resolveSocket(args.socket, network);
    if (socket && listenPorts.length) fail("listenPorts", args.listenPorts, "no ports with 'socket' (the socket unit listens; the app listens on socket.targetPort)");
    const timer = resolveTimer(args.timer);
    const paths = resolvePaths(args);
    const loosen = resolveLoosenings(args.loosen);
    if (args.enable !== undefined && typeof args.enable !== "boolean") fail("enable", args.enable, "a boolean");
    const restart = args.restart === undefined ? (timer || dropIn ? "no" : "on-failure") : checkOneOf("restart", args.restart, ["on-failure", "always", "no"] as const);
    // systemd refuses to load a oneshot unit that restarts on success.
    if (timer && restart === "always") fail("restart", restart, "'on-failure' or 'no' for a timer job (a oneshot service)");

    return {
        name,
        unitName,
        dropIn,
        description,
        execStart,
        environment: resolveEnvironment(args.environment),
        identity: resolveIdentity(args),
        stateDirectory: resolveDirectory("stateDirectory", args.stateDirectory),
        cacheDirectory: resolveDirectory("cacheDirectory", args.cacheDirectory),
        runtimeDirectory: resolveDirectory("runtimeDirectory", args.runtimeDirectory),
        logsDirectory: resolveDirectory("logsDirectory", args.logsDirectory),
        ...paths,
        network,
        listenPorts,
        memoryMaxMiB: args.memoryMaxMiB === undefined ? undefined : checkInt("memoryMaxMiB", args.memoryMaxMiB, 1, 16 * 1024 * 1024),
        cpuQuotaPercent: args.cpuQuotaPercent === undefined ? undefined : checkInt("cpuQuotaPercent", args.cpuQuotaPercent, 1, 100000),
        tasksMax: args.tasksMax === undefined ? undefined : checkInt("tasksMax", args.tasksMax, 1, 4194304),
        oomPolicy: args.oomPolicy === undefined ? "kill" : checkOneOf("oomPolicy", args.oomPolicy, ["kill", "stop", "continue"] as const),
        restart,
        restartSec: args.restartSec === undefined ? 5 : checkInt("restartSec", args.restartSec, 0, 3600),
        credentials: resolveCredentials(args.credentials),
        timer,
        socket,
        loosen,
        hostname: args.hostname === undefined ? undefined : checkPattern("hostname", args.hostname, DNS_NAME, "a lowercase DNS name (labels of a-z, 0-9, '-', at most 253 characters)"),
        enable: args.enable ?? dropIn === undefined,
        startWhenExists: resolveStartWhenExists(args.startWhenExists, dropIn !== undefined),
    };
}

function resolveStartWhenExists(value: unknown, dropIn: boolean): string | undefined {
    if (value === undefined) return undefined;
    if (dropIn) fail("startWhenExists", value, "no value with 'dropIn' (the packaged unit decides when it starts)");
    return check(() => hostPath("startWhenExists", value));
}
