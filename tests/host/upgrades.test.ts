// HostUpgrades on a real test host: unattended-upgrades installed and configured as declared (apt-config dump reads
// hearth's origins and no automatic reboot; `unattended-upgrade --dry-run` runs with them against the host's local apt
// repository), apt's timers enabled (a timer disabled by hand is drift, and enabled again by the next converge), the
// upgrade moved to the declared time, and the reboot window's job.
//
// The reboot is stubbed: on a test host a reboot ends the container (systemd-nspawn exits), and the spec would lose its
// host. The job's script and unit are exactly what production runs; the spec adds a runtime drop-in of its own
// (/run/systemd/system/hearth-reboot-window.service.d/) that bind-mounts, in that unit's mount namespace only, a
// recorder over /usr/bin/systemctl: `systemctl reboot` prints a line to the unit's journal and exits 0, every other call
// goes on to the real systemctl (a copy of it). So the decision (reboot required, inside the window, apt idle) and the
// request are the production path; only the effect of the request is not. The drop-in is the spec's, not hearth's (the
// drift check would report it: the spec removes it before checking).
//
// Windows are declared around the host's own clock: one that opened two minutes ago (inside), one that opened three
// hours ago (outside, as after a late Persistent trigger), each started by hand.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { HostUpgrades, HostUpgradesArgs, REBOOT_SCRIPT, REBOOT_UNIT, renderUpgrades, UPGRADE_DROPIN, UPGRADES_CONF, upgradesSpec } from "../../components/upgrades";
import { frameStdin, unwrapCommand, wrapCommand } from "../../components/core/shell";
import { checkHost, driftLines } from "./drift";
import { CrashRun, crashPoints, fileFacts, mustExec, unitFacts } from "./crash";
import { describeHost, startHost, TestHost } from "./harness";
import { ProgramRunner, registeredCommands } from "./runner";

const SERVICE = `${REBOOT_UNIT}.service`;
const STUB_DIR = "/usr/local/lib/hearth-test";
const STUB_DROPIN = `/run/systemd/system/${SERVICE}.d/50-test-reboot-stub.conf`;
const REQUESTED = /^hearth-test: reboot requested \(reboot\)$/gm;

