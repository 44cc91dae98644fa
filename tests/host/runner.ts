// Executes the remote commands a Pulumi program registers (under the mock runtime) over real SSH, as the command provider would.
//
// Not an engine: it keeps only the previous run's inputs, in memory, to decide create/update/replace/delete the way
// `pulumi up` does for command:remote:Command (provider 1.x): any input change is an update (the `update` script,
// else `create`); a change in `triggers` (the SDK marks it replaceOnChanges) or in `connection` (the provider's
// schema does) is a replacement: the new `create` runs, and the old resource's `delete` runs after every other step
// (before the new create under deleteBeforeReplace). Deletes use the old inputs (connection, stdin) like the provider.
// `ignoreChanges` keeps the old value of an input, `retainOnDelete` skips the delete, and a command that failed is
// run again (as an update) by the next up, as the engine does for a resource with initialization errors.
import * as pulumi from "@pulumi/pulumi";
import { ChildProcess } from "child_process";
import { isDeepStrictEqual } from "util";
import { installMocks, recorded } from "../mocks";
import { liveAddresses } from "./harness";
import { keyFile, runSsh, SshResult, SshTarget } from "./ssh";

const COMMAND = "command:remote:Command";

/** A remote command the program registered, with its resolved inputs (secrets unwrapped) and resource options. */
export interface RegisteredCommand {
    readonly name: string;
    readonly inputs: Record<string, any>;
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

export class RemoteCommandError extends Error {
    constructor(readonly run: RemoteRun, readonly result: UpResult) {
        super(`${run.op} of ${run.resource} exited ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`);
    }
}

export interface RunnerOptions {
    /** Called with each ssh process as it starts (to cut a connection mid-script). */
    readonly onSpawn?: (child: ChildProcess, resource: string, op: Operation) => void;
}

interface State {
    inputs: Record<string, any>;
    cmd: RegisteredCommand;
    /** The last create/update failed: the engine retries it on the next up even with unchanged inputs. */
    failed: boolean;
    stdout: string;
    stderr: string;
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
    const options = new Map<string, pulumi.ResourceOptions>();
    let failure: unknown;
    await pulumi.runtime.runInPulumiStack(async () => {
        pulumi.runtime.registerStackTransformation((a) => {
            options.set(`${a.type}::${a.name}`, a.opts);
            return undefined;
        });
        try { await program(); } catch (e) { failure = e; }
        return undefined;
    });
    await settleRpcs();
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

/** Whether new inputs force a replacement: the resource's replaceOnChanges plus the provider's own (`connection`). */
function needsReplace(cmd: RegisteredCommand, olds: Record<string, any>, news: Record<string, any>): boolean {
    const keys = new Set(["connection", ...cmd.replaceOnChanges.map(topLevel)]);
    if (keys.has("*")) return true;
    return [...keys].some((k) => !isDeepStrictEqual(olds[k], news[k]));
}

/** The engine diffs and stores an ignored input with its old value. */
function withIgnoredChanges(cmd: RegisteredCommand, olds: Record<string, any>): RegisteredCommand {
    if (cmd.ignoreChanges.length === 0) return cmd;
    const inputs = { ...cmd.inputs };
    for (const k of cmd.ignoreChanges) {
        if (k in olds) inputs[k] = olds[k];
        else delete inputs[k];
    }
    return { ...cmd, inputs };
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

    /** Resources the last `up` left in place, in registration order. */
    get resources(): readonly RegisteredCommand[] {
        return this.order.map((n) => this.state.get(n)!.cmd);
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
            if (s.inputs.create !== undefined) await this.exec(name, "create", s.inputs, s.inputs.create, { ...(s.inputs.environment ?? {}) }, result);
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
                const cmd = prev ? withIgnoredChanges(given, prev.inputs) : given;
                if (!prev) {
                    await this.createOrUpdate(cmd, "create", result);
                    result.created.push(cmd.name);
                } else if (needsReplace(cmd, prev.inputs, cmd.inputs)) {
                    if (cmd.deleteBeforeReplace) await this.remove(prev, result);
                    else pendingDeletes.push(prev);
                    this.state.delete(cmd.name);
                    await this.createOrUpdate(cmd, "create", result);
                    result.replaced.push(cmd.name);
                } else if (prev.failed || !isDeepStrictEqual(prev.inputs, cmd.inputs)) {
                    await this.createOrUpdate(cmd, "update", result, prev);
                    result.updated.push(cmd.name);
                } else {
                    prev.cmd = cmd;
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
            // Whatever ran is in the state, as in a real stack after a failed up; what did not run keeps its old place.
            this.order = [...newOrder, ...oldOrder.filter((n) => !newOrder.includes(n) && this.state.has(n))];
        }
        return result;
    }

    private async createOrUpdate(cmd: RegisteredCommand, op: "create" | "update", result: UpResult, prev?: State): Promise<void> {
        const inputs = cmd.inputs;
        const script: string | undefined = op === "update" ? (inputs.update ?? inputs.create) : inputs.create;
        const st: State = { inputs, cmd, failed: true, stdout: prev?.stdout ?? "", stderr: prev?.stderr ?? "" };
        this.state.set(cmd.name, st);
        if (script !== undefined) {
            const env = { ...(inputs.environment ?? {}), ...(op === "update" && inputs.addPreviousOutputInEnv !== false ? { PULUMI_COMMAND_STDOUT: st.stdout, PULUMI_COMMAND_STDERR: st.stderr } : {}) };
            const r = await this.exec(cmd.name, op, inputs, script, env, result);
            st.stdout = r.stdout;
            st.stderr = r.stderr;
        }
        st.failed = false;
    }

    private async remove(s: State, result: UpResult): Promise<void> {
        if (s.cmd.retainOnDelete || s.inputs.delete === undefined) return;
        const env = { ...(s.inputs.environment ?? {}), ...(s.inputs.addPreviousOutputInEnv !== false ? { PULUMI_COMMAND_STDOUT: s.stdout, PULUMI_COMMAND_STDERR: s.stderr } : {}) };
        await this.exec(s.cmd.name, "delete", s.inputs, s.inputs.delete, env, result);
    }

    private async exec(resource: string, op: Operation, inputs: Record<string, any>, script: string, env: Record<string, string>, result: UpResult): Promise<RemoteRun> {
        const started = Date.now();
        const r = await runSsh(target(inputs, resource), script, {
            stdin: typeof inputs.stdin === "string" ? inputs.stdin : undefined,
            env,
            onSpawn: this.onSpawn ? (c) => this.onSpawn!(c, resource, op) : undefined,
        });
        const run: RemoteRun = { ...r, resource, op, seconds: (Date.now() - started) / 1000 };
        result.runs.push(run);
        if (r.code !== 0) throw new RemoteCommandError(run, result);
        return run;
    }
}
