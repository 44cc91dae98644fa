// Executes the remote commands a Pulumi program registers (under the mock runtime) over real SSH, as the command provider would.
//
// Not an engine, but it chooses create, update or delete and stores state the way `pulumi up` does for
// command:remote:Command (@pulumi/command 1.2.1, read against its schema, pulumi-go-provider's infer Diff/Create/Update
// and the engine's steps). It keeps one state per resource, in memory:
// - Any input change is an in-place update (the `update` script, else `create`), including a `connection` change:
//   the provider's schema marks only `triggers` replaceOnChanges (the SDK adds `replaceOnChanges: ["triggers[*]"]`).
//   A replacement happens only for `triggers` and for inputs in the resource's own `replaceOnChanges` option: the new
//   `create` runs, and the old resource's `delete` runs after every other step (before the new create under
//   `deleteBeforeReplace`). Deletes use the stored inputs (connection, stdin) like the provider.
// - A failed create stores nothing: the next up creates again. A failed update keeps the PREVIOUS inputs and outputs:
//   the next up diffs against them, so a program reverted to those inputs after a failed update runs nothing and the
//   host stays half-applied (as in a real stack; see README.md, "Recovering from a failed up"). A replacement whose new
//   create failed keeps the old resource as it was; one whose create succeeded but whose old delete did not run
//   (a later step failed) is deleted by the next up. A failed delete keeps the resource.
// - Stored stdout/stderr lose one trailing newline, as the provider stores them, and reach the next update or delete as
//   PULUMI_COMMAND_STDOUT/STDERR only when non-empty (unless `addPreviousOutputInEnv: false`).
// - `ignoreChanges` keeps the old value of an input, `retainOnDelete` skips the delete.
// - Every run's stdout and stderr is checked for secrets: the provider stores both as plain state and streams them to
//   the log. The runner knows which inputs were Pulumi secrets (the connection's private key or password, any secret
//   input such as a secret stdin, frame by frame); a secret value, or a line longer than 8 characters of a multi-line
//   one, found in either stream throws SecretInOutputError naming the resource, the stream and the input, never the
//   value (the step's state is then not stored: a leak fails the test outright). A RemoteCommandError's message
//   redacts secret values too.
import * as pulumi from "@pulumi/pulumi";
import { ChildProcess } from "child_process";
import { isDeepStrictEqual } from "util";
import { forgetClaims } from "../../components/core/owner";
import { installMocks, isSecretValue, recorded, unwrapSecrets } from "../mocks";
import { liveAddresses } from "./harness";
import { keyFile, runSsh, SshResult, SshTarget } from "./ssh";

const COMMAND = "command:remote:Command";

/** A secret input value (or one part of one), named by where it came from, e.g. `stdin frame 2`, `connection.privateKey`. */
export interface SecretInput {
    /** The top-level input it is part of (`stdin`, `connection`, …). */
    readonly input: string;
    readonly label: string;
    readonly value: string;
}

/** A remote command the program registered, with its resolved inputs (secrets unwrapped) and resource options. */
export interface RegisteredCommand {
    readonly name: string;
    readonly inputs: Record<string, any>;
    /** The parts of its inputs that were Pulumi secrets (what stdout, stderr and error messages must never show). */
    readonly secrets: readonly SecretInput[];
    readonly replaceOnChanges: readonly string[];
    /** Inputs whose new value the engine ignores, keeping the old one (top-level names). */
    readonly ignoreChanges: readonly string[];
    readonly deleteBeforeReplace: boolean;
    readonly retainOnDelete: boolean;
}

export type Operation = "create" | "update" | "delete";

export interface RemoteRun extends SshResult {
    readonly resource: string;
    readonly op: Operation;
    readonly seconds: number;
}

export interface UpResult {
    readonly created: string[];
    readonly updated: string[];
    readonly replaced: string[];
    readonly deleted: string[];
    readonly unchanged: string[];
    /** Every ssh execution, in order; `runs.length` is how many remote commands ran. */
    readonly runs: RemoteRun[];
}

