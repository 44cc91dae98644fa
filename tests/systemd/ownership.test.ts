// SystemdService ownership (issue 11, findings 4, 6, 9, 10): owner marks in every file, plan-time claims, aliases and
// adopt, and scripts that decide from host state (no pending marker, no "this run changed a file").
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ownerId } from "../../components/core/owner";
import { RUNTIME } from "../../components/core/runtime";
import { renderService, SystemdFullServiceArgs, SystemdService } from "../../components/systemd";
import { REMOTE_COMMAND_TYPE, SERVICE_TYPE } from "../../components/tokens";
import { installMocks, recorded, resetRecorded, settle } from "../mocks";
import { markOf } from "./marks";
import { testHost } from "./scenarios";

const svc = (extra: Partial<SystemdFullServiceArgs> = {}) => ({ description: "A service", execStart: ["/bin/sleep", "infinity"], ...extra });

function refusedNaming(arg: string) {
    return (e: unknown) => {
        assert.ok(e instanceof pulumi.ResourceError, `not a ResourceError: ${e}`);
        assert.ok(e.message.includes(`The '${arg}' argument`), `message does not name '${arg}': ${e.message}`);
        return true;
    };
}

function script(name: string, op: "create" | "delete"): string {
    const c = recorded.find((r) => r.type === REMOTE_COMMAND_TYPE && r.name === (op === "create" ? `${name}-converge` : `${name}-converge-lifecycle`))!;
    return op === "create" ? c.inputs.create : c.inputs.delete;
}

describe("SystemdService ownership", () => {
    before(() => installMocks());
    beforeEach(() => resetRecorded());

    it("marks every file with the resource's owner line (project, stack, type, name)", async () => {
        const host = testHost();
        const s = new SystemdService("api", { host, ...svc({ socket: { listenStream: 8081, idleStopSec: 5, targetPort: 8080 } }) });
        await settle();
        const id = ownerId("hearth", "test", SERVICE_TYPE, "api");
        const create = script("api", "create");
        assert.ok(create.includes(`hearth_owner=${id}`));
        const text = await new Promise<string>((r) => s.unitText.apply(r));
        assert.equal(text.split("\n")[1], `# hearth-owner: ${id}`);
    });

    it("finding 10: a socket-activated web and a service named web-proxy are refused at plan time, naming the argument", async () => {
        const host = testHost();
        new SystemdService("web", { host, ...svc({ socket: { listenStream: 8081, idleStopSec: 5, targetPort: 8080 } }) });
        assert.throws(() => new SystemdService("web-proxy", { host, ...svc() }), refusedNaming("unitName"));
        const other = testHost();
        new SystemdService("web-proxy", { host: other, ...svc() });
        assert.throws(() => new SystemdService("web", { host: other, ...svc({ socket: { listenStream: 8081, idleStopSec: 5, targetPort: 8080 } }) }), refusedNaming("socket"));
    });

    it("finding 10: a plain web never names web-proxy in its scripts (clean-up goes by its own mark, not by name)", async () => {
        const host = testHost();
        new SystemdService("web", { host, ...svc() });
        new SystemdService("web-proxy", { host, ...svc() });
        await settle();
        for (const op of ["create", "delete"] as const) assert.doesNotMatch(script("web", op), /web-proxy/, op);
    });

    it("finding 6: two resources on one unit (or one drop-in) are refused at plan time", () => {
        const host = testHost();
        new SystemdService("a", { host, ...svc({ unitName: "app" }) });
        assert.throws(() => new SystemdService("b", { host, ...svc({ unitName: "app.service" }) }), refusedNaming("unitName"));
        new SystemdService("n1", { host, dropIn: { unit: "nginx.service" } });
        assert.throws(() => new SystemdService("n2", { host, dropIn: { unit: "nginx.service" } }), refusedNaming("dropIn"));
        new SystemdService("n3", { host, dropIn: { unit: "nginx.service", name: "60-limits" } });
        new SystemdService("t", { host, ...svc({ timer: { onCalendar: "daily" } }) });
        assert.throws(() => new SystemdService("t2", { host, ...svc({ unitName: "t", description: "other" }) }), refusedNaming("unitName"));
    });

    it("carries aliases and adopt into the scripts; refuses an adopt that is not a boolean", async () => {
        const host = testHost();
        new SystemdService("renamed", { host, ...svc({ unitName: "old" }) }, { aliases: [{ name: "old" }] });
        new SystemdService("taker", { host, ...svc({ unitName: "other" }), adopt: true });
        await settle();
        assert.ok(script("renamed", "create").includes(`hearth_aliases=(${ownerId("hearth", "test", SERVICE_TYPE, "old")})`));
        assert.ok(script("renamed", "delete").includes(`hearth_aliases=(${ownerId("hearth", "test", SERVICE_TYPE, "old")})`));
        assert.ok(script("taker", "create").includes("hearth_adopt=1"));
        assert.throws(() => new SystemdService("bad", { host, ...svc(), adopt: "yes" as unknown as boolean }), refusedNaming("adopt"));
    });

    it("finding 4: decides restarts from the recorded digest, never from what this run wrote", async () => {
        const host = testHost();
        const api = new SystemdService("api", { host, ...svc({ credentials: { token: pulumi.secret("s3cret-value") } }) });
        await settle();
        assert.ok(!script("api", "create").includes("s3cret-value"));
        const create = renderService(api.resolved, markOf("api")).script;
        const calls = create.replace(RUNTIME, "");
        // No "this run changed it" flag or pending-restart marker (the packages hand-off, hearth_apt_mask_pending, is a
        // record of another resource's, read from host state).
        assert.doesNotMatch(calls.replace(/hearth_apt_mask_pending/g, ""), /hearth_changed|pending/);
        assert.match(calls, /hearth_d=\$\(hearth_digest \/etc\/systemd\/system\/api\.service \/etc\/credstore\/api\.service\/token\)/);
        assert.match(calls, /if \[ "\$hearth_d" != "\$\(hearth_applied systemd\/api\.service\)" \]; then\n {2}systemctl restart -- api\.service\n {2}hearth_step\n/);
        // Recorded only after the restart: a run killed before it restarts on the next run.
        assert.ok(calls.indexOf("hearth_record systemd/api.service") > calls.indexOf("systemctl restart -- api.service"));
    });
});