describeHost("HostUpgrades on a real host", function () {
    this.timeout(900_000);
    let h: TestHost;
    const runner = new ProgramRunner();
    const sh = (cmd: string): Promise<string> => mustExec(h, cmd);

    const args = (window: string): Partial<HostUpgradesArgs> => ({
        extraOrigins: ["origin=Debian,codename=${distro_codename}-updates"],
        upgradeTime: { onCalendar: "*-*-* 05:30:00" },
        rebootWindow: { onCalendar: `*-*-* ${window}:00`, durationMinutes: 30 },
    });
    const program = (a: Partial<HostUpgradesArgs>) => () => {
        const host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey });
        new HostUpgrades("up", { host, ...a });
    };
    /** HH:MM on the host's clock, `offset` from now (e.g. "-2 min"). */
    const clock = async (offset: string) => (await sh(`date -d '${offset}' +%H:%M`)).trim();

    /** Starts the reboot window's job once; what that run wrote to its journal. */
    async function runJob(): Promise<string> {
        const started = await h.exec(`systemctl start ${SERVICE}`);
        const id = (await sh(`systemctl show -p InvocationID --value ${SERVICE}`)).trim();
        assert.match(id, /^[0-9a-f]{32}$/);
        // The job's stdout reaches journald over a stream socket that may still hold its last lines when the unit has
        // exited (`journalctl --sync` flushes what journald has, not what it has not read yet): wait for the verdict.
        let journal = "";
        for (let i = 0; i < 50; i++) {
            await sh("journalctl --sync");
            journal = await sh(`journalctl --no-pager -o cat _SYSTEMD_INVOCATION_ID=${id}`);
            const verdict = /^hearth: (no reboot required|a reboot is required)/m.test(journal);
            if (verdict && (!/requesting a reboot$/m.test(journal) || /^hearth-test: reboot requested/m.test(journal))) break;
            await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(started.code, 0, journal);
        return journal;
    }

    let inside: string;
    before(async () => {
        h = await startHost({ name: "upgrades" });
        await sh("systemctl is-system-running --wait || true");
        inside = await clock("-2 min");
        await runner.up(program(args(inside)));
    });
    after(async () => {
        await h?.stop();
    });

    it("installs unattended-upgrades; apt reads hearth's origins and no automatic reboot; the dry run uses them", async () => {
        assert.match(await sh("dpkg-query -W -f='${db:Status-Abbrev}' unattended-upgrades"), /^ii/);
        assert.equal((await sh(`stat -c '%a %U' ${UPGRADES_CONF} ${REBOOT_SCRIPT}`)).trim(), "644 root\n700 root");
        const dump = await sh("apt-config dump");
        assert.deepEqual([...dump.matchAll(/^Unattended-Upgrade::Origins-Pattern:: "(.*)";$/gm)].map((m) => m[1]), [
            "origin=Debian,codename=${distro_codename}-security,label=Debian-Security",
            "origin=Debian,codename=${distro_codename}-updates",
        ]);
        assert.match(dump, /^Unattended-Upgrade::Automatic-Reboot "false";$/m);
        assert.match(dump, /^APT::Periodic::Unattended-Upgrade "1";$/m);
        const dry = await h.exec("unattended-upgrade --dry-run --debug 2>&1");
        assert.equal(dry.code, 0, dry.stdout + dry.stderr);
        assert.match(dry.stdout, /Allowed origins are: origin=Debian,codename=bookworm-security,label=Debian-Security, origin=Debian,codename=bookworm-updates/);
    });

    it("keeps apt's timers enabled, moves the upgrade to the declared time, and a re-run runs nothing", async () => {
        const facts = await unitFacts(h, ["apt-daily.timer", "apt-daily-upgrade.timer", `${REBOOT_UNIT}.timer`]);
        for (const [u, f] of Object.entries(facts)) assert.match(f, /ActiveState=active .*UnitFileState=enabled/, `${u}: ${f}`);
        assert.deepEqual((await sh("systemctl show -p TimersCalendar --value apt-daily-upgrade.timer")).match(/OnCalendar=[^;]*/g)?.map((c) => c.trim()), ["OnCalendar=*-*-* 05:30:00"]);
        assert.match(await sh("systemctl list-timers --all --no-legend apt-daily-upgrade.timer"), / 05:30:00 /);
        assert.match(await sh(`systemctl show -p TimersCalendar --value ${REBOOT_UNIT}.timer`), new RegExp(`OnCalendar=\\*-\\*-\\* ${inside}:00`));
        assert.equal((await runner.up(program(args(inside)))).runs.length, 0);
        assert.deepEqual(driftLines(await checkHost(h, runner.resources)), []);
    });

    it("a timer disabled by hand is drift; the next converge enables and starts it again", async () => {
        await sh("systemctl disable --now apt-daily.timer");
        assert.deepEqual(driftLines(await checkHost(h, runner.resources)), [
            "up-upgrades: unit apt-daily.timer enabled: enabled -> disabled",
            "up-upgrades: unit apt-daily.timer active: active -> inactive",
        ]);
        await runner.rerunCreate();
        assert.match((await unitFacts(h, ["apt-daily.timer"]))["apt-daily.timer"], /ActiveState=active .*UnitFileState=enabled/);
        assert.deepEqual(driftLines(await checkHost(h, runner.resources)), []);
    });

    describe("the reboot window (systemctl reboot stubbed in the job's mount namespace only)", () => {
        before(async () => {
            await sh(
                [
                    `install -D -m 0755 /usr/bin/systemctl ${STUB_DIR}/systemctl.real`,
                    `printf '%s\\n' '#!/bin/sh' 'if [ "$1" = reboot ]; then echo "hearth-test: reboot requested ($*)"; exit 0; fi' 'exec ${STUB_DIR}/systemctl.real "$@"' > ${STUB_DIR}/systemctl`,
                    `chmod 0755 ${STUB_DIR}/systemctl`,
                    `mkdir -p ${STUB_DROPIN.slice(0, STUB_DROPIN.lastIndexOf("/"))}`,
                    `printf '[Service]\\nBindReadOnlyPaths=${STUB_DIR}/systemctl:/usr/bin/systemctl\\n' > ${STUB_DROPIN}`,
                    "systemctl daemon-reload",
                ].join(" && "),
            );
            // The stub is in place before any reboot is required: the job never reaches the real systemctl reboot.
            assert.match(await sh(`systemctl show -p DropInPaths --value ${SERVICE}`), /50-test-reboot-stub\.conf/);
        });
        after(async () => {
            await h?.exec(`rm -f ${STUB_DROPIN} /run/reboot-required /run/reboot-required.pkgs; systemctl daemon-reload`);
        });

        it("no reboot required: inside the window, nothing is requested", async () => {
            await sh("rm -f /run/reboot-required /run/reboot-required.pkgs");
            const journal = await runJob();
            assert.match(journal, /^hearth: no reboot required$/m);
            assert.equal(journal.match(REQUESTED), null);
        });

        it("required, outside the window (a late trigger): never requested; the check reports the pending reboot", async () => {
            const outside = await clock("-3 hours");
            await runner.up(program(args(outside)));
            await sh("printf 'linux-image-amd64\\nlibc6\\nlibc6\\n' > /run/reboot-required.pkgs && touch /run/reboot-required");
            const journal = await runJob();
            assert.match(journal, new RegExp(`^hearth: a reboot is required since .* \\(by libc6 linux-image-amd64\\); now is outside the reboot window \\(\\*-\\*-\\* ${outside}:00, open 30 minutes\\): not rebooting$`, "m"));
            assert.equal(journal.match(REQUESTED), null);
            const reports = await checkHost(h, runner.resources);
            const info = reports.flatMap((r) => r.info).map((i) => `${i.what}: ${i.value}`);
            assert.ok(info.some((l) => /^reboot required: since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC by libc6 linux-image-amd64; rebooted in the window/.test(l)), info.join("\n"));
        });

        it("required, inside the window: the reboot is requested exactly once", async () => {
            await runner.up(program(args(inside)));
            const journal = await runJob();
            assert.match(journal, /^hearth: a reboot is required since .*; inside the reboot window opened .*: requesting a reboot$/m);
            assert.equal(journal.match(REQUESTED)?.length, 1, journal);
        });
    });

    // In a suite of their own: mocha runs a suite's tests before its nested suites, and these come after the window's.
    describe("after the reboot window", () => {
        it("the drift check finds the host as declared once the spec's stub is gone", async () => {
            assert.deepEqual(driftLines(await checkHost(h, runner.resources)), []);
        });

        describe("what else on the host widens, narrows, switches off or moves the upgrades", () => {
            const LOCAL = "/etc/apt/apt.conf.d/99local";
            const TIMER_LOCAL = "/etc/systemd/system/apt-daily-upgrade.timer.d/99-local.conf";
            /** The upgrades converge as the last up registered it, run once on the host. */
            const converge = async () => {
                const c = runner.resources.find((r) => r.name === "up-upgrades")!.inputs;
                return h.exec(c.create, { stdin: c.stdin });
            };
            const upgradesDrift = async () => driftLines(await checkHost(h, runner.resources)).filter((l) => l.startsWith("up-upgrades: "));
            // Each case starts from the host as declared, whatever a failed one before it left.
            const clean = async () => {
                await h?.exec(`rm -f ${LOCAL}; if [ -e ${TIMER_LOCAL} ]; then rm -f ${TIMER_LOCAL}; systemctl daemon-reload; fi`);
            };
            beforeEach(clean);
            after(clean);

            const apt: [string, string, string][] = [
                ["Allowed-Origins (the whole release)", 'Unattended-Upgrade::Allowed-Origins { "Debian:${distro_codename}"; };', "apt Unattended-Upgrade::Allowed-Origins: (none) -> Debian:${distro_codename}"],
                ["APT::Periodic::Enable 0", 'APT::Periodic::Enable "0";', "apt APT::Periodic::Enable: 1 -> 0"],
                ["Package-Blacklist of every package", 'Unattended-Upgrade::Package-Blacklist { ".*"; };', "apt Unattended-Upgrade::Package-Blacklist: (none) -> .*"],
            ];
            for (const [what, text, drift] of apt) {
                it(`a later ${LOCAL} with ${what}: the converge stops (65) naming it and the file; the check reports it; removed, both are clean`, async () => {
                    await sh(`printf '%s\\n' '${text}' > ${LOCAL}`);
                    // Named alone: Debian's packaged files mention these keys in comments and an empty list only.
                    const r = await converge();
                    assert.equal(r.code, 65, r.stdout + r.stderr);
                    assert.ok(r.stderr.includes(`apt's configuration overrides hearth's ${drift.replace(": ", " | ").replace(" -> ", " | ")} (set in ${LOCAL})`), r.stderr);
                    assert.deepEqual(await upgradesDrift(), [`up-upgrades: ${drift} (set in ${LOCAL})`]);
                    // What unattended-upgrade itself reads agrees (the whole release among its origins).
                    if (what.startsWith("Allowed-Origins")) assert.match(await sh("unattended-upgrade --dry-run --debug 2>&1 | grep -m1 'Allowed origins are'"), /o=Debian,a=bookworm\b/);
                    await sh(`rm -f ${LOCAL}`);
                    const ok = await converge();
                    assert.equal(ok.code, 0, ok.stderr);
                    assert.deepEqual(await upgradesDrift(), []);
                });
            }

            it("a later drop-in on apt-daily-upgrade.timer that moves the declared time: the converge stops (65) naming it; the check reports it", async () => {
                await sh(`mkdir -p ${TIMER_LOCAL.slice(0, TIMER_LOCAL.lastIndexOf("/"))} && printf '[Timer]\\nOnCalendar=\\nOnCalendar=*-*-* 12:00:00\\n' > ${TIMER_LOCAL} && systemctl daemon-reload`);
                const r = await converge();
                assert.equal(r.code, 65, r.stdout + r.stderr);
                assert.match(r.stderr, /another drop-in overrides the declared upgrade time: unit apt-daily-upgrade.timer OnCalendar \| \*-\*-\* 05:30:00 \| \*-\*-\* 12:00:00 \(drop-ins: .*99-local\.conf/);
                const drift = await upgradesDrift();
                assert.ok(drift.some((l) => l.startsWith("up-upgrades: unit apt-daily-upgrade.timer OnCalendar: *-*-* 05:30:00 -> *-*-* 12:00:00 (drop-ins: ") && l.includes(TIMER_LOCAL)), drift.join("\n"));
                await sh(`rm -f ${TIMER_LOCAL} && systemctl daemon-reload`);
                const ok = await converge();
                assert.equal(ok.code, 0, ok.stderr);
                assert.deepEqual(await upgradesDrift(), []);
            });

            it("a calendar that never elapses again (past the schema, as an older plan or another tool might send it): the converge stops (65) naming the argument before it writes anything", async () => {
                const id = (await sh(`head -n1 ${UPGRADES_CONF}`)).trim().replace(/^# hearth-owner: /, "");
                const before = await sh(`sha256sum ${UPGRADES_CONF} ${UPGRADE_DROPIN} ${REBOOT_SCRIPT}`);
                for (const [arg, spec] of [
                    ["upgradeTime.onCalendar", upgradesSpec({ ...args(inside), upgradeTime: { onCalendar: "2020-01-01 00:00:00" } })],
                    ["rebootWindow.onCalendar", upgradesSpec({ ...args(inside), rebootWindow: { onCalendar: "*-02-30 03:00", durationMinutes: 30 } })],
                ] as const) {
                    const rendered = renderUpgrades(spec, { id, aliases: [], adopt: false });
                    const sudo = unwrapCommand(runner.resources.find((c) => c.name === "up-upgrades")!.inputs.create)!.sudo;
                    const r = await h.exec(wrapCommand(rendered.script, sudo), { stdin: frameStdin(rendered.files.map((f) => f.content)) });
                    assert.equal(r.code, 65, r.stdout + r.stderr);
                    assert.match(r.stderr, new RegExp(`^hearth: ${arg.replace(".", "\\.")} '[^']*': it never elapses again on this host`, "m"));
                    assert.doesNotMatch(r.stderr, /wrote /);
                }
                assert.equal(await sh(`sha256sum ${UPGRADES_CONF} ${UPGRADE_DROPIN} ${REBOOT_SCRIPT}`), before);
            });
        });

        it("crash points: the converge from nothing (timers disabled, no files), killed after every step, finishes on the re-run", async () => {
            const cmds = await registeredCommands(program(args(inside)));
            const get = (n: string) => cmds.find((c) => c.name === n)!.inputs;
            const converge: CrashRun = { command: get("up-upgrades").create, stdin: get("up-upgrades").stdin };
            const del: CrashRun = { command: get("up-upgrades-lifecycle").delete };
            const report = await crashPoints(h, {
                name: "HostUpgrades converge",
                reset: async () => {
                    const r = await h.exec(del.command);
                    assert.equal(r.code, 0, r.stdout + r.stderr);
                    await sh("systemctl disable --now apt-daily.timer apt-daily-upgrade.timer");
                },
                run: converge,
                fingerprint: async () => [
                    ...(await fileFacts(h, [UPGRADES_CONF, UPGRADE_DROPIN, REBOOT_SCRIPT])),
                    JSON.stringify(await unitFacts(h, ["apt-daily.timer", "apt-daily-upgrade.timer"])),
                    await sh("systemctl show -p TimersCalendar --value apt-daily-upgrade.timer"),
                ],
            });
            console.log(`      ${report.points} kill points in ${report.seconds.toFixed(0)} s`);
            assert.ok(report.points >= 5, `${report.points} kill points`);
            assert.deepEqual(driftLines(await checkHost(h, runner.resources)), []);
        });
    });
});
