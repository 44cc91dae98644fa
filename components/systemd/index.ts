// SystemdService (hearth:systemd:Service): a hardened unit, or a drop-in over a packaged one, converged by one remote command.
import * as pulumi from "@pulumi/pulumi";
import { remoteScript } from "../host";
import { frameStdin } from "../shell";
import { SERVICE_TYPE } from "../tokens";
import { resolveServiceArgs, SystemdServiceArgs } from "./args";
import { ResolvedService } from "./model";
import { renderService } from "./render";

export { resolveServiceArgs, SystemdServiceArgs, SystemdBindPath, SystemdLoosenings } from "./args";
export { renderService, RenderedService } from "./render";
export { renderIni, IniLine, IniSection, systemdExecArg, systemdExecLine, systemdQuote } from "./ini";
export { ResolvedService } from "./model";

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

    constructor(name: string, args: SystemdServiceArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const resolved = resolveServiceArgs(name, args);
        const rendered = renderService(resolved);
        // Recorded as the component's inputs (state, policy props): resolved plain data, credential names only.
        super(SERVICE_TYPE, name, { ...resolved, host: args.host.name, unitText: rendered.unitText, hash: rendered.hash }, opts);
        this.resolved = resolved;
        this.hostname = resolved.hostname;

        const bodies = rendered.files.map((f) => f.content);
        const secrets = resolved.credentials.map((c) => pulumi.secret(args.credentials![c]));
        // pulumi.all keeps the secret mark: stdin is secret exactly when a credential is in it.
        const stdin = secrets.length ? pulumi.all(secrets).apply((values) => frameStdin([...bodies, ...values])) : frameStdin(bodies);

        remoteScript(
            `${name}-converge`,
            { host: args.host, script: rendered.script, deleteScript: rendered.deleteScript, stdin, hash: rendered.hash },
            { parent: this },
        );

        this.unitName = pulumi.output(rendered.unitName);
        this.unitText = pulumi.output(rendered.unitText);
        this.hash = pulumi.output(rendered.hash);
        this.registerOutputs({ unitName: this.unitName, unitText: this.unitText, hash: this.hash });
    }
}
