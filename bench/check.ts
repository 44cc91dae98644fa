// `npm run bench:check`: hearth's drift check against `ansible-playbook --check` of the same playbook, side by side.
//
// Boots the converge benchmark's two test hosts, converges the same site on each (hearth on one, the playbook on the
// other, as bench:converge does), then times on the converged state: hearth's check as `npm run check` runs it (a
// fresh process evaluates the site offline, then one SSH session per host), and `ansible-playbook --check` with a
// cold connection. Then drifts both hosts by hand and runs each check once more, to show it was doing real work.
// Prints; asserts nothing.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { hostPreflight, liveAddresses, startHost, TestHost } from "../tests/host/harness";
import { runSsh, SshTarget } from "../tests/host/ssh";
import { AnsibleRun, AnsibleTarget, ansiblePreflight, ansibleVersion } from "./ansible";
import { applyPreflight, ConcurrentApplier } from "./apply";
import type { CheckInput, CheckOutput } from "./check-program";
import type { BenchSiteConfig } from "./check-site";
import { evaluate, jsonChild, ProgramInput } from "./converge-program";
import { canLogIn, hostState, prepareHost, runBench } from "./converge-hosts";
import { finishMachine, formatMachine, machineInfo, median, parseRepeatArgs, table } from "./machine";
import { serviceName } from "./site";

const SERVICES = 20;
/** The converge benchmark's project and stack: the converged record's key is derived from them. */
const PROJECT = "hearth";
const STACK = "bench";
/** The drift done by hand on both hosts after the timed samples. */
const STOPPED = serviceName(3);
const EDITED = serviceName(5);

const USAGE = `usage: npm run bench:check [-- --repeat N] [--json FILE]
  --repeat N   timed samples of each check on the converged hosts (default 3; medians are printed)
  --json FILE  also write every sample as JSON`;

function log(line: string): void {
    process.stderr.write(`bench:check: ${line}\n`);
}

/**
 * The floor of one host's check: one login that runs `true`, with OpenSSH's defaults and the client started on the
 * clock, as `npm run check` starts the ssh on its PATH.
 */
async function oneLogin(t: SshTarget): Promise<{ wallMs: number }> {
    const started = Date.now();
    const r = await runSsh(t, "true");
    if (r.code !== 0) throw new Error(`ssh true on ${t.address} exited ${r.code}: ${r.stderr}`);
    return { wallMs: Date.now() - started };
}

/** sshd's successful logins on a host so far (each one a TCP connection and an authentication). */
async function logins(h: TestHost): Promise<number | undefined> {
    const r = await h.exec("journalctl -q -o cat _COMM=sshd 2>/dev/null | grep -c '^Accepted publickey' || true");
    const n = Number(r.stdout.trim());
    return r.code === 0 && r.stdout.trim() !== "" && Number.isInteger(n) ? n : undefined;
}

interface HearthSample {
    readonly totalMs: number;
    readonly bootMs: number;
    readonly importMs: number;
    readonly evaluateMs: number;
    readonly remoteMs: number;
    /** One SSH session running `true` on the same host just before (login cost alone). */
    readonly floorMs: number;
    /** ssh processes the check started (the bench/ansible/bin wrapper counts them), per host checked. */
    readonly sshProcesses: number;
    readonly logins?: number;
    readonly output: CheckOutput;
}

interface AnsibleSample {
    readonly totalMs: number;
    readonly sshProcesses: number;
    readonly logins?: number;
    readonly recap: AnsibleRun["recap"];
    readonly skipped: number;
    /** Loop items and tasks that reported ok or changed: what --check actually compared. */
    readonly checked: number;
    readonly changedItems: string[];
}

/** hearth's side: the check exactly as `npm run check` does it, in a fresh process, on the hearth host. */
class HearthCheck {
    private readonly dir: string;
    private readonly sshLog: string;
    private readonly env: NodeJS.ProcessEnv;

    constructor(private readonly host: TestHost, scratch: string, site: BenchSiteConfig) {
        this.dir = fs.mkdtempSync(path.join(scratch, "site-"));
        // A site directory as a user's would be: the program, and the stack's config with the key as a secret.
        fs.writeFileSync(path.join(this.dir, "Pulumi.yaml"), `name: ${PROJECT}\nruntime: nodejs\nmain: ${path.join(__dirname, "check-site.ts")}\n`);
        const config = { config: { "hearth:benchSite": site, "hearth:sshPrivateKey": { secure: "v1:PLACEHOLDER:the hosts' SSH key" } } };
        fs.writeFileSync(path.join(this.dir, `Pulumi.${STACK}.yaml`), JSON.stringify(config, null, 2) + "\n");
        this.sshLog = path.join(this.dir, "ssh.log");
        // The check runs `ssh` from PATH: the same counting wrapper the Ansible side goes through.
        this.env = { ...process.env, PATH: `${path.join(__dirname, "ansible", "bin")}:${process.env.PATH ?? "/usr/bin:/bin"}`, HEARTH_BENCH_SSH_LOG: this.sshLog };
    }

