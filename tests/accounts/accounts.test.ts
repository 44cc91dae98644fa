// HostAccounts under the mock runtime: hostile arguments refused before anything registers (naming the argument, the
// value and what is allowed), the authorized_keys lines it renders, and what it registers.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { authorizedKeyLine, forcedCommandKey, HostAccounts, HostAccountsArgs, renderAccounts, resolveKey } from "../../components/accounts";
import { fileDigest } from "../../components/accounts/render";
import { installMocks, recorded, resetRecorded, settle, TEST_HOST_KEY } from "../mocks";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop";
const KEY2 = TEST_HOST_KEY;
/** An ssh-rsa line whose modulus is `nBytes` bytes starting with `first` (e = 65537). */
function rsaLine(nBytes: number, first: number): string {
    const lp = (b: Buffer) => {
        const l = Buffer.alloc(4);
        l.writeUInt32BE(b.length);
        return Buffer.concat([l, b]);
    };
    const n = Buffer.alloc(nBytes, 0xff);
    n[0] = first;
    return `ssh-rsa ${Buffer.concat([lp(Buffer.from("ssh-rsa")), lp(Buffer.from([0x01, 0x00, 0x01])), lp(n)]).toString("base64")} big`;
}
const pk = () => pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n");
const host = (user?: string) => new Host({ name: "nas", address: "10.0.0.5", privateKey: pk(), hostKey: TEST_HOST_KEY, ...(user ? { user } : {}) });
const good = (): Omit<HostAccountsArgs, "host"> => ({ deploy: { user: "hearthd", keys: [KEY2] }, users: [{ name: "alice", keys: [KEY], sudo: { reason: "alice administers the box" } }] });

async function build(args: Record<string, unknown>, user?: string): Promise<{ error?: Error; count: number }> {
    resetRecorded();
    let error: Error | undefined;
    try {
        new HostAccounts("acc", { host: host(user), ...good(), ...args } as HostAccountsArgs);
    } catch (e) {
        error = e as Error;
    }
    await settle();
    return { error, count: recorded.length };
}

