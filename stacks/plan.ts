// `npm run plan [-- --stack NAME]` (`npx pulumi-hearth plan` in a site repository): runs a site offline under the mock
// runtime, shows per host what would land there, and runs the policy pack over it.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as hearth from "../components";
import { loadStackConfig, placeholderSecrets, planPublicKey, runProgram, unwrap } from "./plan-runtime";
import { checkStackName, readFlags } from "./cli-args";
import { buildPlan, RegistryListener } from "./plan-report";
import { formatPlaceholders, formatPlan, formatSecurity, securityTable, writePlan } from "./plan-output";
import { formatPolicies, loadPolicyPack, policyConfigFile, readPolicyConfig } from "./plan-policies";

const USAGE = `usage: npm run plan [-- --stack NAME] [--out DIR] [--dir SITE_DIR] [--budget N]
  --stack NAME   the site: Pulumi.NAME.yaml (default: example)
  --out DIR      where the plan goes: DIR/NAME/<host>/<absolute path> (default: out/plan)
  --dir DIR      the directory with Pulumi.yaml and the site files (default: the current directory)
  --budget N     exposure budget for the systemd-analyze table (default: 1.5)
  --policy-config FILE
                 the policy pack's config (waivers, levels) as --policy-pack-config takes it
                 (default: policy-config.NAME.json, else policy-config.json, else policies/examples/NAME.json,
                 in the site directory)
  --no-policies  skip the policy pack (a mandatory violation otherwise fails the plan)
  --outputs      print only the stack outputs as JSON (used to answer StackReferences to this stack)`;

interface Args {
    stack: string;
    out: string;
    dir: string;
    budget: number;
    outputsOnly: boolean;
    policyConfig?: string;
    policies: boolean;
}

function parseArgs(argv: string[]): Args {
    const a: Args = { stack: "example", out: "out/plan", dir: ".", budget: 1.5, outputsOnly: false, policies: true };
    readFlags(argv, USAGE, (flag, value) => {
        if (flag === "--stack") a.stack = value();
        else if (flag === "--out") a.out = value();
        else if (flag === "--dir") a.dir = value();
        else if (flag === "--budget") a.budget = Number(value());
        else if (flag === "--outputs") a.outputsOnly = true;
        else if (flag === "--policy-config") a.policyConfig = value();
        else if (flag === "--no-policies") a.policies = false;
        else return false;
        return true;
    });
    checkStackName(a.stack);
    if (!Number.isFinite(a.budget) || a.budget < 0 || a.budget > 10) throw new Error(`--budget must be a number from 0 to 10`);
    return a;
}

/** The site program Pulumi.yaml names (`main`, a file or a directory with index.ts). */
export function programOf(dir: string): string {
    const text = fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8");
    const main = /^main:\s*(\S+)\s*$/m.exec(text)?.[1] ?? ".";
    const p = path.resolve(dir, main);
    return fs.existsSync(p) && fs.statSync(p).isDirectory() ? path.join(p, "index.ts") : p;
}

/**
 * What a site exports for the other end of its WireGuard links, read from its config alone: the sides it manages, with
 * the placeholder key its plan gives each (the key step of side S of link L is named `L-S-key`) and their endpoints.
 * Used inside a referenced site's plan, so that two sites referring to each other do not recurse.
 */
function outputsFromConfig(dir: string, stack: string): Record<string, unknown> {
    const raw = loadStackConfig(dir, stack).config["hearth:wireguard"];
    const links: any[] = raw ? JSON.parse(raw) : [];
    const wireguard: Record<string, unknown> = {};
    for (const l of Array.isArray(links) ? links : []) {
        const own = [l?.hub, ...(Array.isArray(l?.peers) ? l.peers : [])].filter((s) => s && typeof s.host === "string");
        wireguard[l.name] = {
            publicKeys: Object.fromEntries(own.map((s) => [s.name ?? s.host, planPublicKey(`${l.name}-${s.name ?? s.host}-key`)])),
            endpoints: Object.fromEntries(own.filter((s) => typeof s.endpoint === "string").map((s) => [s.name ?? s.host, s.endpoint])),
        };
    }
    return { wireguard };
}

/**
 * A StackReference to another site of this project gets that site's planned outputs: its plan runs in a child
 * process (the mock runtime is process-global). Inside that child, references are answered from the referenced
 * site's config (`outputsFromConfig`). A stack with no site file here has no outputs.
 */
