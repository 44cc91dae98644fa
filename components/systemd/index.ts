// SystemdService (hearth:systemd:Service): a hardened unit, or a drop-in over a packaged one, converged by one remote command.
import type { ServiceProps } from "../core/props";
import { rehearsalPoint } from "../core/owner";
import { SERVICE_DIRECTORY_ROOTS, ServiceDirectoryKind } from "../core/rules";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { remoteScript } from "../host";
import { boundFileObject, claimOnHost, claimUnlessUsedOnHost, dropInObject, dropInTargetObject, fileObject, listenOnHost, ownerMark, unitObject, useOnHost } from "../ownership";
import type { Listener } from "../ownership";
import type { Dependable, ServiceDependency } from "../refs";
import { contentHash, frameStdin } from "../shell";
import { SERVICE_TYPE } from "../tokens";
import { check, fail } from "../validate";
import { resolveServiceArgs, SystemdServiceArgs } from "./args";
import { filesDir, proxyUnits, ResolvedService, timerUnit, UNIT_DIR } from "./model";
import { fileContentProblem } from "./schema";
import { renderService } from "./render";

export { resolveServiceArgs, SystemdServiceArgs, SystemdFullServiceArgs, SystemdDropInArgs, SystemdServiceFields, SystemdBindPath, SystemdLoosenings } from "./args";
export {
    SystemdServiceArgsSchema,
    systemdServiceShape,
    systemdDropInShape,
    checkSystemdService,
    checkSystemdDropIn,
    isSystemdDropIn,
    systemdEither,
    systemdCredentials,
    systemdResourceUnitName,
    systemdLoosenSchema,
} from "./schema";
export { renderService, RenderedService } from "./render";
export { renderIni, IniLine, IniSection, systemdExecArg, systemdExecLine, systemdQuote } from "./ini";
export { ResolvedService } from "./model";

/** Taking over unit files another resource (or nothing hearth knows) wrote. */
export interface SystemdServiceOwnership {
    /**
     * Take over the unit files even when their owner line names another resource (or there is none), rewriting it
     * to this one; the other resource's delete then leaves them alone. A resource renamed in the program should list
     * its old name in `aliases` instead. @default false
     */
    readonly adopt?: boolean;
}

/**
 * Plan-time: every file the service writes is claimed on its host, so two resources on one unit are refused. A unit
 * and a drop-in over it never belong to two resources: a drop-in goes on a packaged unit (several, by their names), and
 * over a unit another resource writes it would change that resource behind its back (loosen its hardening, overwrite
 * a container's limits).
 */
function claimUnits(host: object, r: ResolvedService, mark: ReturnType<typeof ownerMark>): void {
    if (r.dropIn) {
        const unit = r.unitName;
        useOnHost(host, dropInTargetObject(unit), unitObject(unit), mark, "dropIn.unit", unit, (by) =>
            `a packaged unit, not one another resource on this host manages (systemd unit ${unit} is managed by ${by}): change that resource's own arguments instead`);
        claimOnHost(host, dropInObject(`${UNIT_DIR}/${unit}.d/${r.dropIn.name}.conf`), mark, "dropIn", r.dropIn);
        return;
    }
    const claimUnit = (unit: string, arg: string, value: unknown) =>
        claimUnlessUsedOnHost(host, unitObject(unit), dropInTargetObject(unit), mark, arg, value, (by) =>
            `a unit no other resource on this host puts a drop-in on (systemd unit ${unit} has a drop-in of ${by}, which would change this unit)`);
    claimUnit(r.unitName, "unitName", r.unitName);
    if (r.timer) claimUnit(timerUnit(r.unitName), "timer", timerUnit(r.unitName));
    if (r.socket) {
        const { socket, proxy } = proxyUnits(r.unitName);
        claimUnit(socket, "socket", socket);
        claimUnit(proxy, "socket", proxy);
    }
}

/**
 * Plan-time: each config file is bound read-only over its target inside the service, which hides whatever the host
 * has there from the service: a HostFile at that path on the host is refused, both ways round (two services binding
 * one target do not meet: each has its own mount namespace).
 */
