// Host (components/host.ts), under mocks: connection building, secret private keys, sudo wrapping, remoteScript's command
// shape. A unit spec; the real-host harness is tests/host/.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { spawnSync } from "child_process";
import { Host, remoteScript, scriptHash } from "../components/host";
import { Script } from "../components/shell";
import { installMocks, plainStrings, recorded, resetRecorded, resolve, settle, TEST_BASTION_KEY, TEST_HOST_KEY } from "./mocks";

const key = () => pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n");

describe("Host", () => {
    before(() => installMocks());
    beforeEach(() => resetRecorded());

    it("refuses a private key that is not a Pulumi secret, naming the argument", () => {
        assert.throws(() => new Host({ name: "box", address: "10.0.0.1", privateKey: "plain" as any, hostKey: TEST_HOST_KEY }), /'host.privateKey' argument "<a plain string>" is not allowed: expected a Pulumi secret/);
        assert.throws(
            () => new Host({ name: "box", address: "10.0.0.1", privateKey: key(), hostKey: TEST_HOST_KEY, proxy: { address: "b", privateKey: "x" as any, hostKey: TEST_BASTION_KEY } }),
            /'host.proxy.privateKey'/,
        );
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
            assert.throws(() => new Host({ name: "box", address: "10.0.0.1", privateKey: key(), hostKey: TEST_HOST_KEY, ...over } as any), re);
        });
    }

    it("runs scripts with bash, under sudo -n for non-root users", () => {
        const root = new Host({ name: "box", address: "h", privateKey: key(), hostKey: TEST_HOST_KEY });
        const ops = new Host({ name: "box", address: "h", user: "ops", privateKey: key(), hostKey: TEST_HOST_KEY });
        assert.equal(root.sudo, false);
        assert.equal(ops.sudo, true);
        assert.match(root.wrap("echo hi"), /^bash --noprofile --norc -c /);
        assert.match(ops.wrap("echo hi"), /^sudo -n -- bash --noprofile --norc -c /);
        const r = spawnSync("sh", ["-c", root.wrap("printf '%s' \"it's $((1+1))\"")], { encoding: "utf8" });
        assert.equal(r.stdout, "it's 2");
    });

    it("registers a converge command (create = update, hash on its first line, no triggers) and a delete-only lifecycle command", async () => {
        const host = new Host({ name: "box", address: "10.0.0.1", privateKey: key(), hostKey: TEST_HOST_KEY });
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
        assert.equal(rec!.inputs.connection.hostKey, TEST_HOST_KEY);
        assert.ok(!plainStrings(rec!.rawInputs).some((s) => s.includes("PRIVATE KEY")), "private key only as a secret");
        assert.equal(await resolve(converge.stdin), "0\n");
        const life = recorded.find((r) => r.name === "t-converge-lifecycle");
        assert.ok(lifecycle && life, "lifecycle command recorded");
        assert.equal(life!.inputs.create, undefined, "the lifecycle command opens no SSH session on create");
        assert.equal(life!.inputs.update, undefined);
        assert.equal(life!.inputs.delete, host.wrap("rm -f /x"));
    });

    it("refuses a hash that is not a sha256 digest", () => {
        const host = new Host({ name: "box", address: "h", privateKey: key(), hostKey: TEST_HOST_KEY });
        assert.throws(() => remoteScript("x", { host, script: "true", hash: "abc" }, {}), /sha256/);
    });
});

/** An SSH wire blob: each part as a uint32 length and its bytes. */
function wire(...parts: (string | Buffer)[]): string {
    return Buffer.concat(parts.map((p) => {
        const b = typeof p === "string" ? Buffer.from(p, "latin1") : p;
        const len = Buffer.alloc(4);
        len.writeUInt32BE(b.length);
        return Buffer.concat([len, b]);
    })).toString("base64");
}

