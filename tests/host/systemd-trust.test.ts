// SystemdService trust on a real host (issue 11): a converge killed after the unit file's rename (or with its stdout
// gone) still restarts on the re-run (finding 4), a credential rotation killed halfway is not lost, a unitName rename
// removes the old unit and its credentials (finding 9), web's clean-up never touches a service named web-proxy
// (finding 10), and unit files are owned per resource: another owner's file is refused at run time and left alone by
// a delete, a renamed resource takes over only with aliases (or adopt), and the mark of earlier releases is adopted.
import { strict as assert } from "assert";
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { ownerId } from "../../components/core/owner";
import { Host } from "../../components/host";
import { SystemdService, SystemdServiceArgs, SystemdServiceFields } from "../../components/systemd";
import { MANAGED_MARKER } from "../../components/systemd/model";
import { SERVICE_TYPE } from "../../components/tokens";
import { describeHost, startHost, TestHost } from "./harness";
import { CrashRun, mustExec } from "./crash";
import { ProgramRunner, registeredCommands, RemoteCommandError } from "./runner";
import { runSsh, SshResult } from "./ssh";

type Decl = { name: string; args: SystemdServiceFields; opts?: pulumi.ComponentResourceOptions };

const SLEEP = ["/usr/bin/python3", "-c", "import time; time.sleep(1e9)"];
const sha = (s: string) => createHash("sha256").update(s).digest("hex");
/** The mark a resource named `name` carries under the test runner's mocks (project hearth, stack test). */
const markOf = (name: string) => ownerId("hearth", "test", SERVICE_TYPE, name);