describe("HostAccounts", () => {
    before(() => installMocks());

    const hostile: [string, Record<string, unknown>, RegExp][] = [
        ["a reserved user", { users: [{ name: "root", keys: [KEY] }] }, /'users\[0\]\.name'.*not a system account/],
        ["a daemon user", { users: [{ name: "daemon", keys: [] }] }, /users\[0\]\.name/],
        ["a systemd- user", { users: [{ name: "systemd-network", keys: [] }] }, /systemd-\*/],
        ["an upper-case name", { users: [{ name: "Alice", keys: [] }] }, /POSIX user name/],
        ["a name with a newline", { users: [{ name: "al\nice", keys: [] }] }, /POSIX user name/],
        ["duplicate users", { users: [{ name: "bob", keys: [] }, { name: "bob", keys: [] }] }, /users\[1\]\.name.*already declared/],
        ["the deploy user also in users", { users: [{ name: "hearthd", keys: [KEY] }] }, /other than the deploy account hearthd/],
        ["a key with a newline", { users: [{ name: "bob", keys: [KEY + "\nssh-ed25519 AAAA evil"] }] }, /users\[0\]\.keys\[0\]/],
        ["options smuggled in front of a key", { users: [{ name: "bob", keys: [`command="sh" ${KEY}`] }] }, /users\[0\]\.keys\[0\]/],
        ["a key with a comment holding a line break", { users: [{ name: "bob", keys: [KEY + "\r"] }] }, /users\[0\]\.keys\[0\]/],
        ["a private key", { users: [{ name: "bob", keys: ["-----BEGIN OPENSSH PRIVATE KEY-----"] }] }, /private key/],
        ["command= with a quote", { users: [{ name: "bob", keys: [{ key: KEY, command: 'echo "x' }] }] }, /users\[0\]\.keys\[0\]\.command.*without '"'/],
        ["command= with a backslash", { users: [{ name: "bob", keys: [{ key: KEY, command: "echo \\x" }] }] }, /command/],
        ["command= with a newline", { users: [{ name: "bob", keys: [{ key: KEY, command: "a\nb" }] }] }, /command/],
        ["from= with a quote", { users: [{ name: "bob", keys: [{ key: KEY, from: ['10.0.0.1",x'] }] }] }, /users\[0\]\.keys\[0\]\.from\[0\]/],
        ["from= empty", { users: [{ name: "bob", keys: [{ key: KEY, from: [] }] }] }, /at least 1/],
        ["an unknown key option", { users: [{ name: "bob", keys: [{ key: KEY, environment: "X=1" }] }] }, /one of the keys of a key entry/],
        ["the same key twice for one user", { users: [{ name: "bob", keys: [KEY, { key: KEY, command: "true" }] }] }, /users\[0\]\.keys\[1\].*same key/],
        ["a root-equivalent group", { users: [{ name: "bob", keys: [], groups: ["sudo"] }] }, /users\[0\]\.groups\[0\].*declare sudo/],
        ["incus-admin", { users: [{ name: "bob", keys: [], groups: ["users", "incus-admin"] }] }, /users\[0\]\.groups\[1\].*root in effect/],
        ["microk8s", { users: [{ name: "bob", keys: [], groups: ["microk8s"] }] }, /users\[0\]\.groups\[0\]/],
        ["kmem", { users: [{ name: "bob", keys: [], groups: ["kmem"] }] }, /users\[0\]\.groups\[0\]/],
        ["libvirt-qemu", { users: [{ name: "bob", keys: [], groups: ["libvirt-qemu"] }] }, /users\[0\]\.groups\[0\]/],
        ["a 53 KB RSA key", { users: [{ name: "bob", keys: [rsaLine(40_000, 0x7f)] }] }, /users\[0\]\.keys\[0\].*at most 16384 bits.*319999/],
        ["an RSA key one bit over sshd's maximum", { deploy: { user: "hearthd", keys: [rsaLine(2049, 0x01)] } }, /deploy\.keys\[0\].*at most 16384 bits \(sshd's maximum; this one has 16385\)/],
        ["adopt: 1", { adopt: 1 }, /'adopt'/],
        ["sudo without a reason", { users: [{ name: "bob", keys: [], sudo: {} }] }, /users\[0\]\.sudo\.reason/],
        ["sudo: true", { users: [{ name: "bob", keys: [], sudo: true }] }, /users\[0\]\.sudo/],
        ["a relative shell", { users: [{ name: "bob", keys: [], shell: "bash" }] }, /users\[0\]\.shell/],
        ["a shell with a space", { users: [{ name: "bob", keys: [], shell: "/bin/sh -c x" }] }, /users\[0\]\.shell/],
        ["a deploy without keys", { deploy: { user: "hearthd", keys: [] } }, /deploy\.keys.*at least 1/],
        ["a deploy named root", { deploy: { user: "root", keys: [KEY] } }, /deploy\.user/],
        ["a deploy with a forced command", { deploy: { user: "hearthd", keys: [{ key: KEY, command: "true" }] } }, /deploy\.keys\[0\]/],
        ["root without a reason", { deploy: { root: {} } }, /deploy\.root\.reason/],
        ["no deploy", { deploy: undefined }, /deploy/],
        ["a confirm window too short", { confirmWithinSec: 1 }, /confirmWithinSec.*from 10 to 3600/],
        ["an unknown argument", { admins: [] }, /one of the keys of HostAccountsArgs/],
    ];
    for (const [what, args, re] of hostile) {
        it(`refuses ${what} before registering anything`, async () => {
            const { error, count } = await build(args);
            assert.ok(error, "no error");
            assert.match(error.message, re);
            assert.equal(count, 0);
        });
    }

    it("accepts an RSA key of sshd's maximum size, and adopt", async () => {
        assert.equal((await build({ users: [{ name: "bob", keys: [rsaLine(2049, 0x00)] }] })).error, undefined);
        assert.equal((await build({ users: [{ name: "bob", keys: [rsaLine(2048, 0x7f)] }], adopt: true })).error, undefined);
    });

    it("the converge claims the host's accounts before it reads or changes anything; adopt and aliases reach the runtime", async () => {
        const mark = { id: "hearth/test/hearth:host:Accounts/acc", aliases: ["hearth/test/hearth:host:Accounts/old"], adopt: false };
        const spec = { deploy: { user: "hearthd", keys: [KEY2] }, users: [{ name: "bob", keys: [resolveKey(KEY)], sudo: true, shell: "/bin/bash", groups: ["users"] }], confirmWithinSec: 60 };
        const r = renderAccounts(spec, mark);
        const lines = r.script.split("\n");
        const own = lines.findIndex((l) => l === "hearth_keys_own");
        assert.ok(own > 0 && own === lines.findIndex((l) => l === "hearth_lock accounts") + 1, "hearth_keys_own right after the lock");
        assert.ok(lines.findIndex((l) => l.startsWith("hearth_account_can ")) > own);
        assert.match(r.script, /hearth_adopt=0/);
        assert.match(renderAccounts(spec, { ...mark, adopt: true }).script, /hearth_adopt=1/);
        assert.match(r.deleteScript, /hearth_aliases=\(.*hearth:host:Accounts\/old/);
        assert.ok(r.check.includes("hearth_keys_check_admins hearthd bob"), r.check.join("\n"));
        resetRecorded();
        new HostAccounts("acc", { host: host(), ...good(), adopt: true });
        await settle();
        assert.match(recorded.find((x) => x.name === "acc-accounts")!.inputs.create, /hearth_adopt=1/);
    });

    it("refuses a Host whose own login would lose its keys", async () => {
        const { error, count } = await build({}, "bob");
        assert.match(error!.message, /'host' argument "bob".*would be locked out/);
        assert.equal(count, 0);
        assert.equal((await build({ users: [{ name: "bob", keys: [KEY], sudo: { reason: "bob bootstraps this host" } }] }, "bob")).error, undefined);
        assert.equal((await build({}, "hearthd")).error, undefined);
    });

    it("refuses a second HostAccounts on the same host", () => {
        const h = host();
        new HostAccounts("a", { host: h, ...good() });
        assert.throws(() => new HostAccounts("b", { host: h, ...good() }), /accounts/);
    });

    it("renders key lines with their options; a forced command is restricted unless told", () => {
        assert.equal(authorizedKeyLine(resolveKey(KEY)), KEY);
        assert.equal(authorizedKeyLine(resolveKey(forcedCommandKey(KEY, "borg serve --restrict-to-path /srv/b", { from: ["10.0.0.0/8", "!10.0.0.1"] }))), `restrict,from="10.0.0.0/8,!10.0.0.1",command="borg serve --restrict-to-path /srv/b" ${KEY}`);
        assert.equal(authorizedKeyLine(resolveKey({ key: KEY, command: "true", restrict: false })), `command="true" ${KEY}`);
        assert.throws(() => forcedCommandKey(KEY, 'a"b'), /'key\.command'/);
    });

    it("registers the converge, its lifecycle and a confirm that dials as the deploy account through sudo", async () => {
        resetRecorded();
        new HostAccounts("acc", { host: host(), ...good() });
        await settle();
        const names = recorded.map((r) => r.name).sort();
        assert.deepEqual(names, ["acc", "acc-accounts", "acc-accounts-lifecycle", "acc-confirm"]);
        const confirm = recorded.find((r) => r.name === "acc-confirm")!;
        assert.equal(confirm.inputs.connection.user, "hearthd");
        assert.match(confirm.inputs.create, /^sudo -n -- bash --noprofile --norc -c /);
        assert.match(confirm.inputs.create, /hearth_keys_confirm [0-9a-f]{64} \/etc\/ssh\/sshd_config\.d\/00-hearth-accounts\.conf \/etc\/ssh\/hearth\/authorized_keys\/hearthd \/etc\/sudoers\.d\/hearth-hearthd/);
    });

    it("the login digest changes with the deploy keys and not with a human user's", () => {
        const mark = { id: "hearth/test/hearth:host:Accounts/acc", aliases: [], adopt: false };
        const spec = (deployKeys: string[], userKeys: string[]) => ({ deploy: { user: "hearthd", keys: deployKeys }, users: [{ name: "bob", keys: userKeys.map(resolveKey), sudo: false, shell: "/bin/bash", groups: [] }], confirmWithinSec: 60 });
        const a = renderAccounts(spec([KEY2], [KEY]), mark);
        assert.equal(renderAccounts(spec([KEY2], []), mark).loginDigest, a.loginDigest);
        assert.notEqual(renderAccounts(spec([KEY2, KEY], [KEY]), mark).loginDigest, a.loginDigest);
        assert.equal(fileDigest([["/x", undefined]]), fileDigest([["/x", undefined]]));
    });
});