    async run(): Promise<HearthSample> {
        const floor = await oneLogin(this.host.ssh);
        fs.writeFileSync(this.sshLog, "");
        const before = await logins(this.host);
        const input: CheckInput = { dir: this.dir, stack: STACK, identity: this.host.ssh.privateKeyPath, allowed: liveAddresses() };
        const { out, wallMs } = await jsonChild<CheckInput, CheckOutput>("check-program.ts", input, this.env);
        const after = await logins(this.host);
        const sshProcesses = fs.readFileSync(this.sshLog, "utf8").split("\n").filter(Boolean).length;
        return {
            totalMs: wallMs,
            bootMs: out.bootMs,
            importMs: out.importMs,
            evaluateMs: out.evaluateMs,
            remoteMs: out.remoteMs,
            floorMs: floor.wallMs,
            sshProcesses: sshProcesses / Math.max(1, out.reports.length),
            ...(before !== undefined && after !== undefined ? { logins: after - before } : {}),
            output: out,
        };
    }
}

/** Ansible's side: the same playbook with --check, a fresh control directory (cold connection) per run. */
class AnsibleCheck {
    private readonly bin: string;

    constructor(private readonly host: TestHost, private readonly scratch: string, private readonly vars: Record<string, unknown>) {
        // bench/ansible.ts runs `ansible-playbook` from PATH: a wrapper ahead of it adds --check and nothing else.
        const real = spawnSync("sh", ["-c", "command -v ansible-playbook"], { encoding: "utf8" }).stdout.trim();
        if (!real) throw new Error("ansible-playbook is not on PATH");
        this.bin = fs.mkdtempSync(path.join(scratch, "check-bin-"));
        fs.writeFileSync(path.join(this.bin, "ansible-playbook"), `#!/bin/sh\nexec '${real.replace(/'/g, "'\\''")}' --check "$@"\n`, { mode: 0o755 });
    }

    async run(): Promise<AnsibleSample> {
        const target = new AnsibleTarget(this.host, this.scratch);
        const path0 = process.env.PATH;
        const before = await logins(this.host);
        let r: AnsibleRun;
        try {
            process.env.PATH = `${this.bin}:${path0 ?? "/usr/bin:/bin"}`;
            r = await target.run(this.vars);
        } finally {
            process.env.PATH = path0;
            target.close();
        }
        const after = await logins(this.host);
        const skipped = Number(/^bench\s+:.*\bskipped=(\d+)/m.exec(r.stdout)?.[1] ?? NaN);
        const lines = r.stdout.split("\n");
        const checked = lines.filter((l) => /^(ok|changed): \[bench\]/.test(l)).length;
        const changedItems = lines.filter((l) => /^changed: \[bench\]/.test(l)).map((l) => l.replace(/^changed: \[bench\]( => )?/, "").trim() || "(task)");
        return {
            totalMs: r.wallMs,
            sshProcesses: r.remoteCommands,
            ...(before !== undefined && after !== undefined ? { logins: after - before } : {}),
            recap: r.recap,
            skipped,
            checked,
            changedItems,
        };
    }
}

/** Unit file contents without their comment lines (each tool's header, hearth's owner mark), hashed per unit. */
async function units(h: TestHost): Promise<string> {
    const r = await h.exec("cd /etc/systemd/system && for f in bench-app-*.service; do printf '%s %s\\n' \"$f\" \"$(grep -v '^#' \"$f\" | sha256sum | cut -c1-16)\"; done");
    if (r.code !== 0) throw new Error(`${h.name}: cannot list the units: ${r.stderr}`);
    return r.stdout;
}

/**
 * Throws unless both tools reached the same state: bench:converge's comparison (converge-hosts.ts) with the units
 * compared without their comment lines, since hearth's header grew an owner line.
 */
async function sameState(a: TestHost, b: TestHost, password: string): Promise<void> {
    const [sa, sb, ua, ub] = await Promise.all([hostState(a, SERVICES), hostState(b, SERVICES), units(a), units(b)]);
    const problems: string[] = [];
    if (ua !== ub) problems.push(`unit files differ:\n${a.name}:\n${ua}\n${b.name}:\n${ub}`);
    if (ua.split("\n").filter(Boolean).length !== SERVICES) problems.push(`${a.name} has ${ua.split("\n").filter(Boolean).length} units, not ${SERVICES}`);
    if (sa.datasets !== sb.datasets) problems.push(`dataset properties differ:\n${sa.datasets}\n${sb.datasets}`);
    for (const [h, st] of [[a, sa], [b, sb]] as const) if (st.deadPorts.length) problems.push(`${h.name}: no answer on ports ${st.deadPorts.join(", ")}`);
    for (const h of [a, b]) {
        const why = canLogIn(h, password);
        if (why) problems.push(why);
    }
    if (problems.length) throw new Error(`the two hosts did not converge to the same state:\n${problems.join("\n")}`);
}

