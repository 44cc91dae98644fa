// Fixture factory for policy specs: validation args built without an engine, and runners that collect violations.
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { REMOTE_COMMAND_TYPE } from "../../components/tokens";
import { frameStdin, RenderedFile, Script, shq } from "../../components/shell";

export interface FixtureOptions {
    name?: string;
    /** The policy's config as `pulumi preview` would pass it (before defaults). */
    config?: Record<string, unknown>;
    /** URN of the parent resource. */
    parent?: string;
    project?: string;
    stack?: string;
}

export function urnOf(type: string, name: string, o: Pick<FixtureOptions, "project" | "stack" | "parent"> = {}): string {
    const parentType = o.parent ? o.parent.split("::")[2] : undefined;
    return `urn:pulumi:${o.stack ?? "test"}::${o.project ?? "hearth"}::${parentType ? `${parentType}$` : ""}${type}::${name}`;
}

/** The args a policy's validateResource gets for one resource. */
export function resourceArgs(type: string, props: Record<string, any>, o: FixtureOptions = {}): ResourceValidationArgs {
    const name = o.name ?? "fixture";
    return {
        type,
        props,
        urn: urnOf(type, name, o),
        name,
        opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [], parent: o.parent },
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => (o.config ?? {}) as T,
        notApplicable: (reason?: string): never => {
            throw new Error(`not applicable: ${reason}`);
        },
    };
}

/** Runs a policy's validations on one resource and returns the violation messages. */
export async function violations(policy: ResourceValidationPolicy, args: ResourceValidationArgs): Promise<string[]> {
    const found: string[] = [];
    const vs = Array.isArray(policy.validateResource) ? policy.validateResource : policy.validateResource ? [policy.validateResource] : [];
    for (const v of vs) await v(args, (message: string) => found.push(message));
    return found;
}

/** Runs a policy's remediation (the engine runs it at the `remediate` level only) and returns the new props, if any. */
export async function remediation(policy: ResourceValidationPolicy, args: ResourceValidationArgs): Promise<Record<string, any> | undefined> {
    if (!policy.remediateResource) throw new Error(`${policy.name} has no remediation`);
    return (await policy.remediateResource(args)) ?? undefined;
}

export const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";

export interface CommandFixture {
    /** Files the script installs (bodies go over stdin, as hearth does). */
    files?: RenderedFile[];
    /** Secret frames after the files. */
    secrets?: string[];
    /** Extra script lines after the installs. */
    lines?: string[];
    deleteLines?: string[];
    hostKey?: string | null;
    sudo?: boolean;
    proxy?: { host: string; hostKey?: string };
}

/** Props of a command:remote:Command the way `remoteScript` registers them: wrapped scripts, framed stdin, a trigger. */
export function commandProps(f: CommandFixture = {}): Record<string, any> {
    const s = new Script("fixture");
    for (const file of f.files ?? []) s.install(file);
    (f.secrets ?? []).forEach((_, i) => s.secretToFile(`secret_${i}`, `/run/fixture-secret-${i}`));
    s.raw(...(f.lines ?? []));
    const wrap = (script: string) => `${f.sudo ? "sudo -n -- " : ""}bash --noprofile --norc -c ${shq(script)}`;
    const create = wrap(s.render());
    const connection: Record<string, any> = { host: "10.231.0.2", port: 22, user: f.sudo ? "deploy" : "root", privateKey: "ssh-private-key-is-a-secret", dialErrorLimit: 10, perDialTimeout: 15 };
    if (f.hostKey !== null) connection.hostKey = f.hostKey ?? HOST_KEY;
    if (f.proxy) connection.proxy = { host: f.proxy.host, port: 22, user: "root", privateKey: "k", ...(f.proxy.hostKey !== undefined ? { hostKey: f.proxy.hostKey } : {}) };
    const props: Record<string, any> = {
        connection,
        create,
        update: create,
        stdin: frameStdin([...(f.files ?? []).map((x) => x.content), ...(f.secrets ?? [])]),
        triggers: ["0123abcd"],
        addPreviousOutputInEnv: false,
    };
    if (f.deleteLines) props.delete = wrap(new Script("fixture delete").raw(...f.deleteLines).render());
    return props;
}

export function commandArgs(f: CommandFixture = {}, o: FixtureOptions = {}): ResourceValidationArgs {
    return resourceArgs(REMOTE_COMMAND_TYPE, commandProps(f), { name: "fixture-converge", ...o });
}

/** A unit file placed where systemd reads system units. */
export function unitFile(name: string, content: string): RenderedFile {
    return { path: `/etc/systemd/system/${name}`, content, mode: 0o644 };
}
