// hearth-systemd-root-needs-reason: root only with a recorded reason, judged on the props a real SystemdService records.
import { strict as assert } from "assert";
import { SystemdService, SystemdServiceArgs } from "../../../components/systemd";
import { ZfsDataset } from "../../../components/zfs";
import { systemdRootNeedsReason as policy } from "../../../policies/systemd/root-needs-reason";
import { installMocks } from "../../mocks";
import { declare, fixtureHost, violations } from "../fixtures";
import { assertMetadata } from "../metadata";

/** The recorded props of a real SystemdService named web. */
async function service(extra: Partial<SystemdServiceArgs> = {}) {
    const d = await declare(() => new SystemdService("web", { host: fixtureHost(), description: "web", execStart: ["/usr/bin/web"], ...extra } as SystemdServiceArgs));
    return d.args("web");
}

describe("hearth-systemd-root-needs-reason", () => {
    before(() => installMocks());

    it("has its metadata", () => assertMetadata(policy, "hearth-systemd-root-needs-reason", "mandatory"));

    it("passes a dynamic-user service and a named user", async () => {
        assert.deepEqual(await violations(policy, service()), []);
        assert.deepEqual(await violations(policy, service({ user: { name: "app", reason: "owns files in /srv/app already" } })), []);
    });

    it("passes root with a reason", async () => {
        assert.deepEqual(await violations(policy, service({ runAsRoot: { reason: "manages network interfaces on the host" } })), []);
    });

    it("flags root whose reason the component accepts but says nothing", async () => {
        const v = await violations(policy, service({ runAsRoot: { reason: "TODO: fixme later" } }));
        assert.deepEqual(v, [
            "The service runs as root without a recorded reason: 'runAsRoot.reason' must be a one-line reason of 8 to 200 printable ASCII characters that says why (got \"TODO: fixme later\").",
        ]);
    });

    it("ignores other resource types", async () => {
        const d = await declare(() => new ZfsDataset("data", { host: fixtureHost(), dataset: "tank/app" }));
        assert.deepEqual(await violations(policy, d.args("data")), []);
    });
});