async function sh(h: TestHost, command: string): Promise<void> {
    const r = await h.exec(command);
    if (r.code !== 0) throw new Error(`${h.name}: ${command}\nexit ${r.code}\n${r.stdout}${r.stderr}`);
}

const s = (ms: number) => (ms / 1000).toFixed(2);
const med = <T>(xs: readonly T[], f: (x: T) => number) => median(xs.map(f));
const optMed = <T>(xs: readonly T[], f: (x: T) => number | undefined) => {
    const v = xs.map(f);
    return v.some((x) => x === undefined) ? "n/a" : String(median(v as number[]));
};

function driftLines(o: CheckOutput): string[] {
    return o.reports.flatMap((r) => [
        ...(r.status === "error" ? [`${r.host}: cannot be checked: ${r.error}`] : []),
        ...r.resources.flatMap((x) => x.drift.map((d) => `${x.resource}: ${d.what}: desired ${d.desired}, found ${d.found}`)),
    ]);
}

async function main(): Promise<void> {
    const args = parseRepeatArgs(process.argv.slice(2), USAGE);
    const why = hostPreflight() ?? ansiblePreflight() ?? applyPreflight();
    if (why) throw new Error(`cannot run the check benchmark here: ${why}`);
    const machine = machineInfo();
    const uptimeStart = spawnSync("uptime", [], { encoding: "utf8" }).stdout.trim();
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-bench-check-"));
    const [hh, ah] = await Promise.all([startHost({ name: "bench-hearth" }), startHost({ name: "bench-ansible" })]);
    try {
        await Promise.all([prepareHost(hh), prepareHost(ah)]);
        const hearthClient = `10.231.${hh.index}.1/32`;
        const ansibleClient = `10.231.${ah.index}.1/32`;

        // Converge both hosts, as bench:converge's fresh phase does (not timed here).
        const programInput: ProgramInput = {
            hosts: [{ name: hh.name, address: hh.address, hostKey: hh.hostKey, privateKey: hh.privateKey }],
            services: SERVICES,
            dbClient: hearthClient,
        };
        const program = await evaluate(programInput);
        const applied = await new ConcurrentApplier(hh.ssh.privateKeyPath).apply(program.commands);
        log(`hearth converged ${hh.name} in ${s(applied.wallMs)} s (${applied.steps.length} steps)`);
        const vars = { db_client: ansibleClient, db_password: program.dbPassword };
        const converger = new AnsibleTarget(ah, scratch);
        try {
            const a = await converger.run(vars);
            log(`Ansible converged ${ah.name} in ${s(a.wallMs)} s (${a.recap.changed} changed)`);
        } finally {
            converger.close();
        }
        await sameState(hh, ah, program.dbPassword);

        const hearth = new HearthCheck(hh, scratch, {
            hosts: [{ name: hh.name, address: hh.address, hostKey: hh.hostKey }],
            services: SERVICES,
            dbClient: hearthClient,
        });
        const ansible = new AnsibleCheck(ah, scratch, vars);
        const hs: HearthSample[] = [];
        const as: AnsibleSample[] = [];
        for (let i = 0; i < args.repeat; i++) {
            hs.push(await hearth.run());
            as.push(await ansible.run());
            const h = hs.at(-1)!;
            const a = as.at(-1)!;
            log(`sample ${i + 1}: hearth ${s(h.totalMs)} s (evaluate ${s(h.evaluateMs)} s, remote ${s(h.remoteMs)} s, ${h.sshProcesses} ssh, exit ${h.output.exitCode}), ` +
                `Ansible --check ${s(a.totalMs)} s (${a.sshProcesses} ssh, ${a.recap.changed} would change)`);
        }

        // Drift by hand, the same on both hosts: a stopped service and a hand-edited unit file.
        const drift = `systemctl stop ${STOPPED}.service && echo '# edited by hand' >> /etc/systemd/system/${EDITED}.service`;
        await Promise.all([sh(hh, drift), sh(ah, drift)]);
        const hd = await hearth.run();
        const ad = await ansible.run();
        finishMachine(machine);
        const uptimeEnd = spawnSync("uptime", [], { encoding: "utf8" }).stdout.trim();

        const h0 = hs[0].output;
        const resources = h0.hosts.reduce((n, h) => n + h.resources, 0);
        const lines = h0.hosts.reduce((n, h) => n + h.lines, 0);
        const hTotal = med(hs, (x) => x.totalMs);
        const aTotal = med(as, (x) => x.totalMs);
        const ratio = aTotal / hTotal;
        const n = args.repeat > 1 ? ` (median of ${args.repeat})` : "";

        console.log(`## Drift check: hearth vs \`ansible-playbook --check\`, ${formatMachine(machine)}`);
        console.log("");
        console.log(`\`uptime\` at the start: ${uptimeStart}`);
        console.log(`\`uptime\` at the end: ${uptimeEnd}`);
        console.log("");
        console.log(`Desired state: the converge benchmark's site (${SERVICES} hardened SystemdServices, 2 ZfsDatasets, 1 PostgresDb with its role and pg_hba`);
        console.log(`entry), converged by hearth on one fresh test host and by the playbook on the other. hearth: \`npm run check\`'s steps in a fresh Node`);
        console.log("process (site evaluated offline, unknown outputs left unknown; then each host's checks in one SSH session). Ansible: the same");
        console.log(`playbook with --check, pipelining, no facts, a cold ControlPersist connection per run. ${ansibleVersion()}. ssh client options: both`);
        console.log("tools use OpenSSH's defaults, as `npm run check` dials with the ssh on its PATH (the converge benchmark's hearth side");
        console.log("instead offers what @pulumi/command's client offers, since `pulumi up` dials with that).");
        console.log("");
        console.log(table(
            ["", `hearth check${n}`, `Ansible --check${n}`],
            [
                ["total s", s(hTotal), s(aTotal)],
                ["  of which: node+tsx boot s", s(med(hs, (x) => x.bootMs)), ""],
                ["  of which: imports s", s(med(hs, (x) => x.importMs)), ""],
                ["  of which: program evaluation s", s(med(hs, (x) => x.evaluateMs)), ""],
                ["  of which: remote (SSH session) s", s(med(hs, (x) => x.remoteMs)), ""],
                ["    login floor: one session running `true` s", s(med(hs, (x) => x.floorMs)), ""],
                ["Ansible / hearth", `${ratio.toFixed(1)}× (target ≥ 10×: ${ratio >= 10 ? "met" : "NOT met"})`, ""],
                ["ssh processes (sessions) per host", optMed(hs, (x) => x.sshProcesses), optMed(as, (x) => x.sshProcesses)],
                ["sshd logins (TCP connections) per host", optMed(hs, (x) => x.logins), optMed(as, (x) => x.logins)],
                ["checked", `${resources} resources (${lines} check lines)`, `${as[0].checked} tasks/loop items ok or changed, ${as[0].skipped} tasks skipped by --check`],
                ["on the converged state", `exit ${h0.exitCode}, ${driftLines(h0).length} difference(s)`, `${as[0].recap.changed} would change`],
            ],
        ));
        console.log("");
        const allSessions = hs.map((x) => x.sshProcesses);
        console.log(`hearth SSH sessions per host in each sample: ${allSessions.join(", ")}${allSessions.every((x) => x === 1) ? " (one per host)" : " (NOT one per host)"}.`);
        if (h0.exitCode !== 0) console.log(`The converged host did not check clean:\n${driftLines(h0).map((l) => `  - ${l}`).join("\n")}`);
        console.log("");
        console.log(`After drifting both hosts by hand (\`systemctl stop ${STOPPED}\`, a line appended to ${EDITED}.service):`);
        console.log("");
        console.log(`- hearth check: ${s(hd.totalMs)} s, exit ${hd.output.exitCode}, ${driftLines(hd.output).length} difference(s):`);
        for (const l of driftLines(hd.output)) console.log(`  - ${l}`);
        console.log(`  stopped ${STOPPED} reported: ${driftLines(hd.output).some((l) => l.includes(STOPPED)) ? "yes" : "NO"}; edited ${EDITED}.service reported: ${driftLines(hd.output).some((l) => l.includes(EDITED)) ? "yes" : "NO"}.`);
        console.log(`- Ansible --check: ${s(ad.totalMs)} s, ${ad.recap.changed} task(s) would change (items: ${ad.changedItems.join(", ")}).`);
        if (args.json) {
            const strip = (x: HearthSample) => ({ ...x, output: { ...x.output, reports: x.output.reports.map((r) => ({ host: r.host, status: r.status, error: r.error, seconds: r.seconds, drift: r.resources.flatMap((y) => y.drift.map((d) => ({ resource: y.resource, ...d }))) })) } });
            fs.writeFileSync(args.json, JSON.stringify({ machine, uptimeStart, uptimeEnd, hearth: hs.map(strip), ansible: as, afterDrift: { hearth: strip(hd), ansible: ad } }, null, 2));
        }
    } finally {
        await Promise.allSettled([hh.stop(), ah.stop()]);
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

runBench(main);
