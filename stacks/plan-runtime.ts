// Runs a site program under Pulumi's mock runtime the way the CLI would feed it, and records every resource it registers.
import { createHash } from "crypto";
import * as fs from "fs";
import { createRequire } from "module";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import yaml = require("js-yaml");
import { NSPAWN_HOST_KEY, WG_PUBLIC_KEY } from "../components/core/protocols";
import { disconnect, isWireSecret, outputIsKnown, recordParents, runInStack, setStackConfig, UNKNOWN_STATE, unwrapSecrets } from "./sdk";

/** Stands in for `secure:` values, which only the CLI can decrypt; obviously not a real credential. */
export function placeholderSecret(key: string): string {
    return `hearth-plan-placeholder-secret(${key})`;
}

export interface StackConfig {
    /** Project name from Pulumi.yaml: the namespace of bare config keys. */
    readonly project: string;
    /** Fully qualified keys (`ns:key`) to the string the CLI would pass (objects as JSON). */
    readonly config: Record<string, string>;
    /** Keys whose value was `secure:` (replaced by a placeholder). */
    readonly secretKeys: string[];
}

/** Reads `Pulumi.yaml` and `Pulumi.<stack>.yaml` from `dir` into the config map the CLI would hand the program. */
export function loadStackConfig(dir: string, stack: string): StackConfig {
    const project = readYaml(path.join(dir, "Pulumi.yaml"));
    const name = project && typeof project === "object" && typeof (project as any).name === "string" ? (project as any).name : undefined;
    if (!name) throw new Error(`${path.join(dir, "Pulumi.yaml")} has no project name`);
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
        const known = fs.readdirSync(dir).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => !!s);
        throw new Error(`no stack '${stack}': ${file} does not exist (stacks here: ${known.join(", ") || "none"})`);
    }
    const doc = readYaml(file) ?? {};
    if (typeof doc !== "object" || Array.isArray(doc)) throw new Error(`${file} must be a YAML mapping`);
    const raw = (doc as any).config ?? {};
    if (typeof raw !== "object" || Array.isArray(raw)) throw new Error(`${file}: 'config' must be a mapping`);
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    noSharedNodes(raw, file);
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        const key = k.includes(":") ? k : `${name}:${k}`;
        if (key in config) throw new Error(`${file}: config key '${key}' is set twice (as '${k}' and with its namespace); keep one`);
        const ns = key.slice(0, key.indexOf(":"));
        // The site program reads the `hearth` namespace whatever the project is called; a near miss would be ignored.
        for (const want of new Set([name, "hearth"])) {
            if (ns !== want && ns.toLowerCase() === want.toLowerCase()) throw new Error(`${file}: config key '${k}' has the namespace '${ns}': expected '${want}' (namespaces are case-sensitive)`);
        }
        const { value, secret } = substituteSecure(v, key);
        if (secret) secretKeys.push(key);
        // The CLI passes scalars as their text and structured values as JSON.
        config[key] = typeof value === "string" ? value : typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
    }
    return { project: name, config, secretKeys };
}

/** How the site files mark a `secure:` value nobody has set yet (`secure: v1:PLACEHOLDER:<hint>`). */
export const PLACEHOLDER_PREFIX = "v1:PLACEHOLDER:";

/**
 * The `secure:` values of `Pulumi.<stack>.yaml` that are still placeholders, each with the command that sets it: the
 * key itself for a top-level value, its path (`--path`) for one inside a structured value. In file order.
 */
