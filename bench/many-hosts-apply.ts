// A fresh converge of several hosts' commands at once, as `pulumi up --parallel P` runs them with @pulumi/command 1.2.1.
//
// Every command is a create (the hosts are fresh). A step waits for the commands it depends on, then for one of the
// engine's P slots (in the order steps became ready; unbounded when P is 0, the CLI's default), and holds that slot
// from its first dial until its script exits, as the provider keeps the connection open for the whole command. A dial
// sshd drops before authentication (MaxStartups) is retried on the provider's schedule. When a step fails, no further
// step starts and those running finish, as the engine does without --continue-on-error.
//
// The provider dials from goroutines of one process, so the first wave of dials reaches sshd together. Here each dial
// is an OpenSSH client, and starting one (fork and exec) blocks this process; on a busy machine that spreads the wave
// over seconds. So the first wave's clients are started before the clock, each connecting through a proxy that waits
// on a shared lock and then hands ssh the TCP socket itself (ProxyUseFdpass); the lock is released when all wait.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { liveAddresses } from "../tests/host/harness";
import { runSsh, SshResult, sshArgv, SshTarget } from "../tests/host/ssh";
import type { GraphCommand } from "./converge-program";

/**
 * The provider's dial retries: pulumi-command v1.2.1 provider/pkg/provider/remote/connection.go (`dialWithRetry`,
 * `dialErrorLimit` 10: the 11th failed dial ends the step; `perDialTimeout` 15 s) over the Pulumi SDK's `retry.Until`
 * (sdk/go/common/util/retry/until.go: first wait 100 ms, then ×1.5 each time, at most 5 s).
 */
export const PROVIDER_DIAL = { limit: 10, firstDelayMs: 100, backoff: 1.5, maxDelayMs: 5000, perDialTimeoutSec: 15 } as const;

/** The wait before dial `failed + 1`, after `failed` dials (from 1) failed. */
export function dialDelayMs(failed: number): number {
    return Math.min(PROVIDER_DIAL.firstDelayMs * PROVIDER_DIAL.backoff ** (failed - 1), PROVIDER_DIAL.maxDelayMs);
}

/** ssh exits 255 and prints one of these when sshd closed or refused the connection before the script could run. */
const DIAL_FAILURE = /kex_exchange_identification|Connection (closed|reset) by|Connection refused|Connection timed out|banner exchange/;

export interface HostStep {
    readonly resource: string;
    readonly host: string;
    /** ms from the start of the apply: ready (dependencies done), slot taken (first dial), script exited. */
    readonly readyMs: number;
    readonly startMs: number;
    readonly endMs: number;
    /** Dials made, and how many of them sshd dropped before authentication. */
    readonly dials: number;
    readonly refused: number;
    /** Time spent waiting between refused dials. */
    readonly backoffMs: number;
    /** Time this process was blocked starting its ssh clients (a local fork and exec; the provider's dials fork none). */
    readonly spawnMs: number;
    /** Set when the step failed: its dials ran out (dialErrorLimit) or its script exited non-zero. */
    readonly error?: string;
    readonly dialLimitReached: boolean;
}

export interface BoundedResult {
    /** From the start to the end of the last step. */
    readonly wallMs: number;
    readonly steps: readonly HostStep[];
    /** Commands with a create script that never started (a step before them failed). */
    readonly notStarted: number;
    /** Most ssh connections (dialing or running a script) open at the same time. */
    readonly maxOpen: number;
}

/** The proxy of a first-wave dial: waits for the gate (a shared flock), connects, passes the socket to ssh. */
const GATED_PROXY = [
    "import fcntl, socket, sys",
    "fcntl.flock(open(sys.argv[1]), fcntl.LOCK_SH)",
    "c = socket.create_connection((sys.argv[2], int(sys.argv[3])), 15)",
    "socket.send_fds(socket.socket(fileno=1), [b\"x\"], [c.fileno()])",
].join("; ");
const PYTHON = "/usr/bin/python3";

