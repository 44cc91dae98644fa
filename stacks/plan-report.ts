// Turns the resources a site registered into a per-host plan: remote commands, the files they install, and their triggers.
import { createHash } from "crypto";
import { countSecretFrames, InstalledFile, isSafeAbsolutePath, parseScriptFiles, secretFileLines, unwrapCommand as unwrapHostCommand } from "../components/shell";
import { PACKAGES_TYPE } from "../components";
import { isSecret, PlannedResource, unwrap } from "./plan-runtime";

const REMOTE_COMMAND = "command:remote:Command";

export interface PlannedFile {
    readonly path: string;
    readonly mode: number;
    readonly owner: string;
    readonly group: string;
    readonly content: string;
    readonly sha256: string;
    /** Installed straight from a secret stdin frame (a credential, a secret HostFile): listed, never written by the plan. */
    readonly secret?: true;
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
    /** Every socket the program declared on the host, from the host's listener registry. */
    readonly listeners: PlannedListener[];
    /** The Debian packages declared for the host (each DebianPackages resource's own list; not their dependencies). */
    readonly packages: PlannedPackages[];
}

/** One entry of a host's listener registry, as the plan shows it. */
export interface PlannedListener {
    readonly protocol: "tcp" | "udp";
    readonly port: number;
    /** Undefined: every address of the host. */
    readonly address?: string;
    /** Who listens (`postgresql@15-main`, `unit web.service`, `wireguard wg0`, `pgbouncer`). */
    readonly listener: string;
    readonly scope: string;
    /** The resource that declared it first, as `type/name`. */
    readonly resource: string;
    /** The argument that chose it, and the site config entry it came from when the site said. */
    readonly arg: string;
    readonly where?: string;
}

/** One DebianPackages resource, read from what it recorded. */
export interface PlannedPackages {
    /** `type/name` of the resource. */
    readonly resource: string;
    readonly packages: { readonly name: string; readonly version?: string; readonly hold: boolean }[];
    readonly keepUnits: string[];
    /** What could not be read from the recorded props (the plan shows the rest). */
    readonly warning?: string;
}

/** A `secure:` value of the site config that is still the placeholder, and how to set it. */
export interface PlaceholderSecret {
    /** The config key (`hearth:sshPrivateKey`), with the path inside it for a nested value (`hearth:hosts[0].privateKey`). */
    readonly key: string;
    readonly command: string;
}

/** A listener as the registry holds it (components/core/owner.ts RegisteredListener), restated: the plan only reads it. */
export interface RegistryListener {
    readonly protocol: "tcp" | "udp";
    readonly port: number;
    readonly address?: string;
    readonly listener: string;
    readonly scope: string;
    readonly owner: string;
    readonly arg: string;
    readonly where?: string;
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
    /** `secure:` values of the site config still set to the placeholder; undefined when the plan did not look. */
    readonly placeholders?: PlaceholderSecret[];
}

/** What the plan reads besides the registered resources. */
export interface PlanExtras {
    /** Each host's listener registry, by host name. */
    readonly listeners?: ReadonlyMap<string, readonly RegistryListener[]>;
    readonly placeholders?: PlaceholderSecret[];
}

/** `type/name` of the resource an ownership mark (`<project>/<stack>/<type>/<name>`, percent-encoded parts) names. */
export function markResource(mark: string): string {
    const parts = mark.split("/");
    if (parts.length !== 4) return mark;
    const dec = (p: string) => {
        try {
            return decodeURIComponent(p);
        } catch {
            return p;
        }
    };
    return `${dec(parts[2])}/${dec(parts[3])}`;
}

function plannedListener(l: RegistryListener): PlannedListener {
    return {
        protocol: l.protocol, port: l.port, ...(l.address !== undefined ? { address: l.address } : {}), listener: l.listener, scope: l.scope,
        resource: markResource(l.owner), arg: l.arg, ...(l.where !== undefined ? { where: l.where } : {}),
    };
}

