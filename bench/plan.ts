// `npm run bench:plan`: plan time and peak memory of generated sites (10 to 1000 services), each size in a fresh process.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { childArgs, ChildMode, ChildOptions, PlanSample } from "./plan-child";
import { finishMachine, formatMachine, machineInfo, median, table } from "./machine";
import { formatProfile, summariseProfile } from "./profile";
import { programStartSection } from "./program-start";

const USAGE = `usage: npm run bench:plan [-- --sizes 10,50,200,1000] [--modes stack,site] [--runs N] [--variants] [--profile N] [--program-start] [--json FILE]
  --sizes LIST   service counts to plan (default 10,50,200,1000)
  --modes LIST   stack: the site config through the stacks layer, as \`npm run plan\` does; site: the components
                 called directly (default stack,site)
  --runs N       fresh processes per size; medians are reported (default 3)
  --variants     also plan 200 services as the bare SDK floor (with and without the lifecycle command), with
                 Error.stackTraceLimit=0 and without source maps
  --profile N    run N services once under --cpu-prof and print where the time went
  --program-start  also run the home site through the Pulumi CLI's language host loader, type-checked and
                 transpile-only (bench/program-start.ts), --runs fresh processes each
  --json FILE    also write every sample as JSON`;

interface Args {
    sizes: number[];
    modes: ChildMode[];
    runs: number;
    variants: boolean;
    profile?: number;
    programStart: boolean;
    json?: string;
}

function parseArgs(argv: string[]): Args {
    const a: Args = { sizes: [10, 50, 200, 1000], modes: ["stack", "site"], runs: 3, variants: false, programStart: false };
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
            return v;
        };
        if (flag === "--sizes") a.sizes = value().split(",").map(Number);
        else if (flag === "--modes") a.modes = value().split(",") as ChildMode[];
        else if (flag === "--runs") a.runs = Number(value());
        else if (flag === "--variants") a.variants = true;
        else if (flag === "--profile") a.profile = Number(value());
        else if (flag === "--program-start") a.programStart = true;
        else if (flag === "--json") a.json = value();
        else if (flag === "--help" || flag === "-h") {
            console.log(USAGE);
            process.exit(0);
        } else throw new Error(`unknown argument ${JSON.stringify(flag)}\n${USAGE}`);
    }
    if (!a.sizes.length || a.sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 20_000)) throw new Error(`--sizes must be integers from 1 to 20000\n${USAGE}`);
    if (!a.modes.length || a.modes.some((m) => m !== "stack" && m !== "site")) throw new Error(`--modes must list stack and/or site\n${USAGE}`);
    if (!Number.isInteger(a.runs) || a.runs < 1 || a.runs > 20) throw new Error(`--runs must be an integer from 1 to 20\n${USAGE}`);
    if (a.profile !== undefined && (!Number.isInteger(a.profile) || a.profile < 1)) throw new Error(`--profile must be a service count\n${USAGE}`);
    a.sizes.sort((x, y) => x - y);
    return a;
}

const CHILD = path.join(__dirname, "plan-child.ts");

/** One fresh Node process (with the same TypeScript loader as this one) planning one site. */
function sample(o: ChildOptions, nodeFlags: string[] = []): PlanSample {
    const r = spawnSync(process.execPath, [...process.execArgv, ...nodeFlags, CHILD, ...childArgs(o)], { encoding: "utf8", maxBuffer: 16 << 20 });
    if (r.status !== 0) throw new Error(`planning ${o.services} services (${o.mode}) failed (exit ${r.status}):\n${r.stderr}`);
    const line = r.stdout.trim().split("\n").pop()!;
    return JSON.parse(line) as PlanSample;
}

interface Row {
    readonly mode: ChildMode;
    readonly services: number;
    readonly samples: readonly PlanSample[];
    readonly m: { boot: number; import: number; plan: number; cpu: number; rss: number; importRss: number; resources: number; commands: number };
}

function measure(o: ChildOptions, runs: number): Row {
    const samples: PlanSample[] = [];
    for (let i = 0; i < runs; i++) {
        samples.push(sample(o));
        process.stderr.write(".");
    }
    const med = (f: (s: PlanSample) => number) => median(samples.map(f));
    return {
        mode: o.mode,
        services: o.services,
        samples,
        m: {
            boot: med((s) => s.bootMs), import: med((s) => s.importMs), plan: med((s) => s.planMs), cpu: med((s) => s.planCpuMs),
            rss: med((s) => s.peakRssMiB), importRss: med((s) => s.importRssMiB), resources: samples[0].resources, commands: samples[0].commands,
        },
    };
}

const ms = (x: number) => x.toFixed(0);

function scaleTable(rows: readonly Row[]): string {
    const body = rows.map((r, i) => {
        const prev = rows[i - 1];
        const dn = prev ? r.services - prev.services : 0;
        // Growth per service between consecutive sizes: flat means linear, rising means super-linear.
        const perCpu = prev ? ((r.m.cpu - prev.m.cpu) / dn).toFixed(1) : "";
        const perWall = prev ? ((r.m.plan - prev.m.plan) / dn).toFixed(1) : "";
        const perRss = prev ? (((r.m.rss - prev.m.rss) / dn) * 1024).toFixed(0) : "";
        return [String(r.services), String(r.m.resources), String(r.m.commands), ms(r.m.boot), ms(r.m.import), ms(r.m.plan), ms(r.m.cpu), r.m.rss.toFixed(0), perWall, perCpu, perRss];
    });
    return table(["services", "resources", "commands", "node+tsx boot ms", "import ms", "plan ms (wall)", "plan ms (CPU)", "peak RSS MiB", "+wall ms/service", "+CPU ms/service", "+KiB/service"], body);
}

