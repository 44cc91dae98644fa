// SystemdService config files, reload, ordering and types on a real booted host: files bound read-only from hearth's
// tree (the packaged /etc untouched), a missing target refused before anything is written (systemd 252 would create
// it in the host's tree), one restart per changed file or a reload with execReload, RequiresMountsFor on a dependency's
// mount, notify and oneshot services, a re-run that runs nothing, stale files, a renamed unit's tree and a delete
// removed by mark, and planted links never followed.
import { strict as assert } from "assert";
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { SystemdService } from "../../components/systemd";
import { HEARTH_ETC as ETC } from "../../components/systemd/model";
import { describeHost, startHost, TestHost } from "./harness";
import { mustExec } from "./crash";
import { ProgramRunner, registeredCommands, RemoteCommandError } from "./runner";

const APP = "/etc/hearthdemo/app.conf";
const EXTRA = "/etc/hearthdemo/extra.conf";
const PACKAGED = "packaged = yes\n";

interface Version {
    app: string;
    rel: string;
    /** Drop extra.conf from cfg. */
    dropExtra?: boolean;
    /** cfg's unit name (a rename within the resource). */
    cfgUnit?: string;
    /** rel's environment: a change of its unit file. */
    relEnv?: string;
    /** The content of the host file rel watches (written on the host as a HostFile would; its hash is rel's hearth-uses). */
    watched?: string;
}

/** Prints its config files (joined by " | ") at start and on SIGHUP; never exits. */
const WATCHED = "/etc/hearthdemo/watched.conf";
const reader = (tag: string, files = [APP]) => ["/usr/bin/python3", "-c",
    `import signal,time; show=lambda t: print('${tag}', t, ' | '.join(open(f).read().strip() for f in ${JSON.stringify(files)}), flush=True); signal.signal(signal.SIGHUP, lambda *a: show('hup')); show('start'); [time.sleep(3600) for _ in iter(int, 1)]`];

