// hearth-systemd-loosening-needs-reason: every loosening and a named user carry a reason.
import { strict as assert } from "assert";
import { SERVICE_TYPE } from "../../../components/tokens";
import { systemdLooseningNeedsReason as policy } from "../../../policies/systemd/loosening-needs-reason";
import { resourceArgs, violations } from "../fixtures";
import { assertMetadata } from "../metadata";

const args = (props: Record<string, any>) => resourceArgs(SERVICE_TYPE, { name: "web", identity: { kind: "dynamic" }, loosen: {}, ...props });

describe("hearth-systemd-loosening-needs-reason", () => {
    it("has its metadata", () => assertMetadata(policy, "hearth-systemd-loosening-needs-reason", "mandatory"));

    it("passes explained loosenings", async () => {
        const loosen = {
            capabilities: { caps: ["CAP_NET_ADMIN"], reason: "configures the WireGuard interface" },
            memoryDenyWriteExecute: { reason: "V8 JIT needs writable executable memory" },
        };
        assert.deepEqual(await violations(policy, args({ loosen })), []);
    });

    it("flags a loosening without a reason, naming the setting", async () => {
        const v = await violations(policy, args({ loosen: { capabilities: { caps: ["CAP_SYS_ADMIN"] }, privateUsers: { reason: "maps host uids for the backup" } } }));
        assert.equal(v.length, 1);
        assert.match(v[0], /'capabilities' is loosened without a recorded reason: 'loosen.capabilities.reason'/);
    });

    it("flags a loosening given as a bare value", async () => {
        const v = await violations(policy, args({ loosen: { privateDevices: true } }));
        assert.match(v.join(), /'privateDevices' is loosened without a recorded reason/);
    });

    it("flags a loosen that is not a map", async () => {
        assert.match((await violations(policy, args({ loosen: ["privateDevices"] }))).join(), /'loosen' must map each loosened setting/);
    });

    it("flags a named system user without a reason", async () => {
        const v = await violations(policy, args({ identity: { kind: "named", name: "app", reason: "n/a" } }));
        assert.match(v.join(), /system user "app" .* without a recorded reason/);
    });
});
