// Runs a program's remote commands against test hosts as `pulumi up` runs them with @pulumi/command 1.2.1: one scheduler
// (dependencies, an optional --parallel limit, the provider's dial retries, every client started before the clock) for
// the converge, check and many-hosts benchmarks.
//
// ConcurrentApplier is not an engine: it keeps the previous inputs of each command (in memory) and decides per command
// the way `pulumi up` does for command:remote:Command, for the cases the benchmarks produce: new → create, inputs
// changed → update, unchanged → nothing. A replacement (connection or triggers changed) or a delete is refused: the
// benchmarks never ask for one, and tests/host/runner.ts covers those one at a time.
//
// schedule() runs the steps. A step waits for the commands it depends on (an unchanged one included: the engine's "same"
// step waits for its own dependencies too), then for one of the engine's P slots (in the order steps became ready;
// unbounded when P is 0, the CLI's default), and holds that slot from its first dial until its script exits, as the
// provider keeps the connection open for the whole command. A dial sshd drops before authentication (MaxStartups) is
// retried on the provider's schedule. When a step fails, no further step starts and those running finish, as the engine
// does without --continue-on-error. Every session offers the provider's SSH algorithms (ssh-client.ts).
//
// The provider dials from goroutines of one process; here each dial is an OpenSSH client, and starting one (fork and
// exec) blocks this process, which on a busy machine spread a fresh converge's dials over seconds. So every step's first
// client is started before the clock and connects through a proxy that waits on a lock of its own and then hands ssh the
// TCP socket (ProxyUseFdpass). The clock starts once all of them wait; the steps that wait for nothing (up to P) are let
// go together, every other step's client when its dependencies are done and it has a slot, so no client connects
// earlier than the provider would dial. Only a retry after a dropped dial starts a client on the clock (Step.spawnMs).
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { isDeepStrictEqual } from "util";
import { liveAddresses } from "../tests/host/harness";
import type { SshResult, SshTarget } from "../tests/host/ssh";
import type { GraphCommand } from "./converge-program";
import { runProviderSsh } from "./ssh-client";

/**
 * The provider's dial retries: pulumi-command v1.2.1 provider/pkg/provider/remote/connection.go (`dialWithRetry`,
 * `dialErrorLimit` 10 as host.ts sets it: the 11th failed dial ends the step; `perDialTimeout` 15 s) over the Pulumi
 * SDK's `retry.Until` (sdk/go/common/util/retry/until.go: first wait 100 ms, then ×1.5 each time, at most 5 s).
 */
export const PROVIDER_DIAL = { limit: 10, firstDelayMs: 100, backoff: 1.5, maxDelayMs: 5000, perDialTimeoutSec: 15 } as const;

/** The wait before dial `failed + 1`, after `failed` dials (from 1) failed. */
export function dialDelayMs(failed: number): number {
    if (!Number.isInteger(failed) || failed < 1) throw new Error(`dialDelayMs: failed must be a whole number from 1, got ${failed}`);
    return Math.min(PROVIDER_DIAL.firstDelayMs * PROVIDER_DIAL.backoff ** (failed - 1), PROVIDER_DIAL.maxDelayMs);
}

/** ssh (or the proxy in front of it) failed before the script could run: sshd closed or refused the connection. */
const DIAL_FAILURE = /kex_exchange_identification|Connection (closed|reset) by|Connection refused|Connection timed out|banner exchange|TimeoutError/;

/** One command of the graph: what it waits for, and what runs (nothing when it is unchanged or has no script). */
export interface Job {
    readonly name: string;
    readonly component: string;
    readonly dependsOn: readonly string[];
    readonly run?: { readonly op: "create" | "update"; readonly target: SshTarget; readonly script: string; readonly stdin: string };
}

export interface Step extends SshResult {
    readonly resource: string;
    readonly component: string;
    readonly host: string;
    readonly op: "create" | "update";
    /** ms from the start of the apply: dependencies done, first dial let go (slot taken), script exited. */
    readonly readyMs: number;
    readonly startMs: number;
    readonly endMs: number;
    /** Dials made; dials sshd dropped before authentication; of those, how many were retried; time waited between them. */
    readonly dials: number;
    readonly refused: number;
    readonly dialRetries: number;
    readonly backoffMs: number;
    /** Time this process was blocked starting this step's retry clients on the clock (the first one started before it). */
    readonly spawnMs: number;
    /** Set when the step failed: its dials ran out (dialErrorLimit) or its script exited non-zero. */
    readonly error?: string;
    readonly dialLimitReached: boolean;
}

