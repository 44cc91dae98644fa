// One drift check in a fresh process, as `npm run check` runs one: evaluate the site offline (`siteConverges`, what only
// the engine knows left unknown), group the checks by host, run each host's in one SSH session.
//
// Reads a CheckInput as JSON on stdin and writes one CheckOutput as JSON on stdout. The hosts it may reach are the
// ones the benchmark booted (`allowed`): any other address in the program is refused before a connection is made.
import { performance } from "perf_hooks";
import type { HostReport } from "../stacks/drift";

export interface CheckInput {
    /** The site directory (Pulumi.yaml naming bench/check-site.ts, Pulumi.<stack>.yaml). */
    readonly dir: string;
    readonly stack: string;
    /** The client key file, as `npm run check -- --identity` takes it. */
    readonly identity: string;
    /** Test-host addresses the benchmark started. */
    readonly allowed: readonly string[];
}

export interface CheckOutput {
    /** From the process's start to main(): node, tsx and this file. */
    readonly bootMs: number;
    /** Loading hearth's check and the stacks layer. */
    readonly importMs: number;
    /** The site program evaluated offline and the checks grouped by host. */
    readonly evaluateMs: number;
    /** Every host's check, all hosts at once. */
    readonly remoteMs: number;
    readonly hosts: readonly { readonly name: string; readonly resources: number; readonly lines: number; readonly problems: readonly string[] }[];
    readonly reports: readonly HostReport[];
    readonly exitCode: number;
}

async function main(): Promise<void> {
    const bootMs = performance.now();
    const input = JSON.parse(require("fs").readFileSync(0, "utf8")) as CheckInput;
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { siteConverges } = require("../stacks/check") as typeof import("../stacks/check");
    const { checksByHost, checkAll, exitCode } = require("../stacks/drift") as typeof import("../stacks/drift");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const imported = performance.now();

    const { commands, names } = await siteConverges(input.dir, input.stack);
    const hosts = checksByHost(commands, names);
    const evaluated = performance.now();
    for (const h of hosts) {
        if (h.target && (!input.allowed.includes(h.target.address) || (h.target.proxy && !input.allowed.includes(h.target.proxy.address)))) {
            throw new Error(`refusing to check ${h.name} at ${h.target.address}: not a test host the benchmark started`);
        }
    }
    // As `npm run check`: each host in one SSH session, all at once (a container after the host that reports its key).
    const reports = await checkAll(hosts, { identity: input.identity });
    const done = performance.now();
    const out: CheckOutput = {
        bootMs,
        importMs: imported - bootMs,
        evaluateMs: evaluated - imported,
        remoteMs: done - evaluated,
        hosts: hosts.map((h) => ({ name: h.name, resources: h.checks.length, lines: h.checks.reduce((n, c) => n + c.lines.length, 0), problems: h.problems })),
        reports,
        exitCode: exitCode(reports),
    };
    await new Promise<void>((resolve) => process.stdout.write(JSON.stringify(out), () => resolve()));
}

if (require.main === module) {
    main().then(
        () => process.exit(0),
        (e) => {
            process.stderr.write(`check-program: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
            process.exit(1);
        },
    );
}
