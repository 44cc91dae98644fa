// Turns the resources a site registered into a per-host plan: remote commands, the files they install, and their triggers.
import { createHash } from "crypto";
import { countSecretFrames, InstalledFile, isSafeAbsolutePath, parseScriptFiles, unwrapCommand as unwrapHostCommand } from "../components/shell";
import { isSecret, PlannedResource, unwrap } from "./plan-runtime";

const REMOTE_COMMAND = "command:remote:Command";

export interface PlannedFile {
    readonly path: string;
    readonly mode: number;
    readonly owner: string;
    readonly group: string;
    readonly content: string;
    readonly sha256: string;
}

/** One remote command: what it runs and installs. Scripts are the inner bash text, unwrapped from `bash -c`. */
export interface PlannedCommand {
    readonly name: string;
    /** The component it belongs to (`type/name`), if any. */
    readonly component?: string;
    /**
     * What makes the command run again: the content hash on the script's first line (`# hearth-content:`), else its
     * `triggers`, else a hash of its inputs (the engine updates a command whose inputs changed).
     */
    readonly trigger: string;
    readonly triggerSource: "content" | "triggers" | "inputs";
    /** Empty for a command that only holds a delete (it runs nothing until its component is removed). */
    readonly create: string;
    readonly update?: string;
    readonly delete?: string;
    /** Whether the command runs through `sudo -n`. */
    readonly sudo: boolean;
    readonly files: PlannedFile[];
    /** Stdin frames that are not files: secrets, read into files only the script sees (never written by the plan). */
    readonly secretFrames: number;
    readonly stdinSecret: boolean;
    /** Why the files could not be recovered, when the script does not follow hearth's install conventions. */
    readonly warning?: string;
}

export interface PlannedHost {
    readonly name: string;
    /** `user@address:port`. */
    readonly target: string;
    readonly commands: PlannedCommand[];
}

/** A resource that is not a remote command (cloud DNS records, random values, stack references, components). */
export interface PlannedOther {
    readonly type: string;
    readonly name: string;
    readonly component?: string;
    /** Inputs with secret values replaced by "[secret]". */
    readonly inputs: Record<string, unknown>;
}

export interface Plan {
    readonly stack: string;
    readonly hosts: PlannedHost[];
    readonly others: PlannedOther[];
    readonly components: { readonly type: string; readonly name: string; readonly parent?: string }[];
}

/** What the plan writes instead of a private file that came over a secret stdin. */
export const WITHHELD = "# hearth plan: content withheld (installed owner-only from a secret stdin)\n";

/** The script inside `Host.wrap`'s command line, and whether it runs under sudo (a hand-written line as it is). */
export function unwrapCommand(line: string): { script: string; sudo: boolean } {
    return unwrapHostCommand(line) ?? { script: line, sudo: false };
}

/** Replaces every secret value by "[secret]": what a reviewer may see. */
export function redact(v: unknown): unknown {
    if (isSecret(v)) return "[secret]";
    if (Array.isArray(v)) return v.map(redact);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redact(x)]));
    return v;
}

function topComponent(r: PlannedResource, parents: Map<string, PlannedResource>): string | undefined {
    let p = r.parent;
    let last: string | undefined;
    while (p && !p.startsWith("pulumi:pulumi:Stack/")) {
        last = p;
        p = parents.get(p)?.parent;
    }
    return last;
}

/**
 * Groups the registered resources by the host their commands connect to. `targets` maps each known host name to
 * `user@address:port` (the site's `hosts` output); a command reaching anything else is grouped under its address.
 */
export function buildPlan(stack: string, resources: readonly PlannedResource[], targets: Record<string, string>): Plan {
    const byKey = new Map(resources.map((r) => [`${r.type}/${r.name}`, r]));
    const hostByTarget = new Map(Object.entries(targets).map(([name, t]) => [t, name]));
    const hosts = new Map<string, PlannedHost>();
    const others: PlannedOther[] = [];
    const components: Plan["components"] = [];
    for (const r of resources) {
        if (r.type === "pulumi:pulumi:Stack") continue;
        if (!r.custom) {
            components.push({ type: r.type, name: r.name, parent: r.parent?.startsWith("pulumi:pulumi:Stack/") ? undefined : r.parent });
            continue;
        }
        const component = topComponent(r, byKey);
        if (r.type !== REMOTE_COMMAND) {
            others.push({ type: r.type, name: r.name, component, inputs: redact(r.inputs) as Record<string, unknown> });
            continue;
        }
        const conn = unwrap(r.inputs.connection ?? {});
        const target = `${conn.user ?? "root"}@${conn.host}:${conn.port ?? 22}`;
        const hostName = hostByTarget.get(target) ?? String(conn.host);
        let host = hosts.get(hostName);
        if (!host) hosts.set(hostName, (host = { name: hostName, target, commands: [] }));
        host.commands.push(planCommand(r, component));
    }
    // Registration order depends on promise timing; a plan must print and write the same way every time.
    for (const h of hosts.values()) h.commands.sort((a, b) => (a.component ?? "").localeCompare(b.component ?? "") || a.name.localeCompare(b.name));
    others.sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
    components.sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
    const sorted = [...hosts.values()].sort((a, b) => a.name.localeCompare(b.name));
    return { stack, hosts: sorted, others, components };
}

function planCommand(r: PlannedResource, component: string | undefined): PlannedCommand {
    const create = r.inputs.create === undefined ? { script: "", sudo: false } : unwrapCommand(String(unwrap(r.inputs.create)));
    const update = r.inputs.update === undefined ? undefined : unwrapCommand(String(unwrap(r.inputs.update)));
    const del = r.inputs.delete === undefined ? undefined : unwrapCommand(String(unwrap(r.inputs.delete)));
    const stdin = r.inputs.stdin === undefined ? "" : String(unwrap(r.inputs.stdin));
    const triggers = unwrap(r.inputs.triggers);
    const content = /^# hearth-content: ([0-9a-f]{64})$/m.exec(create.script)?.[1];
    const explicit = Array.isArray(triggers) && triggers.length ? triggers.map(String).join(",") : undefined;
    const inputs = createHash("sha256").update(JSON.stringify([create.script, update?.script, del?.script, stdin, explicit ?? null])).digest("hex");
    let files: InstalledFile[] = [];
    let warning: string | undefined;
    try {
        files = parseScriptFiles(create.script, stdin);
    } catch (e) {
        warning = `files not recovered: ${(e as Error).message}`;
    }
    const unsafe = files.find((f) => !isSafeAbsolutePath(f.path));
    if (unsafe) {
        warning = `files not written: unsafe path ${JSON.stringify(unsafe.path)}`;
        files = [];
    }
    const stdinSecret = isSecret(r.inputs.stdin);
    // A file installed from a secret stdin and readable by its owner alone may be made of the secret (a userlist of
    // password verifiers): the plan shows that it lands, not what it holds.
    files = files.map((f) => (stdinSecret && (f.mode & 0o077) === 0 ? { ...f, content: WITHHELD } : f));
    const secretFrames = countSecretFrames(create.script);
    return {
        name: r.name,
        component,
        trigger: content ?? explicit ?? inputs,
        triggerSource: content ? "content" : explicit ? "triggers" : "inputs",
        create: create.script,
        update: update && update.script !== create.script ? update.script : undefined,
        delete: del?.script,
        sudo: create.sudo,
        files: files.map((f) => ({ ...f, sha256: createHash("sha256").update(f.content, "utf8").digest("hex") })),
        secretFrames,
        stdinSecret,
        warning,
    };
}
