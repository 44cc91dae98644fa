// hearth:services is SystemdService's own schema: the config and the component refuse the same values at the same
// argument with the same sentence, and every component argument is a config key.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ArgumentError, resolveServiceArgs, rules, SystemdServiceArgs, systemdServiceShape, systemdDropInShape } from "../../components";
import { serviceSchema } from "../../stacks/config/services";
import { serviceArgs } from "../../stacks/build/services";
import { testHost } from "../systemd/scenarios";

const reason = "a reason that is long enough";
const full = { description: "A service", execStart: ["/usr/bin/python3", "-m", "http.server"] };

/** [what, the entry's fields (name "app" unless given)]: each is wrong for the component and for the config alike. */
const cases: [string, Record<string, unknown>][] = [
    ["a memory limit of 0", { ...full, memoryMaxMiB: 0 }],
    ["a relative program", { ...full, execStart: ["python3"] }],
    ["a newline in an argument", { ...full, execStart: ["/bin/echo", "a\nb"] }],
    ["a trailing backslash in the description", { ...full, description: "continues\\" }],
    ["a reserved environment name", { ...full, environment: { LD_PRELOAD: "/tmp/x.so" } }],
    ["a lowercase environment name", { ...full, environment: { path: "/x" } }],
    ["ports in a private network", { ...full, listenPorts: [8080] }],
    ["the same port twice", { ...full, network: "local", listenPorts: [8080, 8080] }],
    ["a timer job that restarts always", { ...full, timer: { onCalendar: "daily" }, restart: "always" }],
    ["a timer and a socket", { ...full, timer: { onCalendar: "daily" }, socket: { listenStream: 8081, idleStopSec: 5, targetPort: 8080 } }],
    ["a socket whose app shares its port", { ...full, network: "local", socket: { listenStream: 8080, idleStopSec: 5, targetPort: 8080 } }],
    ["a calendar systemd cannot read", { ...full, timer: { onCalendar: "every tuesday" } }],
    ["a unit named after sshd", { ...full, unitName: "sshd" }],
    ["a resource name that shadows ssh", { ...full, name: "ssh" }],
    ["root as a named user", { ...full, user: { name: "root", reason } }],
    ["a user and runAsRoot", { ...full, user: { dynamic: true }, runAsRoot: { reason } }],
    ["an unknown capability", { ...full, loosen: { capabilities: { caps: ["CAP_EVERYTHING"], reason } } }],
    ["a reason without words", { ...full, loosen: { privateUsers: { reason: "1234 5678 90" } } }],
    ["a writable system tree", { ...full, readWritePaths: ["/etc"] }],
    ["a bind of /proc", { ...full, bindReadOnlyPaths: ["/proc/1"] }],
    ["a relative startWhenExists", { ...full, startWhenExists: "etc/x.conf" }],
    ["an uppercase hostname", { ...full, hostname: "Web.example.org" }],
    ["a drop-in with its own command", { dropIn: { unit: "postgresql.service" }, execStart: ["/bin/true"] }],
    ["a drop-in with a restart policy", { dropIn: { unit: "nginx.service" }, restart: "always" }],
    ["a drop-in with startWhenExists", { dropIn: { unit: "nginx.service" }, startWhenExists: "/etc/x.conf" }],
    ["a drop-in name with .conf", { dropIn: { unit: "nginx.service", name: "50-x.conf" } }],
    ["a private network over sshd", { dropIn: { unit: "ssh.service" } }],
    ["a drop-in over a unit without a suffix", { dropIn: { unit: "nginx" } }],
    ["a full unit without a description", { execStart: ["/bin/true"] }],
];

function componentRefusal(fields: Record<string, unknown>): ArgumentError {
    const { name = "app", ...args } = fields;
    try {
        resolveServiceArgs(name as string, { host: testHost(), ...args } as SystemdServiceArgs);
    } catch (e) {
        assert.ok(e instanceof ArgumentError, `the component threw ${e}`);
        return e;
    }
    assert.fail("the component accepted it");
}

describe("hearth:services is SystemdService's schema", () => {
    for (const [what, fields] of cases) {
        it(`refuses ${what} at the same argument with the same sentence`, () => {
            const c = componentRefusal(fields);
            const r = rules.checkArgs(serviceSchema, { name: "app", host: "web1", ...fields });
            assert.ok(!r.ok, "the config accepted it");
            const first = r.issues[0];
            assert.equal(first.arg, c.arg);
            assert.equal(first.allowed, c.allowed);
        });
    }

    it("has every argument of both forms as a key, with the host by name, a resource name and the site's dependsOn", () => {
        const r = rules.checkArgs(serviceSchema, { name: "app", host: "web1", ...full, nonsense: 1 });
        assert.ok(!r.ok);
        const keys = Object.keys(systemdServiceShape);
        assert.equal(r.issues[0].allowed, `one of the keys of a service: name, ${keys.join(", ")}, dependsOn`);
        const d = rules.checkArgs(serviceSchema, { name: "pg", host: "web1", dropIn: { unit: "postgresql.service" }, nonsense: 1 });
        assert.ok(!d.ok);
        assert.equal(d.issues[0].allowed, `one of the keys of a service: name, ${Object.keys(systemdDropInShape).join(", ")}, dependsOn`);
        const h = rules.checkArgs(serviceSchema, { name: "app", host: "Web 1", ...full });
        assert.ok(!h.ok);
        assert.deepEqual(h.issues[0].path, ["host"]);
    });

    it("gives the component what the config held: credentials by secret key, the same values after parsing", () => {
        const entry = { name: "app", host: "web1", ...full, credentials: { token: "appToken" }, loosen: { capabilities: { caps: ["CAP_NET_RAW", "CAP_NET_ADMIN"], reason: ` ${reason} ` } } };
        const r = rules.checkArgs(serviceSchema, entry);
        assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
        const asked: string[] = [];
        const args = serviceArgs(r.value, testHost(), (k) => (asked.push(k), pulumi.secret("v")));
        assert.deepEqual(asked, ["appToken"]);
        const resolved = resolveServiceArgs("app", args);
        assert.deepEqual(resolved.credentials, ["token"]);
        assert.deepEqual(resolved.loosen.capabilities, { caps: ["CAP_NET_ADMIN", "CAP_NET_RAW"], reason });
        const d = rules.checkArgs(serviceSchema, { name: "pg", host: "web1", dropIn: { unit: "postgresql.service" }, memoryMaxMiB: 512 });
        assert.ok(d.ok);
        assert.equal(resolveServiceArgs("pg", serviceArgs(d.value, testHost(), () => pulumi.secret("v"))).unitName, "postgresql.service");
    });

    it("refuses a plain credential value in the config as it does not name a secret key", () => {
        const r = rules.checkArgs(serviceSchema, { name: "app", host: "web1", ...full, credentials: { token: "not a key name!" } });
        assert.ok(!r.ok);
        assert.deepEqual(r.issues[0].path, ["credentials", "token"]);
    });
});
