// SystemdService under Pulumi mocks: outputs, one converge command (plus its delete-only lifecycle), secrets kept secret, content hashes stable and specific.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { convergedKey, convergeTail } from "../../components/core/check";
import { scriptHash } from "../../components/host";
import { parseScriptFiles } from "../../components/shell";
import { renderService, resolveServiceArgs, SystemdService } from "../../components/systemd";
import { REMOTE_COMMAND_TYPE, SERVICE_TYPE } from "../../components/tokens";
import { installMocks, isSecret, plainStrings, recorded, resetRecorded, resolve, settle } from "../mocks";
import { SCENARIO_SECRETS, scenarios, testHost } from "./scenarios";
import { markOf } from "./marks";

/** Every scenario on one host, as a site stack would declare them; returns the content hash each converge command carries, by service. */
async function declareAll(edit?: (name: string, args: any) => any): Promise<{ services: Map<string, SystemdService>; triggers: Map<string, string> }> {
    resetRecorded();
    const host = testHost();
    const services = new Map<string, SystemdService>();
    for (const s of scenarios()) services.set(s.name, new SystemdService(s.name, { host, ...(edit ? edit(s.name, s.args) : s.args) }));
    await settle();
    const triggers = new Map<string, string>();
    for (const r of recorded.filter((r) => r.type === REMOTE_COMMAND_TYPE && r.name.endsWith("-converge"))) triggers.set(r.name.replace(/-converge$/, ""), scriptHash(r.inputs.create)!);
    return { services, triggers };
}

