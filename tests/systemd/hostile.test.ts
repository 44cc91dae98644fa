// Hostile SystemdService inputs: each is refused with a ResourceError naming the argument, before any resource registers.
import { strict as assert } from "assert";
import { RUNTIME } from "../../components/core/runtime";
import { spawnSync } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import { SystemdService, SystemdServiceArgs } from "../../components/systemd";
import { installMocks, recorded, resetRecorded, settle } from "../mocks";
import { testHost } from "./scenarios";
import { markOf } from "./marks";

type Case = [what: string, args: Record<string, unknown>, arg: string, name?: string];

const ok = { description: "A service", execStart: ["/bin/sleep", "infinity"] };
const reason = "a reason that is long enough";

const cases: Case[] = [
    ["shell metacharacters in unitName", { unitName: "web;rm -rf /" }, "unitName"],
    ["a relative startWhenExists", { startWhenExists: "etc/knot.conf" }, "startWhenExists"],
    ["a command substitution in startWhenExists", { startWhenExists: "/etc/$(id).conf" }, "startWhenExists"],
    ["a % specifier in startWhenExists", { startWhenExists: "/etc/%n.conf" }, "startWhenExists"],
    ["a glob in startWhenExists", { startWhenExists: "/etc/*.conf" }, "startWhenExists"],
    ["newline injecting a unit key", { unitName: "web\nExecStart=/bin/sh" }, "unitName"],
    ["path traversal in unitName", { unitName: "../../etc/passwd" }, "unitName"],
    ["template '@' in unitName", { unitName: "web@.service" }, "unitName"],
    ["another unit type's suffix", { unitName: "web.socket" }, "unitName"],
    ["a doubled .service suffix", { unitName: "web.service.service" }, "unitName"],
    ["an overlong unitName", { unitName: "a".repeat(64) }, "unitName"],
    ["a Cyrillic lookalike in unitName", { unitName: "w\u0435b" }, "unitName"],
    ["a unit that would shadow sshd", { unitName: "ssh" }, "unitName"],
    ["a systemd-* unit name", { unitName: "systemd-journald" }, "unitName"],
    ["a % specifier in unitName", { unitName: "%n" }, "unitName"],
    ["a resource name that is no unit name", {}, "unitName", "Web Server"],
    ["a newline in description", { description: "ok\nExecStartPre=/bin/sh -c id" }, "description"],
    ["NUL in description", { description: "ok\0" }, "description"],
    ["a right-to-left override in description", { description: "safe \u202eexe.sh" }, "description"],
    ["a trailing backslash (line continuation) in description", { description: "continues\\" }, "description"],
    ["a relative program", { execStart: ["python3", "-V"] }, "execStart[0]"],
    ["'..' in the program path", { execStart: ["/usr/bin/../bin/sh"] }, "execStart[0]"],
    ["a % specifier in the program path", { execStart: ["/usr/bin/py%n"] }, "execStart[0]"],
    ["a $ variable in the program path", { execStart: ["/usr/bin/$SHELL"] }, "execStart[0]"],
    ["a newline in an argument", { execStart: ["/bin/echo", "a\nExecStartPost=/bin/sh"] }, "execStart[1]"],
    ["NUL in an argument", { execStart: ["/bin/echo", "a\0b"] }, "execStart[1]"],
    ["a secret Output as an argument", { execStart: ["/bin/echo", pulumi.secret("pw")] }, "execStart[1]"],
    ["an empty argv", { execStart: [] }, "execStart"],
    ["LD_PRELOAD in environment", { environment: { LD_PRELOAD: "/tmp/evil.so" } }, "environment.LD_PRELOAD"],
    ["a lowercase variable name", { environment: { path: "/x" } }, "environment.path"],
    ["a variable name with '-'", { environment: { "A-B": "1" } }, 'environment["A-B"]'],
    ["a newline in a variable value", { environment: { A: "1\nExecStart=/bin/sh" } }, "environment.A"],
    ["a secret in environment", { environment: { TOKEN: pulumi.secret("s3cret") } }, "environment.TOKEN"],
    ["'..' in stateDirectory", { stateDirectory: "../etc" }, "stateDirectory"],
    ["an absolute stateDirectory", { stateDirectory: "/var/lib/x" }, "stateDirectory"],
    ["a traversal inside cacheDirectory", { cacheDirectory: "a/../../b" }, "cacheDirectory"],
    ["/etc as a plain writable path", { readWritePaths: ["/etc"] }, "readWritePaths[0]"],
    ["a relative writable path", { readWritePaths: ["srv/data"] }, "readWritePaths[0]"],
    ["a space in a path", { readWritePaths: ["/srv/a b"] }, "readWritePaths[0]"],
    ["a read-only bind of the credential store", { bindReadOnlyPaths: ["/etc/credstore"] }, "bindReadOnlyPaths[0]"],
    ["a ':' smuggling a second bind", { bindPaths: [{ source: "/srv/x:/etc", target: "/x" }] }, "bindPaths[0].source"],
    ["'//' in a bind path", { bindPaths: ["/srv//x"] }, "bindPaths[0]"],
    ["a writable bind onto /usr", { bindPaths: [{ source: "/srv/bin", target: "/usr/bin" }] }, "bindPaths[0].target"],
    ["an unknown network mode", { network: "public" }, "network"],
    ["port 0", { network: "internet", listenPorts: [0] }, "listenPorts[0]"],
    ["port 65536", { network: "internet", listenPorts: [65536] }, "listenPorts[0]"],
    ["a fractional port", { network: "internet", listenPorts: [80.5] }, "listenPorts[0]"],
    ["a port as a string", { network: "internet", listenPorts: ["80"] }, "listenPorts[0]"],
    ["listening without a network", { listenPorts: [8080] }, "listenPorts"],
    ["an impossible IPv4 address", { socket: { listenStream: "999.1.1.1:80", idleStopSec: 30, targetPort: 8080 } }, "socket.listenStream"],
    ["a relative unix socket", { socket: { listenStream: "app.sock", idleStopSec: 30, targetPort: 8080 } }, "socket.listenStream"],
    ["a shell tail on a listen address", { socket: { listenStream: "0.0.0.0:80; rm -rf /", idleStopSec: 30, targetPort: 8080 } }, "socket.listenStream"],
    ["an idle time of zero", { socket: { listenStream: 8081, idleStopSec: 0, targetPort: 8080 } }, "socket.idleStopSec"],
    ["a shell tail on a calendar", { timer: { onCalendar: "daily; rm -rf /" } }, "timer.onCalendar"],
    ["month 13", { timer: { onCalendar: "*-13-01 00:00" } }, "timer.onCalendar"],
    ["hour 25", { timer: { onCalendar: "25:00" } }, "timer.onCalendar"],
    ["a newline in a calendar", { timer: { onCalendar: "Mon\n10:00" } }, "timer.onCalendar"],
    ["a % specifier in a calendar", { timer: { onCalendar: "%H:00" } }, "timer.onCalendar"],
    ["a wrapping weekday range", { timer: { onCalendar: "Sun..Mon 10:00" } }, "timer.onCalendar"],
    ["a plain-string credential", { credentials: { token: "s3cret" } }, "credentials.token"],
    ["a credential name with a path", { credentials: { "../x": pulumi.secret("s") } }, 'credentials["../x"]'],
    ["root as a named user", { user: { name: "root", reason } }, "user.name"],
    ["a named user without a reason", { user: { name: "mailer" } }, "user.reason"],
    ["a one-word reason for root", { runAsRoot: { reason: "x" } }, "runAsRoot.reason"],
    ["a capability with a shell tail", { loosen: { capabilities: { caps: ["CAP_SYS_ADMIN; id"], reason } } }, "loosen.capabilities.caps[0]"],
    ["a capability loosening without a reason", { loosen: { capabilities: { caps: ["CAP_NET_RAW"] } } }, "loosen.capabilities.reason"],
    ["an unknown loosening", { loosen: { everything: { reason } } }, "loosen.everything"],
    ["an unknown syscall group", { loosen: { syscallGroups: { groups: ["@all"], reason } } }, "loosen.syscallGroups.groups[0]"],
    ["'/' as a writable path even with a reason", { loosen: { writablePaths: { paths: ["/"], reason } } }, "loosen.writablePaths.paths[0]"],
    ["a drop-in over a unit without a suffix", { dropIn: { unit: "nginx" }, execStart: undefined }, "dropIn.unit"],
    ["a drop-in over a traversal", { dropIn: { unit: "../nginx.service" }, execStart: undefined }, "dropIn.unit"],
    ["a drop-in that changes the command", { dropIn: { unit: "nginx.service" } }, "execStart"],
    ["a drop-in name with .conf", { dropIn: { unit: "nginx.service", name: "50-hearth.conf" }, execStart: undefined }, "dropIn.name"],
    ["a right-to-left override in an argument", { execStart: ["/bin/echo", "safe \u202eexe.sh"] }, "execStart[1]"],
    ["a left-to-right isolate in an argument", { execStart: ["/bin/echo", "a\u2066b"] }, "execStart[1]"],
    ["an Arabic letter mark in an argument", { execStart: ["/bin/echo", "a\u061cb"] }, "execStart[1]"],
    ["a zero-width space in an argument", { execStart: ["/bin/rm", "-rf", "/srv/data\u200b"] }, "execStart[2]"],
    ["a zero-width joiner in an argument", { execStart: ["/bin/echo", "a\u200db"] }, "execStart[1]"],
    ["a byte order mark in an argument", { execStart: ["/bin/echo", "\ufeffa"] }, "execStart[1]"],
    ["a line separator in an argument", { execStart: ["/bin/echo", "a\u2028b"] }, "execStart[1]"],
    ["a C1 control in an argument", { execStart: ["/bin/echo", "a\x9bb"] }, "execStart[1]"],
    ["an unpaired surrogate in an argument", { execStart: ["/bin/echo", "a\ud800b"] }, "execStart[1]"],
    ["a right-to-left override in a variable value", { environment: { A: "safe \u202eexe.sh" } }, "environment.A"],
    ["a pop-directional isolate in a variable value", { environment: { A: "a\u2069b" } }, "environment.A"],
    ["a zero-width non-joiner in a variable value", { environment: { URL: "https://exa\u200cmple.org" } }, "environment.URL"],
    ["a word joiner in a variable value", { environment: { A: "a\u2060b" } }, "environment.A"],
    ["a paragraph separator in a variable value", { environment: { A: "a\u2029b" } }, "environment.A"],
    ["a C1 control in a variable value", { environment: { A: "a\x85b" } }, "environment.A"],
    ["an Arabic letter mark in description", { description: "web \u061cshop" }, "description"],
    ["an unpaired surrogate in description", { description: "web \udc00 shop" }, "description"],
    ["a private network over ssh.service (the default network)", { dropIn: { unit: "ssh.service" }, execStart: undefined }, "network"],
    ["a private network over sshd.service", { dropIn: { unit: "sshd.service" }, execStart: undefined, network: "none" }, "network"],
    ["an IP deny over ssh.service", { dropIn: { unit: "ssh.service" }, execStart: undefined, network: "local" }, "network"],
    ["a private network over ssh@.service", { dropIn: { unit: "ssh@.service" }, execStart: undefined }, "network"],
    ["a private network over journald", { dropIn: { unit: "systemd-journald.service" }, execStart: undefined }, "network"],
    ["an IP deny over journald", { dropIn: { unit: "systemd-journald.service" }, execStart: undefined, network: "local" }, "network"],
    ["a private network over logind", { dropIn: { unit: "systemd-logind.service" }, execStart: undefined }, "network"],
    ["a private network over dbus", { dropIn: { unit: "dbus.service" }, execStart: undefined }, "network"],
    ["an IP deny over networkd", { dropIn: { unit: "systemd-networkd.service" }, execStart: undefined, network: "local" }, "network"],
    ["a private network over resolved", { dropIn: { unit: "systemd-resolved.service" }, execStart: undefined }, "network"],
    ["a restart policy on a drop-in over ssh.service", { dropIn: { unit: "ssh.service" }, execStart: undefined, network: "internet", restart: "always" }, "restart"],
    ["an uppercase hostname", { hostname: "Web.Example.com" }, "hostname"],
    ["a negative memory limit", { memoryMaxMiB: -1 }, "memoryMaxMiB"],
    ["a CPU quota as text", { cpuQuotaPercent: "50%" }, "cpuQuotaPercent"],
    ["an unknown OOM policy", { oomPolicy: "ignore" }, "oomPolicy"],
    ["an unknown restart policy", { restart: "sometimes" }, "restart"],
    ["a timer job that restarts always", { timer: { onCalendar: "daily" }, restart: "always" }, "restart"],
    ["a misspelled argument", { execstart: ["/bin/true"] }, "execstart"],
    ["a timer and a socket at once", { timer: { onCalendar: "daily" }, socket: { listenStream: 8081, idleStopSec: 1, targetPort: 8080 } }, "socket"],
];