function referencedOutputs(dir: string, self: string, nested: boolean) {
    const cache = new Map<string, Record<string, unknown>>();
    return (name: string): Record<string, unknown> => {
        const stack = name.split("/").pop()!;
        if (!/^[A-Za-z0-9_.-]+$/.test(stack) || !fs.existsSync(path.join(dir, `Pulumi.${stack}.yaml`))) return {};
        if (nested || stack === self) return outputsFromConfig(dir, stack);
        if (!cache.has(stack)) {
            const r = spawnSync(process.execPath, [...process.execArgv, __filename, "--stack", stack, "--dir", dir, "--outputs"], {
                encoding: "utf8",
                env: { ...process.env, HEARTH_PLAN_NESTED: "1" },
            });
            if (r.status !== 0) throw new Error(`planning stack '${stack}' (referenced by '${self}') failed:\n${r.stderr}`);
            cache.set(stack, JSON.parse(r.stdout));
        }
        return cache.get(stack)!;
    };
}

/** Enumerates the listener registry (components/core/owner.ts): each host object with its listeners. */
export type ListeningHosts = () => Iterable<readonly [object, readonly RegistryListener[]]>;

/** Each host's listeners (by the Host's name) from the registry the program filled. */
export function registryListeners(enumerate: ListeningHosts = hearth.listeningHosts): Map<string, readonly RegistryListener[]> {
    const out = new Map<string, RegistryListener[]>();
    for (const [host, listeners] of enumerate()) {
        const name = typeof (host as { name?: unknown }).name === "string" ? (host as { name: string }).name : "(unnamed host)";
        out.set(name, [...(out.get(name) ?? []), ...listeners]);
    }
    return out;
}

/** Runs the plan; resolves to the exit code (1: a mandatory policy violation). */
async function main(argv: string[]): Promise<number> {
    const args = parseArgs(argv);
    const dir = path.resolve(args.dir);
    const nested = process.env.HEARTH_PLAN_NESTED === "1";
    loadStackConfig(dir, args.stack); // fail early, with the list of stacks, before the runtime starts
    // Also before the run: a missing or mismatched pack, or a broken config, is reported before anything is planned.
    const policyConfig = policyConfigFile(dir, args.stack, args.policyConfig);
    const pack = args.policies && !args.outputsOnly ? { ...loadPolicyPack(dir), config: readPolicyConfig(policyConfig) } : undefined;
    const configProblems = pack ? pack.pack.checkPackConfig(pack.config) : [];
    if (configProblems.length > 0) throw new Error(`the policy config ${policyConfig} is not valid:\n  ${configProblems.join("\n  ")}`);
    const run = await runProgram({ stack: args.stack, dir, program: programOf(dir), stackOutputs: referencedOutputs(dir, args.stack, nested) });
    if (args.outputsOnly) {
        // Secret outputs arrive as "[secret]": the referencing plan sees that a value exists, never what it is.
        process.stdout.write(JSON.stringify(run.outputs));
        return 0;
    }
    const targets = (run.outputs.hosts ?? {}) as Record<string, string>;
    const listeners = registryListeners();
    const plan = buildPlan(args.stack, run.resources, targets, { listeners, placeholders: placeholderSecrets(dir, args.stack) });
    const started = Date.now();
    const outDir = writePlan(plan, path.resolve(args.out));
    console.log(formatPlan(plan));
    console.log("");
    console.log(formatSecurity(securityTable(plan, outDir), args.budget));
    console.log("");
    console.log(`Stack outputs: ${JSON.stringify(run.outputs)}`);
    console.log("Offline: secure config values are placeholders and never written; what hosts would print (public keys, host keys) is simulated.");
    console.log(`Wrote ${path.relative(process.cwd(), outDir) || outDir}/ (files per host, _scripts/, _files.tsv, _listeners.tsv, _packages.tsv; plan.json with the unset secrets) in ${Date.now() - started} ms.`);
    // The last thing printed: what is left to do before a real `pulumi up`.
    const unset = () => {
        console.log("");
        console.log(formatPlaceholders(plan.placeholders ?? [], args.stack));
    };
    if (!pack) {
        console.log("");
        console.log("Policies: skipped (--no-policies).");
        unset();
        return 0;
    }
    const report = await pack.pack.evaluatePolicies(
        run.resources.map((r) => ({ type: r.type, name: r.name, parent: r.parent, inputs: unwrap(r.inputs) })),
        { project: run.config.project, stack: args.stack, config: pack.config },
    );
    console.log("");
    console.log(formatPolicies(report, pack.source, policyConfig));
    unset();
    const failing = pack.pack.mandatory(report);
    if (failing.length === 0) return 0;
    console.error(`error: ${failing.length} mandatory policy violation(s) (${[...new Set(failing.map((v) => v.policy))].join(", ")}): the preview would fail the same way`);
    return 1;
}

/** The command line: `plan [flags]`, as `npm run plan --` and `pulumi-hearth plan` pass it. */
export function cli(argv: string[]): void {
    process.on("unhandledRejection", (e) => fatal(e));
    main(argv).then(
        (code) => process.exit(code),
        (e) => fatal(e),
    );
}

if (require.main === module) cli(process.argv.slice(2));

function fatal(e: unknown): never {
    const message = e instanceof Error ? e.message : String(e);
    console.error(`error: ${message}`);
    process.exit(1);
}
