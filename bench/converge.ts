// `npm run bench:converge`: the same desired state applied by hearth's scripts and by an Ansible playbook, side by side.
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { hostPreflight, startHost, TestHost } from "../tests/host/harness";
import { AnsibleRun, AnsibleTarget, ansiblePreflight, ansibleVersion } from "./ansible";
import { ConcurrentApplier, loginFloor } from "./apply";
import { ProgramInput, ProgramOutput } from "./converge-program";
import { checkEquivalent, prepareHost, runBench } from "./converge-hosts";
import { concurrencyLine, HearthPhase, phaseTable, PhaseSamples, roundTripTable } from "./converge-report";
import { finishMachine, formatMachine, machineInfo, parseRepeatArgs } from "./machine";
import { serviceName, SiteChanges } from "./site";

const SERVICES = 20;
const CHANGED = 7;

const USAGE = `usage: npm run bench:converge [-- --repeat N] [--json FILE]
  --repeat N   samples of the no-op and one-service-changed phases (default 3)
  --json FILE  also write every sample as JSON`;

/** hearth's side: each phase evaluates the program in a fresh process (as \`pulumi up\` does), then runs its steps. */
class HearthSide {
    private readonly applier: ConcurrentApplier;
    /** The database password the program generated; the playbook sets the same one. */
    dbPassword?: string;

    constructor(private readonly host: TestHost, private readonly dbClient: string) {
        this.applier = new ConcurrentApplier(host.ssh.privateKeyPath);
    }

    async phase(changes: SiteChanges): Promise<HearthPhase> {
        const input: ProgramInput = {
            hosts: [{ name: this.host.name, address: this.host.address, hostKey: this.host.hostKey, privateKey: this.host.privateKey }],
            services: SERVICES,
            dbClient: this.dbClient,
            changes,
        };
        const started = Date.now();
        const program = await evaluate(input);
        const programMs = Date.now() - started;
        this.dbPassword = program.dbPassword;
        const applied = await this.applier.apply(program.commands);
        return { programMs, importMs: program.importMs, planMs: program.planMs, remoteMs: applied.wallMs, steps: applied.steps };
    }
}

function evaluate(input: ProgramInput): Promise<ProgramOutput> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [...process.execArgv, path.join(__dirname, "converge-program.ts")], { stdio: ["pipe", "pipe", "pipe"] });
        const out: Buffer[] = [];
        let err = "";
        child.stdout.on("data", (b: Buffer) => out.push(b));
        child.stderr.on("data", (b: Buffer) => { err += b.toString("utf8"); });
        child.on("error", reject);
        child.on("close", (code) => {
            if (code !== 0) reject(new Error(`the program failed (exit ${code}):\n${err}`));
            else resolve(JSON.parse(Buffer.concat(out).toString("utf8")) as ProgramOutput);
        });
        // The key goes over the pipe, never argv or the environment.
        child.stdin.end(JSON.stringify(input));
    });
}

function ansibleVars(changes: SiteChanges, dbClient: string, dbPassword: string): Record<string, unknown> {
    return {
        db_client: dbClient,
        db_password: dbPassword,
        memory_overrides: Object.fromEntries(Object.entries(changes.memoryMiB ?? {}).map(([i, mib]) => [serviceName(Number(i)), mib])),
        ...(changes.datasetQuotaMiB !== undefined ? { dataset_quota_mib: changes.datasetQuotaMiB } : {}),
        ...(changes.connectionLimit !== undefined ? { db_connection_limit: changes.connectionLimit } : {}),
    };
}

function log(line: string): void {
    process.stderr.write(`bench:converge: ${line}\n`);
}