describe("Host: every host is pinned, bastions too", () => {
    before(() => installMocks());
    beforeEach(() => resetRecorded());

    const ED25519_BLOB = TEST_HOST_KEY.split(" ")[1];
    const ECDSA = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBIboypIehrWkvBA9k5VmVgykw5AUSvXXREvz9DQs0iFvPURhdkVhYTBQCNyBgOIFg/aod8zN9fSmdjQK0NO6PWU=";
    const RSA =
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDRmylo1KMlVxx1yD5k/r8Uq2tdlqdG6bgS/YWr4H1n3qtnLRd1IVyvStCjyeXx0bwt5jseMC3y6To9D7dpW9RLCd//v/9zPofnME8pLzqrxCk5e9o3SvxpjuoKlL0IcG0VUR6w1FE0WZiKFLcJW7irnSclLvrQGV/WAMuQcaw11is3xvF0RW5U3iCpojhyJ7q+chOT7emIGL/0CTszEb+cm8z93q60BNE0Y2ZHI/uuTtLZCeQoq+vXiWcLsb0R86CBBg6ddosLvby0h24gNfJHy78WSVrO+sk7hieySiYMrghLoLudyyLeJgQw+LyG34xtGmHr/i1pY86BjbWF2epx";
    const PRIVATE = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACDnotarealkeyjustshapedlikeone0000000000000000000000\n-----END OPENSSH PRIVATE KEY-----\n";
    const ALLOWED = /expected an OpenSSH public key line '<type> <base64> \[comment\]' with type one of ssh-ed25519, /;
    const HOW_TO_GET = /expected the host's public key.*\/etc\/ssh\/ssh_host_ed25519_key\.pub.*ssh-keyscan -t ed25519/;

    const hostile: [string, unknown, RegExp[]][] = [
        ["a missing host key", undefined, [/^The 'host.hostKey' argument undefined is not allowed: /, HOW_TO_GET]],
        ["an empty host key", "", [/^The 'host.hostKey' argument "" is not allowed: /, HOW_TO_GET]],
        ["null", null, [/'host.hostKey' argument null/, HOW_TO_GET]],
        ["text that is not a key", "my-server-key", [/'host.hostKey' argument "my-server-key"/, ALLOWED]],
        ["a fingerprint", "SHA256:2C0IVxTDTnmG4BKNXvs4KDUxCTe0DDMQNhhzGQomJ+k", [/'host.hostKey' argument "SHA256:/, ALLOWED]],
        ["a type with no key", "ssh-ed25519", [/'host.hostKey' argument "ssh-ed25519"/, /separated by one space/]],
        ["an unknown type", `ssh-dss ${ED25519_BLOB}`, [/'host.hostKey'/, /"ssh-dss" is not a known key type/]],
        ["a certificate type", `ssh-ed25519-cert-v01@openssh.com ${ED25519_BLOB}`, [/'host.hostKey'/, /not a known key type/]],
        ["a type that does not match the blob", `ssh-rsa ${ED25519_BLOB}`, [/'host.hostKey' argument "ssh-rsa AAAAC3/, /the base64 part is a "ssh-ed25519" key, not ssh-rsa/]],
        ["an ECDSA type over an ed25519 blob", `ecdsa-sha2-nistp256 ${ED25519_BLOB}`, [/not ecdsa-sha2-nistp256/]],
        ["truncated base64", `ssh-ed25519 ${ED25519_BLOB.slice(0, 40)}`, [/'host.hostKey'/, /truncated/]],
        ["base64 cut at a quad boundary", `ssh-ed25519 ${ED25519_BLOB.slice(0, 48)}`, [/'host.hostKey'/, /truncated or its lengths are wrong/]],
        ["the short stub specs used to pass", "ssh-ed25519 AAAA", [/'host.hostKey' argument "ssh-ed25519 AAAA"/, /truncated or its lengths are wrong/]],
        ["characters outside base64", `ssh-ed25519 ${ED25519_BLOB.slice(0, -4)}$(id)`, [/'host.hostKey'/, /not whole base64/]],
        ["an ed25519 key of 31 bytes", `ssh-ed25519 ${wire("ssh-ed25519", Buffer.alloc(31, 7))}`, [/the ed25519 key is 31 bytes, not 32/]],
        ["an ed25519 key of 33 bytes", `ssh-ed25519 ${wire("ssh-ed25519", Buffer.alloc(33, 7))}`, [/the ed25519 key is 33 bytes, not 32/]],
        ["an ed25519 blob with a trailing field", `ssh-ed25519 ${wire("ssh-ed25519", Buffer.alloc(32, 7), "extra")}`, [/2 fields after its type, not 1/]],
        ["a newline and a second line", `${TEST_HOST_KEY}\n@cert-authority * ${TEST_BASTION_KEY}`, [/'host.hostKey' argument "ssh-ed25519 .*\\n@cert-authority/, /no newline/]],
        ["a trailing newline", `${TEST_HOST_KEY}\n`, [/'host.hostKey'/, /trim the newline/]],
        ["a carriage return in the comment", `${TEST_HOST_KEY}\rx`, [/'host.hostKey'/, /no newline, tab or other control character/]],
        ["an ssh-keyscan line with the host name", `10.0.0.1 ${TEST_HOST_KEY}`, [/'host.hostKey'/, /"10.0.0.1" in front of the key type looks like a host name: drop it/]],
        ["two spaces", TEST_HOST_KEY.replace(" ", "  "), [/'host.hostKey'/, /separated by one space/]],
        ["a number", 22, [/'host.hostKey' argument 22/, /not a string/]],
    ];
    for (const [what, hostKey, res] of hostile) {
        it(`refuses ${what}, naming host.hostKey, before anything is registered`, async () => {
            let message = "";
            assert.throws(() => new Host({ name: "box", address: "10.0.0.1", privateKey: key(), hostKey } as any), (e: Error) => {
                assert.ok(e instanceof pulumi.ResourceError, `a ResourceError, got ${e}`);
                message = e.message;
                return true;
            });
            for (const re of res) assert.match(message, re);
            await settle();
            assert.deepEqual(recorded, []);
        });
    }

    it("refuses a private key pasted as the host key without echoing it", () => {
        assert.throws(
            () => new Host({ name: "box", address: "10.0.0.1", privateKey: key(), hostKey: PRIVATE }),
            (e: Error) => {
                assert.match(e.message, /^The 'host.hostKey' argument "<a private key, not shown>" is not allowed: .*this is a private key: give the public half/);
                assert.ok(!e.message.includes("b3BlbnNzaC1rZXkt") && !e.message.includes("BEGIN"), e.message);
                return true;
            },
        );
        // The base64 body alone (the armour lines stripped) is recognised too.
        assert.throws(() => new Host({ name: "box", address: "10.0.0.1", privateKey: key(), hostKey: "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ" }), /not shown/);
    });

    it("refuses a bastion without a host key, naming host.proxy.hostKey", () => {
        assert.throws(
            () => new Host({ name: "box", address: "10.0.0.1", privateKey: key(), hostKey: TEST_HOST_KEY, proxy: { address: "bastion", privateKey: key() } as any }),
            /The 'host.proxy.hostKey' argument undefined is not allowed: expected the host's public key.*ssh-keyscan/,
        );
    });

    it("refuses a bastion host key that is not a key, naming host.proxy.hostKey", () => {
        assert.throws(
            () => new Host({ name: "box", address: "10.0.0.1", privateKey: key(), hostKey: TEST_HOST_KEY, proxy: { address: "bastion", privateKey: key(), hostKey: `ssh-rsa ${ED25519_BLOB}` } }),
            /The 'host.proxy.hostKey' argument "ssh-rsa AAAA.*not ssh-rsa/,
        );
    });

    it("accepts each key type OpenSSH hosts use, with or without a comment, and pins host and bastion in the connection", async () => {
        const sk = `sk-ssh-ed25519@openssh.com ${wire("sk-ssh-ed25519@openssh.com", Buffer.alloc(32, 9), "ssh:")}`;
        const skEcdsa = `sk-ecdsa-sha2-nistp256@openssh.com ${wire("sk-ecdsa-sha2-nistp256@openssh.com", "nistp256", Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 5)]), "ssh:")}`;
        for (const hostKey of [TEST_HOST_KEY, TEST_HOST_KEY.split(" ").slice(0, 2).join(" "), `${TEST_HOST_KEY.split(" ").slice(0, 2).join(" ")} `, ECDSA, RSA, sk, skEcdsa]) {
            const host = new Host({ name: "box", address: "10.0.0.1", privateKey: key(), hostKey, proxy: { address: "bastion", privateKey: key(), hostKey: TEST_BASTION_KEY } });
            assert.equal(host.hostKey, hostKey);
            assert.equal(host.connection.hostKey, hostKey);
            assert.equal((host.connection.proxy as any).hostKey, TEST_BASTION_KEY);
        }
    });

    it("checks a host key given as an Output when it resolves, and carries a good one", async () => {
        const host = new Host({ name: "box", address: "10.0.0.1", privateKey: key(), hostKey: pulumi.output(TEST_HOST_KEY) });
        assert.equal(await resolve(host.connection.hostKey!), TEST_HOST_KEY);
    });

    it("fails a host key Output that is not a key, naming host.hostKey, and the command that would use it never registers", async () => {
        const host = new Host({ name: "box", address: "10.0.0.1", privateKey: key(), hostKey: pulumi.output("ssh-ed25519 AAAA") });
        await assert.rejects((host.hostKey as any).promise(), (e: Error) => {
            assert.ok(e instanceof pulumi.ResourceError);
            assert.match(e.message, /^The 'host.hostKey' argument "ssh-ed25519 AAAA" is not allowed: expected an OpenSSH public key line/);
            return true;
        });
        const proxied = new Host({ name: "box", address: "10.0.0.1", privateKey: key(), hostKey: TEST_HOST_KEY, proxy: { address: "b", privateKey: key(), hostKey: pulumi.output("") } });
        await assert.rejects((proxied.connection.proxy as any).hostKey.promise(), /The 'host.proxy.hostKey' argument "" is not allowed/);
        const failures: unknown[] = [];
        const onRejection = (e: unknown) => failures.push(e);
        process.on("unhandledRejection", onRejection);
        try {
            remoteScript("bad-converge", { host, script: "true", deleteScript: "true", hash: "b".repeat(64) }, {});
            await settle();
        } finally {
            process.off("unhandledRejection", onRejection);
        }
        assert.deepEqual(recorded.map((r) => r.name), [], "no command registers with an unchecked host key");
        const messages = [...new Set(failures.map((e) => (e instanceof Error ? e.message : String(e))))];
        // The engine reports the failed registration of each command whose connection carries the bad key...
        assert.ok(messages.some((m) => /error serializing property "connection".*The 'host.hostKey' argument "ssh-ed25519 AAAA" is not allowed/.test(m)), messages.join("\n"));
        // ...and a bad key on a Host that no resource uses still fails the program.
        assert.ok(messages.some((m) => /^The 'host.proxy.hostKey' argument "" is not allowed/.test(m)), messages.join("\n"));
    });
});

describe("Host: addresses are IP literals or DNS names", () => {
    before(() => installMocks());

    const hostile: Array<[string, unknown]> = [
        ["empty", ""],
        ["a newline", "10.0.0.1\nProxyCommand=sh"],
        ["NUL", "10.0.0.1\0"],
        ["a command substitution", "$(id)"],
        ["a leading dash (an ssh option)", "-oProxyCommand=sh"],
        ["a user@ part", "root@10.0.0.1"],
        ["a port suffix", "10.0.0.1:22"],
        ["a URI", "x@evil:1/db?sslmode=disable#"],
        ["a bidi override", "host\u202eexample.org"],
        ["a zero-width space", "ho\u200bst.example.org"],
        ["an IPv6 zone index", "fe80::1%eth0"],
        ["a malformed IPv4 address", "10.0.0.256"],
        ["a label starting with a dash", "-a.example.org"],
        ["an overlong name", `${"a".repeat(63)}.`.repeat(5)],
        ["a number", 10],
    ];
    for (const [what, address] of hostile) {
        it(`refuses ${what} in host.address, and in host.proxy.address`, () => {
            assert.throws(() => new Host({ name: "box", address: address as string, privateKey: pulumi.secret("k"), hostKey: TEST_HOST_KEY }), (e: unknown) => e instanceof pulumi.ResourceError && /'host\.address' argument .* is not allowed: expected an IPv4 or IPv6 address, or a DNS name/.test((e as Error).message));
            assert.throws(
                () => new Host({ name: "box", address: "10.0.0.2", privateKey: pulumi.secret("k"), hostKey: TEST_HOST_KEY, proxy: { address: address as string, privateKey: pulumi.secret("k"), hostKey: TEST_BASTION_KEY } }),
                (e: unknown) => e instanceof pulumi.ResourceError && /'host\.proxy\.address' argument/.test((e as Error).message),
            );
        });
    }

    it("accepts IPv4, IPv6 and DNS names", () => {
        for (const address of ["10.0.0.1", "fd00::1", "2001:db8::7", "rack1", "rack1.home.example.org", "Box-2.Example.ORG"]) {
            assert.equal(new Host({ name: "box", address, privateKey: pulumi.secret("k"), hostKey: TEST_HOST_KEY }).address, address);
        }
    });
});