describe("SystemdService hostile inputs", () => {
    const host = testHost();
    before(() => installMocks());
    beforeEach(() => resetRecorded());

    it(`has at least 30 cases (${cases.length})`, () => assert.ok(cases.length >= 30));

    it("accepts the baseline the cases start from (so each refusal is the hostile field's doing)", async () => {
        new SystemdService("svc", { host, ...ok });
        await settle();
        assert.deepEqual(recorded.map((r) => r.name).sort(), ["svc", "svc-converge", "svc-converge-lifecycle"]);
    });

    for (const [what, over, arg, name] of cases) {
        it(`refuses ${what}, naming '${arg}', registering nothing`, async () => {
            const args = { host, ...ok, ...over } as unknown as SystemdServiceArgs;
            assert.throws(
                () => new SystemdService(name ?? "svc", args),
                (e: unknown) => {
                    assert.ok(e instanceof pulumi.ResourceError, `not a ResourceError: ${e}`);
                    assert.ok(e.message.includes(`The '${arg}' argument`), `message does not name '${arg}': ${e.message}`);
                    assert.match(e.message, /is not allowed: expected .+/);
                    return true;
                },
            );
            await settle();
            assert.deepEqual(recorded.map((r) => `${r.type} ${r.name}`), []);
        });
    }

    it("hardens ssh.service and journald with network 'internet' but never restarts them (the drop-in applies at their next restart)", () => {
        for (const unit of ["ssh.service", "sshd.service", "ssh@.service", "systemd-journald.service", "systemd-logind.service", "dbus.service", "systemd-networkd.service", "systemd-resolved.service"]) {
            for (const enable of [false, true]) {
                const svc = new SystemdService(`hard-${unit.replace(/[@.]/g, "-")}-${enable}`, { host, dropIn: { unit, name: `hard-${enable}` }, network: "internet", enable } as SystemdServiceArgs);
                const { renderService } = require("../../components/systemd") as typeof import("../../components/systemd");
                const r = renderService(svc.resolved, markOf(`hard-${unit.replace(/[@.]/g, "-")}-${enable}`));
                assert.doesNotMatch(r.unitText, /^PrivateNetwork=yes/m, unit);
                assert.doesNotMatch(r.unitText, /^IPAddressDeny=\S/m, unit);
                // Only resource limits: no sandbox that every login session (or the whole system's logging) would inherit.
                const keys = r.unitText.split("\n").filter((l) => /^[A-Za-z]+=/.test(l)).map((l) => l.split("=")[0]);
                assert.ok(keys.length > 0, unit);
                for (const k of keys) assert.ok(["MemoryMax", "CPUQuota", "TasksMax", "OOMPolicy"].includes(k), `${unit}: ${k} is not a resource limit`);
                // No line that restarts or stops names the unit (the generic clean-up of units this resource no longer
                // declares works on the files its own mark is on, never on the packaged unit).
                const esc = unit.replace(/[.@*]/g, (c) => `\\${c}`);
                const names = new RegExp(`(^|[ '"])${esc}('|$| )`);
                for (const line of r.script.split(RUNTIME).join("").split("\n").filter((l) => /systemctl (try-)?restart|systemctl stop|systemctl reload-or-restart|--now/.test(l))) {
                    assert.doesNotMatch(line, names, `${unit} is never restarted or stopped: ${line}`);
                    assert.doesNotMatch(line, /systemctl (try-)?restart -- /, `${unit}: no restart at all in its converge: ${line}`);
                }
                assert.match(r.script, /systemctl daemon-reload/);
                assert.match(r.script, /is not restarted; the drop-in applies at its next restart/);
                assert.doesNotMatch(r.deleteScript.split(RUNTIME).join(""), /systemctl (try-)?restart|systemctl stop|--now/, `${unit}: the delete restarts nothing`);
            }
        }
        // Any other packaged unit still gets its change applied where it runs.
        const nginx = new SystemdService("hard-nginx", { host, dropIn: { unit: "nginx.service" } } as SystemdServiceArgs);
        const { renderService } = require("../../components/systemd") as typeof import("../../components/systemd");
        assert.match(renderService(nginx.resolved, markOf("hard-nginx")).script, /systemctl try-restart -- nginx\.service/);
    });

    it("keeps pointing a full unit named after a system unit at dropIn", () => {
        assert.throws(() => new SystemdService("ssh", { host, ...ok } as unknown as SystemdServiceArgs), /use 'dropIn' to harden a packaged unit/);
    });

    it("the bad calendar strings are bad for systemd too", () => {
        const bad = cases.filter(([, , arg]) => arg === "timer.onCalendar").map(([, o]) => (o.timer as { onCalendar: string }).onCalendar);
        assert.ok(bad.length >= 5);
        for (const c of bad) {
            const r = spawnSync("systemd-analyze", ["calendar", c], { encoding: "utf8" });
            assert.notEqual(r.status, 0, `systemd-analyze calendar accepted ${JSON.stringify(c)}`);
        }
    });

    it("the bad listen addresses are refused by systemd too", () => {
        // ListenStream= values systemd itself warns about, so hearth refusing them loses nothing.
        const { verifyUnits } = require("../tools") as typeof import("../tools");
        for (const l of ["999.1.1.1:80", "app.sock"]) {
            const warnings = verifyUnits({ "x.socket": `[Socket]\nListenStream=${l}\n`, "x.service": "[Service]\nExecStart=/bin/true\n" });
            assert.ok(warnings.length > 0, `systemd accepted ListenStream=${l}`);
        }
    });
});