async function main(): Promise<void> {
    const args = parseRepeatArgs(process.argv.slice(2), USAGE);
    const why = hostPreflight() ?? ansiblePreflight();
    if (why) throw new Error(`cannot run the converge benchmark here: ${why}`);
    const machine = machineInfo();
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-bench-"));
    // Two hosts from the same image, booted together: one for each tool.
    const [hh, ah] = await Promise.all([startHost({ name: "bench-hearth" }), startHost({ name: "bench-ansible" })]);
    let ansible: AnsibleTarget | undefined;
    try {
        await Promise.all([prepareHost(hh), prepareHost(ah)]);
        const hearth = new HearthSide(hh, `10.231.${hh.index}.1/32`);
        ansible = new AnsibleTarget(ah, scratch);
        const ansibleClient = `10.231.${ah.index}.1/32`;
        const phases: PhaseSamples[] = [];
        const both = async (name: string, states: readonly SiteChanges[]): Promise<PhaseSamples> => {
            const h: HearthPhase[] = [];
            const a: AnsibleRun[] = [];
            for (const changes of states) {
                h.push(await hearth.phase(changes));
                a.push(await ansible!.run(ansibleVars(changes, ansibleClient, hearth.dbPassword!)));
                const hp = h.at(-1)!;
                log(`${name}: hearth ${((hp.programMs + hp.remoteMs) / 1000).toFixed(2)} s (program ${(hp.programMs / 1000).toFixed(2)} s, ` +
                    `remote ${(hp.remoteMs / 1000).toFixed(2)} s, ${hp.steps.length} SSH), ` +
                    `Ansible ${(a.at(-1)!.wallMs / 1000).toFixed(2)} s (${a.at(-1)!.remoteCommands} ssh/sftp, ${a.at(-1)!.recap.changed} changed)`);
            }
            const p = { name, hearth: h, ansible: a };
            phases.push(p);
            return p;
        };
        const base: SiteChanges = {};
        const bumped: SiteChanges = { memoryMiB: { [CHANGED]: 96 } };
        // Before anything converges: what opening as many sessions as the fresh converge does costs by itself.
        const floorOne = await loginFloor(hh.ssh, 1);
        const floorAll = await loginFloor(hh.ssh, SERVICES + 3);
        const fresh = await both("fresh converge", [base]);
        await checkEquivalent(hh, ah, SERVICES, hearth.dbPassword!);
        await both("no-op re-run", Array.from({ length: args.repeat }, () => base));
        const oneService = await both(`one service changed (${serviceName(CHANGED)} MemoryMax)`,
            Array.from({ length: args.repeat }, (_, i) => (i % 2 === 0 ? bumped : base)));
        const last: SiteChanges = args.repeat % 2 === 1 ? bumped : base;
        const dataset = await both("one dataset changed (quota)", [{ ...last, datasetQuotaMiB: 512 }]);
        const database = await both("database changed (connection limit)", [{ ...last, datasetQuotaMiB: 512, connectionLimit: 50 }]);
        await both("no-op after the changes", [{ ...last, datasetQuotaMiB: 512, connectionLimit: 50 }]);
        await checkEquivalent(hh, ah, SERVICES, hearth.dbPassword!);
        for (const p of phases.filter((x) => x.name.startsWith("no-op"))) {
            const changed = p.ansible.filter((a) => a.recap.changed > 0);
            if (changed.length) throw new Error(`the playbook is not idempotent: a no-op run changed ${changed[0].recap.changed} task(s)`);
        }
        finishMachine(machine);

        console.log(`## Converge: hearth vs Ansible, ${formatMachine(machine)}`);
        console.log("");
        console.log(`Desired state: ${SERVICES} hardened SystemdServices (python3 http.server each), 2 ZfsDatasets (zfs-fuse), 1 PostgresDb with its role and`);
        console.log(`pg_hba entry; each tool on its own fresh test host booted from the same image in this run. Ansible: ${ansibleVersion()}, pipelining,`);
        console.log("no facts, ControlPersist. hearth: the program in a fresh Node process per phase (as `pulumi up` runs it; the Pulumi CLI's own");
        console.log("start-up is not included, it cannot be installed here), then its commands over SSH, concurrent as the engine runs them.");
        console.log("");
        console.log(phaseTable(phases));
        console.log("");
        console.log(concurrencyLine(fresh.hearth[0]));
        console.log(`Connection floor on the same host: one SSH session running \`true\` ${(floorOne.wallMs / 1000).toFixed(2)} s; ` +
            `${SERVICES + 3} at once ${(floorAll.wallMs / 1000).toFixed(2)} s (${floorAll.retries} dials refused and retried).`);
        console.log("");
        console.log("Remote round trips per hearth component (SSH sessions it opened):");
        console.log("");
        const noops = phases.filter((x) => x.name.startsWith("no-op")).flatMap((x) => x.hearth);
        console.log(roundTripTable(fresh.hearth[0], [...oneService.hearth, ...dataset.hearth, ...database.hearth], noops));
        if (args.json) fs.writeFileSync(args.json, JSON.stringify({ machine, phases: phases.map(strip) }, null, 2));
    } finally {
        ansible?.close();
        await Promise.allSettled([hh.stop(), ah.stop()]);
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

/** Samples without command output (which can be long) for the JSON file. */
function strip(p: PhaseSamples): unknown {
    return {
        name: p.name,
        hearth: p.hearth.map((h) => ({ ...h, steps: h.steps.map((st) => ({ resource: st.resource, op: st.op, startMs: st.startMs, endMs: st.endMs, dialRetries: st.dialRetries })) })),
        ansible: p.ansible.map((a) => ({ wallMs: a.wallMs, remoteCommands: a.remoteCommands, recap: a.recap })),
    };
}

runBench(main);
