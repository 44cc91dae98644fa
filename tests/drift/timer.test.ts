// HostDriftTimer under the mock runtime: hostile arguments refused before anything registers, the check script it
// installs (every converge's check, derived as `npm run check` derives it; no function of its own; bash -n and
// shellcheck), its secretness, the hardened timer unit, one per host, and the runtime verdict in bash.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import { Host, hostConverges } from "../../components/host";
import { HostFile } from "../../components/files";
import { SystemdService } from "../../components/systemd";
import { DRIFT_CHECK_PATH, DRIFT_UNIT, driftChecks, HostDriftTimer, HostDriftTimerArgs, renderDriftCheck } from "../../components/drift";
import { parseScriptFiles, unwrapCommand } from "../../components/core/shell";
import { RUNTIME, RUNTIME_FUNCTIONS } from "../../components/core/runtime";
import { DRIFT_TIMER_TYPE } from "../../components/tokens";
import { installMocks, isSecretValue, recorded, resetRecorded, settle, TEST_HOST_KEY } from "../mocks";
import { checkScript } from "../tools";

const key = () => pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n");
const newHost = (name = "nas") => new Host({ name, address: "10.0.0.5", privateKey: key(), hostKey: TEST_HOST_KEY });

/** A host with a HostFile and a SystemdService declared on it. */
function populated(name = "nas", secret = false): Host {
    const host = newHost(name);
    new HostFile("conf", { host, path: "/etc/app/app.conf", content: "a = 1\n", createParents: true });
    if (secret) new HostFile("token", { host, path: "/etc/app/token", content: pulumi.secret("s3cret-value\n"), secret: true });
    new SystemdService("web", { host, description: "The web app", execStart: ["/usr/bin/python3", "-m", "http.server"] });
    return host;
}

async function build(args: (host: Host) => Partial<HostDriftTimerArgs>, host = populated()): Promise<{ error?: Error; count: number }> {
    resetRecorded();
    let error: Error | undefined;
    try {
        new HostDriftTimer("drift", { host, ...args(host) } as HostDriftTimerArgs);
    } catch (e) {
        error = e as Error;
    }
    await settle();
    return { error, count: recorded.filter((r) => r.name.startsWith("drift")).length };
}

const installed = () => recorded.find((r) => r.name === "drift-install")!;
let plainInstall: (typeof recorded)[number] | undefined;
const installedWithout = () => plainInstall!;