/**
 * A DebianPackages resource's declared packages, from its recorded props (`packages: [{ name, version?, hold? }]`,
 * `keepUnits`). Read defensively: anything not in that shape is left out and said in `warning`.
 */
export function plannedPackages(resource: string, props: Record<string, unknown>): PlannedPackages {
    const problems: string[] = [];
    const packages: PlannedPackages["packages"][number][] = [];
    const list = props.packages;
    if (!Array.isArray(list)) problems.push("no 'packages' list");
    for (const p of Array.isArray(list) ? list : []) {
        const name = typeof p === "string" ? p : p && typeof p === "object" ? (p as Record<string, unknown>).name : undefined;
        if (typeof name !== "string" || name === "") {
            problems.push(`a package entry without a name (${JSON.stringify(p) ?? String(p)})`);
            continue;
        }
        const o = typeof p === "object" ? (p as Record<string, unknown>) : {};
        packages.push({ name, ...(typeof o.version === "string" ? { version: o.version } : {}), hold: o.hold === true });
    }
    const units = props.keepUnits;
    const keepUnits = Array.isArray(units) ? units.filter((u): u is string => typeof u === "string") : [];
    if (units !== undefined && (!Array.isArray(units) || keepUnits.length !== units.length)) problems.push("'keepUnits' is not a list of unit names");
    return { resource, packages, keepUnits, ...(problems.length ? { warning: problems.join("; ") } : {}) };
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
export function buildPlan(stack: string, resources: readonly PlannedResource[], targets: Record<string, string>, extras: PlanExtras = {}): Plan {
    const byKey = new Map(resources.map((r) => [`${r.type}/${r.name}`, r]));
    const hostByTarget = new Map(Object.entries(targets).map(([name, t]) => [t, name]));
    const hosts = new Map<string, PlannedHost>();
    const others: PlannedOther[] = [];
    const components: Plan["components"] = [];
    const hostNamed = (name: string, target = targets[name] ?? "not reached by any command"): PlannedHost => {
        let host = hosts.get(name);
        if (!host) hosts.set(name, (host = { name, target, commands: [], listeners: [], packages: [] }));
        return host;
    };
    const packages: [string, PlannedPackages][] = [];
    for (const r of resources) {
        if (r.type === "pulumi:pulumi:Stack") continue;
        if (!r.custom) {
            components.push({ type: r.type, name: r.name, parent: r.parent?.startsWith("pulumi:pulumi:Stack/") ? undefined : r.parent });
            if (r.type === PACKAGES_TYPE) {
                const props = redact(r.inputs) as Record<string, unknown>;
                packages.push([typeof props.host === "string" ? props.host : "(no host recorded)", plannedPackages(`${r.type}/${r.name}`, props)]);
            }
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
        hostNamed(hostName, target).commands.push(planCommand(r, component));
    }
    for (const [host, p] of packages) hostNamed(host).packages.push(p);
    for (const [host, ls] of extras.listeners ?? []) if (ls.length) hostNamed(host).listeners.push(...ls.map(plannedListener));
    // Registration order depends on promise timing; a plan must print and write the same way every time.
    for (const h of hosts.values()) {
        h.commands.sort((a, b) => (a.component ?? "").localeCompare(b.component ?? "") || a.name.localeCompare(b.name));
        h.listeners.sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol) || (a.address ?? "").localeCompare(b.address ?? "") || a.listener.localeCompare(b.listener));
        h.packages.sort((a, b) => a.resource.localeCompare(b.resource));
    }
    others.sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
    components.sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
    const sorted = [...hosts.values()].sort((a, b) => a.name.localeCompare(b.name));
    return { stack, hosts: sorted, others, components, ...(extras.placeholders ? { placeholders: extras.placeholders } : {}) };
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
    let files: (InstalledFile & { secret?: true })[] = [];
    let warning: string | undefined;
    try {
        // Files made of a secret frame (credentials, a secret HostFile) land too: listed with their content withheld.
        files = [...parseScriptFiles(create.script, stdin), ...secretFileLines(create.script).map((f) => ({ ...f, content: WITHHELD, secret: true as const }))];
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