/** Why a gated first wave cannot run here, or undefined. */
export function burstPreflight(): string | undefined {
    return fs.existsSync(PYTHON) ? undefined : `${PYTHON} is missing (it connects the first wave of dials together)`;
}

/** An exclusive flock held by a child process until release(); the gated proxies wait on it. */
class Gate {
    readonly file: string;
    private readonly holder: ChildProcess;
    private readonly held: Promise<void>;

    constructor() {
        this.file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hearth-gate-")), "gate");
        fs.writeFileSync(this.file, "");
        this.holder = spawn("flock", ["-x", this.file, "-c", "echo held; read -r _"], { stdio: ["pipe", "pipe", "inherit"] });
        this.held = new Promise((resolve, reject) => {
            this.holder.stdout!.once("data", () => resolve());
            this.holder.once("exit", (code) => reject(new Error(`flock on ${this.file} exited ${code} before holding it`)));
        });
    }

    /** Resolves once `n` processes wait for the lock (the kernel lists each waiter in /proc/locks). */
    async waiters(n: number, timeoutMs: number): Promise<void> {
        await this.held;
        const ino = fs.statSync(this.file).ino;
        const waiting = new RegExp(`^\\d+: -> FLOCK\\s+ADVISORY\\s+READ\\s+\\d+\\s+[0-9a-f]+:[0-9a-f]+:${ino} `, "gm");
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const count = (fs.readFileSync("/proc/locks", "utf8").match(waiting) ?? []).length;
            if (count === n) return;
            if (Date.now() > deadline) throw new Error(`${count} of ${n} ssh clients wait at the gate after ${timeoutMs / 1000} s`);
            await new Promise((r) => setTimeout(r, 20));
        }
    }

    release(): void {
        this.holder.stdin!.end();
    }

    remove(): void {
        this.holder.kill();
        fs.rmSync(path.dirname(this.file), { recursive: true, force: true });
    }
}

/** runSsh's client with the gated proxy in front: the process starts now, its TCP connection once the gate opens. */
function gatedSsh(t: SshTarget, command: string, stdin: string, gate: Gate): Promise<SshResult> {
    const proxy = `${PYTHON} -c '${GATED_PROXY}' ${gate.file} %h %p`;
    const argv = ["-o", `ProxyCommand=${proxy}`, "-o", "ProxyUseFdpass=yes", ...sshArgv(t, command, {}, PROVIDER_DIAL.perDialTimeoutSec)];
    return new Promise((resolve, reject) => {
        const child = spawn("ssh", argv, { stdio: ["pipe", "pipe", "pipe"] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (b: Buffer) => out.push(b));
        child.stderr.on("data", (b: Buffer) => err.push(b));
        child.stdin.on("error", () => undefined);
        const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
        child.on("error", (e) => { clearTimeout(timer); reject(e); });
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
        });
        child.stdin.end(stdin);
    });
}

