// Hostile SystemdService inputs: each is refused with a ResourceError naming the argument, before any resource registers.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import { SystemdService, SystemdServiceArgs } from "../../components/systemd";
import { installMocks, recorded, resetRecorded, settle } from "../mocks";
import { testHost } from "./scenarios";

type Case = [what: string, args: Record<string, unknown>, arg: string, name?: string];

const ok = { description: "A service", execStart: ["/bin/sleep", "infinity"] };
const reason = "a reason that is long enough";

const cases: Case[] = [
    ["shell metacharacters in unitName", { unitName: "web;rm -rf /" }, "unitName"],
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
    ["a lowercase variable name", { environment: { path: "/x" } }, "environment"],
    ["a variable name with '-'", { environment: { "A-B": "1" } }, "environment"],
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
    ["a credential name with a path", { credentials: { "../x": pulumi.secret("s") } }, "credentials"],
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