describe("SystemdService component", () => {
    before(() => installMocks());

    it("registers one hearth:systemd:Service, one converge command and one delete-only lifecycle command per service", async () => {
        const { services } = await declareAll();
        for (const name of services.keys()) {
            const commands = recorded.filter((r) => r.type === REMOTE_COMMAND_TYPE && r.name.startsWith(`${name}-`));
            assert.deepEqual(commands.map((c) => c.name), [`${name}-converge`, `${name}-converge-lifecycle`]);
            assert.equal(recorded.filter((r) => r.type === SERVICE_TYPE && r.name === name).length, 1);
        }
        assert.equal(recorded.length, 3 * services.size);
    });

    it("outputs the unit name, the rendered unit text and the content hash", async () => {
        const { services } = await declareAll();
        const host = testHost();
        for (const s of scenarios()) {
            const r = renderService(resolveServiceArgs(s.name, { host, ...s.args }), markOf(s.name));
            const svc = services.get(s.name)!;
            assert.equal(await resolve(svc.unitName), r.unitName);
            assert.equal(await resolve(svc.unitText), r.unitText);
            assert.equal(await resolve(svc.hash), r.hash);
            const cmd = recorded.find((x) => x.name === `${s.name}-converge`)!;
            assert.equal(cmd.inputs.triggers, undefined, "no triggers: they are replaceOnChanges");
            assert.equal(scriptHash(cmd.inputs.create), r.hash);
            assert.equal(cmd.inputs.create, cmd.inputs.update, "update re-runs the converge script");
            // The script, then the record of its completion and its drift check lines as comments (core/check.ts).
            const tail = convergeTail(convergedKey(pulumi.getProject(), pulumi.getStack(), `${s.name}-converge`), r.hash, undefined, r.script, r.check);
            assert.equal(cmd.inputs.create, host.wrap(`# hearth-content: ${r.hash}\n${r.script.replace(/\n$/, "")}\n${tail}\n`));
            assert.ok(r.check.length > 0 && r.check.every((l) => cmd.inputs.create.includes(`# hearth-check: ${l.replace(/'/g, "'\"'\"'")}`)), "the converge carries its check lines");
            assert.equal(cmd.inputs.delete, undefined);
            const life = recorded.find((x) => x.name === `${s.name}-converge-lifecycle`)!;
            assert.equal(life.inputs.delete, host.wrap(r.deleteScript));
        }
        assert.equal(await resolve(services.get("nginx")!.unitName), "nginx.service");
        assert.equal(services.get("web")!.hostname, "www.example.org");
    });

    it("sends unit files over stdin, recoverable by parseScriptFiles, with credentials as trailing secret frames", async () => {
        await declareAll();
        const api = recorded.find((x) => x.name === "api-converge")!;
        const files = parseScriptFiles(renderService(resolveServiceArgs("api", { host: testHost(), ...scenarios().find((s) => s.name === "api")!.args }), markOf("api")).script, api.inputs.stdin);
        assert.deepEqual(files.map((f) => f.path), ["/etc/systemd/system/api.service"]);
        assert.ok(api.inputs.stdin.endsWith(`${SCENARIO_SECRETS[0].length}\n${SCENARIO_SECRETS[0]}${SCENARIO_SECRETS[1].length}\n${SCENARIO_SECRETS[1]}`), "credentials follow the files in name order");
        assert.ok(!files.some((f) => SCENARIO_SECRETS.some((v) => f.content.includes(v))), "no secret becomes a file body");
    });

    it("marks stdin secret exactly when the service has credentials", async () => {
        await declareAll();
        for (const s of scenarios()) {
            const raw = recorded.find((x) => x.name === `${s.name}-converge`)!.rawInputs.stdin;
            const secret = plainStrings({ stdin: raw }).length === 0;
            assert.equal(secret, s.args.credentials !== undefined, `${s.name}: stdin secret=${secret}`);
        }
        const cmd = new SystemdService("solo", { host: testHost(), ...scenarios().find((s) => s.name === "api")!.args });
        await settle();
        assert.equal(await isSecret(cmd.unitText), false, "the unit text carries no secret");
    });

    it("never shows a secret value in plain text: scripts, delete, component inputs, outputs", async () => {
        const { services } = await declareAll();
        for (const r of recorded) {
            for (const text of plainStrings(r.rawInputs)) {
                for (const v of SCENARIO_SECRETS) assert.ok(!text.includes(v), `${r.type} ${r.name} shows a secret in plain text`);
            }
            for (const k of ["create", "update", "delete"]) {
                if (r.inputs[k] !== undefined) for (const v of SCENARIO_SECRETS) assert.ok(!String(r.inputs[k]).includes(v), `${r.name}.${k}`);
            }
        }
        const component = recorded.find((r) => r.type === SERVICE_TYPE && r.name === "api")!;
        assert.deepEqual(component.inputs.credentials, ["api-token", "db.password"], "the component records credential names only");
        for (const svc of services.values()) {
            for (const o of [svc.unitText, svc.hash, svc.unitName]) {
                const v = await resolve(o);
                for (const s of SCENARIO_SECRETS) assert.ok(!v.includes(s));
            }
        }
    });

    it("records the resolved arguments (loosenings with reasons) as the component's inputs for the policy pack", async () => {
        await declareAll();
        const jit = recorded.find((r) => r.type === SERVICE_TYPE && r.name === "jit")!;
        assert.equal(jit.inputs.loosen.memoryDenyWriteExecute.reason, "the JavaScript engine compiles to native code");
        assert.equal(jit.inputs.network, "local");
        assert.equal(jit.inputs.host, "box");
        assert.match(jit.inputs.unitText, /^# hearth loosening 'privateDevices': renders on \/dev\/dri\/renderD128$/m);
    });

    it("keeps every trigger stable across two identical runs", async () => {
        const a = await declareAll();
        const b = await declareAll();
        assert.equal(a.triggers.size, scenarios().length);
        assert.deepEqual([...b.triggers], [...a.triggers]);
    });

    it("changes only the edited service's trigger, for any one edited argument", async () => {
        const base = await declareAll();
        const edits: [string, (a: any) => any][] = [
            ["plain", (a) => ({ ...a, memoryMaxMiB: 512 })],
            ["web", (a) => ({ ...a, listenPorts: [80, 8443] })],
            ["scale0", (a) => ({ ...a, socket: { ...a.socket, idleStopSec: 31 } })],
            ["backup", (a) => ({ ...a, timer: { ...a.timer, onCalendar: "*-*-* 04:30:00" } })],
            ["nginx", (a) => ({ ...a, readWritePaths: ["/var/lib/nginx"] })],
            ["lan", (a) => ({ ...a, environment: { ...a.environment, LABEL: "rack B" } })],
        ];
        for (const [target, edit] of edits) {
            const after = await declareAll((name, a) => (name === target ? edit(a) : a));
            for (const [name, trigger] of base.triggers) {
                if (name === target) assert.notEqual(after.triggers.get(name), trigger, `${name} should change`);
                else assert.equal(after.triggers.get(name), trigger, `${name} changed when only ${target} was edited`);
            }
        }
    });

    it("a rotated secret changes stdin, not the trigger (the trigger never derives from a secret)", async () => {
        const base = await declareAll();
        const baseStdin = recorded.find((r) => r.name === "api-converge")!.inputs.stdin;
        const after = await declareAll((name, a) => (name === "api" ? { ...a, credentials: { ...a.credentials, "api-token": pulumi.secret("rotated-value-123") } } : a));
        assert.equal(after.triggers.get("api"), base.triggers.get("api"));
        const stdin = recorded.find((r) => r.name === "api-converge")!.inputs.stdin;
        assert.notEqual(stdin, baseStdin, "stdin differs, so the command updates");
        assert.ok(stdin.includes("rotated-value-123"));
    });
});
