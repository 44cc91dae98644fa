// `npm run bench:hosts`: three test hosts × 20 services converging at once, against sshd's MaxStartups, with and
// without a bound on concurrent steps (`pulumi up --parallel`).
//
// A real `up` dials every host's commands at once (the CLI's default --parallel is unbounded) and @pulumi/command keeps
// each connection open until its command exits. sshd drops unauthenticated connections beyond MaxStartups' first number
// (randomly, from 30 %, rising to all of them at the third); the provider retries a dropped dial up to dialErrorLimit
// times with backoff. Each row converges the same site on three newly booted hosts and counts what that cost.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import { hostPreflight, startHost, TestHost } from "../tests/host/harness";
import { applyPreflight, ConcurrentApplier, PROVIDER_DIAL, ScheduleResult } from "./apply";
import { evaluate } from "./converge-program";
import { prepareHost, runBench } from "./converge-hosts";
import { finishMachine, formatMachine, machineInfo, median, parseRepeatArgs, table } from "./machine";
import { serviceName } from "./site";

const HOSTS = 3;
const SERVICES_PER_HOST = 20;
/** sshd's compiled-in MaxStartups (sshd_config(5)). */
const SSHD_DEFAULT = "10:30:100";

const USAGE = `usage: npm run bench:hosts [-- --parallel LIST] [--max-startups LIST] [--repeat N] [--json FILE]
  --parallel LIST      step limits to try, comma-separated; 0 is unbounded, the CLI's default (default 0,10,20,40)
  --max-startups LIST  sshd MaxStartups on the test hosts, comma-separated: "default" (sshd's own ${SSHD_DEFAULT}),
                       N, or start:rate:full (default default,100:30:200)
  --repeat N           fresh converges per row, each on ${HOSTS} newly booted hosts (1 to 10, default 1)
  --json FILE          also write every sample as JSON`;

interface Args {
    parallel: number[];
    maxStartups: string[];
    repeat: number;
    json?: string;
}

/** Reads the flags; a bad value throws naming the flag, the value and what is allowed. */
export function parseArgs(argv: readonly string[]): Args {
    let parallel = [0, 10, 20, 40];
    let maxStartups = ["default", "100:30:200"];
    const { repeat, json } = parseRepeatArgs(argv, USAGE, (flag, value) => {
        if (flag === "--parallel") parallel = value().split(",").map((v) => parallelValue(v));
        else if (flag === "--max-startups") maxStartups = value().split(",").map((v) => maxStartupsValue(v));
        else return false;
        return true;
    }, 1);
    return { parallel, maxStartups, repeat, json };
}

function parallelValue(v: string): number {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n > 1000) throw new Error(`--parallel takes whole numbers from 0 (unbounded) to 1000, got ${JSON.stringify(v)}\n${USAGE}`);
    return n;
}

function maxStartupsValue(v: string): string {
    if (v === "default") return v;
    const m = /^(\d{1,4})(?::(\d{1,3}):(\d{1,4}))?$/.exec(v);
    const [start, rate, full] = m ? [Number(m[1]), Number(m[2] ?? 100), Number(m[3] ?? m[1])] : [0, 0, 0];
    if (start < 1 || rate < 1 || rate > 100 || full < start) {
        throw new Error(`--max-startups takes "default", N, or start:rate:full (start ≥ 1, rate 1–100, full ≥ start), got ${JSON.stringify(v)}\n${USAGE}`);
    }
    return v;
}

/** The setting as `sshd -T` prints it. */
function effective(setting: string): string {
    if (setting === "default") return SSHD_DEFAULT;
    return setting.includes(":") ? setting : `${setting}:100:${setting}`;
}

async function sh(h: TestHost, command: string): Promise<string> {
    const r = await h.exec(command);
    if (r.code !== 0) throw new Error(`${h.name}: ${command}\nexit ${r.code}\n${r.stdout}${r.stderr}`);
    return r.stdout;
}

/**
 * Sets MaxStartups on a host (or leaves sshd's default) and proves sshd runs with it. LogLevel VERBOSE on every row:
 * at sshd's default level only the first drop of a throttling period is logged.
 */
async function configureSshd(h: TestHost, setting: string): Promise<void> {
    const conf = ["LogLevel VERBOSE", ...(setting === "default" ? [] : [`MaxStartups ${setting}`])];
    await sh(h, `printf '%s\\n' ${conf.map((l) => `'${l}'`).join(" ")} > /etc/ssh/sshd_config.d/50-hearth-bench.conf && systemctl reload ssh.service`);
    // A listening daemon (not socket activation, where MaxStartups does not apply), running the setting asked for.
    const out = await sh(h, "systemctl is-active -q ssh.service && ! systemctl is-active -q ssh.socket && sshd -T | grep -E '^(maxstartups|loglevel) ' | sort");
    if (out.trim() !== `loglevel VERBOSE\nmaxstartups ${effective(setting)}`) throw new Error(`${h.name}: sshd runs with '${out.trim()}', not LogLevel VERBOSE and MaxStartups ${effective(setting)}`);
}

