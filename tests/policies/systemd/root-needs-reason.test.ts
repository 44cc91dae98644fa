// hearth-systemd-root-needs-reason: root only with a recorded reason.
import { strict as assert } from "assert";
import { SERVICE_TYPE } from "../../../components/tokens";
import { systemdRootNeedsReason as policy } from "../../../policies/systemd/root-needs-reason";
import { resourceArgs, violations } from "../fixtures";
import { assertMetadata } from "../metadata";

/** SystemdService props as the component records them (resolved args). */
function service(identity: Record<string, unknown>): Record<string, any> {
    return { name: "web", unitName: "web.service", identity, loosen: {}, network: "none", host: "h1" };
}

describe("hearth-systemd-root-needs-reason", () => {
    it("has its metadata", () => assertMetadata(policy, "hearth-systemd-root-needs-reason", "mandatory"));

    it("passes a dynamic-user service", async () => {
        assert.deepEqual(await violations(policy, resourceArgs(SERVICE_TYPE, service({ kind: "dynamic" }))), []);
    });

    it("passes root with a reason", async () => {
        assert.deepEqual(await violations(policy, resourceArgs(SERVICE_TYPE, service({ kind: "root", reason: "manages network interfaces on the host" }))), []);
    });

    it("flags root without a reason", async () => {
        const v = await violations(policy, resourceArgs(SERVICE_TYPE, service({ kind: "root" })));
        assert.equal(v.length, 1);
        assert.match(v[0], /runs as root without a recorded reason: 'runAsRoot.reason'.*got null/);
    });

    it("flags root whose reason is a placeholder", async () => {
        const v = await violations(policy, resourceArgs(SERVICE_TYPE, service({ kind: "root", reason: "TODO: fixme later" })));
        assert.match(v.join(), /got "TODO: fixme later"/);
    });

    it("flags raw args naming the root user", async () => {
        assert.equal((await violations(policy, resourceArgs(SERVICE_TYPE, { user: { name: "root" } }))).length, 1);
        assert.equal((await violations(policy, resourceArgs(SERVICE_TYPE, { user: "0" }))).length, 1);
        assert.equal((await violations(policy, resourceArgs(SERVICE_TYPE, { runAsRoot: {} }))).length, 1);
    });

    it("ignores other resource types", async () => {
        assert.deepEqual(await violations(policy, resourceArgs("hearth:zfs:Dataset", service({ kind: "root" }))), []);
    });
});
