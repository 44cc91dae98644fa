// Crash points for SystemdService on a real host: the converge (fresh, and an update of a running service with a
// changed environment and a rotated credential) and the delete, killed after every runtime step (and once with stdout
// closed), re-run unchanged, and compared with a clean run, including what the RUNNING process was started with.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { SystemdService } from "../../components/systemd";
import { describeHost, startHost, TestHost } from "./harness";
import { CrashRun, crashPoints, fileFacts, unitFacts, mustExec, runAll, serviceRuns } from "./crash";
import { registeredCommands } from "./runner";

const UNIT = "crashy.service";

describeHost("SystemdService crash points", function () {
    this.timeout(1_800_000);
    let h: TestHost;
    const sh = (cmd: string): Promise<string> => mustExec(h, cmd);

    /** The converge and delete of the service at `version` (its environment and its credential both change with it). */
    async function commands(version: number): Promise<{ converge: CrashRun; del: CrashRun }> {
        const cmds = await registeredCommands(() => {
            const host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey });
            new SystemdService("crashy", {
                host,
                description: "Crash-point subject",
                execStart: ["/usr/bin/python3", "-c", "import time; time.sleep(1e9)"],
                environment: { VERSION: String(version) },
                credentials: { token: pulumi.secret(`token-v${version}`), other: pulumi.secret("unchanged") },
                memoryMaxMiB: 64,
            });
        });
        return serviceRuns(cmds, "crashy");
    }

    const runClean = (...runs: CrashRun[]) => runAll(h, runs);

    /** Files, units, recorded state, and what the running process was started with (environment and credential). */
    const fingerprint = async () => [
        ...(await fileFacts(h, [`/etc/systemd/system/${UNIT}`, `/etc/credstore/${UNIT}`], {
            trees: [`/etc/credstore/${UNIT}`, "/var/lib/hearth/applied/systemd", "/etc/systemd/system/multi-user.target.wants"],
        })),
        JSON.stringify(await unitFacts(h, [UNIT])),
        await sh([
            `pid=$(systemctl show -p MainPID --value ${UNIT})`,
            `if [ "$pid" != 0 ]; then tr '\\0' '\\n' < /proc/$pid/environ | grep '^VERSION='; sha256sum < /run/credentials/${UNIT}/token; else echo stopped; fi`,
        ].join("\n")),
    ];

    before(async () => {
        h = await startHost({ name: "sdcrash" });
    });
    after(async () => { await h?.stop(); });

    const cases: [string, () => Promise<{ from: CrashRun[]; run: CrashRun; min: number; running?: string }>][] = [
        ["converge on a fresh host", async () => ({ from: [(await commands(1)).del], run: (await commands(1)).converge, min: 5, running: "VERSION=1" })],
        ["converge of a running service with a changed environment and a rotated credential", async () => ({
            from: [(await commands(1)).converge],
            run: (await commands(2)).converge,
            min: 3,
            running: "VERSION=2",
        })],
        ["delete", async () => {
            const c = await commands(2);
            return { from: [c.converge], run: c.del, min: 4 };
        }],
    ];
    // A drop-in over Debian's running pgbouncer.service: try-restart applies it, proven by the running process's
    // NoNewPrivs flag (the packaged unit leaves it off, the drop-in turns it on).
    async function dropInCommands(memoryMaxMiB: number): Promise<{ converge: CrashRun; del: CrashRun }> {
        const cmds = await registeredCommands(() => {
            const host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey });
            new SystemdService("pgb", {
                host,
                dropIn: { unit: "pgbouncer.service" },
                network: "internet",
                readWritePaths: ["/var/log/postgresql", "/run/postgresql"],
                memoryMaxMiB,
            });
        });
        return serviceRuns(cmds, "pgb");
    }
    const DROP_IN = "/etc/systemd/system/pgbouncer.service.d/50-hearth.conf";
    const dropInFingerprint = async () => [
        ...(await fileFacts(h, [DROP_IN, "/etc/systemd/system/pgbouncer.service.d"], { trees: ["/var/lib/hearth/applied/systemd"] })),
        JSON.stringify(await unitFacts(h, ["pgbouncer.service"])),
        await sh([
            "systemctl show -p DropInPaths -p MemoryMax pgbouncer.service",
            "pid=$(systemctl show -p MainPID --value pgbouncer.service)",
            `if [ "$pid" != 0 ]; then grep '^NoNewPrivs:' /proc/$pid/status; else echo stopped; fi`,
        ].join("\n")),
    ];
    const dropInCases: [string, () => Promise<{ from: CrashRun[]; run: CrashRun; min: number; expect: RegExp[] }>][] = [
        ["drop-in converge over a running packaged unit", async () => ({
            from: [(await dropInCommands(64)).del, { command: "systemctl restart pgbouncer.service" }],
            run: (await dropInCommands(64)).converge,
            min: 3,
            expect: [/^NoNewPrivs:\s+1$/m, /^MemoryMax=67108864$/m, /DropInPaths=.*50-hearth\.conf/],
        })],
        ["drop-in delete", async () => ({
            from: [(await dropInCommands(64)).converge],
            run: (await dropInCommands(64)).del,
            min: 2,
            expect: [/^MemoryMax=infinity$/m, /^DropInPaths=$/m],
        })],
    ];
    for (const [name, make] of dropInCases) {
        it(`${name}: every kill point finishes on the re-run`, async () => {
            const c = await make();
            const report = await crashPoints(h, { name, reset: () => runClean(...c.from), run: c.run, fingerprint: dropInFingerprint });
            assert.ok(report.points >= c.min, `${name}: only ${report.points} kill points`);
            process.stderr.write(`crash-systemd: ${name}: ${report.points} points in ${report.seconds.toFixed(0)} s\n`);
            const fp = (await dropInFingerprint()).join("\n");
            for (const e of c.expect) assert.match(fp, e);
        });
    }

    for (const [name, make] of cases) {
        it(`${name}: every kill point finishes on the re-run`, async () => {
            const c = await make();
            const report = await crashPoints(h, { name, reset: () => runClean(...c.from), run: c.run, fingerprint });
            assert.ok(report.points >= c.min, `${name}: only ${report.points} kill points`);
            process.stderr.write(`crash-systemd: ${name}: ${report.points} points in ${report.seconds.toFixed(0)} s\n`);
            const fp = (await fingerprint()).join("\n");
            if (c.running) {
                // The reference itself is the new content, active: not a fingerprint that merely repeats an old state.
                assert.match(fp, new RegExp(`^${c.running}$`, "m"));
                assert.match(fp, /ActiveState=active/);
            } else {
                assert.match(fp, /\/etc\/systemd\/system\/crashy\.service\tabsent/);
                assert.match(fp, /LoadState=not-found/);
            }
            const leftovers = await h.exec("find /etc/systemd/system /etc/credstore /var/lib/hearth/applied -name '.hearth.*' 2>/dev/null");
            assert.equal(leftovers.stdout, "", "temp files left behind");
        });
    }
});