describe("HostDriftTimer", () => {
    before(() => installMocks());

    const hostile: [string, (h: Host) => Partial<HostDriftTimerArgs>, RegExp][] = [
        ["no host", () => ({ host: undefined }), /'host'.*a hearth Host/],
        ["a host that is not a Host", () => ({ host: { name: "x", privateKey: "k" } as unknown as Host }), /'host'.*\(not a Host\).*a hearth Host/],
        ["a calendar with a newline (a second unit line)", () => ({ onCalendar: "daily\nExecStart=/bin/sh" }), /'onCalendar'.*systemd calendar expression/],
        ["a calendar that is no expression", () => ({ onCalendar: "every day" }), /'onCalendar'.*systemd calendar expression/],
        ["an empty calendar", () => ({ onCalendar: "" }), /'onCalendar'.*systemd calendar expression/],
        ["a number as calendar", () => ({ onCalendar: 5 as unknown as string }), /'onCalendar'.*systemd calendar expression/],
        ["a negative delay", () => ({ randomizedDelaySec: -1 }), /'randomizedDelaySec'.*integer from 0 to 604800/],
        ["a fractional delay", () => ({ randomizedDelaySec: 1.5 }), /'randomizedDelaySec'.*integer from 0 to 604800/],
        ["a delay longer than a week", () => ({ randomizedDelaySec: 604801 }), /'randomizedDelaySec'.*integer from 0 to 604800/],
        ["a delay as a string", () => ({ randomizedDelaySec: "60" as unknown as number }), /'randomizedDelaySec'.*integer from 0 to 604800/],
        ["an unknown key (a typo)", () => ({ onCalender: "daily" } as Partial<HostDriftTimerArgs>), /one of the keys of HostDriftTimerArgs: host, onCalendar, randomizedDelaySec/],
    ];
    for (const [what, args, message] of hostile) {
        it(`refuses ${what} before anything registers`, async () => {
            const r = await build(args);
            assert.ok(r.error, "no error");
            assert.match(r.error.message, message);
            assert.equal(r.count, 0);
        });
    }

    it("refuses a host with nothing declared on it yet (it checks what was registered before it), naming the argument", async () => {
        const r = await build(() => ({}), newHost("empty"));
        assert.match(r.error?.message ?? "", /'host'.*"empty".*declare HostDriftTimer after the host's other components/);
        assert.equal(r.count, 0);
    });

    it("refuses a second timer on the same host", async () => {
        const host = populated("twice");
        await build(() => ({}), host);
        resetRecorded();
        assert.throws(() => new HostDriftTimer("drift2", { host }), /drift timer|already/);
    });

    it("installs one check over every converge registered on the host before it, as `npm run check` derives them", async () => {
        const host = populated("one");
        const r = await build(() => ({ onCalendar: "*-*-* 03:30:00", randomizedDelaySec: 600 }), host);
        assert.equal(r.error, undefined);
        const cmd = installed();
        plainInstall = cmd;
        const w = unwrapCommand(cmd.inputs.create)!;
        assert.match(w.script, /hearth_install '\/usr\/local\/lib\/hearth\/drift-check\.sh' 0700 root root|hearth_install \/usr\/local\/lib\/hearth\/drift-check\.sh 0700 root root/);
        const [file] = parseScriptFiles(w.script, cmd.inputs.stdin);
        assert.equal(file.path, DRIFT_CHECK_PATH);
        assert.equal(file.mode, 0o700);
        const script = file.content;
        // Each converge of the host, before the timer's own, has its check in the installed script.
        const before = recorded.filter((x) => x.type === "command:remote:Command" && x.inputs.create && !x.name.startsWith("drift"));
        assert.deepEqual(before.map((x) => x.name).sort(), ["conf-file", "web-converge"]);
        const expected = driftChecks(before.map((x) => ({ name: x.name, create: x.inputs.create, stdin: x.inputs.stdin })));
        assert.equal(expected.length, 2);
        for (const c of expected) {
            assert.ok(script.includes(`hearth_check_begin '${c.resource}'`) || script.includes(`hearth_check_begin ${c.resource}`), c.resource);
            for (const l of c.lines) assert.ok(script.includes(`  ${l}\n`), `${c.resource}: ${l}`);
        }
        assert.match(script, /hearth_check_file '?\/etc\/app\/app\.conf'? [0-9a-f]{64} 0644 root root/);
        assert.match(script, /hearth_check_unit '?web\.service'?/);
        // The report goes through the verdict; the script defines no function of its own (only the runtime's).
        assert.match(script, new RegExp(`^\\} \\| hearth_check_verdict ${expected.length}$`, "m"));
        assert.ok(script.startsWith("#!/bin/bash\n# hearth-owner: "));
        assert.equal(script.split(RUNTIME).length, 2, "the runtime exactly once");
        const own = script.replace(RUNTIME, "");
        assert.deepEqual([...own.matchAll(/^\s*(?:function\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*\(\)/gm)].map((m) => m[1]), []);
        assert.ok(RUNTIME_FUNCTIONS.includes("hearth_check_verdict"));
        assert.deepEqual(checkScript(script), []);
        assert.deepEqual(checkScript(w.script), []);
        // The timer unit: a hardened root oneshot on the schedule, reading only.
        const unit = recorded.find((x) => x.type === "command:remote:Command" && x.name === "drift-timer-converge")!;
        const files = parseScriptFiles(unwrapCommand(unit.inputs.create)!.script, unit.inputs.stdin ?? "");
        const service = files.find((f) => f.path.endsWith(`${DRIFT_UNIT}.service`))!.content;
        const timer = files.find((f) => f.path.endsWith(`${DRIFT_UNIT}.timer`))!.content;
        for (const line of ["User=root", "ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes", "ProtectHome=yes", "ProtectKernelTunables=yes", "ProtectKernelModules=yes", "RestrictSUIDSGID=yes", "Type=oneshot", `ExecStart=/usr/bin/timeout --kill-after=30 1800 /bin/bash --noprofile --norc ${DRIFT_CHECK_PATH}`]) {
            assert.match(service, new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`, "m"), line);
        }
        assert.doesNotMatch(service, /^ReadWritePaths=|^PrivateNetwork=yes|^BindPaths=/m);
        assert.match(timer, /^OnCalendar=\*-\*-\* 03:30:00$/m);
        assert.match(timer, /^RandomizedDelaySec=600s$/m);
        const comp = recorded.find((x) => x.type === DRIFT_TIMER_TYPE)!;
        assert.deepEqual(comp.inputs.covers, ["conf-file", "web-converge"]);
    });

    it("defaults to a daily run; the registry holds what each remoteScript registered, in order", async () => {
        const host = populated("two");
        assert.deepEqual(hostConverges(host).map((c) => c.name), ["conf-file", "web-converge"]);
        await build(() => ({}), host);
        const unit = recorded.find((x) => x.name === "drift-timer-converge")!;
        const timer = parseScriptFiles(unwrapCommand(unit.inputs.create)!.script, unit.inputs.stdin ?? "").find((f) => f.path.endsWith(".timer"))!.content;
        assert.match(timer, /^OnCalendar=daily$/m);
        assert.deepEqual(hostConverges(host).map((c) => c.name), ["conf-file", "web-converge", "drift-install", "drift-timer-converge"]);
        // Another Host object has its own list.
        assert.deepEqual(hostConverges(newHost("two")), []);
    });

    it("keeps a secret out of the script and marks the install secret when a converge's stdin is", async () => {
        const host = populated("three", true);
        await build(() => ({}), host);
        const cmd = installed();
        assert.ok(isSecretValue(cmd.rawInputs.stdin), "the stdin is a secret");
        assert.ok(!isSecretValue(installedWithout().rawInputs.stdin), "without a secret converge, the stdin is plain");
        const script = parseScriptFiles(unwrapCommand(cmd.inputs.create)!.script, cmd.inputs.stdin)[0].content;
        assert.doesNotMatch(script, /s3cret/);
        // The secret file is compared with what its converge recorded ("-"), never with a hash of its value.
        assert.match(script, /hearth_check_file \/etc\/app\/token '-' 0600 root root [0-9a-f]{32}$/m);
    });

    it("renderDriftCheck refuses converges without a check", () => {
        assert.throws(() => renderDriftCheck("h", [{ name: "x", create: "echo hi" }], { id: "p/s/t/n", aliases: [], adopt: false }), /no converge registered on host h carries a check/);
    });
});

describe("hearth_check_verdict", () => {
    const verdict = (input: string, expected = "") => spawnSync("bash", ["--noprofile", "--norc", "-c", `${RUNTIME}\nhearth_check_verdict ${expected}`], { input, encoding: "utf8" });

    it("passes the report through and succeeds when it holds no drift or error", () => {
        const r = verdict("hearth-check\ta\nhearth-info\thandshake\t3s ago\n");
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, "hearth-check\ta\nhearth-info\thandshake\t3s ago\nhearth: drift check: the host matches\n");
    });

    it("fails (status 1) on a drift line or an error line, and says how many", () => {
        const d = verdict("hearth-check\ta\nhearth-drift\t/etc/x content\tsha256 1\tsha256 2\n");
        assert.equal(d.status, 1);
        assert.match(d.stdout, /^hearth-drift\t\/etc\/x content\tsha256 1\tsha256 2$/m);
        assert.match(d.stdout, /hearth: drift check: 1 difference\(s\), 0 resource\(s\) not checked to the end\n$/);
        const e = verdict("hearth-check\ta\nhearth-error\t3");
        assert.equal(e.status, 1);
        assert.match(e.stdout, /0 difference\(s\), 1 resource\(s\) not checked to the end/);
        // A line that merely mentions the words is not a drift line.
        assert.equal(verdict("hearth: not hearth-drift\there\n").status, 0);
    });

    it("fails when fewer reports came than resources were checked (a check killed before it printed)", () => {
        assert.equal(verdict("hearth-check\ta\nhearth-check\tb\n", "2").status, 0);
        const r = verdict("hearth-check\ta\n", "2");
        assert.equal(r.status, 1);
        assert.match(r.stdout, /0 difference\(s\), 1 resource\(s\) not checked to the end/);
    });
});