/** Runs every command's create script; `parallel` 0 is unbounded. Throws only on a refusal to connect. */
export async function applyFresh(commands: readonly GraphCommand[], keyPath: string, parallel: number): Promise<BoundedResult> {
    if (!Number.isInteger(parallel) || parallel < 0) throw new Error(`parallel must be a whole number (0 for unbounded), got ${parallel}`);
    const live = liveAddresses();
    for (const c of commands) {
        const conn = c.inputs.connection ?? {};
        if (c.inputs.create === undefined) continue;
        if (!live.includes(conn.host)) throw new Error(`${c.name}: refusing to connect to ${conn.host}: not a test host this process started`);
        if (typeof conn.hostKey !== "string") throw new Error(`${c.name}: the host key is not pinned`);
    }
    // The first wave: steps that wait for nothing, as many as there are slots, in registration order.
    const ready = commands.filter((c) => typeof c.inputs.create === "string" && c.dependsOn.length === 0);
    const wave = new Set((parallel === 0 ? ready : ready.slice(0, parallel)).map((c) => c.name));
    const gate = new Gate();
    const firstDials = new Map<string, Promise<SshResult>>();
    let t0 = Date.now();
    const now = () => Date.now() - t0;
    const steps: HostStep[] = [];
    let failed = false;
    let notStarted = 0;
    let open = wave.size;
    let maxOpen = open;
    let free = parallel === 0 ? Infinity : parallel - wave.size;
    try {
        for (const c of commands) {
            if (!wave.has(c.name)) continue;
            const conn = c.inputs.connection;
            const target: SshTarget = { address: conn.host, port: conn.port ?? 22, user: conn.user ?? "root", privateKeyPath: keyPath, hostKey: conn.hostKey };
            firstDials.set(c.name, gatedSsh(target, c.inputs.create, typeof c.inputs.stdin === "string" ? c.inputs.stdin : "", gate));
        }
        await gate.waiters(wave.size, 120_000);
        gate.release();
        t0 = Date.now();
    } catch (e) {
        gate.release();
        await Promise.allSettled(firstDials.values());
        throw e;
    } finally {
        gate.remove();
    }
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
    const gates = new Map<string, { promise: Promise<void>; open: () => void }>();
    for (const c of commands) {
        let openGate!: () => void;
        const promise = new Promise<void>((resolve) => { openGate = resolve; });
        gates.set(c.name, { promise, open: openGate });
    }
    const dial = async (target: SshTarget, script: string, stdin: string, first?: Promise<SshResult>) => {
        if (first) {
            // Counted as open since before the clock.
            try {
                return { spawnMs: 0, ...(await first) };
            } finally {
                open--;
            }
        }
        open++;
        maxOpen = Math.max(maxOpen, open);
        try {
            const before = Date.now();
            const pending = runSsh(target, script, { stdin, connectTimeoutSec: PROVIDER_DIAL.perDialTimeoutSec });
            return { spawnMs: Date.now() - before, ...(await pending) };
        } finally {
            open--;
        }
    };
    const run = async (c: GraphCommand): Promise<void> => {
        await Promise.all(c.dependsOn.map((d) => gates.get(d)?.promise));
        const script: unknown = c.inputs.create;
        if (typeof script !== "string") return;
        if (failed) { notStarted++; return; }
        const readyMs = now();
        const first = firstDials.get(c.name);
        if (!first) await acquire();
        try {
            // A first-wave client is already connecting: its step runs whatever happens.
            if (failed && !first) { notStarted++; return; }
            const conn = c.inputs.connection;
            const target: SshTarget = { address: conn.host, port: conn.port ?? 22, user: conn.user ?? "root", privateKeyPath: keyPath, hostKey: conn.hostKey };
            const startMs = now();
            let dials = 0;
            let refused = 0;
            let backoffMs = 0;
            let spawnMs = 0;
            for (;;) {
                dials++;
                const r = await dial(target, script, typeof c.inputs.stdin === "string" ? c.inputs.stdin : "", dials === 1 ? first : undefined);
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
                    : dropped ? `after ${PROVIDER_DIAL.limit} failed attempts: ${r.stderr.trim()}`
                    : `create exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
                if (error) failed = true;
                steps.push({ resource: c.name, host: conn.host, readyMs, startMs, endMs: now(), dials, refused, backoffMs, spawnMs, error, dialLimitReached: dropped });
                return;
            }
        } finally {
            release();
        }
    };
    // Registration order, as the engine receives them; each waits only for its own dependencies.
    await Promise.all(commands.map((c) => run(c).finally(() => gates.get(c.name)!.open())));
    return { wallMs: steps.length ? Math.max(...steps.map((s) => s.endMs)) : 0, steps: steps.sort((a, b) => a.startMs - b.startMs), notStarted, maxOpen };
}
