// hearth-command-host-key-pinned: remote commands pin the host key (advisory by default).
import { strict as assert } from "assert";
import { commandHostKeyPinned as policy } from "../../../policies/command/host-key-pinned";
import { commandArgs, HOST_KEY, violations } from "../fixtures";
import { assertMetadata } from "../metadata";

describe("hearth-command-host-key-pinned", () => {
    it("has its metadata (advisory)", () => assertMetadata(policy, "hearth-command-host-key-pinned", "advisory"));

    it("passes a pinned host and jump host", async () => {
        assert.deepEqual(await violations(policy, commandArgs({ proxy: { host: "bastion", hostKey: HOST_KEY } })), []);
    });

    it("flags an unpinned host", async () => {
        assert.deepEqual(await violations(policy, commandArgs({ hostKey: null })), [
            "The host \"10.231.0.2\" is not pinned: 'hostKey' is not set, so any key the host presents is accepted.",
        ]);
    });

    it("flags an unpinned jump host", async () => {
        assert.match((await violations(policy, commandArgs({ proxy: { host: "bastion" } }))).join(), /jump host "bastion" is not pinned/);
    });

    it("flags a host key that is not a public key line", async () => {
        assert.match((await violations(policy, commandArgs({ hostKey: "SHA256:abcdef" }))).join(), /not an SSH public key line/);
    });
});
