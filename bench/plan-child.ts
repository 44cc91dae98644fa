// One plan measurement in a fresh process: import time, program time and peak memory for a site of N services.
//
// Run by bench/plan.ts; prints one JSON line. Modules are required inside main(), after the clock starts, so
// importing them is timed apart from running the program.
import { performance } from "perf_hooks";

export interface PlanSample {
    readonly services: number;
    readonly mode: ChildMode;
    /** Node start to this file's first line: Node itself and the TypeScript loader. */
    readonly bootMs: number;
    /** Requiring @pulumi/pulumi, @pulumi/command, @pulumi/random and hearth's components. */
    readonly importMs: number;
    /** Running the program under the mock runtime until every registration was answered (wall clock). */
    readonly planMs: number;
    /** CPU time (user + system) of the same span: less sensitive than planMs to other load on the machine. */
    readonly planCpuMs: number;
    /** Peak RSS after the imports and at the end, in MiB. */
    readonly importRssMiB: number;
    readonly peakRssMiB: number;
    readonly resources: number;
    readonly commands: number;
}

/**
 * `site`: the benchmark site through hearth's components. `stack`: the same site as a site config, through the stacks
 * layer (config schema, cross-checks, buildSite) as `npm run plan` runs a site. `floor`: per service the same resource
 * shape hearth registers (one component, a converge and a lifecycle command) with trivial inputs and no hearth code:
 * what the Pulumi SDK costs for that shape alone. `floor-converge-only`: the same without the lifecycle command.
 */
export type ChildMode = "site" | "stack" | "floor" | "floor-converge-only";
const MODES: readonly ChildMode[] = ["site", "stack", "floor", "floor-converge-only"];

export interface ChildOptions {
    readonly services: number;
    readonly mode: ChildMode;
    /** Error.stackTraceLimit while the program runs. @default - Node's (10) */
    readonly stackLimit?: number;
    /** Turn off the source-mapped stack traces the TypeScript loader turns on. @default false */
    readonly noSourceMaps?: boolean;
}

export function childArgs(o: ChildOptions): string[] {
    return [String(o.services), o.mode, ...(o.stackLimit !== undefined ? ["--stack-limit", String(o.stackLimit)] : []), ...(o.noSourceMaps ? ["--no-source-maps"] : [])];
}

function parseChildArgs(argv: string[]): ChildOptions {
    const [n, mode, ...rest] = argv;
    const services = Number(n);
    if (!Number.isInteger(services) || services < 0 || services > 100_000) throw new Error(`services must be an integer from 0 to 100000, got ${n}`);
    if (!MODES.includes(mode as ChildMode)) throw new Error(`mode must be one of ${MODES.join(", ")}, got ${mode}`);
    let stackLimit: number | undefined;
    let noSourceMaps = false;
    for (let i = 0; i < rest.length; i++) {
        if (rest[i] === "--stack-limit") stackLimit = Number(rest[++i]);
        else if (rest[i] === "--no-source-maps") noSourceMaps = true;
        else throw new Error(`unknown argument ${rest[i]}`);
    }
    if (stackLimit !== undefined && (!Number.isInteger(stackLimit) || stackLimit < 0)) throw new Error("--stack-limit must be an integer >= 0");
    return { services, mode: mode as ChildMode, stackLimit, noSourceMaps };
}

const mib = (kib: number) => kib / 1024;

async function main(): Promise<void> {
    const bootMs = performance.now();
    const opts = parseChildArgs(process.argv.slice(2));
    if (opts.noSourceMaps) process.setSourceMapsEnabled(false);

    /* eslint-disable @typescript-eslint/no-require-imports */
    const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    const command = require("@pulumi/command") as typeof import("@pulumi/command");
    require("@pulumi/random");
    const { Host } = require("../components/host") as typeof import("../components/host");
    const { installMocks, recorded, TEST_HOST_KEY } = require("../tests/mocks") as typeof import("../tests/mocks");
    const { declareSite } = require("./site") as typeof import("./site");
    const stacks = opts.mode === "stack"
        ? {
              ...(require("../stacks/schema") as typeof import("../stacks/schema")),
              ...(require("../stacks/site") as typeof import("../stacks/site")),
              ...(require("../stacks/plan-runtime") as typeof import("../stacks/plan-runtime")),
          }
        : undefined;
    const { siteConfigValues, SECRET_KEYS } = require("./site-config") as typeof import("./site-config");
    require("../components/systemd");
    require("../components/zfs");
    require("../components/postgres");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const importMs = performance.now() - bootMs;
    const importRssMiB = mib(process.resourceUsage().maxRSS);

    // The stack mode is what `npm run plan` runs, so it runs in the same lean process under the same mocks
    // (stacks/plan-runtime.ts); the other modes under the specs' mocks.
    if (stacks) stacks.leanPlanProcess();
    if (opts.stackLimit !== undefined) Error.stackTraceLimit = opts.stackLimit;
    const planned: import("../stacks/plan-runtime").PlannedResource[] = [];
    const started = performance.now();
    const cpu0 = process.cpuUsage();
    if (stacks) await stacks.installPlanMocks("hearth", "bench", {}, planned);
    else await installMocks("hearth", "bench");
    await pulumi.runtime.runInPulumiStack(async () => {
        // Three machines, as a small site has; the services spread over them. Nothing connects anywhere.
        const hosts = [1, 2, 3].map((n) => new Host({
            name: `node${n}`,
            address: `10.231.200.${n + 1}`,
            privateKey: pulumi.secret("bench-placeholder-key"),
            hostKey: TEST_HOST_KEY,
            facts: { zfs: true },
        }));
        if (opts.mode === "site") {
            declareSite({ hosts, services: opts.services, dbClient: "10.231.0.0/16", variety: true });
            return undefined;
        }
        if (stacks) {
            const site = stacks.parseSiteConfig({ values: siteConfigValues(opts.services), secretKeys: new Set(SECRET_KEYS) });
            stacks.buildSite(site, { secret: (key: string) => pulumi.secret(`bench-placeholder-${key}`) });
            return undefined;
        }
        class Floor extends pulumi.ComponentResource {
            constructor(i: number) {
                super("hearth:bench:Floor", `floor-${i}`, {}, {});
                const connection = hosts[i % hosts.length].connection;
                const converge = new command.remote.Command(`floor-${i}-converge`, { connection, create: "true", update: "true", stdin: "", addPreviousOutputInEnv: false }, { parent: this });
                if (opts.mode === "floor") new command.remote.Command(`floor-${i}-converge-lifecycle`, { connection, delete: "true", addPreviousOutputInEnv: false }, { parent: this, dependsOn: [converge] });
                this.registerOutputs({});
            }
        }
        for (let i = 1; i <= opts.services; i++) new Floor(i);
        return undefined;
    });
    // What the SDK awaits before a program exits: every registration answered.
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    const planMs = performance.now() - started;
    const cpu = process.cpuUsage(cpu0);

    const sample: PlanSample = {
        services: opts.services,
        mode: opts.mode,
        bootMs,
        importMs,
        planMs,
        planCpuMs: (cpu.user + cpu.system) / 1000,
        importRssMiB,
        peakRssMiB: mib(process.resourceUsage().maxRSS),
        resources: stacks ? planned.length : recorded.length,
        commands: (stacks ? planned : recorded).filter((r) => r.type === "command:remote:Command").length,
    };
    process.stdout.write(`${JSON.stringify(sample)}\n`);
}

if (require.main === module) {
    main().then(
        () => process.exit(0),
        (e) => {
            process.stderr.write(`plan-child: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
            process.exit(1);
        },
    );
}
