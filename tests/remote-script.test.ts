// remoteScript's lifecycle (delete-only) command: it follows connection changes, so its delete always logs in with the host's current connection.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host, MAX_COMMAND_BYTES, remoteScript } from "../components/host";
import { RUNTIME } from "../components/core/runtime";
import { installMocks, recorded, resetRecorded, settle, TEST_BASTION_KEY, TEST_HOST_KEY } from "./mocks";

const ROTATED_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINiAQcPMiq/LgCVEIcZ+Y24tZdfjllyIFwQES3gfZQrT rotated";
const key = (k: string) => pulumi.secret(`-----BEGIN OPENSSH PRIVATE KEY-----\n${k}\n-----END OPENSSH PRIVATE KEY-----\n`);

/** Registers one component's commands on `host` and returns the options each command was registered with. */
async function register(host: Host): Promise<Map<string, pulumi.CustomResourceOptions>> {
    const opts = new Map<string, pulumi.CustomResourceOptions>();
    // A transformation sees the options exactly as the resource is registered with them.
    const spy: pulumi.ResourceTransformation = (a) => {
        opts.set(a.name, a.opts as pulumi.CustomResourceOptions);
        return undefined;
    };
    remoteScript("svc-converge", { host, script: "true", deleteScript: "rm -f /etc/svc", hash: "c".repeat(64) }, { transformations: [spy] });
    await settle();
    return opts;
}

describe("remoteScript lifecycle command", () => {
    before(() => installMocks());
    beforeEach(() => resetRecorded());

    it("does not ignore connection changes (a connection change is an in-place update in @pulumi/command 1.2.1)", async () => {
        const host = new Host({ name: "box", address: "10.0.0.1", privateKey: key("one"), hostKey: TEST_HOST_KEY });
        const opts = await register(host);
        assert.deepEqual([...opts.keys()].sort(), ["svc-converge", "svc-converge-lifecycle"]);
        for (const [name, o] of opts) {
            assert.ok(o.ignoreChanges === undefined || o.ignoreChanges.length === 0, `${name} ignores ${JSON.stringify(o.ignoreChanges)}`);
            // The SDK itself marks `triggers` replaceOnChanges (which hearth never sets); nothing else may be.
            assert.deepEqual((o.replaceOnChanges ?? []).filter((p) => !p.startsWith("triggers")), [], `${name} is replaced only on triggers`);
        }
        const life = recorded.find((r) => r.name === "svc-converge-lifecycle")!;
        assert.equal(life.inputs.triggers, undefined, "triggers are replaceOnChanges");
        assert.equal(life.inputs.create, undefined);
        assert.equal(life.inputs.update, undefined, "an update of the lifecycle command runs nothing");
    });

    it("carries the host's current connection: address, user, port, private key, host key and bastion", async () => {
        // The same component after re-addressing the host, rotating its SSH key and host key, and adding a bastion.
        const before = new Host({ name: "box", address: "10.0.0.1", privateKey: key("one"), hostKey: TEST_HOST_KEY });
        await register(before);
        const old = recorded.find((r) => r.name === "svc-converge-lifecycle")!;
        assert.equal(old.inputs.connection.host, "10.0.0.1");
        resetRecorded();

        const after = new Host({
            name: "box",
            address: "10.0.9.9",
            port: 2222,
            user: "ops",
            privateKey: key("two"),
            hostKey: ROTATED_HOST_KEY,
            proxy: { address: "bastion.example.org", privateKey: key("three"), hostKey: TEST_BASTION_KEY },
        });
        await register(after);
        const converge = recorded.find((r) => r.name === "svc-converge")!;
        const life = recorded.find((r) => r.name === "svc-converge-lifecycle")!;
        const c = life.inputs.connection;
        assert.equal(c.host, "10.0.9.9");
        assert.equal(c.port, 2222);
        assert.equal(c.user, "ops");
        assert.match(c.privateKey, /\ntwo\n/);
        assert.equal(c.hostKey, ROTATED_HOST_KEY);
        assert.equal(c.proxy.host, "bastion.example.org");
        assert.equal(c.proxy.hostKey, TEST_BASTION_KEY);
        assert.match(c.proxy.privateKey, /\nthree\n/);
        assert.deepEqual(c, converge.inputs.connection, "the delete logs in exactly as the converge does");
        assert.equal(life.inputs.delete, after.wrap("rm -f /etc/svc"), "the delete runs under the current user's sudo wrapping");
    });

    it("refuses, before registering anything, a converge or delete command longer than one argument may be on a host", async () => {
        const host = new Host({ name: "box", address: "10.0.0.1", privateKey: key("one"), hostKey: TEST_HOST_KEY });
        // A command carries of the runtime only what it reaches: the quoted text alone is over the limit.
        const big = RUNTIME + "\n: '" + "x".repeat(MAX_COMMAND_BYTES) + "'";
        assert.throws(
            () => remoteScript("big-converge", { host, script: big, hash: "c".repeat(64) }, {}),
            /remoteScript big-converge: the converge command is \d+ bytes; a host runs it as one argument of at most 131071 bytes/,
        );
        assert.throws(
            () => remoteScript("big-delete", { host, script: "true", deleteScript: big, hash: "c".repeat(64) }, {}),
            /remoteScript big-delete: the delete command is \d+ bytes/,
        );
        await settle();
        assert.deepEqual(recorded.filter((r) => r.name.startsWith("big-")).map((r) => r.name), []);
        // A script with the runtime and a component's usual body fits.
        remoteScript("usual-converge", { host, script: RUNTIME + "\n" + "hearth_say ok\n".repeat(500), hash: "c".repeat(64) }, {});
        await settle();
        assert.ok(recorded.some((r) => r.name === "usual-converge"));
    });
});
