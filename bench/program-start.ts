// Program start under the Pulumi CLI: the home site's program run through the Node.js language host's own loader
// (@pulumi/pulumi/cmd/run, with the arguments and environment pulumi-language-nodejs passes it), each run a fresh process.
//
// A `--require` preload installs the SDK's mocks (no engine, nothing leaves the process) and records when the SDK was
// loaded, when the program's first .ts file was required and when the process exited. `npm run bench:plan --
// --program-start` prints this section; `tsx bench/program-start.ts [--runs N] [--variants a,b]` runs it alone.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { loadStackConfig } from "../stacks/plan-runtime";
import { median, table } from "./machine";
import { formatProfile, summariseProfile } from "./profile";

const ROOT = path.resolve(__dirname, "..");
const STACK = "home";
/** What the issue asks of the fast path: the whole process, Node start to exit. */
export const TARGET_MS = 1500;

/**
 * The preload, plain JavaScript so that no TypeScript loader but the language host's own is in the process. Mocks as a
 * preview sees the engine: commands' output and other stacks' outputs are unknown until the engine has them.
 */
const PRELOAD = `"use strict";
const { performance } = require("perf_hooks");
const Module = require("module");
const fs = require("fs");
const t0 = performance.now();
const root = process.env.HEARTH_START_ROOT;
const pulumi = require(require.resolve("@pulumi/pulumi", { paths: [root] }));
const settings = require(require.resolve("@pulumi/pulumi/runtime/settings", { paths: [root] }));
const sdkLoaded = performance.now();
let resources = 0;
let programRequired;
const load = Module._load;
Module._load = function (request, parent, isMain) {
    if (programRequired === undefined && /\\.ts$/.test(request)) programRequired = performance.now();
    return load.apply(this, arguments);
};
const unknown = pulumi.runtime.unknownValue;
pulumi.runtime.setMocks({
    newResource(a) {
        resources++;
        const state = { ...a.inputs };
        if (a.type === "command:remote:Command" || a.type === "command:local:Command") { state.stdout = unknown; state.stderr = unknown; }
        if (a.type === "pulumi:pulumi:StackReference") { state.outputs = unknown; state.secretOutputNames = []; }
        return { id: a.name + "-preview-id", state };
    },
    call(a) { return a.inputs; },
}, process.env.HEARTH_START_PROJECT, process.env.HEARTH_START_STACK, true, "organization");
// The engine's shutdown handshake, which the mock monitor lacks.
settings.getMonitor().signalAndWaitForShutdown = (_req, cb) => cb(null, {});
process.on("exit", (code) => {
    const cpu = process.cpuUsage();
    fs.writeFileSync(process.env.HEARTH_START_OUT, JSON.stringify({
        preloadMs: t0, sdkMs: sdkLoaded - t0, programRequiredMs: programRequired, exitMs: performance.now(),
        cpuMs: (cpu.user + cpu.system) / 1000, rssMiB: process.resourceUsage().maxRSS / 1024, resources, code,
    }));
});
`;

export type VariantName = "before" | "checked-cold" | "checked-warm" | "fast-cold" | "fast-warm" | "tsx";

interface Variant {
    readonly name: VariantName;
    readonly label: string;
    /** Run through ts-node (`typescript: true`): PULUMI_NODEJS_TYPESCRIPT=true. */
    readonly typescript: boolean;
    /** Pulumi.yaml `runtime.options.tsconfig`, relative to the program's directory (PULUMI_NODEJS_TSCONFIG_PATH). */
    readonly tsconfig?: string;
    readonly env?: Record<string, string>;
    readonly nodeArgs?: string[];
    /** ts-node's on-disk output cache: empty for every run, or primed by one run before the measured ones. */
    readonly cache: "cold" | "warm";
}

const PROGRAM_TSCONFIG = "../tsconfig.program.json";

export const VARIANTS: readonly Variant[] = [
    { name: "before", label: "ts-node, type-checked, no tsconfig (Pulumi.yaml before tsconfig.program.json)", typescript: true, cache: "cold" },
    { name: "checked-cold", label: "ts-node, type-checked (tsconfig.program.json, PULUMI_NODEJS_TRANSPILE_ONLY=false), cold cache", typescript: true, tsconfig: PROGRAM_TSCONFIG, env: { PULUMI_NODEJS_TRANSPILE_ONLY: "false" }, cache: "cold" },
    { name: "checked-warm", label: "ts-node, type-checked, warm ts-node cache", typescript: true, tsconfig: PROGRAM_TSCONFIG, env: { PULUMI_NODEJS_TRANSPILE_ONLY: "false" }, cache: "warm" },
    { name: "fast-cold", label: "ts-node, transpile-only (tsconfig.program.json noCheck), cold cache", typescript: true, tsconfig: PROGRAM_TSCONFIG, cache: "cold" },
    { name: "fast-warm", label: "ts-node, transpile-only, warm ts-node cache", typescript: true, tsconfig: PROGRAM_TSCONFIG, cache: "warm" },
    { name: "tsx", label: "typescript: false, nodeargs --require tsx/cjs (reference, not configured)", typescript: false, nodeArgs: ["--require", "tsx/cjs"], cache: "cold" },
];

