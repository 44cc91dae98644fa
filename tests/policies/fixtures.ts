// Fixture factory for policy specs: the props a policy sees come from resources registered under the Pulumi mocks
// (real components, hearth's remote commands, provider resources), so a policy is never judged against a shape that
// nothing records. Runners collect violations.
//
// Every spec that builds fixtures here calls `installMocks()` in its `before()` (tests/mocks.ts).
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { NSPAWN_HOST_KEY, WG_PUBLIC_KEY } from "../../components/core/protocols";
import { contentHash, frameStdin, parseScriptFiles, RenderedFile, Script, shq } from "../../components/core/shell";
import { Host, remoteScript } from "../../components/host";
import type { RemoteCommandProps } from "../../components/core/props";
import { REMOTE_COMMAND_TYPE } from "../../components/tokens";
import { rewriteInstalledFiles } from "../../policies/lib/commands";
import { RecordedResource, recorded, setCommandStdout, settle } from "../mocks";

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

type Args = ResourceValidationArgs | Promise<ResourceValidationArgs>;

/** Runs a policy's validations on one resource and returns the violation messages. */
export async function violations(policy: ResourceValidationPolicy, args: Args): Promise<string[]> {
    const a = await args;
    const found: string[] = [];
    const vs = Array.isArray(policy.validateResource) ? policy.validateResource : policy.validateResource ? [policy.validateResource] : [];
    for (const v of vs) await v(a, (message: string) => found.push(message));
    return found;
}

/** Runs a policy's remediation (the engine runs it at the `remediate` level only) and returns the new props, if any. */
export async function remediation(policy: ResourceValidationPolicy, args: Args): Promise<Record<string, any> | undefined> {
    if (!policy.remediateResource) throw new Error(`${policy.name} has no remediation`);
    return (await policy.remediateResource(await args)) ?? undefined;
}

// ---- what the mocks recorded ---------------------------------------------------------------------------------

/** A real ed25519 host key (TEST_HOST_KEY's sibling) for fixture hosts. */
export const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";
const sshKey = () => pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nfixture\n-----END OPENSSH PRIVATE KEY-----\n");

/** A pinned host for fixtures (the root user unless told). */
export function fixtureHost(o: { name?: string; user?: string; zfs?: boolean } = {}): Host {
    return new Host({ name: o.name ?? "box", address: "10.231.0.2", user: o.user, privateKey: sshKey(), hostKey: HOST_KEY, facts: { zfs: o.zfs ?? true } });
}

/** Resources registered by one declaration, with their parents (a component is the parent of `<its name>-…`). */
export interface Declared {
    readonly resources: readonly RecordedResource[];
    /** The validation args of the resource named `name`: its recorded inputs (a copy), its URN under its parent. */
    args(name: string, o?: Omit<FixtureOptions, "name" | "parent">): ResourceValidationArgs;
    /** The recorded inputs of the resource named `name` (a copy). */
    props(name: string): Record<string, any>;
}

/** A public key as a key script would print it, derived from the command's name. */
const mockWgKey = (name: string) => Buffer.alloc(32, name.length).toString("base64");

/**
 * Runs `build` (which constructs components or resources) under the installed mocks, waits for the registrations and
 * returns what was recorded. Key scripts print public keys and containers their host keys, as on a host.
 */
export async function declare(build: () => void): Promise<Declared> {
    const from = recorded.length;
    setCommandStdout((name) =>
        name.endsWith("-key") ? WG_PUBLIC_KEY.line(mockWgKey(name)) + "\n" : name.endsWith("-container") ? NSPAWN_HOST_KEY.line(HOST_KEY) + "\n" : "",
    );
    try {
        build();
        await settle();
        await settle();
    } finally {
        setCommandStdout();
    }
    const resources = recorded.slice(from);
    const find = (name: string): RecordedResource => {
        const r = [...resources].reverse().find((x) => x.name === name);
        if (!r) throw new Error(`nothing named ${name} was registered (registered: ${resources.map((x) => x.name).join(", ")})`);
        return r;
    };
    const components = resources.filter((r) => r.type.startsWith("hearth:"));
    const parentOf = (r: RecordedResource): RecordedResource | undefined =>
        components.filter((c) => c !== r && r.name.startsWith(`${c.name}-`)).sort((a, b) => b.name.length - a.name.length)[0];
    const urn = (r: RecordedResource, o: FixtureOptions): string => {
        const p = parentOf(r);
        return urnOf(r.type, r.name, { ...o, parent: p ? urn(p, o) : undefined });
    };
    return {
        resources,
        props: (name) => structuredClone(find(name).inputs),
        args(name, o = {}) {
            const r = find(name);
            const p = parentOf(r);
            return resourceArgs(r.type, structuredClone(r.inputs), { ...o, name, parent: p ? urn(p, o) : undefined });
        },
    };
}

// ---- remote commands -----------------------------------------------------------------------------------------

export interface CommandFixture {
    /** Files the script installs (bodies go over stdin, as hearth does). */
    files?: RenderedFile[];
    /** Secret frames after the files. */
    secrets?: string[];
    /** Extra script lines after the installs. */
    lines?: string[];
    /** A delete script: the fixture is then the lifecycle command, which carries it. */
    deleteLines?: string[];
    /**
     * The host key a hand-built connection pins (null: none). Unset: a real Host's, through `remoteScript`. Set: the
     * command as a site program registers it with @pulumi/command itself, since Host refuses a bad key.
     */
    hostKey?: string | null;
    /** Run as a non-root user through sudo. */
    sudo?: boolean;
    /** A jump host; with a hostKey that Host would refuse (or none), a hand-built connection as for `hostKey`. */
    proxy?: { host: string; hostKey?: string };
}