describeHost("SystemdService config files and ordering on a real host", function () {
    this.timeout(600_000);
    let h: TestHost;
    const runner = new ProgramRunner();
    const sh = (cmd: string): Promise<string> => mustExec(h, cmd);
    const t0 = Date.now();

    function program(v: Version): () => void {
        return () => {
            const host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey });
            new SystemdService("cfg", {
                host,
                ...(v.cfgUnit ? { unitName: v.cfgUnit } : {}),
                description: "Reads its config file",
                execStart: reader("cfg"),
                files: [{ target: APP, content: v.app }, ...(v.dropExtra ? [] : [{ target: EXTRA, content: "extra = 1\n", mode: "0600" }])],
                memoryMaxMiB: 64,
            });
            new SystemdService("rel", {
                host,
                description: "Reloads on SIGHUP",
                execStart: reader("rel", [APP, WATCHED]),
                after: [{ dependency: { label: "HostFile 'watched'", host, units: [], mounts: [], files: [WATCHED], contentHash: pulumi.output(createHash("sha256").update(v.watched ?? "w1\n").digest("hex")), resources: [] } }],
                execReload: ["/bin/sh", "-c", "kill -HUP \"$MAINPID\""],
                environment: { VERSION: v.relEnv ?? "1" },
                files: [{ target: APP, content: v.rel }],
                memoryMaxMiB: 64,
            });
            // A dataset-like dependency: a mount that must be there before the service starts.
            const disk = { dependency: { label: "ZfsDataset 'x'", host, units: [], mounts: ["/srv/x"], files: [], resources: [] } };
            new SystemdService("mnt", {
                host,
                description: "Tells systemd it is ready",
                type: "notify",
                requires: [disk],
                execStart: ["/usr/bin/python3", "-c",
                    "import os,socket,time; a=os.environ['NOTIFY_SOCKET']; a=chr(0)+a[1:] if a[0]=='@' else a; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.connect(a); s.send(b'READY=1'); time.sleep(1e9)"],
                memoryMaxMiB: 64,
            });
            new SystemdService("once", { host, description: "Runs once", type: "oneshot", execStart: ["/bin/true"] });
        };
    }
    const v1: Version = { app: "app = one\n", rel: "rel = one\n" };

    const show = async (unit: string, prop: string) => (await sh(`systemctl show -p ${prop} --value ${unit}`)).trim();
    const invocation = (unit: string) => show(unit, "InvocationID");
    const journal = async (unit: string, invocationId: string) => sh(`journalctl -o cat --no-pager _SYSTEMD_INVOCATION_ID=${invocationId} _SYSTEMD_UNIT=${unit} || true`);
    const waitFor = async (what: string, probe: () => Promise<boolean>) => {
        for (let i = 0; i < 50; i++) {
            if (await probe()) return;
            await new Promise((r) => setTimeout(r, 100));
        }
        assert.fail(`timed out waiting for ${what}:\n${await sh("journalctl --no-pager -n 30 -u cfg.service -u rel.service || true")}`);
    };
    /** Every converge command run as the runner stored it, counting its steps: no step = it changed nothing. */
    async function directRuns(v: Version): Promise<string[]> {
        const out: string[] = [];
        for (const c of (await registeredCommands(program(v))).filter((c) => c.name.endsWith("-converge"))) {
            const r = await h.exec(`HEARTH_CRASH_AT=1 ${c.inputs.create}`, { stdin: c.inputs.stdin });
            out.push(`${c.name} exit=${r.code} ${/hearth-crash/.test(r.stderr) ? "changed" : "unchanged"} ${r.stdout.trim()}`.trim());
        }
        return out;
    }

    before(async () => {
        h = await startHost({ name: "sdfiles" });
        await sh("systemctl is-system-running --wait || true");
        await sh([
            `mkdir -p /etc/hearthdemo && printf '${PACKAGED}' > ${APP} && printf 'packaged extra\\n' > ${EXTRA} && printf 'w1\\n' > ${WATCHED}`,
            "mkdir -p /srv/x && printf '[Mount]\\nWhat=tmpfs\\nWhere=/srv/x\\nType=tmpfs\\n' > /etc/systemd/system/srv-x.mount",
            "printf 'root only\\n' > /root/secret && chmod 0600 /root/secret",
            "systemctl daemon-reload",
        ].join(" && "));
        assert.equal((await sh("systemctl is-active srv-x.mount || true")).trim(), "inactive");
    });
    after(async () => {
        process.stderr.write(`systemd-files: ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
        await h?.stop();
    });
    const packagedFacts = () => sh(`stat -c '%n %a %U %s' ${APP} ${EXTRA} /root/secret; sha256sum ${APP} ${EXTRA} /root/secret`);
    let packaged = "";

    it("systemd 252 creates a missing bind target (and its directories) in the host's own tree, so hearth refuses one before writing anything", async () => {
        await sh([
            "printf hi > /run/probe-src",
            "printf '[Service]\\nDynamicUser=yes\\nProtectSystem=strict\\nBindReadOnlyPaths=/run/probe-src:/etc/probe-missing/sub/x.conf\\nExecStart=/bin/cat /etc/probe-missing/sub/x.conf\\nType=oneshot\\n' > /run/systemd/system/probe.service",
            "systemctl daemon-reload && systemctl start probe.service",
        ].join(" && "));
        assert.equal((await sh("stat -c '%F' /etc/probe-missing/sub/x.conf")).trim(), "regular empty file", "systemd left no empty file in the host's /etc");
        await sh("rm -rf /etc/probe-missing /run/systemd/system/probe.service /run/probe-src && systemctl daemon-reload");

        const miss = new ProgramRunner();
        await assert.rejects(miss.up(() => {
            const host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey });
            new SystemdService("miss", { host, description: "x", execStart: ["/bin/sleep", "infinity"], files: [{ target: "/etc/hearth-missing/new.conf", content: "x\n" }] });
        }), (e: unknown) => {
            assert.ok(e instanceof RemoteCommandError, String(e));
            assert.match(e.message, /files\[0\]\.target \/etc\/hearth-missing\/new\.conf is not an existing file on the host/);
            return true;
        });
        assert.equal(await sh(`ls -d /etc/hearth-missing /etc/systemd/system/miss.service ${ETC}/miss.service 2>/dev/null || true`), "", "the refused run wrote something");
    });

    it("binds each file read-only at its target inside the service, with its mode; the packaged /etc is untouched", async () => {
        packaged = await packagedFacts();
        const up = await runner.up(program(v1));
        assert.equal(up.created.filter((n) => n.endsWith("-converge")).length, 4, up.created.join(", "));
        assert.equal(await sh("systemctl is-active cfg.service rel.service mnt.service once.service"), "active\n".repeat(4));
        const pid = await show("cfg.service", "MainPID");
        await waitFor("cfg's first line", async () => /cfg start app = one/.test(await journal("cfg.service", await invocation("cfg.service"))));
        // Inside: hearth's content, mode and owner; a write fails even as root. Outside: the packaged files as they were.
        assert.equal(await sh(`nsenter -t ${pid} -m -- cat ${APP}`), "app = one\n");
        assert.equal(await sh(`nsenter -t ${pid} -m -- stat -c '%a %U' ${APP} ${EXTRA}`), "644 root\n600 root\n");
        const write = await h.exec(`nsenter -t ${pid} -m -- sh -c 'echo x > ${APP}'`);
        assert.match(write.stderr, /Read-only file system/);
        assert.equal(await packagedFacts(), packaged);
        assert.equal(await sh(`cat ${ETC}/cfg.service/etc/hearthdemo/app.conf; stat -c '%a %U' ${ETC}/cfg.service/etc/hearthdemo/extra.conf ${ETC}/cfg.service/.hearth-owner`), "app = one\n600 root\n644 root\n");
        assert.match(await sh(`systemctl show -p BindReadOnlyPaths cfg.service`), new RegExp(`${ETC}/cfg\\.service/etc/hearthdemo/app\\.conf:${APP}`));
    });

    it("orders a service after its dependency's mount (RequiresMountsFor); notify and oneshot services come up as their types say", async () => {
        assert.match(await show("mnt.service", "RequiresMountsFor"), /(^| )\/srv\/x( |$)/);
        assert.match(await show("mnt.service", "Requires"), /(^| )srv-x\.mount( |$)/);
        assert.match(await show("mnt.service", "After"), /(^| )srv-x\.mount( |$)/);
        assert.equal((await sh("systemctl is-active srv-x.mount")).trim(), "active");
        const mounted = Number(await show("srv-x.mount", "ActiveEnterTimestampMonotonic"));
        const started = Number(await show("mnt.service", "ExecMainStartTimestampMonotonic"));
        assert.ok(mounted > 0 && mounted <= started, `mount active at ${mounted}, service started at ${started}`);
        assert.equal((await sh(`nsenter -t ${await show("mnt.service", "MainPID")} -m -- findmnt -n -o FSTYPE /srv/x`)).trim(), "tmpfs");
        assert.equal(await show("mnt.service", "Type"), "notify");
        assert.equal(await show("mnt.service", "SubState"), "running");
        assert.equal(await sh("systemctl show -p Type -p RemainAfterExit -p SubState -p ActiveState once.service"), "Type=oneshot\nRemainAfterExit=yes\nActiveState=active\nSubState=exited\n");
    });

    it("a re-run runs no remote command, and each converge script run directly changes nothing", async () => {
        const ids = await Promise.all(["cfg", "rel", "mnt", "once"].map((u) => invocation(`${u}.service`)));
        assert.deepEqual((await runner.up(program(v1))).runs.map((r) => r.resource), []);
        const direct = await directRuns(v1);
        assert.deepEqual(direct.sort(), ["cfg-converge exit=0 unchanged", "mnt-converge exit=0 unchanged", "once-converge exit=0 unchanged", "rel-converge exit=0 unchanged"]);
        assert.deepEqual(await Promise.all(["cfg", "rel", "mnt", "once"].map((u) => invocation(`${u}.service`))), ids);
    });

    it("a changed file restarts its service once, or reloads it with execReload (same process, new content); a changed watched file reloads it; a changed unit restarts", async () => {
        const before = { cfg: await invocation("cfg.service"), rel: await invocation("rel.service"), mnt: await invocation("mnt.service") };
        const relPid0 = await show("rel.service", "MainPID");
        const up = await runner.up(program({ ...v1, app: "app = two\n", rel: "rel = two\n" }));
        assert.deepEqual(up.updated.sort(), ["cfg-converge", "rel-converge"]);
        const cfg = await invocation("cfg.service");
        assert.notEqual(cfg, before.cfg, "cfg.service was not restarted");
        await waitFor("cfg's new start", async () => / start /.test(await journal("cfg.service", cfg)));
        assert.equal((await journal("cfg.service", cfg)).match(/ start /g)?.length, 1, "cfg.service started more than once");
        assert.equal(await show("cfg.service", "NRestarts"), "0");
        assert.match(await journal("cfg.service", cfg), /cfg start app = two/);
        // rel declares execReload: its bound file was rewritten in place, the same process reads the new content.
        assert.equal(await invocation("rel.service"), before.rel, "rel was restarted, not reloaded");
        assert.equal(await show("rel.service", "MainPID"), relPid0);
        await waitFor("rel's reload line with the new file", async () => /rel hup rel = two \| w1/.test(await journal("rel.service", before.rel)));
        assert.equal(await invocation("mnt.service"), before.mnt);

        // The watched host file changes (as a HostFile would write it): a reload, the same invocation and process.
        const rel = await invocation("rel.service");
        const relPid = await show("rel.service", "MainPID");
        await sh(`printf 'w2\\n' > ${WATCHED}.new && mv ${WATCHED}.new ${WATCHED}`);
        const v2: Version = { ...v1, app: "app = two\n", rel: "rel = two\n", watched: "w2\n" };
        assert.deepEqual((await runner.up(program(v2))).updated, ["rel-converge"]);
        assert.equal(await invocation("rel.service"), rel, "rel was restarted");
        assert.equal(await show("rel.service", "MainPID"), relPid);
        await waitFor("rel's reload line", async () => /rel hup rel = two \| w2/.test(await journal("rel.service", rel)));

        // The unit itself changed (its environment): a restart, though it declares execReload.
        assert.deepEqual((await runner.up(program({ ...v2, relEnv: "2" }))).updated, ["rel-converge"]);
        const rel2 = await invocation("rel.service");
        assert.notEqual(rel2, rel, "a changed unit did not restart rel");
        await waitFor("rel's new start", async () => /rel start rel = two \| w2/.test(await journal("rel.service", rel2)));
        assert.doesNotMatch(await journal("rel.service", rel2), /hup/);
    });

    it("drops a file no longer declared, never following a link planted in the tree; a rename removes the old tree; a delete removes tree and unit", async () => {
        const v2: Version = { ...v1, app: "app = two\n", rel: "rel = two\n", watched: "w2\n", relEnv: "2" };
        const tree = `${ETC}/cfg.service`;
        // Planted: a link beside the files and a link in place of a declared file, both at a root-only file elsewhere.
        await sh(`ln -s /root/secret ${tree}/etc/hearthdemo/planted && rm ${tree}/etc/hearthdemo/app.conf && ln -s /root/secret ${tree}/etc/hearthdemo/app.conf`);
        const up = await runner.up(program({ ...v2, app: "app = three\n", dropExtra: true }));
        assert.deepEqual(up.updated.filter((n) => n.endsWith("-converge")), ["cfg-converge"]);
        assert.equal(await sh(`cd ${tree} && find . | LC_ALL=C sort`), ".\n./.hearth-owner\n./etc\n./etc/hearthdemo\n./etc/hearthdemo/app.conf\n");
        assert.equal(await sh(`stat -c '%F' ${tree}/etc/hearthdemo/app.conf; cat ${tree}/etc/hearthdemo/app.conf`), "regular file\napp = three\n");
        assert.equal(await packagedFacts(), packaged, "a planted link was followed, or the packaged tree changed");

        const renamed = await runner.up(program({ ...v2, app: "app = three\n", dropExtra: true, cfgUnit: "cfg-renamed" }));
        assert.deepEqual(renamed.updated.filter((n) => n.endsWith("-converge")), ["cfg-converge"]);
        assert.equal(await sh(`ls -d ${tree} /etc/systemd/system/cfg.service 2>/dev/null || true`), "");
        assert.equal(await sh(`cat ${ETC}/cfg-renamed.service/etc/hearthdemo/app.conf`), "app = three\n");
        assert.equal((await sh("systemctl is-active cfg-renamed.service")).trim(), "active");
        assert.equal(await sh("ls /var/lib/hearth/applied/systemd-trees 2>/dev/null || true"), "", "a tombstone outlived its tree");

        await runner.destroy();
        assert.equal(await sh(`find ${ETC} -mindepth 1; ls /etc/systemd/system | grep -E '^(cfg|cfg-renamed|rel|mnt|once)\\.service$' || true`), "");
        assert.equal(await packagedFacts(), packaged);
    });
});