export interface StartSample {
    readonly ok: boolean;
    /** Spawn to exit, as the language host waits for it. */
    readonly wallMs: number;
    /** CPU (user + system) of the whole process, all threads. */
    readonly cpuMs: number;
    /** Node start to the preload's first line. */
    readonly bootMs: number;
    /** Requiring @pulumi/pulumi. */
    readonly sdkMs: number;
    /** SDK loaded to the program's first require: cmd/run and registering the TypeScript loader. */
    readonly loaderMs: number;
    /** The program's first require to exit: compiling, importing hearth, evaluating, every registration answered. */
    readonly programMs: number;
    readonly rssMiB: number;
    readonly resources: number;
    readonly error?: string;
}

/** PULUMI_CONFIG as pulumi-language-nodejs passes it: `ns:config:key` keys (the SDK reads both forms). */
function cliConfig(): { config: string; secretKeys: string; project: string } {
    const c = loadStackConfig(ROOT, STACK);
    const config: Record<string, string> = {};
    for (const [k, v] of Object.entries(c.config)) {
        const i = k.indexOf(":");
        config[`${k.slice(0, i)}:config:${k.slice(i + 1)}`] = v;
    }
    return { config: JSON.stringify(config), secretKeys: JSON.stringify(c.secretKeys), project: c.project };
}

/** The node command line pulumi-language-nodejs builds (constructArguments), for a preview of the home stack. */
function hostArgs(project: string, programDir: string, entry: string): string[] {
    const run = path.join(path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [ROOT] })), "cmd", "run");
    return [run, "--monitor", "127.0.0.1:1", "--project", project, "--root-directory", ROOT, "--stack", STACK, "--pwd", programDir, "--dry-run", "--parallel", "16", entry];
}

function runOnce(v: Variant, work: string, cacheDir: string, cfg: ReturnType<typeof cliConfig>, profileDir?: string): StartSample {
    const out = path.join(work, "sample.json");
    fs.rmSync(out, { force: true });
    const main = path.join(ROOT, "stacks", "index.ts");
    const env: NodeJS.ProcessEnv = {};
    // The language host passes its own environment on; drop this benchmark's TypeScript loader and test settings.
    for (const [k, val] of Object.entries(process.env)) if (!/^(NODE_OPTIONS|TSX_|TS_NODE_|PULUMI_)/.test(k)) env[k] = val;
    Object.assign(env, {
        PULUMI_CONFIG: cfg.config, PULUMI_CONFIG_SECRET_KEYS: cfg.secretKeys,
        ...(v.typescript ? { PULUMI_NODEJS_TYPESCRIPT: "true" } : {}),
        ...(v.tsconfig ? { PULUMI_NODEJS_TSCONFIG_PATH: v.tsconfig } : {}),
        ...v.env,
        TS_NODE_CACHE_DIRECTORY: cacheDir,
        HEARTH_START_ROOT: ROOT, HEARTH_START_PROJECT: cfg.project, HEARTH_START_STACK: STACK, HEARTH_START_OUT: out,
    });
    const args = [...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []), ...(v.nodeArgs ?? []), "--require", path.join(work, "preload.js"), ...hostArgs(cfg.project, path.dirname(main), path.basename(main))];
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { cwd: path.dirname(main), env, encoding: "utf8", maxBuffer: 64 << 20, timeout: 900_000 });
    const wallMs = performance.now() - t;
    const s = fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, "utf8")) : undefined;
    const ok = r.status === 0 && !!s && s.resources > 1;
    const firstError = `${r.stdout}\n${r.stderr}`.split("\n").find((l) => /error/i.test(l) && !/signaling shutdown/.test(l));
    return {
        ok, wallMs, cpuMs: s?.cpuMs ?? NaN, bootMs: s?.preloadMs ?? NaN, sdkMs: s?.sdkMs ?? NaN,
        loaderMs: s?.programRequiredMs !== undefined ? s.programRequiredMs - s.preloadMs - s.sdkMs : NaN,
        programMs: s?.programRequiredMs !== undefined ? s.exitMs - s.programRequiredMs : NaN,
        rssMiB: s?.rssMiB ?? NaN, resources: s?.resources ?? 0,
        error: ok ? undefined : `exit ${r.status ?? r.signal}: ${(firstError ?? r.stderr.trim().split("\n").pop() ?? "").slice(0, 160)}`,
    };
}

export interface VariantResult {
    readonly variant: Variant;
    readonly samples: readonly StartSample[];
}

export function measureProgramStart(opts: { runs: number; variants?: readonly VariantName[] }): { results: VariantResult[]; work: string } {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-program-start-"));
    fs.writeFileSync(path.join(work, "preload.js"), PRELOAD);
    const cfg = cliConfig();
    const results: VariantResult[] = [];
    for (const v of VARIANTS.filter((x) => !opts.variants || opts.variants.includes(x.name))) {
        const warmDir = path.join(work, `cache-${v.name}`);
        if (v.cache === "warm") runOnce(v, work, warmDir, cfg); // primes ts-node's cache; not measured
        const samples: StartSample[] = [];
        for (let i = 0; i < opts.runs; i++) {
            samples.push(runOnce(v, work, v.cache === "warm" ? warmDir : fs.mkdtempSync(path.join(work, "cold-")), cfg));
            process.stderr.write(".");
        }
        results.push({ variant: v, samples });
    }
    return { results, work };
}