describeHost("SystemdService trust on a real host", function () {
    this.timeout(900_000);
    let h: TestHost;

    const sh = (cmd: string): Promise<string> => mustExec(h, cmd);
    const program = (decls: Decl[]) => () => {
        const host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey });
        for (const d of decls) new SystemdService(d.name, { host, ...d.args } as SystemdServiceArgs, d.opts);
    };
    /** Each declared resource's converge and delete, as registered. */
    async function commands(decls: Decl[]): Promise<Record<string, { converge: CrashRun; del: CrashRun }>> {
        const cmds = await registeredCommands(program(decls));
        const out: Record<string, { converge: CrashRun; del: CrashRun }> = {};
        for (const d of decls) {
            const c = cmds.find((x) => x.name === `${d.name}-converge`)!.inputs;
            out[d.name] = { converge: { command: c.create, stdin: c.stdin }, del: { command: cmds.find((x) => x.name === `${d.name}-converge-lifecycle`)!.inputs.delete } };
        }
        return out;
    }
    const run = (r: CrashRun, prefix = "", suffix = ""): Promise<SshResult> => runSsh(h.ssh, `${prefix}${r.command}${suffix}`, { stdin: r.stdin, timeoutMs: 120_000 });
    const ok = async (r: CrashRun): Promise<SshResult> => {
        const x = await run(r);
        assert.equal(x.code, 0, `${x.stdout}${x.stderr}`);
        return x;
    };
    /** What the running main process of UNIT was started with: its VERSION and the hash of its `token` credential. */
    const running = async (unit: string) => {
        const out = await sh([
            `pid=$(systemctl show -p MainPID --value ${unit})`,
            `if [ "$pid" = 0 ]; then echo stopped; exit 0; fi`,
            `tr '\\0' '\\n' < /proc/$pid/environ | sed -n 's/^VERSION=//p'`,
            `if [ -f /run/credentials/${unit}/token ]; then sha256sum < /run/credentials/${unit}/token | cut -c1-64; else echo none; fi`,
        ].join("\n"));
        const [version, token] = out.trim().split("\n");
        return { version, token };
    };
    const owner = async (file: string) => (await sh(`sed -n 's/^# hearth-owner: //p' ${file}`)).trim();
    const exists = async (p: string) => (await h.exec(`test -e ${p}`)).code === 0;

    before(async () => {
        h = await startHost({ name: "sdtrust" });
    });
    after(async () => { await h?.stop(); });

    describe("finding 4: a converge killed after the rename finishes on the re-run", () => {
        const app = (version: number, token: string): Decl[] => [{
            name: "app4",
            args: { description: "Versioned app", execStart: SLEEP, environment: { VERSION: String(version) }, credentials: { token: pulumi.secret(token) } },
        }];

        it("a kill right after the unit file's mv: the re-run restarts into the new version", async () => {
            await ok((await commands(app(1, "t1")))["app4"].converge);
            assert.deepEqual(await running("app4.service"), { version: "1", token: sha("t1") });
            const v2 = (await commands(app(2, "t1")))["app4"].converge;
            const killed = await run(v2, "HEARTH_CRASH_AT=1 ");
            assert.match(killed.stderr, /^hearth-crash: step 1$/m);
            assert.notEqual(killed.code, 0);
            // The new file is in place and the old version still runs: exactly the state finding 4 never left.
            assert.match(await sh("cat /etc/systemd/system/app4.service"), /^Environment="?VERSION=2"?$/m);
            assert.equal((await running("app4.service")).version, "1");
            await ok(v2);
            assert.deepEqual(await running("app4.service"), { version: "2", token: sha("t1") });
        });

        it("a run whose stdout is closed (the SSH reader gone, SIGPIPE): the re-run restarts into the new version", async () => {
            const v3 = (await commands(app(3, "t1")))["app4"].converge;
            await run(v3, "", " | true");
            assert.match(await sh("cat /etc/systemd/system/app4.service"), /^Environment="?VERSION=3"?$/m);
            assert.equal((await running("app4.service")).version, "2", "the closed stdout stopped the run before the restart");
            await ok(v3);
            assert.deepEqual(await running("app4.service"), { version: "3", token: sha("t1") });
        });

        it("a credential rotation killed right after the secret's mv is applied on the re-run", async () => {
            const rotated = (await commands(app(3, "t2")))["app4"].converge;
            const killed = await run(rotated, "HEARTH_CRASH_AT=1 ");
            assert.match(killed.stderr, /^hearth-crash: step 1$/m);
            assert.equal(await sh("sha256sum < /etc/credstore/app4.service/token | cut -c1-64"), `${sha("t2")}\n`);
            assert.equal((await running("app4.service")).token, sha("t1"), "the service still holds the old token");
            await ok(rotated);
            assert.deepEqual(await running("app4.service"), { version: "3", token: sha("t2") });
            // Converged: the next run restarts nothing.
            const pid = await sh("systemctl show -p MainPID --value app4.service");
            const again = await ok(rotated);
            assert.doesNotMatch(again.stdout, /hearth: (wrote|removed)/);
            assert.equal(await sh("systemctl show -p MainPID --value app4.service"), pid);
            await ok((await commands(app(3, "t2")))["app4"].del);
        });
    });

    it("finding 9: unitName api -> api2 stops and removes api.service, its credentials and its recorded state", async () => {
        const decl = (unitName: string): Decl[] => [{ name: "svc9", args: { unitName, description: "Renamed unit", execStart: SLEEP, credentials: { token: pulumi.secret("nine") } } }];
        await ok((await commands(decl("api")))["svc9"].converge);
        assert.equal((await h.exec("systemctl is-active api.service")).stdout.trim(), "active");
        const renamed = (await commands(decl("api2")))["svc9"];
        await ok(renamed.converge);
        assert.equal((await h.exec("systemctl is-active api2.service")).stdout.trim(), "active");
        assert.equal((await h.exec("systemctl is-active api.service")).stdout.trim(), "inactive");
        for (const p of ["/etc/systemd/system/api.service", "/etc/credstore/api.service", "/var/lib/hearth/applied/systemd/api.service", "/etc/systemd/system/multi-user.target.wants/api.service"]) {
            assert.equal(await exists(p), false, `${p} is left`);
        }
        assert.equal((await sh("systemctl show -p LoadState --value api.service")).trim(), "not-found");
        assert.equal(await owner("/etc/systemd/system/api2.service"), markOf("svc9"));
        await ok(renamed.del);
        assert.equal(await exists("/etc/systemd/system/api2.service"), false);
        assert.equal(await exists("/etc/credstore/api2.service"), false);
    });

    it("finding 10: web's converge and delete never touch a service named web-proxy", async () => {
        const decls: Decl[] = [
            { name: "web", args: { description: "Web", execStart: SLEEP } },
            { name: "web-proxy", args: { description: "A service that happens to be named web-proxy", execStart: SLEEP } },
        ];
        const c = await commands(decls);
        await ok(c["web-proxy"].converge);
        await ok(c["web"].converge);
        await ok(c["web"].converge);
        await ok(c["web"].del);
        assert.equal((await h.exec("systemctl is-active web-proxy.service")).stdout.trim(), "active");
        assert.equal((await h.exec("systemctl is-enabled web-proxy.service")).stdout.trim(), "enabled");
        assert.equal(await owner("/etc/systemd/system/web-proxy.service"), markOf("web-proxy"));
        await ok(c["web-proxy"].del);
    });

    describe("ownership per resource", () => {
        it("a unit file another resource owns is refused at run time, its delete touches nothing; adopt takes it over", async () => {
            const foreign = "other-project/prod/hearth:systemd:Service/taken";
            await sh([
                `printf '%s\\n' '# hearth-owner: ${foreign}' '[Service]' 'ExecStart=/bin/sleep infinity' '[Install]' 'WantedBy=multi-user.target' > /etc/systemd/system/taken.service`,
                "systemctl daemon-reload && systemctl enable --now taken.service",
            ].join("\n"));
            const before = await sh("sha256sum /etc/systemd/system/taken.service");
            const c = (await commands([{ name: "taken", args: { description: "Taker", execStart: SLEEP } }]))["taken"];
            const refused = await run(c.converge);
            assert.equal(refused.code, 65, `${refused.stdout}${refused.stderr}`);
            assert.match(refused.stderr, new RegExp(`taken\\.service is owned by another resource \\(${foreign.replace(/[.:/]/g, "\\$&")}\\), not by ${markOf("taken").replace(/[.:/]/g, "\\$&")}`));
            assert.match(refused.stderr, /add aliases: \[\{ name: "<old name>" \}\]/);
            const del = await ok(c.del);
            assert.match(del.stdout, /leaving \/etc\/systemd\/system\/taken\.service alone: it is owned by other-project/);
            assert.equal(await sh("sha256sum /etc/systemd/system/taken.service"), before);
            assert.equal((await h.exec("systemctl is-active taken.service")).stdout.trim(), "active");

            const adopt = (await commands([{ name: "taken", args: { description: "Taker", execStart: SLEEP, adopt: true } as Decl["args"] }]))["taken"];
            const took = await ok(adopt.converge);
            assert.match(took.stdout, /adopting \/etc\/systemd\/system\/taken\.service \(mark was 'other-project/);
            assert.equal(await owner("/etc/systemd/system/taken.service"), markOf("taken"));
            assert.match(await sh("systemctl show -p ExecStart --value taken.service"), /python3/);
            await ok(adopt.del);
            assert.equal(await exists("/etc/systemd/system/taken.service"), false);
        });

        it("a renamed resource without aliases is refused; with aliases it takes over and the old delete leaves the unit running", async () => {
            const runner = new ProgramRunner();
            const args = { unitName: "ren", description: "Renamed resource", execStart: SLEEP };
            await runner.up(program([{ name: "old1", args }]));
            await assert.rejects(runner.up(program([{ name: "new1", args }])), (e: unknown) => {
                assert.ok(e instanceof RemoteCommandError, String(e));
                assert.equal(e.run.resource, "new1-converge");
                assert.match(e.run.stderr, /is owned by another resource .*old1.*add aliases/);
                return true;
            });
            assert.equal(await owner("/etc/systemd/system/ren.service"), markOf("old1"));
            // This runner does not model aliases: it creates the new resource and deletes the old one, the harder case.
            const up = await runner.up(program([{ name: "new1", args, opts: { aliases: [{ name: "old1" }] } }]));
            assert.deepEqual([...up.deleted].sort(), ["old1-converge", "old1-converge-lifecycle"]);
            const old = up.runs.find((r) => r.resource.startsWith("old1") && r.op === "delete");
            assert.ok(old, "the old resource's delete ran");
            assert.match(old.stdout, /leaving \/etc\/systemd\/system\/ren\.service alone/);
            assert.equal(await owner("/etc/systemd/system/ren.service"), markOf("new1"));
            assert.equal((await h.exec("systemctl is-active ren.service")).stdout.trim(), "active");
            // The owner line is part of the file, so the take-over restarts the unit once; after that, nothing.
            const pid = await sh("systemctl show -p MainPID --value ren.service");
            assert.equal((await runner.rerunCreate()).length, 1);
            assert.equal(await sh("systemctl show -p MainPID --value ren.service"), pid, "converged: a re-run restarts nothing");
            await runner.destroy();
            assert.equal(await exists("/etc/systemd/system/ren.service"), false);
        });

        it("the mark of an earlier release is adopted and rewritten; a file with no mark is refused", async () => {
            await sh(`printf '%s\\n' '${MANAGED_MARKER}' '' '[Service]' 'ExecStart=/bin/sleep infinity' > /etc/systemd/system/legacy1.service && systemctl daemon-reload`);
            const c = (await commands([{ name: "legacy1", args: { description: "Legacy", execStart: SLEEP } }]))["legacy1"];
            const r = await ok(c.converge);
            assert.match(r.stdout, /taking over \/etc\/systemd\/system\/legacy1\.service from an earlier release of hearth/);
            assert.equal(await owner("/etc/systemd/system/legacy1.service"), markOf("legacy1"));
            assert.equal((await h.exec("systemctl is-active legacy1.service")).stdout.trim(), "active");
            await ok(c.del);

            await sh("printf '[Service]\\nExecStart=/bin/true\\n' > /etc/systemd/system/handmade.service");
            const hm = (await commands([{ name: "handmade", args: { description: "Handmade", execStart: SLEEP } }]))["handmade"];
            const refused = await run(hm.converge);
            assert.equal(refused.code, 65);
            assert.match(refused.stderr, /handmade\.service exists and is not managed by hearth; set adopt: true/);
            assert.equal(await sh("cat /etc/systemd/system/handmade.service"), "[Service]\nExecStart=/bin/true\n");
            await ok(hm.del);
            assert.equal(await exists("/etc/systemd/system/handmade.service"), true, "a delete leaves an unmarked file alone");
        });
    });
});
