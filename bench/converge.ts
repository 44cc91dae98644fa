// `npm run bench:converge`: the same desired state applied by hearth's scripts and by an Ansible playbook, side by side.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { hostPreflight, startHost, TestHost } from "../tests/host/harness";
import { AnsibleRun, AnsibleTarget, ansiblePreflight, ansibleVersion } from "./ansible";
import { applyPreflight, ConcurrentApplier, loginFloor } from "./apply";
import { evaluate, ProgramInput } from "./converge-program";
import { checkEquivalent, prepareHost, runBench } from "./converge-hosts";
import { concurrencyLine, floorLines, FloorSamples, floorTable, HearthPhase, phaseTable, PhaseSamples, roundTripTable } from "./converge-report";
import { profileTable, RemoteProfile, remoteProfile } from "./converge-profile";
import { batchedFloor, oneChangeScript, serviceFilesTar, timedSession } from "./floor";
import { finishMachine, formatMachine, machineInfo, parseRepeatArgs } from "./machine";
import { BASE_MEMORY_MIB, serviceName, SiteChanges } from "./site";
import { negotiation, PROVIDER_CLIENT, providerAlgorithms } from "./ssh-client";

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
    /** The last phase run. */
    last?: HearthPhase;

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
        if (applied.steps.length) {
            const starts = applied.steps.map((st) => st.startMs);
            log(`${applied.prestarted} ssh clients started before the clock in ${(applied.prestartMs / 1000).toFixed(2)} s; ${applied.firstWave} let go together, ` +
                `dials started ${(Math.min(...starts) / 1000).toFixed(2)}–${(Math.max(...starts) / 1000).toFixed(2)} s, ${applied.steps.reduce((n, st) => n + st.dialRetries, 0)} dials retried`);
        }
        this.last = { programMs, importMs: program.importMs, planMs: program.planMs, remoteMs: applied.wallMs, startedAt: applied.startedAt, steps: applied.steps };
        return this.last;
    }
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
    const why = hostPreflight() ?? ansiblePreflight() ?? applyPreflight();
    if (why) throw new Error(`cannot run the converge benchmark here: ${why}`);
    const machine = machineInfo();
    const uptimeStart = uptime();
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-bench-"));
    // Three hosts from the same image, booted together: one for each tool, and one for the floor.
    const [hh, ah, fh] = await Promise.all([startHost({ name: "bench-hearth" }), startHost({ name: "bench-ansible" }), startHost({ name: "bench-floor" })]);
    let ansible: AnsibleTarget | undefined;
    try {
        await Promise.all([prepareHost(hh), prepareHost(ah), prepareHost(fh)]);
        const algorithms = providerAlgorithms();
        const negotiated = await negotiation(hh.ssh);
        log(`ssh client: ${algorithms.options.filter((o) => o !== "-o").join(" ")}; negotiated ${negotiated.kex}, ${negotiated.cipher}`);
        const hearth = new HearthSide(hh, `10.231.${hh.index}.1/32`);
        ansible = new AnsibleTarget(ah, scratch);
        const ansibleClient = `10.231.${ah.index}.1/32`;
        const phases: PhaseSamples[] = [];
        // `between` runs after hearth's sample and before Ansible's (the floor, measured beside hearth's fresh converge).
        const both = async (name: string, states: readonly SiteChanges[], between?: () => Promise<void>): Promise<PhaseSamples> => {
            const h: HearthPhase[] = [];
            const a: AnsibleRun[] = [];
            for (const changes of states) {
                h.push(await hearth.phase(changes));
                await between?.();
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
        let batched: { startedAt: number; wallMs: number; dialRetries: number } | undefined;
        const profiles: RemoteProfile[] = [];
        const fresh = await both("fresh converge", [base], async () => {
            const hp = hearth.last!;
            profiles.push(await remoteProfile(hh, "hearth fresh converge", hp.startedAt, hp.remoteMs, hp.steps));
            const tar = await serviceFilesTar(hh, SERVICES);
            batched = await batchedFloor(fh, tar, SERVICES, `10.231.${fh.index}.1/32`, hearth.dbPassword!);
            log(`floor: fully batched fresh converge in one session ${(batched.wallMs / 1000).toFixed(2)} s`);
            profiles.push(await remoteProfile(fh, "floor: one batched session", batched.startedAt, batched.wallMs,
                [{ resource: "the session", startMs: 0, endMs: batched.wallMs }]));
            // The floor counts only if it reached hearth's state.
            await checkEquivalent(hh, fh, SERVICES, hearth.dbPassword!);
        });
        const oneChangeMs: number[] = [];
        for (let i = 0; i < args.repeat; i++) {
            const [from, to] = i % 2 === 0 ? [BASE_MEMORY_MIB, 96] : [96, BASE_MEMORY_MIB];
            oneChangeMs.push((await timedSession(fh.ssh, oneChangeScript(serviceName(CHANGED), from, to))).wallMs);
        }
        const floor: FloorSamples = {
            batchedMs: batched!.wallMs, batchedRetries: batched!.dialRetries, oneChangeMs,
            trueOneMs: floorOne.wallMs, trueAllMs: floorAll.wallMs, trueAllRetries: floorAll.retries, sessions: SERVICES + 3,
        };
        await checkEquivalent(hh, ah, SERVICES, hearth.dbPassword!);
        const noop = await both("no-op re-run", Array.from({ length: args.repeat }, () => base));
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
        const uptimeEnd = uptime();

        console.log(`## Converge: hearth vs Ansible, ${formatMachine(machine)}`);
        console.log("");
        console.log(`\`uptime\` at the start: ${uptimeStart}`);
        console.log(`\`uptime\` at the end: ${uptimeEnd}`);
        console.log("");
        console.log(`Desired state: ${SERVICES} hardened SystemdServices (python3 http.server each), 2 ZfsDatasets (zfs-fuse), 1 PostgresDb with its role and`);
        console.log(`pg_hba entry; each tool on its own fresh test host booted from the same image in this run. Ansible: ${ansibleVersion()}, pipelining,`);
        console.log("no facts, ControlPersist. hearth: the program in a fresh Node process per phase (as `pulumi up` runs it; the Pulumi CLI's own");
        console.log("start-up is not included, it cannot be installed here), then its commands over SSH, concurrent as the engine runs them;");
        console.log("each step's ssh client is started before the clock and dials once its dependencies are done, as the provider's in-process");
        console.log("dials do (so the remote time holds no local process start-up; a retry after a dropped dial starts a client on the clock).");
        console.log(`hearth's SSH client offers what ${PROVIDER_CLIENT} offers, in its order, minus what the local OpenSSH lacks` +
            `${algorithms.dropped.length ? ` (${algorithms.dropped.join(", ")})` : ""}: negotiated ${negotiated.kex}, ${negotiated.hostKey}, ${negotiated.cipher}` +
            `${negotiated.mac === "<implicit>" ? "" : ` ${negotiated.mac}`} with the hosts' sshd; the Go client would pick ${negotiated.goWouldPick.kex}, ` +
            `${negotiated.goWouldPick.cipher}${sameChoice(negotiated) ? " (the same)" : " — NOT the same: the handshake cost differs from the provider's"}. ` +
            "Ansible uses OpenSSH's defaults over its one ControlPersist connection, as an Ansible user's would.");
        console.log("");
        console.log(phaseTable(phases));
        console.log("");
        console.log("hearth against the floor of this machine (same run) and against Ansible:");
        console.log("");
        const vsFloor = floorTable(fresh, noop, oneService, floor);
        console.log(vsFloor.table);
        console.log("");
        for (const l of [...floorLines(floor, SERVICES), concurrencyLine(fresh.hearth[0]), ...vsFloor.targets]) console.log(`- ${l}`);
        console.log("");
        console.log("Where the fresh remote time goes, from each host's journal over its own window:");
        console.log("");
        console.log(profileTable(profiles));
        console.log("");
        console.log("Remote round trips per hearth component (SSH sessions it opened):");
        console.log("");
        const noops = phases.filter((x) => x.name.startsWith("no-op")).flatMap((x) => x.hearth);
        console.log(roundTripTable(fresh.hearth[0], [...oneService.hearth, ...dataset.hearth, ...database.hearth], noops));
        if (args.json) fs.writeFileSync(args.json, JSON.stringify({ machine, uptimeStart, uptimeEnd, ssh: { algorithms, negotiated }, floor, profiles, phases: phases.map(strip) }, null, 2));
    } finally {
        ansible?.close();
        await Promise.allSettled([hh.stop(), ah.stop(), fh.stop()]);
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

function uptime(): string {
    return spawnSync("uptime", [], { encoding: "utf8" }).stdout.trim();
}

function sameChoice(n: { kex: string; cipher: string; mac: string; goWouldPick: { kex: string; cipher: string; mac: string } }): boolean {
    return n.kex === n.goWouldPick.kex && n.cipher === n.goWouldPick.cipher && n.mac === n.goWouldPick.mac;
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
