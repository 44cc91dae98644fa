// Host: connection building, secret private keys, sudo wrapping, and remoteScript's command shape under mocks.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { spawnSync } from "child_process";
import { Host, remoteScript, scriptHash } from "../components/host";
import { Script } from "../components/shell";
import { installMocks, plainStrings, recorded, resetRecorded, resolve, settle } from "./mocks";

const key = () => pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n");

describe("Host", () => {
    before(() => installMocks());
    beforeEach(() => resetRecorded());

    it("refuses a private key that is not a Pulumi secret, naming the argument", () => {
        assert.throws(() => new Host({ name: "box", address: "10.0.0.1", privateKey: "plain" as any }), /'host.privateKey' argument must be a Pulumi secret/);
        assert.throws(() => new Host({ name: "box", address: "10.0.0.1", privateKey: key(), proxy: { address: "b", privateKey: "x" as any } }), /'host.proxy.privateKey'/);
    });

    const bad: [string, Partial<ConstructorParameters<typeof Host>[0]>, RegExp][] = [
        ["name with dot", { name: "a.b" }, /'host.name' argument "a.b"/],
        ["name with space", { name: "a b" }, /'host.name'/],
        ["uppercase name", { name: "Box" }, /'host.name'/],
        ["port 0", { port: 0 }, /'host.port' argument 0 .*1 to 65535/],
        ["port 70000", { port: 70000 }, /'host.port'/],
        ["user with semicolon", { user: "root;id" }, /'host.user' argument "root;id"/],
        ["user with newline", { user: "a\nb" }, /'host.user' argument "a\\nb"/],
    ];
    for (const [what, over, re] of bad) {
        it(`rejects ${what}`, () => {
            assert.throws(() => new Host({ name: "box", address: "10.0.0.1", privateKey: key(), ...over } as any), re);
        });
    }

    it("runs scripts with bash, under sudo -n for non-root users", () => {
        const root = new Host({ name: "box", address: "h", privateKey: key() });
        const ops = new Host({ name: "box", address: "h", user: "ops", privateKey: key() });
        assert.equal(root.sudo, false);
        assert.equal(ops.sudo, true);
        assert.match(root.wrap("echo hi"), /^bash --noprofile --norc -c /);
        assert.match(ops.wrap("echo hi"), /^sudo -n -- bash --noprofile --norc -c /);
        const r = spawnSync("sh", ["-c", root.wrap("printf '%s' \"it's $((1+1))\"")], { encoding: "utf8" });
        assert.equal(r.stdout, "it's 2");
    });

    it("registers a converge command (create = update, hash on its first line, no triggers) and a delete-only lifecycle command", async () => {
        const host = new Host({ name: "box", address: "10.0.0.1", privateKey: key(), hostKey: "ssh-ed25519 AAAA" });
        const hash = "a".repeat(64);
        const s = new Script("t").raw("true");
        const { converge, lifecycle } = remoteScript("t-converge", { host, script: s.render(), deleteScript: "rm -f /x", hash, stdin: "0\n" }, {});
        await settle();
        assert.equal(await pulumi.isSecret(converge.connection.apply((c) => c.privateKey)), true);
        const rec = recorded.find((r) => r.name === "t-converge");
        assert.ok(rec, "command recorded");
        assert.equal(rec!.type, "command:remote:Command");
        assert.equal(rec!.inputs.create, rec!.inputs.update);
        assert.equal(scriptHash(rec!.inputs.create), hash);
        assert.equal(rec!.inputs.triggers, undefined, "triggers are replaceOnChanges: a content change must update, not replace");
        assert.equal(rec!.inputs.delete, undefined, "the converge command never deletes");
        assert.equal(rec!.inputs.addPreviousOutputInEnv, false);
        assert.equal(rec!.inputs.connection.hostKey, "ssh-ed25519 AAAA");
        assert.ok(!plainStrings(rec!.rawInputs).some((s) => s.includes("PRIVATE KEY")), "private key only as a secret");
        assert.equal(await resolve(converge.stdin), "0\n");
        const life = recorded.find((r) => r.name === "t-converge-lifecycle");
        assert.ok(lifecycle && life, "lifecycle command recorded");
        assert.equal(life!.inputs.create, undefined, "the lifecycle command opens no SSH session on create");
        assert.equal(life!.inputs.update, undefined);
        assert.equal(life!.inputs.delete, host.wrap("rm -f /x"));
    });

    it("refuses a hash that is not a sha256 digest", () => {
        const host = new Host({ name: "box", address: "h", privateKey: key() });
        assert.throws(() => remoteScript("x", { host, script: "true", hash: "abc" }, {}), /sha256/);
    });
});
