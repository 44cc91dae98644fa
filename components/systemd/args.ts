// resolveServiceArgs: a SystemdService's arguments parsed by its schema (schema.ts), then every default and derived
// value the renderer needs. Throws an ArgumentError naming the argument; the component turns it into a ResourceError.
import { ArgumentError } from "../core/errors";
import { isHostPath } from "../core/rules";
import { modeBits, parseArgs } from "../core/schema";
import type { Dependable } from "../refs";
import { listenStreamText, parseListenStream } from "./check";
import { BindPath, filesDir, Identity, ResolvedDependency, ResolvedFile, ResolvedService } from "./model";
import { SystemdBindPath, SystemdServiceArgs, SystemdServiceArgsSchema, systemdResourceUnitName } from "./schema";

export { SystemdBindPath, SystemdDropInArgs, SystemdFullServiceArgs, SystemdLoosenings, SystemdServiceArgs, SystemdServiceFields } from "./schema";

const binds = (v: readonly SystemdBindPath[] | undefined): BindPath[] => (v ?? []).map((b) => (typeof b === "string" ? { source: b, target: b } : { source: b.source, target: b.target }));

/** A unit another component offers for ordering: a plain unit name of a type a service can be ordered after. */
const DEP_UNIT = /^[A-Za-z0-9][A-Za-z0-9:_.-]{0,200}(@[A-Za-z0-9:_.-]{0,50})?\.(service|socket|mount|target|timer|path|swap|device)$/;

const sortedUnique = (v: readonly string[]) => [...new Set(v)].sort();

/**
 * The references of `after`, `requires` or `wants`, each on the service's own host (a unit on another machine means
 * nothing to this one's systemd). `host` is the service's Host (compared by identity).
 */
function dependencies(arg: "after" | "requires" | "wants", refs: readonly Dependable[] | undefined, host: unknown): ResolvedDependency[] {
    return (refs ?? []).map((ref, i) => {
        const d = ref.dependency;
        if (d.host !== host) {
            const name = (h: unknown) => (typeof h === "object" && h !== null && typeof (h as { name?: unknown }).name === "string" ? `'${(h as { name: string }).name}'` : "another host");
            throw new ArgumentError(`${arg}[${i}]`, d.label, `a component on this service's own host ${name(host)} (${d.label} is on ${name(d.host)})`, [arg, i]);
        }
        // What another component offers goes into the unit and the script: held to the rules hearth's own values are.
        for (const u of d.units) if (typeof u !== "string" || !DEP_UNIT.test(u)) throw new ArgumentError(`${arg}[${i}]`, d.label, `a component whose units are unit names (${JSON.stringify(u)} is not)`, [arg, i]);
        for (const m of [...d.mounts, ...d.files]) if (!isHostPath(m)) throw new ArgumentError(`${arg}[${i}]`, d.label, `a component whose paths follow the host path rule (${JSON.stringify(m)} does not)`, [arg, i]);
        return { label: d.label, units: sortedUnique(d.units), mounts: sortedUnique(d.mounts), files: sortedUnique(d.files) };
    });
}

/**
 * Checks a SystemdService's arguments and resolves every default. `name` (the resource name) is the unit name when
 * `unitName` is not given. Runs before `super()`, so a bad input registers nothing.
 */
export function resolveServiceArgs(name: string, args: SystemdServiceArgs): ResolvedService {
    const a = parseArgs(SystemdServiceArgsSchema, args);
    const dropIn = a.dropIn ? { unit: a.dropIn.unit, name: a.dropIn.name ?? "50-hearth" } : undefined;
    let unitName: string;
    let identity: Identity;
    if (dropIn) {
        unitName = dropIn.unit;
        identity = { kind: "packaged" };
    } else {
        const given = a.unitName ?? parseArgs(systemdResourceUnitName, name, ["unitName"]);
        unitName = `${given.replace(/\.service$/, "")}.service`;
        identity = a.runAsRoot ? { kind: "root", reason: a.runAsRoot.reason } : a.user && "name" in a.user ? { kind: "named", name: a.user.name, reason: a.user.reason } : { kind: "dynamic" };
    }
    const timer = a.timer && { onCalendar: a.timer.onCalendar, persistent: a.timer.persistent ?? true, randomizedDelaySec: a.timer.randomizedDelaySec ?? 0 };
    const listen = a.socket && parseListenStream(a.socket.listenStream)!;
    const environment = a.environment ?? {};
    const tree = filesDir(unitName, dropIn);
    const files: ResolvedFile[] = (a.files ?? [])
        .map((f) => ({ target: f.target, source: `${tree}${f.target}`, mode: modeBits(f.mode ?? "0644"), content: typeof f.content === "string" ? f.content : undefined }))
        .sort((x, y) => (x.target < y.target ? -1 : x.target > y.target ? 1 : 0));

    return {
        name,
        unitName,
        dropIn,
        description: a.description,
        execStart: a.execStart ? [...a.execStart] : [],
        environment: Object.keys(environment).sort().map((k) => [k, environment[k]] as const),
        identity,
        stateDirectory: a.stateDirectory,
        cacheDirectory: a.cacheDirectory,
        runtimeDirectory: a.runtimeDirectory,
        logsDirectory: a.logsDirectory,
        bindPaths: binds(a.bindPaths),
        bindReadOnlyPaths: binds(a.bindReadOnlyPaths),
        readWritePaths: [...(a.readWritePaths ?? [])],
        network: a.network ?? "none",
        listenPorts: [...(a.listenPorts ?? [])].sort((x, y) => x - y),
        memoryMaxMiB: a.memoryMaxMiB,
        cpuQuotaPercent: a.cpuQuotaPercent,
        tasksMax: a.tasksMax,
        oomPolicy: a.oomPolicy ?? "kill",
        restart: a.restart ?? (timer || dropIn ? "no" : "on-failure"),
        restartSec: a.restartSec ?? 5,
        credentials: Object.keys(a.credentials ?? {}).sort(),
        timer,
        socket:
            a.socket && listen
                ? { listenStream: listenStreamText(listen), listenPort: listen.kind === "unix" ? undefined : listen.port, idleStopSec: a.socket.idleStopSec, targetPort: a.socket.targetPort }
                : undefined,
        loosen: a.loosen ?? {},
        hostname: a.hostname,
        enable: a.enable ?? dropIn === undefined,
        startWhenExists: a.startWhenExists,
        type: a.type ?? (timer ? "oneshot" : "exec"),
        execReload: a.execReload ? [...a.execReload] : [],
        workingDirectory: a.workingDirectory,
        environmentFile: a.environmentFile,
        files,
        after: dependencies("after", a.after, args.host),
        requires: dependencies("requires", a.requires, args.host),
        wants: dependencies("wants", a.wants, args.host),
    };
}