/**
 * A hearth script registered as hearth registers it (`remoteScript` on a real Host), or, for connections Host refuses,
 * as a hand-written @pulumi/command Command running the same wrapped script. The converge command is named
 * `fixture-converge` (its delete-only lifecycle `fixture-converge-lifecycle`) unless `o.name` says otherwise.
 */
export async function commandArgs(f: CommandFixture = {}, o: FixtureOptions = {}): Promise<ResourceValidationArgs> {
    const s = new Script("fixture");
    for (const file of f.files ?? []) s.install(file);
    (f.secrets ?? []).forEach((_, i) => s.secretToFile(`secret_${i}`, `/run/fixture-secret-${i}`));
    s.raw(...(f.lines ?? []));
    const script = s.render();
    const bodies = frameStdin([...(f.files ?? []).map((x) => x.content), ...(f.secrets ?? [])]);
    const stdin = f.secrets?.length ? pulumi.secret(bodies) : bodies === "" ? undefined : bodies;
    const deleteScript = f.deleteLines ? new Script("fixture delete").raw(...f.deleteLines).render() : undefined;
    const name = o.name ?? "fixture-converge";
    const realHost = (): Host | undefined => {
        if (f.hostKey !== undefined) return undefined;
        try {
            return new Host({
                name: "box", address: "10.231.0.2", user: f.sudo ? "deploy" : "root", privateKey: sshKey(), hostKey: HOST_KEY,
                ...(f.proxy ? { proxy: { address: f.proxy.host, privateKey: sshKey(), hostKey: f.proxy.hostKey! } } : {}),
            });
        } catch {
            return undefined; // a jump host key Host refuses
        }
    };
    await declare(() => {
        const host = realHost();
        if (host) {
            remoteScript(name, { host, script, deleteScript, stdin, hash: contentHash(script) }, {});
            return;
        }
        const wrap = (text: string) => `${f.sudo ? "sudo -n -- " : ""}bash --noprofile --norc -c ${shq(text)}`;
        const hostKey = f.hostKey === undefined ? HOST_KEY : f.hostKey;
        const connection: command.types.input.remote.ConnectionArgs = {
            host: "10.231.0.2", port: 22, user: f.sudo ? "deploy" : "root", privateKey: sshKey(),
            ...(hostKey !== null ? { hostKey } : {}),
            ...(f.proxy ? { proxy: { host: f.proxy.host, port: 22, user: "root", privateKey: sshKey(), ...(f.proxy.hostKey !== undefined ? { hostKey: f.proxy.hostKey } : {}) } } : {}),
        };
        new command.remote.Command(name, { connection, create: wrap(script), update: wrap(script), stdin, addPreviousOutputInEnv: false });
        if (deleteScript) new command.remote.Command(`${name}-lifecycle`, { connection, delete: wrap(deleteScript), addPreviousOutputInEnv: false });
    });
    const which = f.deleteLines ? `${name}-lifecycle` : name;
    const r = [...recorded].reverse().find((x) => x.name === which && x.type === REMOTE_COMMAND_TYPE)!;
    return resourceArgs(REMOTE_COMMAND_TYPE, structuredClone(r.inputs), { ...o, name: which });
}

/** A unit file placed where systemd reads system units. */
export function unitFile(name: string, content: string): RenderedFile {
    return { path: `/etc/systemd/system/${name}`, content, mode: 0o644 };
}

// ---- edits of recorded commands ------------------------------------------------------------------------------

/** The script inside a recorded `bash --noprofile --norc -c '…'` command line, and a way to wrap an edited one back. */
function unwrapped(line: string): { script: string; wrap(script: string): string } {
    const m = /^((?:sudo -n -- )?bash --noprofile --norc -c )'([\s\S]*)'$/.exec(line);
    if (!m) throw new Error(`not a hearth command line: ${line.slice(0, 80)}`);
    return { script: m[2].replace(/'"'"'/g, "'"), wrap: (s) => m[1] + shq(s) };
}

/** A recorded command with its create and update scripts edited (as a changed renderer would produce them). */
export function editScript(args: ResourceValidationArgs, edit: (script: string) => string, fields: readonly ("create" | "update" | "delete")[] = ["create", "update"]): ResourceValidationArgs {
    const props = structuredClone(args.props);
    for (const f of fields) {
        if (typeof props[f] !== "string") continue;
        const u = unwrapped(props[f]);
        props[f] = u.wrap(edit(u.script));
    }
    return { ...args, props };
}

/** A recorded command with the body of one file it installs edited (the stdin framing kept right, secret frames kept). */
export function editInstalled(args: ResourceValidationArgs, path: string | RegExp, edit: (content: string) => string): ResourceValidationArgs {
    const props = structuredClone(args.props);
    const matches = (p: string) => (typeof path === "string" ? p === path : path.test(p));
    const files = parseScriptFiles(unwrapped(props.create).script, props.stdin ?? "");
    if (!files.some((x) => matches(x.path))) throw new Error(`the command installs no ${path} (it installs ${files.map((x) => x.path).join(", ")})`);
    props.stdin = rewriteInstalledFiles(props as RemoteCommandProps, (f) => (matches(f.path) ? edit(f.content) : f.content));
    if (props.stdin === undefined) throw new Error("the command's stdin does not frame what its script reads");
    return { ...args, props };
}
