// Crash points: kill a converge or delete script after each state-changing step, re-run it, and prove the host ends
// up exactly as a clean run leaves it.
//
// The runtime (components/core/runtime.sh) calls `hearth_step` after every state-changing command, inside its
// primitives too; with HEARTH_CRASH_AT=N in the environment it prints `hearth-crash: step N` and SIGKILLs the script
// right after its Nth step. For each N from 1 until a run finishes by itself, a case is reset to its start state, run
// with the kill, run again unchanged, and fingerprinted; the fingerprint must equal the one of a clean run from the
// same start state. One more run has its stdout closed (the SSH reader gone: every write gets SIGPIPE), as when a
// connection drops mid-script.
import * as assert from "assert";
import { TestHost } from "./harness";
import { runSsh, SshResult } from "./ssh";

export interface CrashRun {
    /** The command line exactly as the component registered it (`inputs.create` / `inputs.update` / `inputs.delete`). */
    readonly command: string;
    readonly stdin?: string;
}

export interface CrashCase {
    readonly name: string;
    /** Brings the host to the case's start state (cheaply: a delete script, a restore of a few paths, ...). */
    reset(): Promise<void>;
    /** The script under test. */
    readonly run: CrashRun;
    /** What must be equal after a clean run and after every kill + re-run. JSON-comparable. */
    fingerprint(): Promise<unknown>;
    /** @default 200: a script with more steps than this fails the spec (a loop that never ends). */
    readonly maxPoints?: number;
}

export interface CrashReport {
    /** Kill points exercised (the clean run's step count). */
    readonly points: number;
    readonly seconds: number;
}

const CRASH_LINE = /^hearth-crash: step (\d+)$/m;

function runWith(h: TestHost, run: CrashRun, prefix: string, suffix = ""): Promise<SshResult> {
    return runSsh(h.ssh, `${prefix}${run.command}${suffix}`, { stdin: run.stdin, timeoutMs: 300_000 });
}

function show(r: SshResult): string {
    return `exit ${r.code}\n--- stdout\n${r.stdout.slice(-2000)}\n--- stderr\n${r.stderr.slice(-2000)}`;
}

/** Runs the script unchanged and requires success. */
export async function cleanRun(h: TestHost, run: CrashRun, what: string): Promise<SshResult> {
    const r = await runWith(h, run, "");
    if (r.code !== 0) throw new Error(`${what}: clean run failed: ${show(r)}`);
    return r;
}

/** Kills `c.run` at every step in turn and after each proves that a re-run converges to the clean result. */
export async function crashPoints(h: TestHost, c: CrashCase): Promise<CrashReport> {
    const t0 = Date.now();
    await c.reset();
    await cleanRun(h, c.run, `${c.name} (reference)`);
    const reference = await c.fingerprint();
    const max = c.maxPoints ?? 200;
    let points = 0;
    for (let k = 1; ; k++) {
        if (k > max) throw new Error(`${c.name}: more than ${max} kill points; raise maxPoints if that is right`);
        await c.reset();
        const killed = await runWith(h, c.run, `HEARTH_CRASH_AT=${k} `);
        const m = CRASH_LINE.exec(killed.stderr);
        if (!m) {
            // No step k: the script finished by itself, so every point has been covered.
            if (killed.code !== 0) throw new Error(`${c.name}: run without a kill at step ${k} failed: ${show(killed)}`);
            assert.deepStrictEqual(await c.fingerprint(), reference, `${c.name}: a run with no kill point left differs from the clean run`);
            break;
        }
        assert.strictEqual(Number(m[1]), k, `${c.name}: killed at step ${m[1]}, asked for ${k}`);
        assert.notStrictEqual(killed.code, 0, `${c.name}: the run killed at step ${k} exited 0`);
        await cleanRun(h, c.run, `${c.name}: re-run after a kill at step ${k}`);
        assert.deepStrictEqual(await c.fingerprint(), reference, `${c.name}: after a kill at step ${k} and a re-run, the host differs from a clean run`);
        points = k;
    }
    // Stdout closed: the first write of the script (or of anything it runs) gets SIGPIPE.
    await c.reset();
    await runWith(h, c.run, "", " | true");
    await cleanRun(h, c.run, `${c.name}: re-run after a run with stdout closed`);
    assert.deepStrictEqual(await c.fingerprint(), reference, `${c.name}: after a run with stdout closed and a re-run, the host differs from a clean run`);
    return { points, seconds: (Date.now() - t0) / 1000 };
}