const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : "–");

export function formatProgramStart(results: readonly VariantResult[]): string {
    const rows = results.map(({ variant, samples }) => {
        const good = samples.filter((s) => s.ok);
        const med = (f: (s: StartSample) => number) => median((good.length ? good : samples).map(f));
        const status = good.length === samples.length ? "ok" : `FAILED ${samples.length - good.length}/${samples.length}: ${samples.find((s) => !s.ok)!.error}`;
        return [variant.label, ms(med((s) => s.wallMs)), ms(med((s) => s.cpuMs)), ms(med((s) => s.sdkMs)), ms(med((s) => s.loaderMs)), ms(med((s) => s.programMs)), ms(med((s) => s.rssMiB)), String(med((s) => s.resources)), status];
    });
    return table(["home site, preview, fresh process each", "wall ms", "CPU ms", "SDK import ms", "cmd/run + loader ms", "program ms", "peak RSS MiB", "resources", "result"], rows);
}

/** The verdict on the configured fast path, by the median wall time of the whole process. */
export function programStartVerdict(results: readonly VariantResult[]): { line: string; met: boolean } | undefined {
    const fast = results.filter((r) => r.variant.name === "fast-cold" || r.variant.name === "fast-warm");
    if (!fast.length) return undefined;
    const parts = fast.map((r) => {
        const ok = r.samples.every((s) => s.ok);
        const wall = median(r.samples.map((s) => s.wallMs));
        return { ok: ok && wall <= TARGET_MS, text: `${r.variant.cache} cache ${ok ? `${ms(wall)} ms` : "failed"}` };
    });
    const met = parts.every((p) => p.ok);
    return { met, line: `target (home program through the language host, transpile-only, ≤ ${TARGET_MS} ms Node start to exit): ${met ? "met" : "NOT met"}: ${parts.map((p) => p.text).join(", ")} (median of ${fast[0].samples.length}).` };
}

/** One fast-path run (warm cache) under --cpu-prof: where the time goes. */
export function profileProgramStart(work: string): string {
    const v = VARIANTS.find((x) => x.name === "fast-warm")!;
    const dir = fs.mkdtempSync(path.join(work, "prof-"));
    const s = runOnce(v, work, path.join(work, "cache-fast-warm"), cliConfig(), dir);
    const file = fs.readdirSync(dir).map((f) => path.join(dir, f)).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
    if (!file) return `profile: no profile written (${s.error ?? "no error"})`;
    return `transpile-only, warm cache, under --cpu-prof: ${ms(s.wallMs)} ms wall (SDK import ${ms(s.sdkMs)}, cmd/run + loader ${ms(s.loaderMs)}, program ${ms(s.programMs)}; profile: ${file})\n${formatProfile(summariseProfile(file))}`;
}

/** The section `npm run bench:plan -- --program-start` prints. */
export function programStartSection(opts: { runs: number; variants?: readonly VariantName[] }): string {
    process.stderr.write(`program start: ${opts.runs} fresh process(es) per variant `);
    const { results, work } = measureProgramStart(opts);
    process.stderr.write("\n");
    const verdict = programStartVerdict(results);
    const lines = [
        "## Program start through the Pulumi CLI's Node.js language host",
        "",
        "`node @pulumi/pulumi/cmd/run` with pulumi-language-nodejs' arguments and environment (a preview of the home stack), the",
        "SDK's mocks installed by a --require preload. ts-node's cache: cold = empty for each run, warm = primed by one run.",
        "",
        formatProgramStart(results),
        "",
    ];
    if (verdict) lines.push(verdict.line, "");
    if (verdict && !verdict.met) lines.push(profileProgramStart(work), "");
    return lines.join("\n");
}

function main(): void {
    const argv = process.argv.slice(2);
    let runs = 3;
    let variants: VariantName[] | undefined;
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--runs") runs = Number(argv[++i]);
        else if (argv[i] === "--variants") variants = (argv[++i] ?? "").split(",") as VariantName[];
        else throw new Error(`unknown argument ${JSON.stringify(argv[i])}: usage: tsx bench/program-start.ts [--runs N] [--variants ${VARIANTS.map((v) => v.name).join(",")}]`);
    }
    if (!Number.isInteger(runs) || runs < 1 || runs > 20) throw new Error(`--runs must be an integer from 1 to 20, got ${runs}`);
    const unknownVariant = variants?.find((v) => !VARIANTS.some((x) => x.name === v));
    if (unknownVariant !== undefined) throw new Error(`--variants: unknown variant ${JSON.stringify(unknownVariant)}: allowed ${VARIANTS.map((v) => v.name).join(", ")}`);
    console.log(programStartSection({ runs, variants }));
}

if (require.main === module) {
    try {
        main();
    } catch (e) {
        console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
        process.exit(1);
    }
}