export interface ScheduleOptions {
    /** At most this many steps at once (`pulumi up --parallel`); 0, the CLI's default, is unbounded. @default 0 */
    readonly parallel?: number;
}

export interface ScheduleResult {
    /** Steps that ran, by start. */
    readonly steps: readonly Step[];
    /** From the start of the clock to the end of the last step; 0 when none ran. */
    readonly wallMs: number;
    /** When the clock started, epoch ms (to read the host's journal over the same window). */
    readonly startedAt: number;
    /** Steps with a script that never started (a step before them failed). */
    readonly notStarted: number;
    /** Most ssh connections (dialing or running a script) open at the same time. */
    readonly maxOpen: number;
    /** Clients started before the clock, and how long starting them until all waited took. */
    readonly prestarted: number;
    readonly prestartMs: number;
    /** Steps let go together at the start of the clock. */
    readonly firstWave: number;
}

export interface ApplyResult extends ScheduleResult {
    /** Commands registered but left alone (unchanged, or nothing to run on create). */
    readonly skipped: number;
}

const PYTHON = "/usr/bin/python3";

/** Why the benchmarks' scheduler cannot run here, or undefined. */
export function applyPreflight(): string | undefined {
    return fs.existsSync(PYTHON) ? undefined : `${PYTHON} is missing (the proxy that lets each ssh client connect when its step may dial)`;
}

/** Holds an exclusive flock on each file named in argv; a file named on stdin is let go; all are at exit. */
const HOLDER = [
    "import fcntl, sys",
    "held = {p: open(p) for p in sys.argv[1:]}",
    "[fcntl.flock(f, fcntl.LOCK_EX) for f in held.values()]",
    "print('held', flush=True)",
    "[held.pop(l.rstrip('\\n')).close() for l in sys.stdin if l.rstrip('\\n') in held]",
].join("\n");

/**
 * A client's proxy: waits for its lock; a file removed meanwhile means the step never starts (exit without dialing);
 * else connects and passes the socket to ssh.
 */
const GATED_PROXY = [
    "import fcntl, os, socket, sys",
    "f = open(sys.argv[1]); fcntl.flock(f, fcntl.LOCK_SH)",
    "os.fstat(f.fileno()).st_nlink or sys.exit(\"the step never started\")",
    `c = socket.create_connection((sys.argv[2], int(sys.argv[3])), ${PROVIDER_DIAL.perDialTimeoutSec})`,
    "socket.send_fds(socket.socket(fileno=1), [b\"x\"], [c.fileno()])",
].join("; ");

/** One lock file per step, held by a child process until the step may dial. */
class Gates {
    private readonly dir: string;
    private readonly holder: ChildProcess;
    private readonly held: Promise<void>;
    readonly files: ReadonlyMap<string, string>;
    private readonly pending: Set<string>;

    constructor(names: readonly string[]) {
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-gates-"));
        this.files = new Map(names.map((n, i) => [n, path.join(this.dir, String(i))]));
        for (const f of this.files.values()) fs.writeFileSync(f, "");
        this.pending = new Set(names);
        this.holder = spawn(PYTHON, ["-c", HOLDER, ...this.files.values()], { stdio: ["pipe", "pipe", "inherit"] });
        this.holder.stdin!.on("error", () => undefined);
        this.held = new Promise((resolve, reject) => {
            this.holder.stdout!.once("data", () => resolve());
            this.holder.once("exit", (code) => reject(new Error(`the lock holder exited ${code} before holding ${this.files.size} locks`)));
        });
    }

    /** Resolves once the holder holds every lock: only then may a client start (else it could take its lock first). */
    holding(): Promise<void> {
        return this.held;
    }

