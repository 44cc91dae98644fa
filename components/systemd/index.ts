// SystemdService (hearth:systemd:Service): a hardened unit, or a drop-in over a packaged one, converged by one remote command.
import type { ServiceProps } from "../core/props";
import { rehearsalPoint } from "../core/owner";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { remoteScript } from "../host";
import { claimOnHost, ownerMark } from "../ownership";
import { frameStdin } from "../shell";
import { SERVICE_TYPE } from "../tokens";
import { check, fail } from "../validate";
import { resolveServiceArgs, SystemdServiceArgs } from "./args";
import { proxyUnits, ResolvedService, timerUnit, UNIT_DIR } from "./model";
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

/** Plan-time: every file the service writes is claimed on its host, so two resources on one unit are refused. */
function claimUnits(host: object, r: ResolvedService, mark: ReturnType<typeof ownerMark>): void {
    if (r.dropIn) {
        claimOnHost(host, `systemd drop-in ${UNIT_DIR}/${r.unitName}.d/${r.dropIn.name}.conf`, mark, "dropIn", r.dropIn);
        return;
    }
    claimOnHost(host, `systemd unit ${r.unitName}`, mark, "unitName", r.unitName);
    if (r.timer) claimOnHost(host, `systemd unit ${timerUnit(r.unitName)}`, mark, "timer", timerUnit(r.unitName));
    if (r.socket) {
        const { socket, proxy } = proxyUnits(r.unitName);
        claimOnHost(host, `systemd unit ${socket}`, mark, "socket", socket);
        claimOnHost(host, `systemd unit ${proxy}`, mark, "socket", proxy);
    }
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

    constructor(name: string, args: SystemdServiceArgs & SystemdServiceOwnership, opts: pulumi.ComponentResourceOptions = {}) {
        const { adopt, ...serviceArgs } = args;
        if (adopt !== undefined && typeof adopt !== "boolean") fail("adopt", adopt, "true or false");
        const resolved = check(() => resolveServiceArgs(name, serviceArgs));
        const mark = ownerMark(SERVICE_TYPE, name, opts, adopt);
        claimUnits(args.host, resolved, mark);
        rehearsalPoint();
        const rendered = renderService(resolved, mark);
        // Recorded as the component's inputs (state, policy props): resolved plain data, credential names only.
        super(SERVICE_TYPE, name, { ...resolved, host: args.host.name, unitText: rendered.unitText, hash: rendered.hash } satisfies ServiceProps, opts);
        this.resolved = resolved;
        this.hostname = resolved.hostname;

        const bodies = rendered.files.map((f) => f.content);
        const secrets = resolved.credentials.map((c) => pulumi.secret(args.credentials![c]));
        // pulumi.all keeps the secret mark: stdin is secret exactly when a credential is in it.
        const stdin = secrets.length ? pulumi.all(secrets).apply((values) => frameStdin([...bodies, ...values])) : frameStdin(bodies);

        this.command = remoteScript(
            `${name}-converge`,
            { host: args.host, script: rendered.script, deleteScript: rendered.deleteScript, stdin, hash: rendered.hash },
            { parent: this },
        ).converge;

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
