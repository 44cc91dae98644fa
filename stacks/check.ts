// `npm run check [-- --stack NAME]` (`npx pulumi-hearth check` in a site repository): evaluates a site offline, as the
// plan does, then checks every host over SSH against what the site declares and what hearth last applied there.
// Read-only on every host. Exit status: 0 when the hosts match, 1 on drift, 2 when a host cannot be checked.
import * as path from "path";
import { UNKNOWN_STATE } from "./sdk";
import { loadStackConfig, runProgram, simulatedHostKeys, unwrap } from "./plan-runtime";
import { checkStackName, readFlags } from "./cli-args";
import { programOf } from "./plan";
import { checkAll, checkAuth, checksByHost, ConvergeCommand, exitCode, formatReports, HostChecks, HostReport, SshAuth, UNKNOWN } from "./drift";

const USAGE = `usage: npm run check [-- --stack NAME] [--dir SITE_DIR] [--identity FILE] [--host NAME]... [--json]
  --stack NAME     the site: Pulumi.NAME.yaml (default: example)
  --dir DIR        the directory with Pulumi.yaml and the site files (default: the current directory)
  --identity FILE  the SSH private key file (default: the keys of the SSH agent, SSH_AUTH_SOCK); never printed
  --host NAME      check only this host (by its name in the site, or user@address:port); repeatable
  --timeout S      seconds per host (default: 120)
  --json           the report as JSON on stdout
  --list           connect to nothing: list what would be checked on each host (with --json: every check line)
exit status: 0 every host matches, 1 drift, 2 a host (or a resource on it) cannot be checked`;

interface Args {
    stack: string;
    dir: string;
    identity?: string;
    hosts: string[];
    json: boolean;
    list: boolean;
    timeout: number;
}

function parseArgs(argv: string[]): Args {
    const a: Args = { stack: "example", dir: ".", hosts: [], json: false, list: false, timeout: 120 };
    readFlags(argv, USAGE, (flag, value) => {
        if (flag === "--stack") a.stack = value();
        else if (flag === "--dir") a.dir = value();
        else if (flag === "--identity") a.identity = value();
        else if (flag === "--host") a.hosts.push(value());
        else if (flag === "--timeout") {
            const v = value();
            a.timeout = /^[0-9]{1,4}$/.test(v) ? Number(v) : NaN;
            if (!(a.timeout >= 1 && a.timeout <= 3600)) throw new Error(`--timeout must be a whole number of seconds from 1 to 3600, got ${JSON.stringify(v)}`);
        } else if (flag === "--json") a.json = true;
        else if (flag === "--list") a.list = true;
        else return false;
        return true;
    });
    checkStackName(a.stack);
    return a;
}

/** A resolved input with every value unknown offline replaced by UNKNOWN (anywhere inside it: the whole is unknown). */
function known(v: unknown): unknown {
    const x = unwrap(v);
    const hasUnknown = (y: unknown): boolean =>
        y === UNKNOWN_STATE || (Array.isArray(y) ? y.some(hasUnknown) : !!y && typeof y === "object" && Object.values(y).some(hasUnknown));
    return hasUnknown(x) ? UNKNOWN : x;
}

/** A connection with each field resolved or UNKNOWN (a container's host key is known only once its parent converged). */
function connectionFields(v: unknown, standIns: ReadonlySet<string>): unknown {
    const c = unwrap(v);
    if (c === UNKNOWN_STATE || !c || typeof c !== "object") return UNKNOWN;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(c)) {
        if (x === undefined || x === null) continue;
        out[k] = k === "proxy" ? connectionFields(x, standIns) : k === "hostKey" && typeof x === "string" && standIns.has(x.trim().split(/\s+/).slice(0, 2).join(" ")) ? UNKNOWN : known(x);
    }
    return out;
}