/** How many connections sshd dropped past MaxStartups since the host booted (its own log line). */
async function sshdDrops(h: TestHost): Promise<number> {
    return Number((await sh(h, "journalctl -b -q -o cat _COMM=sshd | grep -c 'past MaxStartups' || true")).trim());
}

/** The site's services on each host that are not active. */
async function inactive(h: TestHost, names: readonly string[]): Promise<string[]> {
    const out = await sh(h, `for u in ${names.join(" ")}; do systemctl is-active -q "$u" || echo "$u"; done`);
    return out.split("\n").filter(Boolean);
}

interface Sample {
    readonly maxStartups: string;
    readonly parallel: number;
    readonly loadStart: number;
    readonly loadEnd: number;
    readonly result: ScheduleResult;
    /** Per host, in boot order. */
    readonly hosts: readonly { readonly address: string; readonly commands: number; readonly sshdDrops: number; readonly inactive: readonly string[] }[];
}

function log(line: string): void {
    process.stderr.write(`bench:hosts: ${line}\n`);
}

function uptime(): string {
    const r = spawnSync("uptime", [], { encoding: "utf8" });
    return r.status === 0 ? r.stdout.trim() : `load average ${os.loadavg().map((l) => l.toFixed(2)).join(", ")}`;
}

/** One row: three fresh hosts, sshd set as asked, the site converged with at most `parallel` steps at once. */
async function sample(maxStartups: string, parallel: number): Promise<Sample> {
    const hosts = await Promise.all(Array.from({ length: HOSTS }, (_, k) => startHost({ name: `bench-many-${k + 1}` })));
    try {
        // Datasets and the database go to the first host (site.ts); services to all three in turn.
        await prepareHost(hosts[0]);
        await Promise.all(hosts.map((h) => configureSshd(h, maxStartups)));
        const dropsBefore = await Promise.all(hosts.map(sshdDrops));
        const program = await evaluate({
            hosts: hosts.map((h) => ({ name: h.name, address: h.address, hostKey: h.hostKey, privateKey: h.privateKey })),
            services: HOSTS * SERVICES_PER_HOST,
            dbClient: `10.231.${hosts[0].index}.1/32`,
        });
        const loadStart = os.loadavg()[0];
        const result = await new ConcurrentApplier(hosts[0].ssh.privateKeyPath, { parallel }).run(program.commands);
        const loadEnd = os.loadavg()[0];
        const scriptError = result.steps.find((s) => s.error && !s.dialLimitReached);
        if (scriptError) throw new Error(`on ${scriptError.host}: ${scriptError.error}`);
        const complete = result.steps.every((s) => !s.error);
        const perHost = await Promise.all(hosts.map(async (h, k) => {
            const names = Array.from({ length: HOSTS * SERVICES_PER_HOST }, (_, i) => i + 1).filter((i) => (i - 1) % HOSTS === k).map(serviceName);
            const down = complete ? await inactive(h, names) : [];
            if (down.length) throw new Error(`${h.name}: the converge finished but ${down.join(", ")} are not active`);
            return {
                address: h.address,
                commands: program.commands.filter((c) => c.inputs.create !== undefined && c.inputs.connection?.host === h.address).length,
                sshdDrops: (await sshdDrops(h)) - dropsBefore[k],
                inactive: down,
            };
        }));
        return { maxStartups, parallel, loadStart, loadEnd, result, hosts: perHost };
    } finally {
        await Promise.allSettled(hosts.map((h) => h.stop()));
    }
}

const s = (ms: number) => (ms / 1000).toFixed(2);

