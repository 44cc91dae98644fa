// Runs a program's remote commands against test hosts with the engine's concurrency: every step as soon as what it depends on is done.
//
// Not an engine: it keeps the previous inputs of each command (in memory) and decides per command the way `pulumi up`
// does for command:remote:Command, for the cases the benchmark produces: new → create, inputs changed → update,
// unchanged → nothing. A replacement (connection or triggers changed) or a delete is refused: the benchmark never
// asks for one, and tests/host/runner.ts covers those one at a time. Steps run in parallel, bounded only by the
// dependencies the SDK registered (the CLI's default --parallel is unbounded). Every session offers the provider's SSH
// algorithms (ssh-client.ts), not OpenSSH's defaults.
import { isDeepStrictEqual } from "util";
import { liveAddresses } from "../tests/host/harness";
import { runSsh, SshResult, SshTarget } from "../tests/host/ssh";
import { runProviderSsh } from "./ssh-client";
import type { GraphCommand } from "./converge-program";

export interface Step extends SshResult {
    readonly resource: string;
    readonly component: string;
    readonly op: "create" | "update";
    /** When the step started and ended, in ms from the start of the apply. */
    readonly startMs: number;
    readonly endMs: number;
    /** SSH dials refused before the script ran (sshd's MaxStartups), retried as the provider's dialErrorLimit does. */
    readonly dialRetries: number;
}

export interface ApplyResult {
    readonly steps: readonly Step[];
    /** From deciding the steps to the end of the last one; 0 when none ran. */
    readonly wallMs: number;
    /** When the steps were decided, epoch ms (to read the host's journal over the same window). */
    readonly startedAt: number;
    /** Commands registered but left alone (unchanged, or nothing to run on create). */
    readonly skipped: number;
}

/** ssh exits 255 when it could not connect or log in; only then did the script certainly not run. */
const DIAL_FAILURE = /kex_exchange_identification|Connection (closed|reset) by|Connection refused|Connection timed out|banner exchange/;
/** The provider's dial retries (host.ts sets dialErrorLimit: 10). */
const DIAL_LIMIT = 10;

export class ConcurrentApplier {
    private readonly state = new Map<string, Record<string, any>>();

    /** @param keyPath the client key the hosts accept (connection.privateKey is not carried in the graph). */
    constructor(private readonly keyPath: string) {}

    async apply(commands: readonly GraphCommand[]): Promise<ApplyResult> {
        const names = new Set(commands.map((c) => c.name));
        const gone = [...this.state.keys()].filter((n) => !names.has(n));
        if (gone.length) throw new Error(`the benchmark executor does not delete; the program dropped ${gone.join(", ")}`);
        const plan = commands.map((c) => ({ c, op: this.decide(c) }));
        const started = Date.now();
        const steps: Step[] = [];
        // One gate per command, opened when its step is over, so a step can wait for a command listed after it.
        const gates = new Map<string, { promise: Promise<void>; open: () => void }>();
        for (const c of commands) {
            let open!: () => void;
            const promise = new Promise<void>((resolve) => { open = resolve; });
            gates.set(c.name, { promise, open });
        }
        const failures: Error[] = [];
        const run = async (c: GraphCommand, op: "create" | "update" | undefined): Promise<void> => {
            await Promise.all(c.dependsOn.map((d) => gates.get(d)?.promise));
            if (failures.length) return;
            const script: string | undefined = op === "update" ? (c.inputs.update ?? c.inputs.create) : op === "create" ? c.inputs.create : undefined;
            if (op !== undefined && script !== undefined) {
                try {
                    steps.push(await this.exec(c, op, script, started));
                } catch (e) {
                    failures.push(e as Error);
                    return;
                }
            }
            if (op !== undefined) this.state.set(c.name, c.inputs);
        };
        // Registration order, as the engine receives them; each waits only for its own dependencies.
        await Promise.all(plan.map(({ c, op }) => run(c, op).finally(() => gates.get(c.name)!.open())));
        if (failures.length) throw failures[0];
        // Deciding that nothing runs is not remote time.
        const wallMs = steps.length ? Date.now() - started : 0;
        return { steps: steps.sort((a, b) => a.startMs - b.startMs), wallMs, startedAt: started, skipped: commands.length - steps.length };
    }

    private decide(c: GraphCommand): "create" | "update" | undefined {
        const prev = this.state.get(c.name);
        if (!prev) return "create";
        for (const key of ["connection", "triggers", ...c.replaceOnChanges.map((k) => k.split(/[.[]/)[0])]) {
            if (!isDeepStrictEqual(prev[key], c.inputs[key])) throw new Error(`${c.name}: '${key}' changed, which replaces the command; the benchmark never asks for that`);
        }
        return isDeepStrictEqual(prev, c.inputs) ? undefined : "update";
    }

    private async exec(c: GraphCommand, op: "create" | "update", script: string, t0: number): Promise<Step> {
        const conn = c.inputs.connection ?? {};
        if (!liveAddresses().includes(conn.host)) throw new Error(`${c.name}: refusing to connect to ${conn.host}: not a test host this process started`);
        if (typeof conn.hostKey !== "string") throw new Error(`${c.name}: the host key is not pinned`);
        const target: SshTarget = { address: conn.host, port: conn.port ?? 22, user: conn.user ?? "root", privateKeyPath: this.keyPath, hostKey: conn.hostKey };
        const startMs = Date.now() - t0;
        let dialRetries = 0;
        for (;;) {
            const r = await runProviderSsh(target, script, { stdin: typeof c.inputs.stdin === "string" ? c.inputs.stdin : "" });
            if (r.code === 255 && r.stdout === "" && DIAL_FAILURE.test(r.stderr) && dialRetries < DIAL_LIMIT) {
                dialRetries++;
                await new Promise((res) => setTimeout(res, 100 * dialRetries));
                continue;
            }
            const step: Step = { ...r, resource: c.name, component: c.component, op, startMs, endMs: Date.now() - t0, dialRetries };
            if (r.code !== 0) throw new Error(`${op} of ${c.name} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
            return step;
        }
    }
}

/**
 * The connection floor: `n` sessions opened at once that run only `true`, as the fresh converge opens them (dial
 * retries included). What is left of a step's time beyond this is the script's own work. `client`: "provider" offers
 * @pulumi/command's algorithms (what `pulumi up` dials with), "openssh" OpenSSH's defaults (what `npm run check` uses).
 */
export async function loginFloor(t: SshTarget, n: number, client: "provider" | "openssh" = "openssh"): Promise<{ wallMs: number; retries: number }> {
    if (client !== "provider" && client !== "openssh") throw new Error(`loginFloor: client must be "provider" or "openssh", got ${JSON.stringify(client)}`);
    const ssh = client === "provider" ? runProviderSsh : runSsh;
    if (!liveAddresses().includes(t.address)) throw new Error(`refusing to connect to ${t.address}: not a test host this process started`);
    const started = Date.now();
    let retries = 0;
    await Promise.all(Array.from({ length: n }, async () => {
        for (let attempt = 0; ; attempt++) {
            const r = await ssh(t, "true");
            if (r.code === 0) return;
            if (r.code !== 255 || !DIAL_FAILURE.test(r.stderr) || attempt >= DIAL_LIMIT) throw new Error(`ssh true on ${t.address} exited ${r.code}: ${r.stderr}`);
            retries++;
            await new Promise((res) => setTimeout(res, 100 * (attempt + 1)));
        }
    }));
    return { wallMs: Date.now() - started, retries };
}