function claimFiles(host: object, r: ResolvedService, given: SystemdServiceArgs, mark: ReturnType<typeof ownerMark>): void {
    if (!r.files.length) return;
    claimOnHost(host, `config tree ${filesDir(r.unitName, r.dropIn)}`, mark, "files", r.files.map((f) => f.target));
    const declared = given.files ?? [];
    for (const f of r.files) {
        const i = declared.findIndex((d) => d.target === f.target);
        useOnHost(host, boundFileObject(f.target), fileObject(f.target), mark, `files[${i}].target`, f.target, (by) =>
            `a path no other resource on this host writes a file at (file ${f.target} is managed by ${by}): the service's read-only bind would hide it from the service; keep one of the two`);
    }
}

const DIRECTORY_ARGS: readonly (readonly ["stateDirectory" | "cacheDirectory" | "runtimeDirectory" | "logsDirectory", ServiceDirectoryKind])[] = [
    ["stateDirectory", "state"],
    ["cacheDirectory", "cache"],
    ["runtimeDirectory", "runtime"],
    ["logsDirectory", "logs"],
];

/**
 * Plan-time: systemd chowns a service's state, cache, runtime and logs directories to the service's user, so two
 * services on one name (or one below the other's) would hand each other's data over at every start. Each claims the
 * first segment of its directory in its tree on the host.
 */
function claimDirectories(host: object, r: ResolvedService, mark: ReturnType<typeof ownerMark>): void {
    for (const [arg, kind] of DIRECTORY_ARGS) {
        const dir = r[arg];
        if (dir) claimOnHost(host, `service directory ${SERVICE_DIRECTORY_ROOTS[kind]}/${dir.split("/")[0]}`, mark, arg, dir);
    }
}

/** Plan-time: the sockets the service listens on, in the host's one listener registry (a second listener on a port is refused). */
function listenUnits(host: object, r: ResolvedService, declared: readonly number[], mark: ReturnType<typeof ownerMark>): void {
    const listener = `unit ${r.unitName}`;
    const scope: Listener["scope"] = r.network === "local" ? "local" : r.network === "internet" ? "internet" : "none";
    // Named at the index the program gave it (the resolved list is sorted).
    r.listenPorts.forEach((port) => listenOnHost(host, { protocol: "tcp", port, listener, scope }, mark, `listenPorts[${declared.indexOf(port)}]`, port));
    if (r.socket?.listenPort !== undefined) {
        // The socket unit listens on the host's network whatever the app's: "local" filters who may connect.
        const m = /^\[?([^\]]*?)\]?:\d+$/.exec(r.socket.listenStream);
        const address = m && m[1] !== "" ? m[1] : undefined;
        listenOnHost(host, { protocol: "tcp", port: r.socket.listenPort, address, listener, scope: r.network === "local" ? "local" : "internet" }, mark, "socket.listenStream", r.socket.listenStream);
    }
    if (r.socket && r.network !== "none") {
        // The app behind the socket listens on the host's loopback (with network "none" it has a namespace of its own):
        // another app there would be served by this socket's proxy.
        listenOnHost(host, { protocol: "tcp", port: r.socket.targetPort, address: "127.0.0.1", listener, scope: "loopback" }, mark, "socket.targetPort", r.socket.targetPort);
    }
}

/** The converge commands of every referenced component: this service's converge runs after them. */
function referenced(args: SystemdServiceArgs): Dependable[] {
    return [...(args.after ?? []), ...(args.requires ?? []), ...(args.wants ?? [])];
}

export class SystemdService extends pulumi.ComponentResource {
    /** The unit hearth manages: `<name>.service`, or for a drop-in the packaged unit it sits on. */
    readonly unitName: pulumi.Output<string>;
    /** The rendered main file (the service unit, or the drop-in). */
    readonly unitText: pulumi.Output<string>;
    /** Content hash of everything installed except secret values; the first line of the converge command. */
    readonly hash: pulumi.Output<string>;
    /** The DNS name the service answers on, if given. */
    readonly hostname?: string;
    /** The resolved arguments the unit was rendered from. */
    readonly resolved: ResolvedService;
    /** The command that converges the unit; depend on it to run after the service is installed. */
    readonly command: command.remote.Command;
    /** What another service names in `after`, `requires` or `wants`: this unit (its socket, when socket-activated). */
    readonly dependency: ServiceDependency;