function verdicts(rows: readonly Row[]): string[] {
    const out: string[] = [];
    const r200 = rows.find((r) => r.services === 200);
    if (r200) {
        const ok = r200.m.plan <= 1000;
        out.push(`${rows[0].mode}: target (200 services plan in ≤ 1 s beyond import): ${ok ? "met" : "NOT met"}: ${ms(r200.m.plan)} ms wall, ${ms(r200.m.cpu)} ms CPU (median of ${r200.samples.length}).`);
    }
    if (rows.length >= 3) {
        const slope = (a: Row, b: Row) => (b.m.cpu - a.m.cpu) / (b.services - a.services);
        const first = slope(rows[0], rows[1]);
        const last = slope(rows[rows.length - 2], rows[rows.length - 1]);
        const ratio = last / first;
        out.push(`${rows[0].mode}: scaling: CPU per added service ${first.toFixed(1)} ms (${rows[0].services}→${rows[1].services}) vs ${last.toFixed(1)} ms ` +
            `(${rows[rows.length - 2].services}→${rows[rows.length - 1].services}): ×${ratio.toFixed(2)} ` +
            `(${ratio <= 1.3 ? "linear within noise" : "grows with size: super-linear"}).`);
    }
    return out;
}

function variantRows(runs: number): string {
    const n = 200;
    const variants: [string, ChildOptions][] = [
        ["site config through stacks (as `npm run plan` runs it)", { services: n, mode: "stack" }],
        ["components called directly", { services: n, mode: "site" }],
        ["SDK floor: same resource shape, no hearth code", { services: n, mode: "floor" }],
        ["SDK floor without the lifecycle command", { services: n, mode: "floor-converge-only" }],
        ["through stacks, Error.stackTraceLimit = 0", { services: n, mode: "stack", stackLimit: 0 }],
        ["through stacks, source maps off", { services: n, mode: "stack", noSourceMaps: true }],
        ["through stacks, both", { services: n, mode: "stack", stackLimit: 0, noSourceMaps: true }],
        ["SDK floor without the lifecycle command, both", { services: n, mode: "floor-converge-only", stackLimit: 0, noSourceMaps: true }],
    ];
    const rows = variants.map(([name, o]) => {
        const r = measure(o, runs);
        return [name, String(r.m.resources), ms(r.m.plan), ms(r.m.cpu), r.m.rss.toFixed(0)];
    });
    return table([`${n} services`, "resources", "plan ms (wall)", "plan ms (CPU)", "peak RSS MiB"], rows);
}

function profile(n: number): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-bench-prof-"));
    const s = sample({ services: n, mode: "stack" }, ["--cpu-prof", `--cpu-prof-dir=${dir}`]);
    // The biggest profile is the main thread's (the loader's worker thread writes its own, smaller one).
    const file = fs.readdirSync(dir).map((f) => path.join(dir, f)).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
    return `${n} services under --cpu-prof: plan ${ms(s.planMs)} ms wall, import ${ms(s.importMs)} ms (profile: ${file})\n${formatProfile(summariseProfile(file))}`;
}

function main(): void {
    const args = parseArgs(process.argv.slice(2));
    const machine = machineInfo();
    process.stderr.write(`bench:plan: ${args.sizes.join(", ")} services (${args.modes.join(", ")}), ${args.runs} fresh process(es) each `);
    const byMode = args.modes.map((mode) => args.sizes.map((n) => measure({ services: n, mode }, args.runs)));
    const variants = args.variants ? variantRows(args.runs) : undefined;
    const programStart = args.programStart ? programStartSection({ runs: args.runs }) : undefined;
    process.stderr.write("\n");
    finishMachine(machine);

    console.log(`## Plan (mock runtime), ${formatMachine(machine)}`);
    console.log("");
    console.log("Each site: N hardened SystemdServices (1 in 10 with a secret credential, 1 in 7 a timer, 1 in 11 socket-activated) on 3 hosts,");
    console.log("2 ZfsDatasets and a PostgresDb with its role. Medians of fresh processes; \"+…/service\" is the growth from the size above.");
    console.log("");
    for (const rows of byMode) {
        console.log(`### ${rows[0].mode === "stack" ? "Site config through the stacks layer (what \`npm run plan\` runs)" : "Components called directly"}`);
        console.log("");
        console.log(scaleTable(rows));
        console.log("");
        for (const v of verdicts(rows)) console.log(v);
        console.log("");
    }
    if (variants) {
        console.log("Where the time goes (same machine, same run):");
        console.log("");
        console.log(variants);
    }
    if (args.profile !== undefined) {
        console.log("");
        console.log(profile(args.profile));
    }
    if (programStart) {
        console.log("");
        console.log(programStart);
    }
    if (args.json) {
        const rows = byMode.flat().map((r) => ({ mode: r.mode, services: r.services, medians: r.m, samples: r.samples }));
        fs.writeFileSync(args.json, JSON.stringify({ machine, rows }, null, 2));
    }
}

try {
    main();
} catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
}