/** A remote command exited non-zero. The message shows its stdout and stderr with every secret value redacted. */
export class RemoteCommandError extends Error {
    constructor(readonly run: RemoteRun, readonly result: UpResult, secrets: readonly SecretInput[] = []) {
        super(`${run.op} of ${run.resource} exited ${run.code}\n--- stdout\n${redactSecrets(run.stdout, secrets)}\n--- stderr\n${redactSecrets(run.stderr, secrets)}`);
    }
}

/** A run printed a secret input on stdout or stderr, which the provider stores as plain state and logs. */
export class SecretInOutputError extends Error {
    constructor(readonly run: RemoteRun, readonly result: UpResult, readonly stream: "stdout" | "stderr", readonly secret: SecretInput, secrets: readonly SecretInput[]) {
        super(
            `${run.op} of ${run.resource} printed a secret on ${stream}: ${secret.label} (a Pulumi secret) appears in it. ` +
            `@pulumi/command stores stdout and stderr as plain state and streams them to the log, so a script must never print a secret.\n` +
            `--- ${stream} (redacted)\n${redactSecrets(run[stream], secrets)}`,
        );
    }
}

export interface RunnerOptions {
    /** Called with each ssh process as it starts (to cut a connection mid-script). */
    readonly onSpawn?: (child: ChildProcess, resource: string, op: Operation) => void;
}

/** What the engine keeps for a resource: its inputs (and options) and the provider's stored outputs. */
interface State {
    inputs: Record<string, any>;
    cmd: RegisteredCommand;
    stdout: string;
    stderr: string;
}

/** The shortest whole secret value, and the shortest line of a multi-line one, that the output check looks for. */
const MIN_SECRET_VALUE = 8;
const MIN_SECRET_LINE = 9;

/**
 * Splits a framed stdin (`<byte length>\n<bytes>`, repeated; see frameStdin) into its frames, or undefined when it is
 * not one. Every frame of a secret stdin counts as secret: secret-ness covers the whole input.
 */
export function stdinFrames(stdin: string): string[] | undefined {
    const buf = Buffer.from(stdin, "utf8");
    const frames: string[] = [];
    let at = 0;
    while (at < buf.length) {
        const nl = buf.indexOf(10, at);
        if (nl < 0) return undefined;
        const header = buf.subarray(at, nl).toString("utf8");
        if (!/^\d{1,10}$/.test(header)) return undefined;
        const end = nl + 1 + Number(header);
        if (end > buf.length) return undefined;
        frames.push(buf.subarray(nl + 1, end).toString("utf8"));
        at = end;
    }
    return frames;
}

/** The secret parts of a command's raw (engine-shaped) inputs. */
export function secretInputs(rawInputs: Record<string, any>): SecretInput[] {
    const out: SecretInput[] = [];
    const add = (input: string, label: string, v: unknown) => {
        if (typeof v !== "string" || v === "") return;
        const frames = input === "stdin" ? stdinFrames(v) : undefined;
        if (frames && frames.length > 0) frames.forEach((f, i) => { if (f !== "") out.push({ input, label: `${label} frame ${i + 1}`, value: f }); });
        else out.push({ input, label, value: v });
    };
    /** Every string under a secret wrapper, with its path. */
    const walk = (input: string, path: string, v: any, secret: boolean) => {
        if (isSecretValue(v)) return walk(input, path, v.value, true);
        if (typeof v === "string") { if (secret) add(input, path, v); return; }
        if (Array.isArray(v)) return v.forEach((x, i) => walk(input, `${path}[${i}]`, x, secret));
        if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(input, `${path}.${k}`, x, secret);
    };
    for (const [k, v] of Object.entries(rawInputs)) {
        if (k === "connection") {
            // The SDK makes the whole connection a secret; what is secret in it is the credential, not the address.
            const c = unwrapSecrets(v) ?? {};
            for (const [obj, at] of [[c, "connection"], [c.proxy, "connection.proxy"]] as const) {
                if (!obj) continue;
                add(k, `${at}.privateKey`, obj.privateKey);
                add(k, `${at}.privateKeyPassword`, obj.privateKeyPassword);
                add(k, `${at}.password`, obj.password);
            }
            continue;
        }
        walk(k, k, v, false);
    }
    return out;
}

