// Crash points for SystemdService config files on a real host: the converge from nothing with files, a changed file
// (with and without execReload), a dropped file, a renamed unit and the delete, killed after every runtime step (and
// once with stdout closed), re-run unchanged, and compared with a clean run: hearth's tree, the unit files, recorded
// state (tombstones included), the units, and what the RUNNING process sees at its config file's target.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { SystemdService } from "../../components/systemd";
import { HEARTH_ETC as ETC } from "../../components/systemd/model";
import { describeHost, startHost, TestHost } from "./harness";
import { CrashRun, crashPoints, fileFacts, mustExec, runAll, serviceRuns, unitFacts } from "./crash";
import { registeredCommands } from "./runner";

const APP = "/etc/crashf/app.conf";
const EXTRA = "/etc/crashf/extra.conf";
const RENAMED = "crashf-renamed.service";

interface Shape {
    app: string;
    extra?: boolean;
    reload?: boolean;
    unitName?: string;
}

describeHost("SystemdService config files: crash points", function () {
    this.timeout(1_800_000);
    let h: TestHost;
    const sh = (cmd: string): Promise<string> => mustExec(h, cmd);
    const t0 = Date.now();

    async function commands(v: Shape): Promise<{ converge: CrashRun; del: CrashRun }> {
        const cmds = await registeredCommands(() => {
            const host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey });
            new SystemdService("crashf", {
                host,
                ...(v.unitName ? { unitName: v.unitName } : {}),
                description: "Crash-point subject with config files",
                // A SIGHUP (the reload) is handled: the process lives on and reads its file again.
                execStart: ["/usr/bin/python3", "-c", "import signal,time; signal.signal(signal.SIGHUP, lambda *a: None); time.sleep(1e9)"],
                ...(v.reload ? { execReload: ["/bin/sh", "-c", "kill -HUP \"$MAINPID\""] } : {}),
                files: [{ target: APP, content: v.app }, ...(v.extra === false ? [] : [{ target: EXTRA, content: "extra\n", mode: "0600" }])],
                memoryMaxMiB: 64,
            });
        });
        return serviceRuns(cmds, "crashf");
    }

    const runClean = (...runs: CrashRun[]) => runAll(h, runs);
    /** Nothing of the resource on the host, under either unit name. */
    const wipe = async () => runClean((await commands({ app: "x", unitName: RENAMED })).del, (await commands({ app: "x" })).del);

    const units = ["crashf.service", RENAMED];
    const fingerprint = async () => [
        ...(await fileFacts(h, [...units.map((u) => `/etc/systemd/system/${u}`), APP, EXTRA, "/root/secret"], {
            trees: [ETC, "/var/lib/hearth/applied/systemd", "/var/lib/hearth/applied/systemd-trees", "/etc/systemd/system/multi-user.target.wants"],
        })),
        JSON.stringify(await unitFacts(h, units)),
        await sh(units.map((u) => [
            `pid=$(systemctl show -p MainPID --value ${u}); systemctl show -p NRestarts ${u}`,
            `if [ "$pid" != 0 ]; then nsenter -t "$pid" -m -- cat ${APP}; nsenter -t "$pid" -m -- stat -c '%a %U' ${EXTRA}; else echo stopped; fi`,
        ].join("\n")).join("\n")),
    ];

    before(async () => {
        h = await startHost({ name: "sdfcrash" });
        await sh(`mkdir -p /etc/crashf && printf 'packaged\\n' > ${APP} && printf 'packaged extra\\n' > ${EXTRA} && printf 'root only\\n' > /root/secret && chmod 0600 /root/secret`);
    });
    after(async () => {
        process.stderr.write(`crash-systemd-files: ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
        await h?.stop();
    });

    const v1: Shape = { app: "app = 1\n" };
    const cases: [string, () => Promise<{ from: CrashRun[]; run: CrashRun; min: number; expect: RegExp[] }>][] = [
        ["converge from nothing with files", async () => ({ from: [], run: (await commands(v1)).converge, min: 8, expect: [/^app = 1$/m, /^600 root$/m] })],
        ["converge changing a file", async () => ({ from: [(await commands(v1)).converge], run: (await commands({ app: "app = 2\n" })).converge, min: 2, expect: [/^app = 2$/m] })],
        ["converge changing a file with execReload", async () => ({
            from: [(await commands({ ...v1, reload: true })).converge],
            run: (await commands({ app: "app = 2\n", reload: true })).converge,
            min: 2,
            // The running process sees the new file: it was rewritten in place (the bind holds its inode), then reloaded.
            expect: [/^app = 2$/m],
        })],
        ["converge dropping a file", async () => ({
            from: [(await commands(v1)).converge],
            run: (await commands({ ...v1, extra: false })).converge,
            min: 2,
            expect: [new RegExp(`^${ETC}/crashf\\.service/etc/crashf/app\\.conf\\t`, "m"), /^app = 1$/m],
        })],
        ["rename", async () => ({
            from: [(await commands(v1)).converge],
            run: (await commands({ ...v1, unitName: RENAMED })).converge,
            min: 8,
            expect: [new RegExp(`^${ETC}/crashf-renamed\\.service/\\.hearth-owner\\t`, "m"), /^\/etc\/systemd\/system\/crashf\.service\tabsent$/m],
        })],
        ["delete", async () => {
            const c = await commands(v1);
            return { from: [c.converge], run: c.del, min: 6, expect: [/^\/etc\/systemd\/system\/crashf\.service\tabsent$/m] };
        }],
    ];
    for (const [name, make] of cases) {
        it(`${name}: every kill point finishes on the re-run`, async () => {
            const c = await make();
            const before = (await fileFacts(h, [APP, EXTRA, "/root/secret"])).join("\n");
            const report = await crashPoints(h, { name, reset: async () => { await wipe(); await runClean(...c.from); }, run: c.run, fingerprint });
            assert.ok(report.points >= c.min, `${name}: only ${report.points} kill points`);
            process.stderr.write(`crash-systemd-files: ${name}: ${report.points} points in ${report.seconds.toFixed(0)} s\n`);
            const fp = (await fingerprint()).join("\n");
            for (const e of c.expect) assert.match(fp, e);
            // No tombstone, temp file or other tree is left; the packaged files and the root-only file never change.
            assert.doesNotMatch(fp, /applied\/systemd-trees\//);
            assert.equal((await fileFacts(h, [APP, EXTRA, "/root/secret"])).join("\n"), before);
            assert.equal(await sh(`find ${ETC} /etc/systemd/system /var/lib/hearth/applied -name '.hearth.*' 2>/dev/null || true`), "", "temp files left behind");
            assert.equal(await sh(`find ${ETC} -mindepth 1 -maxdepth 1 | grep -v -E '/crashf(-renamed)?\\.service$' || true`), "");
        });
    }

    it("a rename killed after removing the old tree's mark but before its directory: the next run removes the directory", async () => {
        const from = (await commands(v1)).converge;
        const run = (await commands({ ...v1, unitName: RENAMED })).converge;
        const old = `${ETC}/crashf.service`;
        let found = 0;
        for (let k = 1; k < 200 && !found; k++) {
            await wipe();
            await runClean(from);
            const killed = await h.exec(`HEARTH_CRASH_AT=${k} ${run.command}`, { stdin: run.stdin });
            if (!/hearth-crash: step/.test(killed.stderr)) break;
            if ((await sh(`if [ -d ${old} ] && [ ! -e ${old}/.hearth-owner ]; then echo half; fi`)).trim() === "half") found = k;
        }
        assert.ok(found > 0, "no kill point left the old tree without its mark");
        assert.match(await sh("ls /var/lib/hearth/applied/systemd-trees"), /^[0-9a-f]{32}\n$/, "no tombstone for the half-removed tree");
        await runClean(run);
        assert.equal(await sh(`ls -d ${old} 2>/dev/null || true; ls /var/lib/hearth/applied/systemd-trees 2>/dev/null || true`), "");
        process.stderr.write(`crash-systemd-files: half-removed tree at kill point ${found}, finished by the re-run\n`);
    });
});