export function placeholderSecrets(dir: string, stack: string): { key: string; command: string }[] {
    const project = loadStackConfig(dir, stack).project;
    const raw = ((readYaml(path.join(dir, `Pulumi.${stack}.yaml`)) ?? {}) as { config?: Record<string, unknown> }).config ?? {};
    const out: { key: string; command: string }[] = [];
    const visit = (v: unknown, key: string, nested: boolean): void => {
        if (v === null || typeof v !== "object") return;
        const o = v as Record<string, unknown>;
        if (!Array.isArray(v) && Object.keys(o).length === 1 && typeof o.secure === "string") {
            if (o.secure.startsWith(PLACEHOLDER_PREFIX)) {
                out.push({ key, command: `pulumi config set --stack ${stack} --secret${nested ? " --path" : ""} ${shellWord(key)} < FILE` });
            }
            return;
        }
        for (const [k, x] of Object.entries(o)) visit(x, Array.isArray(v) ? `${key}[${k}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `${key}.${k}` : `${key}[${JSON.stringify(k)}]`, true);
    };
    for (const [k, v] of Object.entries(raw)) visit(v, k.includes(":") ? k : `${project}:${k}`, false);
    return out;
}

/** A word a POSIX shell reads as itself. */
function shellWord(s: string): string {
    return /^[A-Za-z0-9_:.@%+=,/-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/**
 * Refuses a config in which one node is reached twice (YAML anchors and aliases): expanded, a few lines of aliases
 * grow into gigabytes, and a site config has no use for them. Also refuses `__proto__` keys, which an object
 * would take as its prototype rather than as a key.
 */
function noSharedNodes(v: unknown, file: string, seen = new Set<object>(), at = "config"): void {
    if (v === null || typeof v !== "object") return;
    if (seen.has(v)) throw new Error(`${file}: ${at} repeats another node (a YAML alias); anchors and aliases are not allowed in a site config`);
    seen.add(v);
    for (const [k, x] of Object.entries(v)) {
        if (k === "__proto__") throw new Error(`${file}: ${at}.__proto__ is not an allowed key`);
        noSharedNodes(x, file, seen, Array.isArray(v) ? `${at}[${k}]` : `${at}.${k}`);
    }
}

function readYaml(file: string): unknown {
    return yaml.load(fs.readFileSync(file, "utf8"), { filename: file, schema: yaml.JSON_SCHEMA });
}

function substituteSecure(v: unknown, key: string): { value: unknown; secret: boolean } {
    if (v && typeof v === "object" && !Array.isArray(v)) {
        const o = v as Record<string, unknown>;
        if (Object.keys(o).length === 1 && typeof o.secure === "string") return { value: placeholderSecret(key), secret: true };
        let secret = false;
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(o)) {
            const r = substituteSecure(x, key);
            secret ||= r.secret;
            Object.defineProperty(out, k, { value: r.value, enumerable: true, writable: true, configurable: true });
        }
        return { value: out, secret };
    }
    if (Array.isArray(v)) {
        const rs = v.map((x) => substituteSecure(x, key));
        return { value: rs.map((r) => r.value), secret: rs.some((r) => r.secret) };
    }
    return { value: v, secret: false };
}

/** One registered resource. `inputs` keep secrets wrapped; use `unwrap` to read them and `isSecret` to tell. */
export interface PlannedResource {
    readonly type: string;
    readonly name: string;
    readonly custom: boolean;
    readonly inputs: Record<string, unknown>;
    /** Parent's `type/name`, from the SDK's view of the resource tree. */
    parent?: string;
}

/** Whether an input value is a secret (still wrapped as the engine would receive it). */
export const isSecret: (v: unknown) => boolean = isWireSecret;

/** An input value with every secret replaced by what it holds. */
export const unwrap: (v: unknown) => any = unwrapSecrets;

export interface RunOptions {
    /** The stack (site) name: `Pulumi.<stack>.yaml`. */
    readonly stack: string;
    /** Directory holding Pulumi.yaml and the site files. */
    readonly dir: string;
    /** Module path of the site program. */
    readonly program: string;
    /**
     * Outputs a StackReference to `name` returns (the referenced stack's planned outputs), or "unknown" to leave
     * them unknown as a preview does.
     */
    readonly stackOutputs?: (name: string) => Record<string, unknown> | "unknown";
    /** Run as a preview: unknown values stay unknown and the applies waiting on them never run. @default false */
    readonly preview?: boolean;
    /**
     * Leave unknown what only the engine and the hosts know (what commands print, random values, other stacks'
     * outputs) instead of simulating it: for the drift check, which must not compare a host with a stand-in.
     * @default false
     */
    readonly unknownOutputs?: boolean;
}

export interface RunResult {
    readonly config: StackConfig;
    readonly resources: PlannedResource[];
    /** The program's stack outputs, resolved, with every secret output replaced by "[secret]". */
    readonly outputs: Record<string, unknown>;
}

/** Resolves a stack output for display: secrets become "[secret]", values still unknown become "[unknown]". */
export async function reveal(v: unknown): Promise<unknown> {
    if (pulumi.Output.isInstance(v)) {
        if (await pulumi.isSecret(v)) return "[secret]";
        if (!(await outputIsKnown(v))) return "[unknown]";
        return reveal(await new Promise((res) => v.apply((x) => { res(x); return x; })));
    }
    if (Array.isArray(v)) return Promise.all(v.map(reveal));
    if (v && typeof v === "object" && !(v instanceof pulumi.Resource)) {
        const entries = await Promise.all(Object.entries(v).map(async ([k, x]) => [k, await reveal(x)] as const));
        return Object.fromEntries(entries.filter(([, x]) => x !== undefined));
    }
    return v;
}

/**
 * Runs the site program once in this process (setMocks is process-global: one run per process). Remote
 * commands "succeed" with empty output, as a preview would leave them unknown; nothing leaves the process.
 */
/**
 * The SDK records a stack trace for each of the ~50 promises behind every resource, and formatting them through
 * source maps was most of a plan's time (bench/plan.ts: 3.4 s -> 1.2 s for 200 services). A plan reports errors
 * by their message, so a plan process records no traces and maps none. The SDK also lifts the limit to record every
 * resource's whole call stack as its source position (`Resource.callsites`), which the engine would show and a plan
 * never does: a stack is formatted as its first line only (`Error: message`, what a stack of no frames reads), so that
 * stack comes back empty and the resource has no source position.
 */
export function leanPlanProcess(): void {
    Error.stackTraceLimit = 0;
    process.setSourceMapsEnabled(false);
    Error.prepareStackTrace = headerOnly;
}

function headerOnly(error: unknown): string {
    return Error.prototype.toString.call(error);
}

/** What `installPlanMocks` needs from a run's options. */
export type PlanMockOptions = Pick<RunOptions, "stackOutputs" | "preview" | "unknownOutputs">;

/**
 * Installs the plan's mock runtime (process-global) for project `project`, stack `stack`: every registration is
 * appended to `resources` and answered as `mockState` says. Used by `runProgram` and by the plan benchmark, so the
 * benchmark measures the mocks `npm run plan` runs under.
 */
export async function installPlanMocks(project: string, stack: string, opts: PlanMockOptions, resources: PlannedResource[]): Promise<void> {
    const dryRun = (opts.preview ?? false) || (opts.unknownOutputs ?? false);
    const stackOutputs = opts.unknownOutputs ? () => "unknown" as const : opts.stackOutputs;
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                const inputs = args.inputs ?? {};
                resources.push({ type: args.type, name: args.name, custom: args.custom ?? true, inputs });
                return { id: `${args.name}-plan-id`, state: mockState(args, stackOutputs, opts.unknownOutputs ?? false, dryRun) };
            },
            call(args) {
                return args.inputs;
            },
        },
        project,
        stack,
        dryRun,
        // The organization the real CLI would run in: PULUMI_ORG (as the workflow sets it), else a self-managed
        // backend's own name for it.
        process.env.PULUMI_ORG || "organization",
    );
}

export async function runProgram(opts: RunOptions): Promise<RunResult> {
    leanPlanProcess();
    const config = loadStackConfig(opts.dir, opts.stack);
    setStackConfig(config.config, config.secretKeys);
    const resources: PlannedResource[] = [];
    await installPlanMocks(config.project, opts.stack, opts, resources);
    let parents = new Map<string, string>();
    let exported: Record<string, unknown> = {};
    await runInStack(async () => {
        parents = recordParents();
        loadTypeScriptFrom(opts.dir, opts.program);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const mod = require(path.resolve(opts.program));
        exported = mod && typeof mod === "object" ? { ...mod } : {};
        return exported;
    });
    // Read from the module's own Outputs: the stack's resolved outputs no longer say which values were secret.
    const outputs = (await reveal(exported)) as Record<string, unknown>;
    await disconnect();
    for (const r of resources) r.parent = parents.get(`${r.type}/${r.name}`);
    return { config, resources, outputs };
}

/**
 * A TypeScript site program needs a loader: under tsx (this repository) there is one; installed as a package the plan
 * compiles `.ts` files with the site's own `typescript` (every Pulumi TypeScript project has it), transpile-only, as
 * the Pulumi CLI's `typescript: true` does.
 */
export function loadTypeScriptFrom(dir: string, program: string): void {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const extensions = require.extensions as NodeJS.RequireExtensions;
    if (!program.endsWith(".ts") || extensions[".ts"]) return;
    let ts: typeof import("typescript");
    try {
        ts = createRequire(path.join(path.resolve(dir), "package.json"))("typescript");
    } catch {
        throw new Error(`the site program ${program} is TypeScript, and the site has no 'typescript' package: npm install --save-dev typescript`);
    }
    extensions[".ts"] = (module, filename) => {
        const out = ts.transpileModule(fs.readFileSync(filename, "utf8"), {
            fileName: filename,
            compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, sourceMap: false, inlineSourceMap: false },
        });
        (module as unknown as { _compile(code: string, file: string): void })._compile(out.outputText, filename);
    };
}

/** A stand-in for what a host would print: fixed by `seed`, so a re-plan hashes the same, and never a real key. */
function fakeBytes(seed: string, n: number): Buffer {
    return createHash("sha512").update(`hearth-plan:${seed}`).digest().subarray(0, n);
}

/** The placeholder WireGuard public key a plan gives the key step named `seed` (valid base64 of 32 bytes). */
export function planPublicKey(seed: string): string {
    return fakeBytes(seed, 32).toString("base64");
}

/**
 * What a converge script reports on stdout that components read back (public halves of keys generated on the host).
 * A plan has no host, so these are placeholders derived from the resource name.
 */
export function simulatedStdout(name: string, create: string, hostKeyOnly = false): string {
    const lines: string[] = [];
    if (WG_PUBLIC_KEY.printedBy(create)) lines.push(WG_PUBLIC_KEY.line(planPublicKey(name)));
    if (hostKeyOnly || NSPAWN_HOST_KEY.printedBy(create)) {
        const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.from([0, 0, 0, 32]), fakeBytes(name, 32)]);
        lines.push(NSPAWN_HOST_KEY.line(`ssh-ed25519 ${blob.toString("base64")}`));
    }
    return lines.length ? lines.join("\n") + "\n" : "";
}

/** The stand-in host keys a run gave the containers whose converges print one (by their converge commands). */
export function simulatedHostKeys(resources: readonly PlannedResource[]): Set<string> {
    const out = new Set<string>();
    for (const r of resources) {
        if (r.type !== "command:remote:Command" || !NSPAWN_HOST_KEY.printedBy(String(unwrap(r.inputs.create) ?? ""))) continue;
        const k = NSPAWN_HOST_KEY.parse(simulatedStdout(r.name, "", true));
        if (k) out.add(k);
    }
    return out;
}

/**
 * A registered resource's state as the mock engine answers it. Outside a preview the state carries only what the
 * provider adds: the SDK then gives every input the resource was registered with back as its output (resolveOutputs
 * fills what the engine left out from the inputs, round-tripped through serialization), which is what echoing the
 * inputs gave, without sending every script and stdin back through the mock monitor (which prints each response into
 * a debug line nobody reads: most of a plan's garbage). A preview leaves what the engine does not return unknown, so
 * there the inputs are echoed.
 */
function mockState(args: pulumi.runtime.MockResourceArgs, stackOutputs: RunOptions["stackOutputs"], unknownOutputs: boolean, dryRun: boolean): Record<string, unknown> {
    const state: Record<string, unknown> = dryRun ? { ...args.inputs } : {};
    switch (unknownOutputs ? args.type : "") {
        case "command:remote:Command":
        case "command:local:Command":
            // A container's host key stays a stand-in (the check tool knows it as one, `simulatedHostKeys`, and pins the
            // key the parent host reports): left unknown, it would leave the whole connection of the container unknown.
            state.stdout = NSPAWN_HOST_KEY.printedBy(String(unwrap(args.inputs.create) ?? "")) ? simulatedStdout(args.name, "", true) : UNKNOWN_STATE;
            state.stderr = UNKNOWN_STATE;
            return state;
        case "random:index/randomPassword:RandomPassword":
        case "random:index/randomString:RandomString":
            state.result = UNKNOWN_STATE;
            return state;
        case "random:index/randomBytes:RandomBytes":
        case "random:index/randomId:RandomId":
            for (const k of ["base64", "hex", "b64Std", "b64Url"]) state[k] = UNKNOWN_STATE;
            return state;
    }
    switch (args.type) {
        case "command:remote:Command":
        case "command:local:Command":
            state.stdout = simulatedStdout(args.name, String(unwrap(args.inputs.create) ?? ""));
            state.stderr = "";
            break;
        case "pulumi:pulumi:StackReference": {
            const name = String(args.inputs.name ?? args.name);
            const outputs = stackOutputs ? stackOutputs(name) : {};
            // The runtime's unknown sentinel: in a preview, everything read from the reference stays unknown.
            state.outputs = outputs === "unknown" ? UNKNOWN_STATE : outputs;
            state.secretOutputNames = [];
            break;
        }
        case "random:index/randomPassword:RandomPassword":
        case "random:index/randomString:RandomString":
            // Deterministic so a re-plan hashes the same; never a usable password.
            state.result = `plan-placeholder-${args.name}`.slice(0, 64);
            break;
        case "random:index/randomBytes:RandomBytes":
        case "random:index/randomId:RandomId": {
            const bytes = Buffer.alloc(32, args.name.length);
            state.base64 = bytes.toString("base64");
            state.hex = bytes.toString("hex");
            state.b64Std = state.base64;
            state.b64Url = bytes.toString("base64url");
            break;
        }
    }
    return state;
}