/** The strings the output check looks for: each whole secret value, and each line of a multi-line one. */
function needles(secrets: readonly SecretInput[]): { needle: string; secret: SecretInput }[] {
    const out: { needle: string; secret: SecretInput }[] = [];
    const seen = new Set<string>();
    const push = (needle: string, secret: SecretInput) => {
        if (seen.has(needle)) return;
        seen.add(needle);
        out.push({ needle, secret });
    };
    for (const s of secrets) {
        const whole = s.value.trim();
        if (whole.length >= MIN_SECRET_VALUE) push(whole, s);
        const lines = whole.split(/\r?\n/).map((l) => l.trim());
        if (lines.length < 2) continue;
        for (const line of lines) {
            // PEM armour is the same in every key; it marks a key but is not one.
            if (line.length >= MIN_SECRET_LINE && !/^-----(BEGIN|END) [A-Z0-9 ]+-----$/.test(line)) push(line, s);
        }
    }
    // Longest first, so a redaction replaces a whole value before any of its lines.
    return out.sort((a, b) => b.needle.length - a.needle.length);
}

/** The first secret (whole value, or a line of a multi-line one) that `text` contains. */
export function findSecret(text: string, secrets: readonly SecretInput[]): SecretInput | undefined {
    return needles(secrets).find((n) => text.includes(n.needle))?.secret;
}

/** `text` with every secret value and every line of a multi-line secret replaced by `[secret <label>]`. */
export function redactSecrets(text: string, secrets: readonly SecretInput[]): string {
    let out = text;
    for (const n of needles(secrets)) out = out.split(n.needle).join(`[secret ${n.secret.label}]`);
    return out;
}

