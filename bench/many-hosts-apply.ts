// A fresh converge of several hosts' commands at once, as `pulumi up --parallel P` runs them with @pulumi/command 1.2.1.
//
// Every command is a create (the hosts are fresh). A step waits for the commands it depends on, then for one of the
// engine's P slots (in the order steps became ready; unbounded when P is 0, the CLI's default), and holds that slot
// from its first dial until its script exits, as the provider keeps the connection open for the whole command. A dial
// sshd drops before authentication (MaxStartups) is retried on the provider's schedule. When a step fails, no further
// step starts and those running finish, as the engine does without --continue-on-error.
import { liveAddresses } from "../tests/host/harness";
import { runSsh, SshTarget } from "../tests/host/ssh";
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
    const t0 = Date.now();
    const now = () => Date.now() - t0;
    const steps: HostStep[] = [];
    let failed = false;
    let notStarted = 0;
    let open = 0;
    let maxOpen = 0;
    let free = parallel === 0 ? Infinity : parallel;
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
    const dial = async (target: SshTarget, script: string, stdin: string) => {
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
        await acquire();
        try {
            if (failed) { notStarted++; return; }
            const conn = c.inputs.connection;
            const target: SshTarget = { address: conn.host, port: conn.port ?? 22, user: conn.user ?? "root", privateKeyPath: keyPath, hostKey: conn.hostKey };
            const startMs = now();
            let dials = 0;
            let refused = 0;
            let backoffMs = 0;
            let spawnMs = 0;
            for (;;) {
                dials++;
                const r = await dial(target, script, typeof c.inputs.stdin === "string" ? c.inputs.stdin : "");
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