/** The converge commands of a site, evaluated offline with what only the engine knows left unknown. */
export async function siteConverges(dir: string, stack: string): Promise<{ commands: ConvergeCommand[]; names: Map<string, string> }> {
    const run = await runProgram({ stack, dir, program: programOf(dir), unknownOutputs: true });
    const standIns = simulatedHostKeys(run.resources);
    const commands = run.resources
        .filter((r) => r.type === "command:remote:Command")
        .map((r) => ({ resource: r.name, create: known(r.inputs.create), stdin: known(r.inputs.stdin), connection: connectionFields(r.inputs.connection, standIns) }));
    const hosts = run.outputs.hosts;
    const names = new Map<string, string>();
    if (hosts && typeof hosts === "object") for (const [name, t] of Object.entries(hosts)) if (typeof t === "string") names.set(t, name);
    return { commands, names };
}

async function main(argv: string[]): Promise<number> {
    const args = parseArgs(argv);
    const dir = path.resolve(args.dir);
    loadStackConfig(dir, args.stack); // fail early, with the list of stacks
    const auth: SshAuth = { identity: args.identity, timeoutSeconds: args.timeout };
    if (!args.list) checkAuth(auth);
    const started = Date.now();
    const { commands, names } = await siteConverges(dir, args.stack);
    const evaluated = Date.now();
    let hosts = checksByHost(commands, names);
    if (args.hosts.length) {
        const unknown = args.hosts.filter((n) => !hosts.some((h) => h.name === n || (h.target && `${h.target.user}@${h.target.address}:${h.target.port}` === n)));
        if (unknown.length) throw new Error(`--host ${unknown.map((n) => JSON.stringify(n)).join(", ")}: not a host of stack '${args.stack}' (hosts: ${hosts.map((h) => h.name).join(", ")})`);
        hosts = hosts.filter((h) => args.hosts.includes(h.name) || (h.target && args.hosts.includes(`${h.target.user}@${h.target.address}:${h.target.port}`)));
    }
    if (args.list) return list(args, hosts);
    const reports: HostReport[] = await checkAll(hosts, auth);
    const code = exitCode(reports);
    const seconds = { evaluate: (evaluated - started) / 1000, total: (Date.now() - started) / 1000 };
    if (args.json) {
        process.stdout.write(JSON.stringify({ stack: args.stack, exitCode: code, seconds, hosts: reports }, null, 2) + "\n");
    } else {
        console.log(formatReports(reports));
        console.log("");
        const verdict = code === 0 ? "every host matches" : code === 1 ? "drift found" : "some host could not be checked";
        console.log(`${verdict}: ${reports.length} host(s), program evaluated in ${seconds.evaluate.toFixed(2)} s, ${seconds.total.toFixed(2)} s in all.`);
        if (code === 1) console.log("To converge again: raise the host's reapply counter (reapply.all, or reapply.resources.<name>) and run `pulumi up` (README: Drift).");
    }
    return code;
}

/** `--list`: what each host's check would run, without connecting anywhere. */
function list(args: Args, hosts: readonly HostChecks[]): number {
    if (args.json) {
        const out = hosts.map((h) => ({ host: h.name, target: h.target ?? null, sudo: h.sudo, problems: h.problems, checks: h.checks }));
        process.stdout.write(JSON.stringify({ stack: args.stack, hosts: out }, null, 2) + "\n");
        return 0;
    }
    for (const h of hosts) {
        const t = h.target ? `${h.target.user}@${h.target.address}:${h.target.port}${h.target.hostKey === undefined ? ", host key from its parent's check" : ""}` : "connection unknown offline";
        console.log(`${h.name} (${t}): ${h.checks.length} resource(s), ${h.checks.reduce((n, c) => n + c.lines.length, 0)} check line(s)${h.sudo ? ", through sudo" : ""}`);
        for (const c of h.checks) console.log(`  ${c.resource}: ${c.lines.length}`);
        for (const p of h.problems) console.log(`  cannot be checked: ${p}`);
    }
    return 0;
}

/** The command line: `check [flags]`, as `npm run check --` and `pulumi-hearth check` pass it. */
export function cli(argv: string[]): void {
    process.on("unhandledRejection", (e) => fatal(e));
    main(argv).then(
        (code) => process.exit(code),
        (e) => fatal(e),
    );
}

function fatal(e: unknown): never {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(2);
}

if (require.main === module) cli(process.argv.slice(2));
