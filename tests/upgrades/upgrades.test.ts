// HostUpgrades under the mock runtime: hostile arguments refused before anything registers; what it registers (the
// packages child, the converge, the reboot window's job); its files as apt and systemd read them (apt-config dump of the
// rendered configuration after Debian's packaged one, systemd-analyze verify and security of the units); the scripts
// through bash -n and shellcheck; and the runtime's decisions in bash: apt's configuration against hearth's, and the
// reboot window at fixed times.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import {
    APT_EMPTY_LISTS,
    APT_SETTINGS,
    configArgs,
    DEBIAN_SECURITY_ORIGIN,
    HostUpgrades,
    HostUpgradesArgs,
    REBOOT_SCRIPT,
    REBOOT_UNIT,
    rebootServiceArgs,
    renderAptConf,
    renderRebootScript,
    renderUpgradeDropIn,
    renderUpgrades,
    UPGRADE_DROPIN,
    UPGRADES_CONF,
    upgradesSpec,
} from "../../components/upgrades";
import { renderService, resolveServiceArgs } from "../../components/systemd";
import { ownerId, OwnerMark } from "../../components/core/owner";
import { parseScriptFiles, frameStdin, unwrapCommand } from "../../components/core/shell";
import { RUNTIME } from "../../components/core/runtime";
import { UPGRADES_TYPE } from "../../components/tokens";
import { installMocks, recorded, resetRecorded, settle, TEST_HOST_KEY } from "../mocks";
import { checkScript, securityScore, verifyUnits } from "../tools";

const key = () => pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n");
const newHost = (name = "nas") => new Host({ name, address: "10.0.0.5", privateKey: key(), hostKey: TEST_HOST_KEY });
const mark: OwnerMark = { id: ownerId("hearth", "test", UPGRADES_TYPE, "up"), aliases: [], adopt: false };

async function build(args: Partial<HostUpgradesArgs>, host = newHost()): Promise<{ error?: Error; names: string[] }> {
    resetRecorded();
    let error: Error | undefined;
    try {
        new HostUpgrades("up", { host, ...args } as HostUpgradesArgs);
    } catch (e) {
        error = e as Error;
    }
    await settle();
    return { error, names: recorded.map((r) => r.name).filter((n) => n.startsWith("up")) };
}

/** bash with the runtime loaded, then `body`; stdout, stderr and status. */
function bash(body: string, env: Record<string, string> = {}): { out: string; err: string; status: number | null } {
    const r = spawnSync("bash", ["-c", `${RUNTIME}\n${body}`], { encoding: "utf8", env: { ...process.env, ...env } });
    return { out: r.stdout, err: r.stderr, status: r.status };
}

/** A directory of apt.conf.d files and an APT_CONFIG that reads only it. */
function aptConfig(files: Record<string, string>): { env: Record<string, string>; dir: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-apt-"));
    fs.mkdirSync(path.join(dir, "apt.conf.d"));
    for (const [n, t] of Object.entries(files)) fs.writeFileSync(path.join(dir, "apt.conf.d", n), t);
    fs.writeFileSync(path.join(dir, "apt.conf"), `Dir::Etc::main "/dev/null";\nDir::Etc::parts "${dir}/apt.conf.d";\n`);
    return { env: { APT_CONFIG: path.join(dir, "apt.conf") }, dir };
}

/** Debian bookworm's packaged 50unattended-upgrades, the parts that matter here (its whole release, not only security). */
const PACKAGED = [
    "Unattended-Upgrade::Origins-Pattern {",
    '        "origin=Debian,codename=${distro_codename},label=Debian";',
    '        "origin=Debian,codename=${distro_codename},label=Debian-Security";',
    '        "origin=Debian,codename=${distro_codename}-security,label=Debian-Security";',
    "};",
    "",
].join("\n");
const AUTO = 'APT::Periodic::Update-Package-Lists "0";\nAPT::Periodic::Unattended-Upgrade "0";\n';

