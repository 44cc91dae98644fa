// hearth-command-host-key-pinned: remote commands pin the host key (and the jump host's) with a real OpenSSH public key; mandatory.
import { strict as assert } from "assert";
import { commandHostKeyPinned as policy } from "../../../policies/command/host-key-pinned";
import { installMocks } from "../../mocks";
import { commandArgs, HOST_KEY, violations } from "../fixtures";
import { assertMetadata } from "../metadata";

const ECDSA = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBIboypIehrWkvBA9k5VmVgykw5AUSvXXREvz9DQs0iFvPURhdkVhYTBQCNyBgOIFg/aod8zN9fSmdjQK0NO6PWU= bastion";

describe("hearth-command-host-key-pinned", () => {
    before(() => installMocks());

    it("has its metadata (mandatory)", () => assertMetadata(policy, "hearth-command-host-key-pinned", "mandatory"));

    it("passes a pinned host and jump host", async () => {
        assert.deepEqual(await violations(policy, commandArgs({ proxy: { host: "bastion", hostKey: ECDSA } })), []);
    });

    it("flags an unpinned host", async () => {
        assert.deepEqual(await violations(policy, commandArgs({ hostKey: null })), [
            "The host \"10.231.0.2\" is not pinned: 'hostKey' is not set, so any key the host presents is accepted.",
        ]);
    });

    it("flags an empty host key", async () => {
        assert.match((await violations(policy, commandArgs({ hostKey: "" }))).join(), /host "10.231.0.2" is not pinned/);
    });

    it("flags an unpinned jump host", async () => {
        assert.match((await violations(policy, commandArgs({ proxy: { host: "bastion" } }))).join(), /jump host "bastion" is not pinned/);
    });

    const bad: [string, string, RegExp][] = [
        ["a fingerprint", "SHA256:abcdef", /not an SSH public key: The 'connection.hostKey' argument "SHA256:abcdef" is not allowed/],
        ["a type whose blob is of another type", HOST_KEY.replace(/^ssh-ed25519/, "ssh-rsa"), /'connection.hostKey'.*a "ssh-ed25519" key, not ssh-rsa/],
        ["a truncated key", HOST_KEY.slice(0, -6), /'connection.hostKey'.*not whole base64|'connection.hostKey'.*truncated/],
        ["the key the regex used to accept", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHearthExamplePlaceholderHostKeyReplaceMe01", /'connection.hostKey'/],
        ["two keys on two lines", `${HOST_KEY}\n${HOST_KEY}`, /'connection.hostKey'.*one line/],
    ];
    for (const [what, key, re] of bad) {
        it(`flags ${what}`, async () => {
            const found = await violations(policy, commandArgs({ hostKey: key }));
            assert.equal(found.length, 1, found.join("\n"));
            assert.match(found[0], re);
        });
    }

    it("flags a jump host key that is not a key, naming the proxy's argument", async () => {
        const found = await violations(policy, commandArgs({ proxy: { host: "bastion", hostKey: "ssh-ed25519 AAAA" } }));
        assert.equal(found.length, 1);
        assert.match(found[0], /^The jump host "bastion" has a 'hostKey' that is not an SSH public key: The 'connection.proxy.hostKey' argument "ssh-ed25519 AAAA"/);
    });

    it("never echoes a private key pasted as the host key", async () => {
        const pasted = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n";
        const found = await violations(policy, commandArgs({ hostKey: pasted }));
        assert.equal(found.length, 1);
        assert.match(found[0], /<a private key, not shown>/);
        assert.ok(!found[0].includes("b3BlbnNzaC1rZXkt"), found[0]);
    });
});