    constructor(name: string, args: SystemdServiceArgs & SystemdServiceOwnership, opts: pulumi.ComponentResourceOptions = {}) {
        const { adopt, ...serviceArgs } = args;
        if (adopt !== undefined && typeof adopt !== "boolean") fail("adopt", adopt, "true or false");
        const resolved = check(() => resolveServiceArgs(name, serviceArgs));
        const mark = ownerMark(SERVICE_TYPE, name, opts, adopt);
        claimUnits(args.host, resolved, mark);
        claimFiles(args.host, resolved, serviceArgs, mark);
        claimDirectories(args.host, resolved, mark);
        listenUnits(args.host, resolved, args.listenPorts ?? [], mark);
        rehearsalPoint();
        const rendered = renderService(resolved, mark);
        // Recorded as the component's inputs (state, policy props): resolved plain data, credential names only, config
        // files without their text (it is in the converge command's stdin).
        const props: ServiceProps = {
            ...resolved,
            files: resolved.files.map((f) => ({ target: f.target, source: f.source, mode: f.mode })),
            host: args.host.name,
            unitText: rendered.unitText,
            hash: rendered.hash,
        };
        super(SERVICE_TYPE, name, props, opts);
        this.resolved = resolved;
        this.hostname = resolved.hostname;

        // Config files given as Outputs: framed when they resolve, refused then if secret or not text.
        const given = new Map<string, pulumi.Input<string>>();
        (serviceArgs.files ?? []).forEach((f, i) => {
            if (typeof f.content === "string") return;
            const at = `files[${i}].content`;
            const out = pulumi.output(f.content);
            given.set(
                resolved.files.find((r) => r.target === f.target)!.source,
                out.apply(async (v) => {
                    if (await pulumi.isSecret(out)) fail(at, "<secret>", "a non-secret Output: a secret goes in 'credentials' (a config file is readable on the host and its text is recorded in plain state)", this);
                    const problem = fileContentProblem(v);
                    if (problem) fail(at, v, problem, this);
                    return v;
                }),
            );
        });
        const bodies: pulumi.Input<string>[] = rendered.files.map((f) => given.get(f.path) ?? f.content);
        const secrets = resolved.credentials.map((c) => pulumi.secret(args.credentials![c]));
        // pulumi.all keeps the secret mark: stdin is secret exactly when a credential is in it.
        const plain = bodies.every((b): b is string => typeof b === "string");
        const stdin =
            secrets.length || !plain ? pulumi.all([pulumi.all(bodies), pulumi.all(secrets)]).apply(([b, values]) => frameStdin([...b, ...values])) : frameStdin(bodies as string[]);

        // What the command carries besides its own content: the text of Output config files and the content hashes of
        // referenced files. None: the command is byte-identical to one without these arguments.
        const deps = referenced(serviceArgs).map((d) => d.dependency);
        const hashes = deps.filter((d) => d.files.length > 0 && d.contentHash !== undefined).map((d) => d.contentHash!);
        const outputs = [...given.values()];
        const uses =
            hashes.length || outputs.length ? pulumi.all([pulumi.all(hashes), pulumi.all(outputs)]).apply(([h, o]) => contentHash(...h, ...o)) : undefined;

        this.command = remoteScript(
            `${name}-converge`,
            { host: args.host, script: rendered.script, deleteScript: rendered.deleteScript, stdin, hash: rendered.hash, uses, check: rendered.check },
            { parent: this, dependsOn: [...new Set(deps.flatMap((d) => d.resources))] },
        ).converge;
        const { socket } = proxyUnits(resolved.unitName);
        this.dependency = {
            label: `SystemdService '${name}'`,
            host: args.host,
            units: [resolved.socket ? socket : resolved.unitName],
            mounts: [],
            files: [],
            resources: [this.command],
        };

        // Every output waits for the converge command, so a consumer never acts on a unit not yet installed. The
        // command's stdout is secret when a credential went in on stdin; these values carry none (they are rendered
        // without secret values), so they stay plain.
        const done = <T>(value: T) => pulumi.unsecret(this.command.stdout.apply(() => value));
        this.unitName = done(rendered.unitName);
        this.unitText = done(rendered.unitText);
        this.hash = done(rendered.hash);
        this.registerOutputs({ unitName: this.unitName, unitText: this.unitText, hash: this.hash });
    }
}