function rowTable(samples: readonly Sample[]): string {
    const rows = samples.map((x) => {
        const r = x.result;
        const perHost = (f: (address: string) => number) => x.hosts.map((h) => f(h.address)).join(" / ");
        const of = (address: string) => r.steps.filter((st) => st.host === address);
        const gaveUp = r.steps.filter((st) => st.dialLimitReached).length;
        const retries = r.steps.reduce((n, st) => n + st.dialRetries, 0);
        return [
            x.maxStartups === "default" ? `${SSHD_DEFAULT} (default)` : effective(x.maxStartups),
            x.parallel === 0 ? "unbounded (default)" : String(x.parallel),
            gaveUp ? `${s(r.wallMs)} (failed)` : s(r.wallMs),
            `${r.steps.filter((st) => !st.error).length}/${r.steps.length + r.notStarted}`,
            String(r.maxOpen),
            perHost((a) => of(a).reduce((n, st) => n + st.dials, 0)),
            perHost((a) => of(a).reduce((n, st) => n + st.refused, 0)),
            perHost((a) => x.hosts.find((h) => h.address === a)!.sshdDrops),
            String(Math.max(0, ...r.steps.map((st) => st.refused))),
            s(Math.max(0, ...r.steps.map((st) => st.backoffMs))),
            perHost((a) => of(a).filter((st) => st.dialLimitReached).length),
            s(median(r.steps.map((st) => st.endMs - st.startMs))),
            s(Math.max(0, ...r.steps.map((st) => st.startMs))),
            retries ? (r.steps.reduce((n, st) => n + st.spawnMs, 0) / retries).toFixed(0) : "–",
            `${x.loadStart.toFixed(1)} → ${x.loadEnd.toFixed(1)}`,
        ];
    });
    return table([
        "sshd MaxStartups", "--parallel", "wall s", "steps done", "most connections open", "dials per host",
        "dials dropped per host (client)", "drops logged by sshd per host", "most drops of one step", "longest backoff of one step s",
        "steps out of dials per host", "median step s", "last step's first dial at s", "ms to start one retry's ssh client (local)", "load (1 min)",
    ], rows);
}

async function main(): Promise<void> {
    const args = parseArgs(process.argv.slice(2));
    const why = hostPreflight() ?? applyPreflight();
    if (why) throw new Error(`cannot run the many-hosts benchmark here: ${why}`);
    const machine = machineInfo();
    const uptimeStart = uptime();
    const samples: Sample[] = [];
    for (let n = 0; n < args.repeat; n++) {
        for (const maxStartups of args.maxStartups) {
            for (const parallel of args.parallel) {
                const x = await sample(maxStartups, parallel);
                samples.push(x);
                const gaveUp = x.result.steps.filter((st) => st.dialLimitReached).length;
                log(`MaxStartups ${effective(maxStartups)}, --parallel ${parallel || "unbounded"}: ${s(x.result.wallMs)} s, ` +
                    `${x.result.steps.reduce((k, st) => k + st.refused, 0)} dials dropped, ${gaveUp} steps out of dials (${uptime()})`);
            }
        }
    }
    finishMachine(machine);
    const uptimeEnd = uptime();

    console.log(`## Many hosts: ${HOSTS} hosts × ${SERVICES_PER_HOST} services at once, ${formatMachine(machine)}`);
    console.log("");
    console.log(`\`uptime\` at the start: ${uptimeStart}`);
    console.log(`\`uptime\` at the end: ${uptimeEnd}`);
    console.log("");
    console.log(`Each row: a fresh converge of the benchmark site (${HOSTS * SERVICES_PER_HOST} hardened SystemdServices, ${SERVICES_PER_HOST} per host; 2 ZfsDatasets`);
    console.log(`and a PostgresDb on the first) on ${HOSTS} test hosts booted for that row. One SSH connection per command, held until its`);
    console.log(`script exits; at most --parallel steps at once; a dial sshd drops is retried as @pulumi/command 1.2.1 does`);
    console.log(`(dialErrorLimit ${PROVIDER_DIAL.limit}, waits from ${PROVIDER_DIAL.firstDelayMs} ms ×${PROVIDER_DIAL.backoff} up to ${PROVIDER_DIAL.maxDelayMs / 1000} s); after a step runs out of dials no`);
    console.log("further step starts, as the engine does. The program's own time is not included. \"Dropped (client)\" counts the");
    console.log("dials ssh saw closed before authentication; \"logged by sshd\" counts sshd's own 'past MaxStartups' lines.");
    console.log("Each dial here is an OpenSSH client offering the provider's algorithms (bench/ssh-client.ts). Every step's first client is");
    console.log("started before the clock and dials when its step may: the first wave (every step that waits for nothing, up to");
    console.log("--parallel) together once all wait, as the provider's in-process dials do, every other step once its dependencies are");
    console.log("done and it has a slot. A retry after a dropped dial starts a client on the clock, and this process is blocked while");
    console.log("one starts: the last column but one is that local cost, which the provider does not have.");
    console.log("");
    console.log(rowTable(samples));
    if (args.json) {
        fs.writeFileSync(args.json, JSON.stringify({ machine, uptimeStart, uptimeEnd, samples }, null, 2));
    }
}

if (require.main === module) runBench(main);
