// SystemdService's schema: a full unit or a drop-in (the type says what the check says), rules shared with the core,
// and outputs that wait for the converge command.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ArgumentError } from "../../components/core/errors";
import { CAPABILITIES, NAMESPACES, POSIX_USER_ALLOWED } from "../../components/core/vocab";
import { REASON_ALLOWED } from "../../components/core/schema";
import { resolveServiceArgs, SystemdService, SystemdServiceArgs, SystemdServiceArgsSchema, systemdServiceShape } from "../../components/systemd";
import { installMocks, resolve, settle } from "../mocks";
import { testHost } from "./scenarios";

const host = testHost();
const full = { host, description: "A service", execStart: ["/bin/sleep", "infinity"] };
const reason = "a reason that is long enough";

function refusal(args: unknown, name = "svc"): ArgumentError {
    try {
        resolveServiceArgs(name, args as SystemdServiceArgs);
    } catch (e) {
        assert.ok(e instanceof ArgumentError, `not an ArgumentError: ${e}`);
        return e;
    }
    assert.fail(`accepted ${JSON.stringify(args)}`);
}

const DROP_IN_KEEPS = "nothing: a drop-in carries hardening and limits only, the packaged unit keeps its command, identity and restart policy";

describe("SystemdService schema", () => {
    before(() => installMocks());

    it("types a full unit and a drop-in as two forms: the mixed and the incomplete cases do not compile", () => {
        const ok: SystemdServiceArgs[] = [full, { host, dropIn: { unit: "nginx.service" } }, { host, dropIn: { unit: "nginx.service" }, description: "limits", memoryMaxMiB: 64 }];
        // @ts-expect-error a drop-in carries no command
        const mixed: SystemdServiceArgs = { host, dropIn: { unit: "nginx.service" }, execStart: ["/bin/true"] };
        // @ts-expect-error a drop-in has no identity of its own
        const withUser: SystemdServiceArgs = { host, dropIn: { unit: "nginx.service" }, user: { dynamic: true } };
        // @ts-expect-error a full unit needs a description
        const noDescription: SystemdServiceArgs = { host, execStart: ["/bin/true"] };
        // @ts-expect-error a full unit needs a command
        const noCommand: SystemdServiceArgs = { host, description: "A service" };
        for (const a of ok) assert.ok(resolveServiceArgs("svc", a));
        for (const a of [mixed, withUser, noDescription, noCommand]) assert.ok(refusal(a));
    });

    it("refuses every field a drop-in does not carry, naming it, with the same sentence", () => {
        const over: Record<string, unknown> = {
            unitName: "web",
            execStart: ["/bin/true"],
            environment: { A: "1" },
            user: { dynamic: true },
            runAsRoot: { reason },
            restart: "always",
            restartSec: 1,
            timer: { onCalendar: "daily" },
            socket: { listenStream: 8081, idleStopSec: 5, targetPort: 8080 },
        };
        for (const [k, v] of Object.entries(over)) {
            const e = refusal({ host, dropIn: { unit: "nginx.service" }, [k]: v });
            assert.deepEqual(e.path, [k]);
            assert.equal(e.message, `The '${k}' argument ${JSON.stringify(v)} is not allowed: expected ${DROP_IN_KEEPS}.`);
        }
        const creds = refusal({ host, dropIn: { unit: "nginx.service" }, credentials: { token: pulumi.secret("s3cret") } });
        assert.equal(creds.message, `The 'credentials' argument "<credentials>" is not allowed: expected ${DROP_IN_KEEPS}.`);
        const when = refusal({ host, dropIn: { unit: "nginx.service" }, startWhenExists: "/etc/x.conf" });
        assert.match(when.message, /^The 'startWhenExists' argument "\/etc\/x\.conf" is not allowed: expected no value with 'dropIn'/);
    });

    it("names a missing description and a missing command of a full unit", () => {
        const d = refusal({ host, execStart: ["/bin/true"] });
        assert.deepEqual(d.path, ["description"]);
        assert.equal(d.allowed, "one line saying what the service is");
        const c = refusal({ host, description: "A service" });
        assert.deepEqual(c.path, ["execStart"]);
        assert.equal(c.allowed, "an argv array of 1 to 256 strings");
    });

    it("throws ArgumentError with the argument's path (no message to parse)", () => {
        const e = refusal({ ...full, loosen: { capabilities: { caps: ["CAP_NET_RAW", "CAP_FOO"], reason } } });
        assert.deepEqual(e.path, ["loosen", "capabilities", "caps", 1]);
        assert.equal(e.arg, "loosen.capabilities.caps[1]");
        const n = refusal({ ...full, user: { name: "mailer" } });
        assert.deepEqual(n.path, ["user", "reason"]);
        assert.equal(n.allowed, REASON_ALLOWED);
        assert.deepEqual(refusal({ ...full, bindPaths: [{ source: "/srv/x", target: "/proc/x" }] }).path, ["bindPaths", 0, "target"]);
    });

    it("takes capabilities and namespaces from the core's one list, sorted", () => {
        const r = resolveServiceArgs("svc", { ...full, loosen: { capabilities: { caps: [...CAPABILITIES].reverse(), reason }, namespaces: { namespaces: [...NAMESPACES].reverse(), reason } } });
        assert.deepEqual(r.loosen.capabilities!.caps, [...CAPABILITIES].sort());
        assert.deepEqual(r.loosen.namespaces!.namespaces, [...NAMESPACES].sort());
        assert.equal(refusal({ ...full, loosen: { namespaces: { namespaces: ["time"], reason } } }).arg, "loosen.namespaces.namespaces[0]");
        assert.equal(refusal({ ...full, loosen: { capabilities: { caps: ["CAP_NET_RAW", "CAP_NET_RAW"], reason } } }).allowed, "distinct entries");
    });

    it("checks a named user by the core's POSIX user rule", () => {
        const e = refusal({ ...full, user: { name: "Mail-er", reason } });
        assert.deepEqual(e.path, ["user", "name"]);
        assert.equal(e.allowed, POSIX_USER_ALLOWED);
    });

    it("wants a reason in words, and writes it trimmed", () => {
        const e = refusal({ ...full, runAsRoot: { reason: "12345678 9" } });
        assert.deepEqual(e.path, ["runAsRoot", "reason"]);
        assert.equal(e.allowed, "a reason in words (8 to 200 printable ASCII characters)");
        assert.equal(refusal({ ...full, runAsRoot: { reason: "short" } }).allowed, REASON_ALLOWED);
        const r = resolveServiceArgs("svc", { ...full, loosen: { privateDevices: { reason: "  renders on the GPU  " } } });
        assert.equal(r.loosen.privateDevices!.reason, "renders on the GPU");
    });

    it("documents every field, with @default on every optional one", () => {
        for (const [k, f] of Object.entries(systemdServiceShape)) {
            assert.ok(f.description && f.description.length > 10, `${k} has no description`);
            if (f.safeParse(undefined).success && k !== "dropIn") assert.match(f.description, /@default /, `${k} is optional without @default`);
        }
        assert.ok(SystemdServiceArgsSchema.safeParse({ ...full }).success);
    });

    it("turns a refusal into a ResourceError in the component", () => {
        assert.throws(() => new SystemdService("bad", { ...full, restartSec: -1 }), (e: unknown) => e instanceof pulumi.ResourceError && /The 'restartSec' argument -1 is not allowed/.test(e.message));
    });

    it("outputs wait for the converge command, as ZfsDataset's and PostgresDb's do", async () => {
        const svc = new SystemdService("waits", full);
        await settle();
        for (const o of [svc.unitName, svc.unitText, svc.hash]) {
            const deps = await (o as unknown as { resources(): Set<pulumi.Resource> }).resources();
            assert.ok(deps.has(svc.command), "the output depends on the converge command");
            assert.equal(await pulumi.isSecret(o), false);
        }
        assert.equal(await resolve(svc.unitName), "waits.service");
    });
});
