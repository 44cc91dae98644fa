// hearth-systemd-loosening-needs-reason: every loosening and a named user carry a reason, judged on the props a real
// SystemdService records (the component takes any reason of the right length; the policy wants one in words).
import { strict as assert } from "assert";
import { SystemdService, SystemdServiceArgs } from "../../../components/systemd";
import { systemdLooseningNeedsReason as policy } from "../../../policies/systemd/loosening-needs-reason";
import { installMocks } from "../../mocks";
import { declare, fixtureHost, violations } from "../fixtures";
import { assertMetadata } from "../metadata";

async function service(extra: Partial<SystemdServiceArgs>) {
    const d = await declare(() => new SystemdService("web", { host: fixtureHost(), description: "web", execStart: ["/usr/bin/node", "server.js"], ...extra } as SystemdServiceArgs));
    return d.args("web");
}

describe("hearth-systemd-loosening-needs-reason", () => {
    before(() => installMocks());

    it("has its metadata", () => assertMetadata(policy, "hearth-systemd-loosening-needs-reason", "mandatory"));

    it("passes explained loosenings and a service without any", async () => {
        assert.deepEqual(await violations(policy, service({})), []);
        const loosen = {
            capabilities: { caps: ["CAP_NET_ADMIN" as const], reason: "configures the WireGuard interface" },
            memoryDenyWriteExecute: { reason: "V8 JIT needs writable executable memory" },
        };
        assert.deepEqual(await violations(policy, service({ loosen })), []);
    });

    it("flags a loosening whose reason says nothing, naming the setting", async () => {
        const v = await violations(policy, service({ loosen: { capabilities: { caps: ["CAP_SYS_ADMIN"], reason: "todo later" }, privateUsers: { reason: "maps host uids for the backup" } } }));
        assert.equal(v.length, 1);
        assert.match(v[0], /'capabilities' is loosened without a recorded reason: 'loosen.capabilities.reason' must be .* \(got "todo later"\)/);
    });

    it("flags a named system user without a reason in words", async () => {
        const v = await violations(policy, service({ user: { name: "app", reason: "TODO fixme later" } }));
        assert.match(v.join(), /system user "app" .* without a recorded reason/);
    });
});