/** A host script that prints one line per path: type, mode, owner, and content hash (files), or "absent". */
const FACTS = [
    'for p in "$@"; do',
    "  case $p in",
    "    random:*) p=${p#random:}; r=1 ;;",
    "    *) r=0 ;;",
    "  esac",
    `  if [ -L "$p" ]; then printf '%s\tlink\t%s\n' "$p" "$(readlink -- "$p")"`,
    `  elif [ -d "$p" ]; then printf '%s\tdir\t%s\n' "$p" "$(stat -c '%a %U %G' -- "$p")"`,
    `  elif [ -f "$p" ]; then`,
    `    if [ "$r" = 1 ]; then printf '%s\tfile\t%s\trandom\n' "$p" "$(stat -c '%a %U %G' -- "$p")"`,
    `    else printf '%s\tfile\t%s\t%s\n' "$p" "$(stat -c '%a %U %G' -- "$p")" "$(sha256sum < "$p" | cut -c1-64)"; fi`,
    `  elif [ -e "$p" ]; then printf '%s\tother\n' "$p"`,
    `  else printf '%s\tabsent\n' "$p"; fi`,
    "done",
].join("\n");

export interface FileFactsOptions {
    /** Paths whose bytes are random (keys, machine-id): compared by presence, type, mode and owner only. */
    readonly random?: readonly string[];
    /** Directories to list recursively (every entry below them is included, so leftovers show up). */
    readonly trees?: readonly string[];
}

/** Facts about paths on the host: type, mode, owner, and a content hash for files (see FileFactsOptions). */
export async function fileFacts(h: TestHost, paths: readonly string[], opts: FileFactsOptions = {}): Promise<string[]> {
    const quote = (s: string) => `'${s.replace(/'/g, `'"'"'`)}'`;
    const random = new Set(opts.random ?? []);
    let all = [...paths];
    for (const t of opts.trees ?? []) {
        const r = await h.exec(`if [ -d ${quote(t)} ]; then find ${quote(t)} -mindepth 1 | LC_ALL=C sort; fi`);
        if (r.code !== 0) throw new Error(`listing ${t}: ${r.stderr}`);
        all.push(...r.stdout.split("\n").filter((l) => l !== ""));
    }
    all = [...new Set(all)];
    const args = all.map((p) => quote(random.has(p) || [...random].some((g) => g.endsWith("*") && p.startsWith(g.slice(0, -1))) ? `random:${p}` : p)).join(" ");
    const r = await h.exec(`bash -c ${quote(FACTS)} facts ${args}`);
    if (r.code !== 0) throw new Error(`file facts: ${r.stderr}`);
    return r.stdout.split("\n").filter((l) => l !== "");
}

/** systemd's view of units: load, active and enablement state, and whether a reload is owed. */
export async function unitFacts(h: TestHost, units: readonly string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const u of units) {
        const r = await h.exec(`systemctl show -p LoadState -p ActiveState -p SubState -p UnitFileState -p NeedDaemonReload -- '${u.replace(/'/g, "")}' | LC_ALL=C sort | tr '\\n' ' '`);
        out[u] = r.stdout.trim();
    }
    return out;
}

/** Runs a command on the host as root and returns its stdout; a failure fails the spec with the output. */
export async function mustExec(h: TestHost, cmd: string): Promise<string> {
    const r = await h.exec(cmd);
    assert.equal(r.code, 0, `${cmd}\n${r.stdout}${r.stderr}`);
    return r.stdout;
}

/** Runs scripts cleanly, in order, to build a start state; any failure fails the spec. */
export async function runAll(h: TestHost, runs: readonly (CrashRun | undefined)[]): Promise<void> {
    for (const run of runs) {
        if (!run) continue;
        const r = await h.exec(run.command, { stdin: run.stdin });
        assert.equal(r.code, 0, `start state: ${r.stdout}${r.stderr}`);
    }
}

/** A crash case's start state: `wipe`, then (for an update or a delete) a clean run of `from`. */
export async function startState(h: TestHost, wipe: () => Promise<unknown>, from?: CrashRun): Promise<void> {
    await wipe();
    await runAll(h, [from]);
}

/** A SystemdService's converge (`<name>-converge`'s create, with its stdin) and delete (`<name>-converge-lifecycle`'s) among registered commands. */
export function serviceRuns(cmds: readonly { name: string; inputs: Record<string, any> }[], name: string): { converge: CrashRun; del: CrashRun } {
    const get = (n: string) => {
        const c = cmds.find((x) => x.name === n);
        assert.ok(c, `no command ${n} among ${cmds.map((x) => x.name).join(", ")}`);
        return c.inputs;
    };
    return { converge: { command: get(`${name}-converge`).create, stdin: get(`${name}-converge`).stdin }, del: { command: get(`${name}-converge-lifecycle`).delete } };
}
