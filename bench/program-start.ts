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
const cpuNow = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
const cpu0 = cpuNow();
const root = process.env.HEARTH_START_ROOT;
const pulumi = require(require.resolve("@pulumi/pulumi", { paths: [root] }));
const settings = require(require.resolve("@pulumi/pulumi/runtime/settings", { paths: [root] }));
const sdkLoaded = performance.now();
const sdkCpu = cpuNow();
let programCpu;
let resources = 0;
let programRequired;
let programModules;
const load = Module._load;
Module._load = function (request, parent, isMain) {
    if (programRequired === undefined && (/\\.ts$/.test(request) || request === process.env.HEARTH_START_MAIN)) {
        programRequired = performance.now();
        programCpu = cpuNow();
        programModules = Object.keys(require.cache);
        // The "unmapped" data point: stack traces formatted by V8 alone, to show what source mapping costs.
        if (process.env.HEARTH_START_UNMAPPED) Error.prepareStackTrace = undefined;
        if (process.env.HEARTH_START_COUNT) countStacks();
    }
    return load.apply(this, arguments);
};
// Opt-in (HEARTH_START_COUNT): how many stack traces the run formats and how many frames they hold, by the caller
// that asked (Resource.callsites, runtime/debuggable's per-promise stack, anything else). Wraps the loader's
// Error.prepareStackTrace (source-map-support's, installed by cmd/run and again by ts-node), so it counts what is mapped.
const stacks = {};
function countStacks() {
    const prepare = Error.prepareStackTrace;
    if (typeof prepare !== "function") return;
    Error.prepareStackTrace = function (error, frames) {
        const fn = (i) => (frames[i] && (frames[i].getFunctionName() || "")) || "";
        const by = fn(0) === "callsites" ? "Resource.callsites" : fn(0) === "debuggablePromise" ? "debuggablePromise" : "other";
        const c = (stacks[by] = stacks[by] || { stacks: 0, frames: 0, programFrames: 0 });
        c.stacks++;
        c.frames += frames.length;
        c.programFrames += frames.filter((f) => { const n = f.getFileName() || ""; return !n.startsWith("node:") && !n.includes("node_modules"); }).length;
        return prepare.call(this, error, frames);
    };
}
// Opt-in (HEARTH_START_COUNT): each module's own load CPU (reading, compiling, evaluating its top level; the modules it
// requires are charged to themselves), for the modules the program loads.
const moduleCpu = {};
if (process.env.HEARTH_START_COUNT) {
    const compile = Module.prototype._compile;
    const stack = [];
    Module.prototype._compile = function (content, filename) {
        if (programRequired === undefined) return compile.apply(this, arguments);
        const start = cpuNow();
        stack.push(0);
        try {
            return compile.apply(this, arguments);
        } finally {
            const total = cpuNow() - start;
            const children = stack.pop();
            if (stack.length) stack[stack.length - 1] += total;
            moduleCpu[filename] = (moduleCpu[filename] || 0) + total - children;
        }
    };
}
const types = {};
const unknown = pulumi.runtime.unknownValue;
pulumi.runtime.setMocks({
    newResource(a) {
        resources++;
        types[a.type] = (types[a.type] || 0) + 1;
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
        cpuMs: (cpu.user + cpu.system) / 1000, bootCpuMs: cpu0, sdkCpuMs: sdkCpu - cpu0, programCpuMs: programCpu, modules: [programModules.length, Object.keys(require.cache).length], programModules: Object.keys(require.cache).filter((m) => !programModules.includes(m)), rssMiB: process.resourceUsage().maxRSS / 1024, resources, code, stacks, types, moduleCpu,
    }));
});
`;

export type VariantName = "before" | "checked-cold" | "checked-warm" | "fast-cold" | "fast-warm" | "unmapped" | "prebuilt" | "tsx";

interface Variant {
    readonly name: VariantName;
    readonly label: string;
    /** Run through ts-node (`typescript: true`): PULUMI_NODEJS_TYPESCRIPT=true. */
    readonly typescript: boolean;
    /** Pulumi.yaml `runtime.options.tsconfig`, relative to the program's directory (PULUMI_NODEJS_TSCONFIG_PATH). */
    readonly tsconfig?: string;
    readonly env?: Record<string, string>;
    readonly nodeArgs?: string[];
    /** Run JavaScript built from the program beforehand (tsc -p tsconfig.program.json, with source maps), not the .ts. */
    readonly prebuilt?: boolean;
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
    { name: "unmapped", label: "transpile-only, warm, stack traces not source-mapped (data point only: errors would lose TypeScript positions)", typescript: true, tsconfig: PROGRAM_TSCONFIG, env: { HEARTH_START_UNMAPPED: "1" }, cache: "warm" },
    { name: "prebuilt", label: "typescript: false, main = the program prebuilt by tsc (data point: needs a build before every up)", typescript: false, prebuilt: true, cache: "cold" },
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
    /** CPU of the same phases (the machine is shared: wall time includes waiting for a core). */
    readonly bootCpuMs: number;
    readonly sdkCpuMs: number;
    readonly loaderCpuMs: number;
    readonly programCpuMs: number;
    /** Modules in require's cache when the program was first required, and at exit. */
    readonly modulesBefore: number;
    readonly modulesAfter: number;
    readonly rssMiB: number;
    readonly resources: number;
    /** With HEARTH_START_COUNT: stack traces formatted during the program, by who asked. */
    readonly stacks?: Record<string, { stacks: number; frames: number; programFrames: number }>;
    /** With HEARTH_START_COUNT: each module's own compile + evaluate CPU (ms), for the modules the program loads. */
    readonly moduleCpu?: Record<string, number>;
    /** Resources registered, by type. */
    readonly types?: Record<string, number>;
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

/** The program compiled once per benchmark run into the work directory, node_modules linked beside it; not timed. */
function prebuild(work: string): string {
    const out = path.join(work, "prebuilt");
    if (fs.existsSync(path.join(out, "stacks", "index.js"))) return out;
    const tsc = require.resolve("typescript/bin/tsc", { paths: [ROOT] });
    const r = spawnSync(process.execPath, [tsc, "-p", path.join(ROOT, "tsconfig.program.json"), "--outDir", out, "--rootDir", ROOT], { cwd: ROOT, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`prebuilding the program failed: ${r.stdout}${r.stderr}`);
    fs.copyFileSync(path.join(ROOT, "components/core/runtime.sh"), path.join(out, "components/core/runtime.sh"));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(out, "node_modules"));
    return out;
}

function runOnce(v: Variant, work: string, cacheDir: string, cfg: ReturnType<typeof cliConfig>, profileDir?: string, count = false): StartSample {
    const out = path.join(work, "sample.json");
    fs.rmSync(out, { force: true });
    const main = v.prebuilt ? path.join(prebuild(work), "stacks", "index.js") : path.join(ROOT, "stacks", "index.ts");
    const env: NodeJS.ProcessEnv = {};
    // The language host passes its own environment on; drop this benchmark's TypeScript loader and test settings.
    for (const [k, val] of Object.entries(process.env)) if (!/^(NODE_OPTIONS|TSX_|TS_NODE_|PULUMI_)/.test(k)) env[k] = val;
    Object.assign(env, {
        PULUMI_CONFIG: cfg.config, PULUMI_CONFIG_SECRET_KEYS: cfg.secretKeys,
        ...(v.typescript ? { PULUMI_NODEJS_TYPESCRIPT: "true" } : {}),
        ...(v.tsconfig ? { PULUMI_NODEJS_TSCONFIG_PATH: v.tsconfig } : {}),
        ...v.env,
        TS_NODE_CACHE_DIRECTORY: cacheDir,
        ...(count ? { HEARTH_START_COUNT: "1" } : {}),
        HEARTH_START_MAIN: main, HEARTH_START_ROOT: ROOT, HEARTH_START_PROJECT: cfg.project, HEARTH_START_STACK: STACK, HEARTH_START_OUT: out,
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
        bootCpuMs: s?.bootCpuMs ?? NaN, sdkCpuMs: s?.sdkCpuMs ?? NaN,
        loaderCpuMs: s?.programCpuMs !== undefined ? s.programCpuMs - s.bootCpuMs - s.sdkCpuMs : NaN,
        programCpuMs: s?.programCpuMs !== undefined ? s.cpuMs - s.programCpuMs : NaN,
        modulesBefore: s?.modules?.[0] ?? NaN, modulesAfter: s?.modules?.[1] ?? NaN,
        rssMiB: s?.rssMiB ?? NaN, resources: s?.resources ?? 0, stacks: s?.stacks, moduleCpu: s?.moduleCpu, types: s?.types,
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
        const pair = (w: (s: StartSample) => number, c: (s: StartSample) => number) => `${ms(med(w))} / ${ms(med(c))}`;
        return [variant.label, pair((s) => s.wallMs, (s) => s.cpuMs), pair((s) => s.bootMs, (s) => s.bootCpuMs), pair((s) => s.sdkMs, (s) => s.sdkCpuMs), pair((s) => s.loaderMs, (s) => s.loaderCpuMs), pair((s) => s.programMs, (s) => s.programCpuMs), `${med((s) => s.modulesAfter - s.modulesBefore)}`, ms(med((s) => s.rssMiB)), String(med((s) => s.resources)), status];
    });
    return table(["home site, preview, fresh process each", "total ms wall / CPU", "node boot", "SDK import", "cmd/run + loader", "program", "program's modules", "peak RSS MiB", "resources", "result"], rows);
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
    const cache = path.join(work, "cache-fast-warm");
    if (!fs.existsSync(cache)) runOnce(v, work, cache, cliConfig()); // primes the cache when fast-warm was not measured
    const s = runOnce(v, work, cache, cliConfig(), dir);
    const file = fs.readdirSync(dir).map((f) => path.join(dir, f)).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
    if (!file) return `profile: no profile written (${s.error ?? "no error"})`;
    return `transpile-only, warm cache, under --cpu-prof: ${ms(s.wallMs)} ms wall (SDK import ${ms(s.sdkMs)}, cmd/run + loader ${ms(s.loaderMs)}, program ${ms(s.programMs)}; profile: ${file})\n${formatProfile(summariseProfile(file))}`;
}

/** One fast-path run (warm cache) that counts the stack traces the program's resources cost: who asked, how many frames. */
export function countProgramStacks(work: string): string {
    const v = VARIANTS.find((x) => x.name === "fast-warm")!;
    const s = runOnce(v, work, path.join(work, "cache-fast-warm"), cliConfig(), undefined, true);
    if (!s.ok || !s.stacks) return `stack count: run failed (${s.error ?? "no counts written"})`;
    const rows = Object.entries(s.stacks).sort((a, b) => b[1].frames - a[1].frames).map(([by, c]) => [by, String(c.stacks), (c.stacks / s.resources).toFixed(1), (c.frames / c.stacks).toFixed(1), (c.programFrames / c.stacks).toFixed(1), String(c.frames)]);
    const byGroup: Record<string, { n: number; ms: number }> = {};
    for (const [file, cpu] of Object.entries(s.moduleCpu ?? {})) {
        const m = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(file);
        const g = m ? m[1] : path.relative(ROOT, file).split(path.sep).slice(0, 2).join("/");
        const e = (byGroup[g] ??= { n: 0, ms: 0 });
        e.n++;
        e.ms += cpu;
    }
    const groups = Object.entries(byGroup).sort((a, b) => b[1].ms - a[1].ms).slice(0, 12).map(([g, e]) => [g, String(e.n), ms(e.ms)]);
    const types = Object.entries(s.types ?? {}).sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t} ${n}`).join(", ");
    return [
        `one transpile-only warm run, counted (${ms(s.cpuMs)} ms CPU; program ${ms(s.programCpuMs)} ms CPU); ${s.resources} resources: ${types}`,
        "",
        "stack traces formatted during the program (every frame source-mapped by the loader's source-map-support):",
        table(["asked by", "stacks", "per resource", "frames per stack", "of them the program's", "frames"], rows),
        "",
        "modules the program loads, own compile + evaluate CPU (not counting what they require):",
        table(["package or directory", "modules", "CPU ms"], groups),
    ].join("\n");
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
    if (verdict && !verdict.met) lines.push(profileProgramStart(work), "", countProgramStacks(work), "");
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