    /**
     * Resolves once a client waits on every lock (the kernel lists each waiter in /proc/locks); `exited` names a client
     * that ended before waiting, if any.
     */
    async allWaiting(timeoutMs: number, exited: () => string | undefined): Promise<void> {
        await this.held;
        const inodes = new Set([...this.files.values()].map((f) => String(fs.statSync(f).ino)));
        const waiting = /^\d+: -> FLOCK\s+ADVISORY\s+READ\s+\d+\s+[0-9a-f]+:[0-9a-f]+:(\d+) /gm;
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const count = [...fs.readFileSync("/proc/locks", "utf8").matchAll(waiting)].filter((m) => inodes.has(m[1])).length;
            if (count === inodes.size) return;
            const gone = exited();
            if (gone) throw new Error(`an ssh client ended before its step could dial: ${gone}`);
            if (Date.now() > deadline) throw new Error(`${count} of ${inodes.size} ssh clients wait to dial after ${timeoutMs / 1000} s`);
            await new Promise((r) => setTimeout(r, 20));
        }
    }

    /** Lets these steps' clients connect. */
    open(names: readonly string[]): void {
        const lines = names.filter((n) => this.pending.delete(n)).map((n) => `${this.files.get(n)}\n`);
        if (lines.length) this.holder.stdin!.write(lines.join(""));
    }

    /** These steps never start: their clients exit without dialing. */
    abandon(names: readonly string[]): void {
        const gone = names.filter((n) => this.pending.has(n));
        for (const n of gone) fs.rmSync(this.files.get(n)!, { force: true });
        this.open(gone);
    }

    close(): void {
        this.abandon([...this.pending]);
        this.holder.stdin!.end();
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

/** Runs the jobs' scripts; throws only on a bad argument or when the clients could not be started. */
export async function schedule(jobs: readonly Job[], options: ScheduleOptions = {}): Promise<ScheduleResult> {
    const parallel = options.parallel ?? 0;
    if (!Number.isInteger(parallel) || parallel < 0) throw new Error(`schedule: parallel must be a whole number (0 for unbounded), got ${JSON.stringify(parallel)}`);
    const byName = new Map<string, Job>();
    for (const j of jobs) {
        if (byName.has(j.name)) throw new Error(`schedule: two jobs are named ${JSON.stringify(j.name)}`);
        byName.set(j.name, j);
    }
    for (const j of jobs) {
        const unknown = j.dependsOn.filter((d) => !byName.has(d));
        if (unknown.length) throw new Error(`schedule: ${j.name} depends on ${unknown.join(", ")}, which the graph does not hold`);
    }
    const runnable = jobs.filter((j) => j.run);
    const live = liveAddresses();
    for (const j of runnable) {
        if (!live.includes(j.run!.target.address)) throw new Error(`${j.name}: refusing to connect to ${j.run!.target.address}: not a test host this process started`);
    }
    if (!runnable.length) return { steps: [], wallMs: 0, startedAt: Date.now(), notStarted: 0, maxOpen: 0, prestarted: 0, prestartMs: 0, firstWave: 0 };
    const why = applyPreflight();
    if (why) throw new Error(`cannot run the steps: ${why}`);

    // The first wave: steps whose dependencies (if any) run nothing and wait for nothing, as many as there are slots.
    const memo = new Map<string, boolean>();
    const readyAtStart = (j: Job): boolean => {
        if (!memo.has(j.name)) memo.set(j.name, j.dependsOn.every((d) => { const dj = byName.get(d)!; return !dj.run && readyAtStart(dj); }));
        return memo.get(j.name)!;
    };
    const ready = runnable.filter(readyAtStart);
    const wave = new Set((parallel === 0 ? ready : ready.slice(0, parallel)).map((j) => j.name));

    const prestartBegan = Date.now();
    const gates = new Gates(runnable.map((j) => j.name));
    const firstDials = new Map<string, Promise<SshResult>>();
    const dialError = (e: unknown): SshResult => ({ code: -1, stdout: "", stderr: `ssh could not start: ${e instanceof Error ? e.message : String(e)}` });
    const ended: string[] = [];
    let t0: number;
    try {
        await gates.holding();
        for (const j of runnable) {
            const proxy = `${PYTHON} -c '${GATED_PROXY}' ${gates.files.get(j.name)} %h %p`;
            firstDials.set(j.name, runProviderSsh(j.run!.target, j.run!.script, {
                stdin: j.run!.stdin,
                connectTimeoutSec: PROVIDER_DIAL.perDialTimeoutSec,
                options: ["-o", `ProxyCommand=${proxy}`, "-o", "ProxyUseFdpass=yes"],
            }).catch(dialError).then((r) => {
                ended.push(`${j.name}: exit ${r.code}: ${r.stderr.trim()}`);
                return r;
            }));
        }
        await gates.allWaiting(120_000, () => ended[0]);
        gates.open([...wave]);
        t0 = Date.now();
    } catch (e) {
        gates.close();
        await Promise.allSettled(firstDials.values());
        throw e;
    }
    const prestartMs = t0 - prestartBegan;
    const now = () => Date.now() - t0;

    let free = parallel === 0 ? Infinity : parallel - wave.size;
    const queue: (() => void)[] = [];
    const acquire = (): Promise<void> => {
        if (free > 0) {
            free--;
            return Promise.resolve();
        }
        return new Promise((resolve) => queue.push(resolve));
    };
    const release = (): void => {
        const next = queue.shift();
        if (next) next();
        else free++;
    };
    const done = new Map<string, { promise: Promise<void>; open: () => void }>();
    for (const j of jobs) {
        let open!: () => void;
        const promise = new Promise<void>((resolve) => { open = resolve; });
        done.set(j.name, { promise, open });
    }
    const steps: Step[] = [];
    let failed = false;
    let notStarted = 0;
    let open = 0;
    let maxOpen = 0;
    const dial = async (first: Promise<SshResult> | undefined, j: Job): Promise<SshResult & { spawnMs: number }> => {
        open++;
        maxOpen = Math.max(maxOpen, open);
        try {
            if (first) return { spawnMs: 0, ...(await first) };
            const before = Date.now();
            const pending = runProviderSsh(j.run!.target, j.run!.script, { stdin: j.run!.stdin, connectTimeoutSec: PROVIDER_DIAL.perDialTimeoutSec }).catch(dialError);
            return { spawnMs: Date.now() - before, ...(await pending) };
        } finally {
            open--;
        }
    };
    const run = async (j: Job): Promise<void> => {
        await Promise.all(j.dependsOn.map((d) => done.get(d)!.promise));
        if (!j.run) return;
        const first = firstDials.get(j.name)!;
        const leave = () => { notStarted++; gates.abandon([j.name]); };
        // A first-wave client was let go at the start: its step runs whatever happens.
        const inWave = wave.has(j.name);
        if (failed && !inWave) return leave();
        const readyMs = now();
        if (!inWave) await acquire();
        try {
            if (failed && !inWave) return leave();
            if (!inWave) gates.open([j.name]);
            const { op, target } = j.run;
            const startMs = now();
            let dials = 0;
            let refused = 0;
            let backoffMs = 0;
            let spawnMs = 0;
            for (;;) {
                dials++;
                const r = await dial(dials === 1 ? first : undefined, j);
                spawnMs += r.spawnMs;
                const dropped = r.code === 255 && r.stdout === "" && DIAL_FAILURE.test(r.stderr);
                if (dropped) refused++;
                if (dropped && refused <= PROVIDER_DIAL.limit) {
                    const wait = dialDelayMs(refused);
                    backoffMs += wait;
                    await new Promise((res) => setTimeout(res, wait));
                    continue;
                }
                const error = r.code === 0 ? undefined
                    : dropped ? `${j.name}: sshd dropped all ${dials} dials (dialErrorLimit ${PROVIDER_DIAL.limit}): ${r.stderr.trim()}`
                    : `${op} of ${j.name} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
                if (error) failed = true;
                steps.push({
                    code: r.code, stdout: r.stdout, stderr: r.stderr, resource: j.name, component: j.component, host: target.address, op,
                    readyMs, startMs, endMs: now(), dials, refused, dialRetries: dials - 1, backoffMs, spawnMs, error, dialLimitReached: dropped,
                });
                return;
            }
        } finally {
            release();
        }
    };
    try {
        // Registration order, as the engine receives them; each waits only for its own dependencies.
        await Promise.all(jobs.map((j) => run(j).finally(() => done.get(j.name)!.open())));
    } finally {
        gates.close();
        // The clients of steps that never started exit without dialing.
        await Promise.allSettled(firstDials.values());
    }
    return {
        steps: steps.sort((a, b) => a.startMs - b.startMs),
        wallMs: steps.length ? Math.max(...steps.map((s) => s.endMs)) : 0,
        startedAt: t0, notStarted, maxOpen, prestarted: runnable.length, prestartMs, firstWave: wave.size,
    };
}

export class ConcurrentApplier {
    private readonly state = new Map<string, Record<string, any>>();

    /** @param keyPath the client key the hosts accept (connection.privateKey is not carried in the graph). */
    constructor(private readonly keyPath: string, private readonly options: ScheduleOptions = {}) {}

    /** Runs what changed since the last apply; throws the first step's failure once the running steps are done. */
    async apply(commands: readonly GraphCommand[]): Promise<ApplyResult> {
        const r = await this.run(commands);
        const failure = r.steps.find((s) => s.error);
        if (failure) throw new Error(failure.error);
        return r;
    }

    /** Runs what changed since the last apply and reports every step, failed ones included. */
    async run(commands: readonly GraphCommand[]): Promise<ApplyResult> {
        const names = new Set(commands.map((c) => c.name));
        const gone = [...this.state.keys()].filter((n) => !names.has(n));
        if (gone.length) throw new Error(`the benchmark executor does not delete; the program dropped ${gone.join(", ")}`);
        const jobs = commands.map((c) => this.job(c));
        const r = await schedule(jobs, this.options);
        const failed = new Set(r.steps.filter((s) => s.error).map((s) => s.resource));
        const ran = new Set(r.steps.map((s) => s.resource));
        for (const j of jobs) {
            if (failed.has(j.name) || (j.run && !ran.has(j.name))) continue;
            this.state.set(j.name, commands.find((c) => c.name === j.name)!.inputs);
        }
        return { ...r, skipped: jobs.filter((j) => !j.run).length };
    }

    /** What the engine would do with one command, checked before anything runs. */
    private job(c: GraphCommand): Job {
        const op = this.decide(c);
        const script: unknown = op === "update" ? (c.inputs.update ?? c.inputs.create) : op === "create" ? c.inputs.create : undefined;
        const base = { name: c.name, component: c.component, dependsOn: c.dependsOn };
        if (op === undefined || typeof script !== "string") return base;
        const conn = c.inputs.connection ?? {};
        if (typeof conn.host !== "string") throw new Error(`${c.name}: connection.host is not a string: ${JSON.stringify(conn.host)}`);
        if (typeof conn.hostKey !== "string") throw new Error(`${c.name}: the host key is not pinned`);
        const target: SshTarget = { address: conn.host, port: conn.port ?? 22, user: conn.user ?? "root", privateKeyPath: this.keyPath, hostKey: conn.hostKey };
        return { ...base, run: { op, target, script, stdin: typeof c.inputs.stdin === "string" ? c.inputs.stdin : "" } };
    }

    private decide(c: GraphCommand): "create" | "update" | undefined {
        const prev = this.state.get(c.name);
        if (!prev) return "create";
        for (const key of ["connection", "triggers", ...c.replaceOnChanges.map((k) => k.split(/[.[]/)[0])]) {
            if (!isDeepStrictEqual(prev[key], c.inputs[key])) throw new Error(`${c.name}: '${key}' changed, which replaces the command; the benchmark never asks for that`);
        }
        return isDeepStrictEqual(prev, c.inputs) ? undefined : "update";
    }
}

/**
 * The connection floor: `n` sessions that run only `true`, opened as the fresh converge opens its steps' (clients started
 * before the clock, let go together, dial retries on the provider's schedule). What is left of a step's time beyond this
 * is the script's own work.
 */
export async function loginFloor(t: SshTarget, n: number): Promise<{ wallMs: number; retries: number }> {
    if (!Number.isInteger(n) || n < 1) throw new Error(`loginFloor: n must be a whole number from 1, got ${JSON.stringify(n)}`);
    const jobs: Job[] = Array.from({ length: n }, (_, i) => ({
        name: `true-${i + 1}`, component: "floor", dependsOn: [], run: { op: "create", target: t, script: "true", stdin: "" },
    }));
    const r = await schedule(jobs);
    const failure = r.steps.find((s) => s.error);
    if (failure) throw new Error(`ssh true on ${t.address}: ${failure.error}`);
    return { wallMs: r.wallMs, retries: r.steps.reduce((a, s) => a + s.dialRetries, 0) };
}