async function settleRpcs(): Promise<void> {
    const wait = (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs;
    if (wait) await wait();
    let n = -1;
    while (n !== recorded.length) {
        n = recorded.length;
        await new Promise((r) => setTimeout(r, 20));
    }
}

/** Runs `program` under the mocks and returns the remote commands it registered, in registration order. */
export async function registeredCommands(program: () => unknown): Promise<RegisteredCommand[]> {
    await installMocks();
    recorded.length = 0;
    // Each run is a new program: claims and listeners of the previous one (its Host objects may be reused) are gone.
    forgetClaims();
    const options = new Map<string, pulumi.ResourceOptions>();
    let failure: unknown;
    // An input that rejects (a check in an Output's apply) never registers its resource: the SDK's promise rejects
    // unhandled, and the Node.js language host fails the program with it. So does the runner, before anything runs.
    // Resources that wait on the failed one never register either, so the runner stops waiting at the first one.
    let stop: (e: unknown) => void = () => {};
    const stopped = new Promise<never>((_, reject) => (stop = reject));
    stopped.catch(() => undefined);
    // Not a component's outputs: its registerOutputs may reject while the mocks' stdout is empty (the runner has not run
    // the commands yet); that rejection names the component, an input's does not.
    const rejected = (e: unknown) => {
        const resource = (e as { resource?: unknown } | undefined)?.resource;
        if (pulumi.ComponentResource.isInstance(resource)) return;
        failure ??= new Error((e as Error).message);
        stop(failure);
    };
    process.on("unhandledRejection", rejected);
    try {
        await Promise.race([
            (async () => {
                await pulumi.runtime.runInPulumiStack(async () => {
                    pulumi.runtime.registerStackTransformation((a) => {
                        options.set(`${a.type}::${a.name}`, a.opts);
                        return undefined;
                    });
                    try { await program(); } catch (e) { failure = e; }
                    return undefined;
                });
                await settleRpcs();
            })(),
            stopped,
        ]);
    } catch (e) {
        failure ??= e;
    } finally {
        process.off("unhandledRejection", rejected);
    }
    if (failure) throw failure;
    const out: RegisteredCommand[] = [];
    const seen = new Set<string>();
    for (const r of recorded) {
        if (r.type.startsWith("command:") && r.type !== COMMAND) {
            throw new Error(`the test runner cannot execute ${r.type} (${r.name}); it runs ${COMMAND} only`);
        }
        if (r.type !== COMMAND) continue;
        if (seen.has(r.name)) throw new Error(`two ${COMMAND} resources are named ${r.name}; the runner tells them apart by name`);
        seen.add(r.name);
        const o = options.get(`${r.type}::${r.name}`) ?? {};
        out.push({
            name: r.name,
            inputs: r.inputs,
            secrets: secretInputs(r.rawInputs),
            replaceOnChanges: (o as pulumi.CustomResourceOptions).replaceOnChanges ?? [],
            ignoreChanges: (o.ignoreChanges ?? []).map(topLevel),
            deleteBeforeReplace: (o as pulumi.CustomResourceOptions).deleteBeforeReplace ?? false,
            retainOnDelete: o.retainOnDelete ?? false,
        });
    }
    return out;
}

function topLevel(pathExpr: string): string {
    return pathExpr.split(/[.[]/)[0];
}

/**
 * Whether new inputs force a replacement: only the inputs in the resource's replaceOnChanges option, which for a
 * Command always holds `triggers[*]` (the SDK adds it; the provider's schema marks nothing else). A `connection`
 * change is an update.
 */
export function needsReplace(cmd: Pick<RegisteredCommand, "replaceOnChanges">, olds: Record<string, any>, news: Record<string, any>): boolean {
    const keys = new Set(cmd.replaceOnChanges.map(topLevel));
    if (keys.has("*")) return !isDeepStrictEqual(olds, news);
    return [...keys].some((k) => !isDeepStrictEqual(olds[k], news[k]));
}

/** The engine diffs and stores an ignored input with its old value (and so its old secret-ness). */
function withIgnoredChanges(cmd: RegisteredCommand, prev: State): RegisteredCommand {
    if (cmd.ignoreChanges.length === 0) return cmd;
    const inputs = { ...cmd.inputs };
    let secrets = cmd.secrets;
    for (const k of cmd.ignoreChanges) {
        if (k in prev.inputs) inputs[k] = prev.inputs[k];
        else delete inputs[k];
        secrets = [...secrets.filter((s) => s.input !== k), ...prev.cmd.secrets.filter((s) => s.input === k)];
    }
    return { ...cmd, inputs, secrets };
}

function target(inputs: Record<string, any>, resource: string): SshTarget {
    const c = inputs.connection;
    if (!c || typeof c.host !== "string") throw new Error(`${resource}: no connection.host`);
    if (c.proxy || c.password || c.agentSocketPath) throw new Error(`${resource}: the test runner supports key-based connections without proxy only`);
    if (!liveAddresses().includes(c.host)) {
        throw new Error(`${resource}: refusing to connect to ${c.host}: not a test host this process started (${liveAddresses().join(", ") || "none"})`);
    }
    if (typeof c.hostKey !== "string") throw new Error(`${resource}: connection.hostKey is not pinned; test hosts are only reached with a pinned key`);
    if (typeof c.privateKey !== "string") throw new Error(`${resource}: connection.privateKey is missing`);
    return { address: c.host, port: c.port ?? 22, user: c.user ?? "root", privateKeyPath: keyFile(c.privateKey), hostKey: c.hostKey };
}

/** PULUMI_COMMAND_STDOUT/STDERR as the provider sets them: from the stored outputs, only when non-empty. */
function previousOutputEnv(inputs: Record<string, any>, stored: { stdout: string; stderr: string }): Record<string, string> {
    if (inputs.addPreviousOutputInEnv === false) return {};
    return {
        ...(stored.stdout !== "" ? { PULUMI_COMMAND_STDOUT: stored.stdout } : {}),
        ...(stored.stderr !== "" ? { PULUMI_COMMAND_STDERR: stored.stderr } : {}),
    };
}

/** The provider stores stdout and stderr without one trailing newline. */
function stored(out: string): string {
    return out.endsWith("\n") ? out.slice(0, -1) : out;
}

/** Executes successive versions of a program against test hosts. One runner per test: it is the only state. */
export class ProgramRunner {
    private state = new Map<string, State>();
    private order: string[] = [];
    /** Replaced resources whose delete has not run yet (an up failed first): the next up deletes them, as the engine does. */
    private pendingDeletes: State[] = [];

    /** Called with each ssh process as it starts; settable between runs (a test cuts one connection, then retries). */
    onSpawn: RunnerOptions["onSpawn"];

    constructor(opts: RunnerOptions = {}) {
        this.onSpawn = opts.onSpawn;
    }

    /** Resources the last `up` left in the state, in registration order (a failed create is not among them). */
    get resources(): readonly RegisteredCommand[] {
        return this.order.map((n) => this.state.get(n)!.cmd);
    }

    /** The inputs the state holds for a resource (after a failed update: the previous ones), or undefined. */
    storedInputs(name: string): Record<string, any> | undefined {
        return this.state.get(name)?.inputs;
    }

    /** Like `pulumi up`: converges from the previous version of the program (none at first) to this one. */
    async up(program: () => unknown): Promise<UpResult> {
        return this.apply(await registeredCommands(program));
    }

    /** Like `pulumi destroy`: deletes everything the previous `up` left, in reverse order. */
    async destroy(): Promise<UpResult> {
        return this.apply([]);
    }

    /**
     * Runs every current resource's `create` again, as the provider would (same connection and stdin), leaving the
     * state alone: what a re-applied create does on a host that already converged.
     */
    async rerunCreate(): Promise<RemoteRun[]> {
        const result: UpResult = { created: [], updated: [], replaced: [], deleted: [], unchanged: [], runs: [] };
        for (const name of this.order) {
            const s = this.state.get(name)!;
            if (s.inputs.create !== undefined) await this.exec(s.cmd, "create", s.inputs, s.inputs.create, { ...(s.inputs.environment ?? {}) }, result);
        }
        return result.runs;
    }

    private async apply(cmds: RegisteredCommand[]): Promise<UpResult> {
        const result: UpResult = { created: [], updated: [], replaced: [], deleted: [], unchanged: [], runs: [] };
        const wanted = new Set(cmds.map((c) => c.name));
        const oldOrder = this.order;
        const pendingDeletes = this.pendingDeletes;
        this.pendingDeletes = [];
        const newOrder: string[] = [];
        try {
            for (const given of cmds) {
                newOrder.push(given.name);
                const prev = this.state.get(given.name);
                const cmd = prev ? withIgnoredChanges(given, prev) : given;
                if (!prev) {
                    await this.create(cmd, result);
                    result.created.push(cmd.name);
                } else if (needsReplace(cmd, prev.inputs, cmd.inputs)) {
                    if (cmd.deleteBeforeReplace) {
                        await this.remove(prev, result);
                        this.state.delete(cmd.name);
                        await this.create(cmd, result);
                    } else {
                        // Create before delete: a failed create leaves the old resource as it was (not pending delete).
                        await this.create(cmd, result);
                        pendingDeletes.push(prev);
                    }
                    result.replaced.push(cmd.name);
                } else if (!isDeepStrictEqual(prev.inputs, cmd.inputs)) {
                    await this.update(cmd, prev, result);
                    result.updated.push(cmd.name);
                } else {
                    // A same step keeps the stored inputs and outputs; the options are the program's.
                    prev.cmd = { ...cmd, inputs: prev.inputs };
                    result.unchanged.push(cmd.name);
                }
            }
            // The engine deletes replaced and vanished resources last, dependents before what they depend on.
            const gone = oldOrder.filter((n) => !wanted.has(n)).map((n) => this.state.get(n)!);
            const deletes = [...pendingDeletes, ...gone].sort((a, b) => oldOrder.indexOf(b.cmd.name) - oldOrder.indexOf(a.cmd.name));
            while (deletes.length) {
                const s = deletes[0];
                await this.remove(s, result);
                deletes.shift();
                if (pendingDeletes.includes(s)) continue;
                this.state.delete(s.cmd.name);
                result.deleted.push(s.cmd.name);
            }
        } catch (e) {
            this.pendingDeletes = pendingDeletes.filter((s) => !result.runs.some((r) => r.op === "delete" && r.resource === s.cmd.name && r.code === 0));
            throw e;
        } finally {
            // What is in the state after a failed up: every resource that has a state, the new ones in program order.
            this.order = [...newOrder, ...oldOrder.filter((n) => !newOrder.includes(n))].filter((n, i, all) => this.state.has(n) && all.indexOf(n) === i);
        }
        return result;
    }

    /** A create stores the resource only when it succeeded (the provider returns a plain error, not a partial state). */
    private async create(cmd: RegisteredCommand, result: UpResult): Promise<void> {
        const inputs = cmd.inputs;
        const out = { stdout: "", stderr: "" };
        if (inputs.create !== undefined) {
            const r = await this.exec(cmd, "create", inputs, inputs.create, { ...(inputs.environment ?? {}) }, result);
            out.stdout = stored(r.stdout);
            out.stderr = stored(r.stderr);
        }
        this.state.set(cmd.name, { inputs, cmd, ...out });
    }

    /** An update replaces the stored inputs and outputs only when it succeeded; a failed one keeps the previous ones. */
    private async update(cmd: RegisteredCommand, prev: State, result: UpResult): Promise<void> {
        const inputs = cmd.inputs;
        const script: string | undefined = inputs.update ?? inputs.create;
        const out = { stdout: prev.stdout, stderr: prev.stderr };
        if (script !== undefined) {
            const env = { ...(inputs.environment ?? {}), ...previousOutputEnv(inputs, prev) };
            const r = await this.exec(cmd, "update", inputs, script, env, result);
            out.stdout = stored(r.stdout);
            out.stderr = stored(r.stderr);
        }
        this.state.set(cmd.name, { inputs, cmd, ...out });
    }

    private async remove(s: State, result: UpResult): Promise<void> {
        if (s.cmd.retainOnDelete || s.inputs.delete === undefined) return;
        const env = { ...(s.inputs.environment ?? {}), ...previousOutputEnv(s.inputs, s) };
        await this.exec(s.cmd, "delete", s.inputs, s.inputs.delete, env, result);
    }

    private async exec(cmd: RegisteredCommand, op: Operation, inputs: Record<string, any>, script: string, env: Record<string, string>, result: UpResult): Promise<RemoteRun> {
        const resource = cmd.name;
        const started = Date.now();
        // The provider (remote/connection.go dialWithRetry) retries every error of ssh.Dial (connect, handshake, host
        // key, login) until `dialErrorLimit` + 1 dials failed, each bounded by `perDialTimeout` seconds, waiting 100 ms
        // x1.5 (at most 5 s) between them. So does the runner: ssh exits 255 with ssh's own message before any command ran.
        const c = inputs.connection ?? {};
        const dials = Math.max(1, (c.dialErrorLimit ?? 10) + 1);
        let r: SshResult;
        for (let dial = 1, wait = 100; ; dial++, wait = Math.min(wait * 1.5, 5000)) {
            r = await runSsh(target(inputs, resource), script, {
                stdin: typeof inputs.stdin === "string" ? inputs.stdin : undefined,
                env,
                connectTimeoutSec: c.perDialTimeout ?? 15,
                onSpawn: this.onSpawn ? (ch) => this.onSpawn!(ch, resource, op) : undefined,
            });
            const dialError = r.code === 255 && /^(ssh: connect to host \S+ port \d+: |kex_exchange_identification: |Connection (closed|reset) by \S+ port \d+|Host key verification failed|\S+: Permission denied \()/m.test(r.stderr);
            if (!dialError || dial >= dials) break;
            await new Promise((done) => setTimeout(done, wait));
        }
        const run: RemoteRun = { ...r, resource, op, seconds: (Date.now() - started) / 1000 };
        result.runs.push(run);
        for (const stream of ["stdout", "stderr"] as const) {
            const leaked = findSecret(run[stream], cmd.secrets);
            if (leaked) throw new SecretInOutputError(run, result, stream, leaked, cmd.secrets);
        }
        if (r.code !== 0) throw new RemoteCommandError(run, result, cmd.secrets);
        return run;
    }
}