describe("HostUpgrades", () => {
    before(() => installMocks());

    const window = { onCalendar: "Sun 03:00", durationMinutes: 60 };
    const hostile: [string, Partial<HostUpgradesArgs>, RegExp][] = [
        ["no host", { host: undefined }, /'host'.*a hearth Host/],
        ["an origin with a quote (ends the apt string)", { extraOrigins: ['origin=Debian";APT::x "1'] }, /'extraOrigins\[0\]'.*origin pattern/],
        ["an origin with a newline", { extraOrigins: ["origin=Debian\nlabel=x"] }, /'extraOrigins\[0\]'.*origin pattern/],
        ["an origin with an unknown key", { extraOrigins: ["distro=Debian"] }, /'extraOrigins\[0\]'.*keys: origin, codename/],
        ["an origin with a key twice", { extraOrigins: ["origin=Debian,origin=Ubuntu"] }, /'extraOrigins\[0\]'.*each at most once/],
        ["an origin without a value separator", { extraOrigins: ["Debian"] }, /'extraOrigins\[0\]'.*origin pattern/],
        ["an origin with an empty value", { extraOrigins: ["origin="] }, /'extraOrigins\[0\]'.*origin pattern/],
        ["an origin with a shell expansion", { extraOrigins: ["origin=$(reboot)"] }, /'extraOrigins\[0\]'.*origin pattern/],
        ["an origin with an unknown macro", { extraOrigins: ["codename=${HOME}"] }, /'extraOrigins\[0\]'.*origin pattern/],
        ["an origin with a leading space", { extraOrigins: ["origin= Debian"] }, /'extraOrigins\[0\]'.*origin pattern/],
        ["an origin with a semicolon", { extraOrigins: ["origin=Debian;"] }, /'extraOrigins\[0\]'.*origin pattern/],
        ["an origin longer than 200 characters", { extraOrigins: [`label=${"a".repeat(200)}`] }, /'extraOrigins\[0\]'.*origin pattern/],
        ["an origin listed twice", { extraOrigins: ["origin=Debian,codename=${distro_codename}-updates", "origin=Debian,codename=${distro_codename}-updates"] }, /'extraOrigins\[1\]'.*listed twice/],
        ["Debian's security origin as an extra", { extraOrigins: [DEBIAN_SECURITY_ORIGIN] }, /'extraOrigins\[0\]'.*always included/],
        ["origins as a string", { extraOrigins: "origin=Debian" as unknown as string[] }, /'extraOrigins'.*an array of origin patterns/],
        ["21 origins", { extraOrigins: Array.from({ length: 21 }, (_, i) => `label=l${i}`) }, /'extraOrigins'.*at most 20/],
        ["an upgrade time that is no calendar", { upgradeTime: { onCalendar: "at six" } }, /'upgradeTime.onCalendar'.*systemd calendar expression/],
        ["an upgrade time with a newline (a second unit line)", { upgradeTime: { onCalendar: "daily\nExecStart=/bin/sh" } }, /'upgradeTime.onCalendar'.*systemd calendar expression/],
        ["an upgrade delay over six hours", { upgradeTime: { onCalendar: "daily", randomizedDelaySec: 21601 } }, /'upgradeTime.randomizedDelaySec'.*0 to 21600/],
        ["an upgrade time with an unknown key", { upgradeTime: { onCalendar: "daily", persistent: true } as never }, /one of the keys of an upgrade time/],
        ["a window without a duration", { rebootWindow: { onCalendar: "Sun 03:00" } as never }, /'rebootWindow.durationMinutes'.*integer from 5 to 1440/],
        ["a window of 4 minutes", { rebootWindow: { ...window, durationMinutes: 4 } }, /'rebootWindow.durationMinutes'.*integer from 5 to 1440/],
        ["a window longer than a day", { rebootWindow: { ...window, durationMinutes: 1441 } }, /'rebootWindow.durationMinutes'.*integer from 5 to 1440/],
        ["a fractional window", { rebootWindow: { ...window, durationMinutes: 30.5 } }, /'rebootWindow.durationMinutes'.*integer from 5 to 1440/],
        ["a window as a string", { rebootWindow: { ...window, durationMinutes: "60" as unknown as number } }, /'rebootWindow.durationMinutes'.*integer from 5 to 1440/],
        ["a window opening at no calendar", { rebootWindow: { ...window, onCalendar: "sunday night" } }, /'rebootWindow.onCalendar'.*systemd calendar expression/],
        ["a window calendar with a quote", { rebootWindow: { ...window, onCalendar: "Sun 03:00'" } }, /'rebootWindow.onCalendar'.*systemd calendar expression/],
        ...(["upgradeTime", "rebootWindow"] as const).flatMap((arg): [string, Partial<HostUpgradesArgs>, RegExp][] =>
            ["2020-01-01 00:00:00", "@1234567890", "*-02-30 00:00", "*-04-31 03:00", "2027-*-* 03:00", "2020..2030-*-* 03:00", "Mon *-02,04-31 03:00", "*-*~29 03:00"].map((cal) => [
                `${arg} '${cal}' (it stops elapsing, or never does)`,
                { [arg]: arg === "upgradeTime" ? { onCalendar: cal } : { ...window, onCalendar: cal } },
                new RegExp(`'${arg}.onCalendar' argument "${cal.replace(/[*.]/g, "\\$&")}".*that repeats.*no @timestamp; no fixed year`),
            ]),
        ),
        ["an unknown key (a typo)", { rebootWindows: window } as Partial<HostUpgradesArgs>, /one of the keys of HostUpgradesArgs: host, extraOrigins, upgradeTime, rebootWindow/],
    ];
    for (const [what, args, message] of hostile) {
        it(`refuses ${what} before anything registers`, async () => {
            const r = await build(args);
            assert.ok(r.error, "no error");
            assert.match(r.error.message, message);
            assert.deepEqual(r.names, []);
        });
    }

    it("takes the values the rules allow (abbreviated keys, inner spaces, the macros)", async () => {
        const r = await build({ extraOrigins: ["o=Debian,n=${distro_codename}-updates", "origin=Debian Backports,a=stable", "site=deb.example.org,c=main"], rebootWindow: { onCalendar: "*-*-* 04:00:00", durationMinutes: 5 } });
        assert.equal(r.error, undefined);
    });

    it("takes calendars that repeat (a leap day, a year repetition, the last days of a month, time zones)", async () => {
        for (const cal of ["*-02-29 04:00", "2025/1-*-* 03:00", "*-02~28 03:00", "*-04,05-31 03:00", "Sun 03:00 Europe/Berlin", "weekly", "*-*-1..7 03:00"]) {
            const r = await build({ upgradeTime: { onCalendar: cal }, rebootWindow: { ...window, onCalendar: cal } });
            assert.equal(r.error, undefined, `${cal}: ${r.error?.message}`);
            // What the schema takes, systemd reads and finds a next elapse for.
            const out = spawnSync("systemd-analyze", ["calendar", "--", cal], { encoding: "utf8" });
            assert.equal(out.status, 0, out.stderr);
            assert.doesNotMatch(out.stdout, /Next elapse: never/);
        }
    });

    it("registers the packages child, its converge with the check lines, and the reboot window's job", async () => {
        const r = await build({ rebootWindow: window, upgradeTime: { onCalendar: "*-*-* 05:30:00" } });
        assert.equal(r.error, undefined);
        for (const n of ["up", "up-packages", "up-packages-packages", "up-upgrades", "up-upgrades-lifecycle", "up-reboot"]) assert.ok(r.names.includes(n), `${n} in ${r.names.join(", ")}`);
        const script = unwrapCommand(recorded.find((c) => c.name === "up-upgrades")!.inputs.create)!.script;
        assert.match(script, /# hearth-check: hearth_upgrades_check_config /);
        assert.match(script, /# hearth-check: hearth_upgrades_check_timers apt-daily.timer apt-daily-upgrade.timer/);
        assert.match(script, /# hearth-check: hearth_check_dropin apt-daily-upgrade.timer /);
        assert.match(script, /# hearth-check: hearth_reboot_check_pending 'Sun 03:00 \+ 60 min'/);
        const pkgs = recorded.find((c) => c.name === "up-packages")!;
        assert.deepEqual(pkgs.inputs.packages, [{ name: "unattended-upgrades", hold: false }]);
        assert.deepEqual(pkgs.inputs.keepUnits, ["unattended-upgrades.service"]);
    });

    it("without a window registers no reboot job", async () => {
        const r = await build({});
        assert.equal(r.error, undefined);
        assert.ok(!r.names.includes("up-reboot"));
        assert.match(unwrapCommand(recorded.find((c) => c.name === "up-upgrades")!.inputs.create)!.script, /^# hearth-check: hearth_reboot_check_pending '-'$/m);
    });

    it("refuses a second HostUpgrades on the same host", async () => {
        const host = newHost("twice");
        await build({}, host);
        assert.throws(() => new HostUpgrades("up2", { host }), /unattended upgrades|already/);
    });

    describe("rendering", () => {
        const full = upgradesSpec({ extraOrigins: ["origin=Debian,codename=${distro_codename}-updates"], upgradeTime: { onCalendar: "*-*-* 05:30:00", randomizedDelaySec: 600 }, rebootWindow: window });
        const bare = upgradesSpec({});

        it("installs exactly its files, recoverable from the script and stdin, and removes what it no longer declares", () => {
            const r = renderUpgrades(full, mark);
            assert.deepEqual(r.files.map((f) => [f.path, f.mode]), [[UPGRADES_CONF, 0o644], [UPGRADE_DROPIN, 0o644], [REBOOT_SCRIPT, 0o700]]);
            assert.deepEqual(parseScriptFiles(r.script, frameStdin(r.files.map((f) => f.content))).map((f) => [f.path, f.content]), r.files.map((f) => [f.path, f.content]));
            const b = renderUpgrades(bare, mark);
            assert.deepEqual(b.files.map((f) => f.path), [UPGRADES_CONF]);
            assert.ok(b.script.includes(`if hearth_mine "$(hearth_file_owner ${UPGRADE_DROPIN})"; then hearth_remove ${UPGRADE_DROPIN}; fi`));
            assert.ok(b.script.includes(`if hearth_mine "$(hearth_file_owner ${REBOOT_SCRIPT})"; then hearth_remove ${REBOOT_SCRIPT}; fi`));
            assert.notEqual(renderUpgrades(full, mark).hash, b.hash);
            assert.notEqual(renderUpgrades(upgradesSpec({ rebootWindow: { ...window, durationMinutes: 61 } }), mark).hash, renderUpgrades(upgradesSpec({ rebootWindow: window }), mark).hash);
        });

        it("every file carries the mark in its header, where the runtime reads it", () => {
            for (const f of renderUpgrades(full, mark).files) {
                const head = f.content.split("\n").slice(0, 5);
                assert.ok(head.includes(`# hearth-owner: ${mark.id}`), f.path);
            }
        });

        it("passes bash -n and shellcheck (converge, delete, the reboot script)", () => {
            for (const spec of [full, bare]) {
                const r = renderUpgrades(spec, mark);
                assert.deepEqual(checkScript(r.script), []);
                assert.deepEqual(checkScript(r.deleteScript), []);
            }
            assert.deepEqual(checkScript(renderRebootScript(window, mark)), []);
        });

        it("apt reads the configuration after Debian's packaged files as hearth's: the declared origins only, no automatic reboot", () => {
            const conf = renderAptConf(full, mark);
            const { env, dir } = aptConfig({ "20auto-upgrades": AUTO, "50unattended-upgrades": PACKAGED, "52hearth-upgrades": conf });
            try {
                const dump = spawnSync("apt-config", ["dump"], { encoding: "utf8", env: { ...process.env, ...env } }).stdout;
                const origins = [...dump.matchAll(/^Unattended-Upgrade::Origins-Pattern:: "(.*)";$/gm)].map((m) => m[1]);
                assert.deepEqual(origins, full.origins);
                for (const [k, v] of APT_SETTINGS) assert.ok(dump.includes(`\n${k} "${v}";\n`), `${k} "${v}" in the dump`);
                const args = [...APT_SETTINGS.map(([k, v]) => `${k}=${v}`), "--", ...full.origins].map((w) => `'${w}'`).join(" ");
                const ok = bash(`hearth_upgrades_diff ${args}; hearth_upgrades_check_config ${args}; hearth_upgrades_config ${args}; echo done`, env);
                assert.equal(ok.out, "done\n", ok.err);
                // A file read after hearth's that turns the reboot back on and adds an origin: the converge stops, the check reports both.
                fs.writeFileSync(path.join(dir, "apt.conf.d", "99local"), 'Unattended-Upgrade::Automatic-Reboot "true";\nUnattended-Upgrade::Origins-Pattern { "origin=Extra"; };\n');
                const check = bash(`hearth_upgrades_check_config ${args}`, env);
                const later = path.join(dir, "apt.conf.d", "99local");
                assert.deepEqual(check.out.trim().split("\n"), [
                    `hearth-drift\tapt Unattended-Upgrade::Automatic-Reboot\tfalse\ttrue (set in ${later})`,
                    `hearth-drift\tapt Unattended-Upgrade::Origins-Pattern\t${full.origins.join(";")}\t${[...full.origins, "origin=Extra"].join(";")} (set in ${later})`,
                ]);
                const converge = bash(`hearth_upgrades_config ${args}; echo not reached`, env);
                assert.equal(converge.status, 65);
                assert.equal(converge.out, "");
                assert.match(converge.err, /apt's configuration overrides hearth's apt Unattended-Upgrade::Automatic-Reboot \| false \| true \(set in .*99local\)/);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });

        it("the upgrade-time drop-in passes systemd-analyze verify over apt's timer, and replaces its schedule", () => {
            const timer = "[Unit]\nDescription=Daily apt upgrade and clean activities\nAfter=apt-daily.timer\n\n[Timer]\nOnCalendar=*-*-* 6:00\nRandomizedDelaySec=60m\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n";
            const service = "[Unit]\nDescription=Daily apt upgrade and clean activities\n\n[Service]\nType=oneshot\nExecStart=/bin/true\n";
            const dropIn = renderUpgradeDropIn(full.upgradeTime!, mark);
            assert.deepEqual(verifyUnits({ "apt-daily-upgrade.timer": timer, "apt-daily-upgrade.service": service, "apt-daily-upgrade.timer.d/50-hearth.conf": dropIn }), []);
            assert.match(dropIn, /^\[Timer\]\nOnCalendar=\nOnCalendar=\*-\*-\* 05:30:00\nRandomizedDelaySec=600\n$/m);
        });

        it("the reboot window's units pass systemd-analyze verify; the service is scored (CAP_SYS_BOOT is its one loosening)", () => {
            const resolved = resolveServiceArgs("up-reboot", rebootServiceArgs(newHost("units"), window));
            const r = renderService(resolved, mark);
            const units: Record<string, string> = {};
            for (const f of r.files) units[f.path.replace("/etc/systemd/system/", "")] = f.content;
            assert.deepEqual(Object.keys(units).sort(), [`${REBOOT_UNIT}.service`, `${REBOOT_UNIT}.timer`]);
            assert.deepEqual(verifyUnits(units), []);
            const svc = units[`${REBOOT_UNIT}.service`];
            assert.match(svc, /^ExecStart=\/bin\/bash --noprofile --norc \/usr\/local\/lib\/hearth\/reboot-window.sh$/m);
            assert.match(svc, /^CapabilityBoundingSet=CAP_SYS_BOOT$/m);
            assert.match(svc, /^PrivateNetwork=yes$/m);
            assert.match(svc, /^ProtectSystem=strict$/m);
            assert.doesNotMatch(svc, /^ReadWritePaths=/m);
            assert.match(units[`${REBOOT_UNIT}.timer`], /^OnCalendar=Sun 03:00$/m);
            assert.match(units[`${REBOOT_UNIT}.timer`], /^Persistent=yes$/m);
            const { exposure } = securityScore(`${REBOOT_UNIT}.service`, svc);
            console.log(`      systemd-analyze security --offline: ${REBOOT_UNIT}.service ${exposure.toFixed(1)}`);
            assert.ok(exposure <= 1.5, `exposure ${exposure} over the policy pack's default budget of 1.5`);
        });
    });

    describe("apt settings that widen, narrow or switch off upgrades (a file after hearth's, as apt-config dump reads it)", () => {
        const spec = upgradesSpec({});
        const args = configArgs(spec).map((w) => `'${w}'`).join(" ");
        const later: [string, string, string][] = [
            ["Allowed-Origins (the whole release)", 'Unattended-Upgrade::Allowed-Origins { "Debian:${distro_codename}"; "Debian:${distro_codename}-backports"; };', "apt Unattended-Upgrade::Allowed-Origins\t(none)\tDebian:${distro_codename};Debian:${distro_codename}-backports"],
            ["APT::Periodic::Enable 0 (switches the periodic job off)", 'APT::Periodic::Enable "0";', "apt APT::Periodic::Enable\t1\t0"],
            ["Package-Blacklist (every package)", 'Unattended-Upgrade::Package-Blacklist { ".*"; };', "apt Unattended-Upgrade::Package-Blacklist\t(none)\t.*"],
            ["Package-Blacklist in the nested form", 'Unattended-Upgrade { Package-Blacklist { "linux-"; "libc6$"; }; };', "apt Unattended-Upgrade::Package-Blacklist\t(none)\tlinux-;libc6$"],
            ["Package-Whitelist", 'Unattended-Upgrade::Package-Whitelist { "bash"; };', "apt Unattended-Upgrade::Package-Whitelist\t(none)\tbash"],
            ["Update-Days", 'Unattended-Upgrade::Update-Days { "Sun"; };', "apt Unattended-Upgrade::Update-Days\t(none)\tSun"],
            ["InstallOnShutdown", 'Unattended-Upgrade::InstallOnShutdown "true";', "apt Unattended-Upgrade::InstallOnShutdown\tfalse\ttrue"],
        ];
        it("hearth's configuration after Debian's packaged files reads as declared: every list empty", () => {
            const { env, dir } = aptConfig({ "20auto-upgrades": AUTO, "50unattended-upgrades": `${PACKAGED}Unattended-Upgrade::Package-Blacklist {\n};\n`, "52hearth-upgrades": renderAptConf(spec, mark) });
            try {
                assert.equal(bash(`hearth_upgrades_check_config ${args}; hearth_upgrades_config ${args}; echo done`, env).out, "done\n");
                assert.deepEqual(APT_EMPTY_LISTS.map((k) => `${k}::`), configArgs(spec).filter((w) => w.endsWith("::")));
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
        // The packaged file mentions these keys only in comments and in an empty list: it is not named.
        const packaged = [
            PACKAGED,
            "// Python regular expressions, matching packages to exclude from upgrading",
            "Unattended-Upgrade::Package-Blacklist {",
            '//  "libc6$";',
            "};",
            '//Unattended-Upgrade::InstallOnShutdown "false";',
            '// Unattended-Upgrade::SyslogEnable "false";',
            '# Unattended-Upgrade::Update-Days { "Sun"; }; Package-Whitelist',
            "",
        ].join("\n");
        for (const [what, text, drift] of later) {
            it(`${what}: the converge stops (65) naming the setting and the file; the check reports it`, () => {
                const { env, dir } = aptConfig({ "20auto-upgrades": AUTO, "50unattended-upgrades": packaged, "52hearth-upgrades": renderAptConf(spec, mark), "99local": `${text}\n` });
                try {
                    const file = path.join(dir, "apt.conf.d", "99local");
                    const check = bash(`hearth_upgrades_check_config ${args}`, env);
                    assert.deepEqual(check.out.trim().split("\n"), [`hearth-drift\t${drift} (set in ${file})`], check.err);
                    const converge = bash(`hearth_upgrades_config ${args}; echo not reached`, env);
                    assert.equal(converge.status, 65);
                    assert.equal(converge.out, "");
                    assert.ok(converge.err.includes(`apt's configuration overrides hearth's ${drift.replace(/\t/g, " | ")} (set in ${file})`), converge.err);
                } finally {
                    fs.rmSync(dir, { recursive: true, force: true });
                }
            });
        }
        it("a list set in a file read before hearth's is refused too, and named (hearth does not clear it)", () => {
            const { env, dir } = aptConfig({ "10local": 'Unattended-Upgrade::Package-Blacklist { "vim"; };\n', "52hearth-upgrades": renderAptConf(spec, mark) });
            try {
                const r = bash(`hearth_upgrades_config ${args}`, env);
                assert.equal(r.status, 65);
                assert.ok(r.err.includes(`Unattended-Upgrade::Package-Blacklist | (none) | vim (set in ${path.join(dir, "apt.conf.d", "10local")})`), r.err);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    });

    describe("the declared upgrade time as systemd runs it, and calendars on the host", () => {
        // systemctl show answered by a function (bash prefers it to the command): the timer as systemd would load it.
        const show = (calendars: string[], delay: string, dropins: string) =>
            `systemctl() { printf '%s\\n' 'TimersCalendar=${calendars.map((c) => `{ OnCalendar=${c} ; next_elapse=Mon 2026-11-30 05:30:00 UTC }`).join(" ")}' 'RandomizedDelayUSec=${delay}' 'DropInPaths=${dropins}'; }`;
        const own = UPGRADE_DROPIN;
        const local = "/etc/systemd/system/apt-daily-upgrade.timer.d/99-local.conf";
        it("hearth's drop-in alone: nothing to report, the converge goes on (the calendar compared in systemd's normalized form, the delay in microseconds)", () => {
            const r = bash(`${show(["Sun *-*-* 05:30:00"], "10min", own)}; hearth_upgrades_check_schedule apt-daily-upgrade.timer 'Sun 05:30' 600; hearth_upgrades_schedule apt-daily-upgrade.timer 'Sun 05:30' 600; echo done`);
            assert.equal(r.out, "done\n", r.err);
        });
        it("another drop-in that moves the time or the delay: the converge stops (65) naming the drop-ins; the check reports both", () => {
            const stub = show(["*-*-* 12:00:00"], "1h", `${own} ${local}`);
            const check = bash(`${stub}; hearth_upgrades_check_schedule apt-daily-upgrade.timer '*-*-* 05:30:00' 0`);
            assert.deepEqual(check.out.trim().split("\n"), [
                `hearth-drift\tunit apt-daily-upgrade.timer OnCalendar\t*-*-* 05:30:00\t*-*-* 12:00:00 (drop-ins: ${own} ${local})`,
                `hearth-drift\tunit apt-daily-upgrade.timer RandomizedDelaySec\t0s\t1h (drop-ins: ${own} ${local})`,
            ]);
            const converge = bash(`${stub}; hearth_upgrades_schedule apt-daily-upgrade.timer '*-*-* 05:30:00' 0; echo not reached`);
            assert.equal(converge.status, 65);
            assert.match(converge.err, /another drop-in overrides the declared upgrade time: unit apt-daily-upgrade.timer OnCalendar \| \*-\*-\* 05:30:00 \| \*-\*-\* 12:00:00 \(drop-ins: .*99-local.conf\)/);
        });
        it("a drop-in that adds a second calendar is a difference too", () => {
            const r = bash(`${show(["*-*-* 05:30:00", "*-*-* 17:30:00"], "0", own)}; hearth_upgrades_check_schedule apt-daily-upgrade.timer '*-*-* 05:30:00' 0`);
            assert.equal(r.out, `hearth-drift\tunit apt-daily-upgrade.timer OnCalendar\t*-*-* 05:30:00\t*-*-* 05:30:00; *-*-* 17:30:00 (drop-ins: ${own})\n`);
        });
        it("a calendar that never elapses again stops the converge (65) naming the argument; a repeating one passes", () => {
            for (const cal of ["2020-01-01 00:00:00", "*-02-30 00:00", "@1234567890"]) {
                const r = bash(`hearth_upgrades_calendar rebootWindow.onCalendar '${cal}'; echo not reached`);
                assert.equal(r.status, 65, cal);
                assert.ok(r.err.includes(`hearth: rebootWindow.onCalendar '${cal}': it never elapses again on this host`), r.err);
            }
            assert.equal(bash("hearth_upgrades_calendar upgradeTime.onCalendar 'Sun 03:00'; echo done").out, "done\n");
            const bad = bash("hearth_upgrades_calendar upgradeTime.onCalendar 'no such day'; echo not reached");
            assert.equal(bad.status, 65);
            assert.match(bad.err, /upgradeTime.onCalendar 'no such day': systemd on this host cannot read it/);
        });
        it("the converge checks both calendars before it claims or writes anything, and the schedule after its drop-in is loaded", () => {
            const r = renderUpgrades(upgradesSpec({ upgradeTime: { onCalendar: "*-*-* 05:30:00" }, rebootWindow: window }), mark);
            // A line of the script's own (the runtime before it defines the functions).
            const at = (start: string) => r.script.indexOf(`\n${start}`);
            assert.ok(at("hearth_upgrades_calendar upgradeTime.onCalendar '*-*-* 05:30:00'\n") > 0);
            assert.ok(at("hearth_upgrades_calendar rebootWindow.onCalendar 'Sun 03:00'\n") > at("hearth_upgrades_calendar upgradeTime.onCalendar"));
            assert.ok(at("hearth_upgrades_calendar rebootWindow.onCalendar") < at(`if [ -e ${UPGRADES_CONF} ]`));
            assert.ok(at(`if [ -e ${UPGRADES_CONF} ]`) > 0);
            assert.ok(at("hearth_upgrades_schedule apt-daily-upgrade.timer '*-*-* 05:30:00' 0\n") > at("hearth_daemon_reload '--dropin'"));
            assert.ok(at("hearth_daemon_reload '--dropin'") > 0);
            assert.ok(r.check.includes("hearth_upgrades_check_schedule apt-daily-upgrade.timer '*-*-* 05:30:00' 0"), r.check.join("\n"));
            const bare = renderUpgrades(upgradesSpec({}), mark);
            assert.ok(!bare.script.includes("\nhearth_upgrades_calendar ") && !bare.script.includes("\nhearth_upgrades_schedule "));
        });
    });

    describe("the reboot window in the runtime (bash, fixed times, UTC)", () => {
        const at = (iso: string) => Math.floor(Date.parse(iso) / 1000);
        const inWindow = (cal: string, minutes: number, now: string) =>
            bash(`if hearth_reboot_in_window '${cal}' ${minutes} ${at(now)}; then echo "in $hearth_reboot_opened"; else echo "out \${hearth_reboot_opened:-never}"; fi`, { TZ: "UTC" });
        const cases: [string, string, number, string, string][] = [
            ["at the opening", "Sun 03:00", 60, "2024-01-07T03:00:00Z", `in ${at("2024-01-07T03:00:00Z")}`],
            ["inside", "Sun 03:00", 60, "2024-01-07T03:59:00Z", `in ${at("2024-01-07T03:00:00Z")}`],
            ["a minute before", "Sun 03:00", 60, "2024-01-07T02:59:00Z", `out ${at("2024-01-07T03:00:00Z")}`],
            ["when it closed", "Sun 03:00", 60, "2024-01-07T04:00:00Z", `out ${at("2024-01-14T03:00:00Z")}`],
            ["a day late (the host was off: Persistent catches up)", "Sun 03:00", 60, "2024-01-08T03:10:00Z", `out ${at("2024-01-14T03:00:00Z")}`],
            ["a daily window across midnight", "*-*-* 23:30:00", 60, "2024-01-08T00:20:00Z", `in ${at("2024-01-07T23:30:00Z")}`],
            ["a calendar with no elapse left", "2020-01-01 00:00:00", 60, "2024-01-08T00:20:00Z", "out never"],
        ];
        for (const [what, cal, minutes, now, want] of cases) {
            it(`${what}: ${cal} + ${minutes} min at ${now}`, () => {
                const r = inWindow(cal, minutes, now);
                assert.equal(r.out.trim(), want, r.err);
            });
        }

        it("a calendar systemd cannot read stops the job (70), never reboots", () => {
            const r = bash(`hearth_reboot_in_window 'no such day' 60 ${at("2024-01-07T03:00:00Z")}; echo not reached`, { TZ: "UTC" });
            assert.equal(r.status, 70);
            assert.match(r.err, /systemd-analyze cannot read the calendar expression no such day/);
        });
    });
});
