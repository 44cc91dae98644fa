// The account a Host logs in as keeps the Host's key: HostAccounts' converge fails before it runs when the keys it
// declares for that account leave out the public half of the Host's private key (read from the OpenSSH key's header).
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { HostAccounts, keyChecked, resolveAccountsArgs } from "../../components/accounts";
import { publicKeyOfPrivateKey } from "../../components/core/sshkey";
import { forgetClaims } from "../../components/core/owner";
import { installMocks, recorded, resetRecorded, TEST_HOST_KEY } from "../mocks";

const OTHER = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMHP0rnHYlQm9yr6Lk3ALEcrrwORdxW6oZsHCIu1dB2Z someone-else";

/** A fresh key pair from ssh-keygen: the private key text and the public `<type> <base64>`. */
function keygen(extra: string[] = []): { priv: string; pub: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-key-"));
    try {
        execFileSync("ssh-keygen", ["-q", "-f", path.join(dir, "k"), "-C", "test", ...extra], { stdio: "pipe" });
        const pub = fs.readFileSync(path.join(dir, "k.pub"), "utf8").trim().split(" ").slice(0, 2).join(" ");
        return { priv: fs.readFileSync(path.join(dir, "k"), "utf8"), pub };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("HostAccounts keeps the Host's own login", () => {
    before(() => installMocks());
    beforeEach(() => {
        resetRecorded();
        forgetClaims();
    });

    it("reads the public half from an OpenSSH private key (also an encrypted one), and nothing from other formats", () => {
        for (const extra of [["-t", "ed25519", "-N", ""], ["-t", "ed25519", "-N", "a passphrase"], ["-t", "ecdsa", "-N", ""], ["-t", "rsa", "-b", "2048", "-N", ""]]) {
            const k = keygen(extra);
            assert.equal(publicKeyOfPrivateKey(k.priv), k.pub, extra.join(" "));
        }
        assert.equal(publicKeyOfPrivateKey(keygen(["-t", "rsa", "-b", "2048", "-N", "", "-m", "PEM"]).priv), undefined);
        for (const junk of ["", "not a key", "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n-----END OPENSSH PRIVATE KEY-----"]) {
            assert.equal(publicKeyOfPrivateKey(junk), undefined, JSON.stringify(junk));
        }
    });

    const resolved = (o: pulumi.Input<unknown>) => new Promise((ok, no) => (pulumi.output(o) as any).promise().then(ok, no));
    /** The private key of the connection the accounts' converge gets, for these arguments. */
    const checkedKey = (args: any) => {
        const { host, spec } = resolveAccountsArgs(args);
        return resolved(keyChecked("acc", host, spec).privateKey!);
    };

    for (const [what, hostUser, deploy, users] of [
        ["the deploy account", "ops", (k: string) => ({ user: "ops", keys: [k] }), () => []],
        ["a declared sudo user", "alex", () => ({ user: "ops", keys: [OTHER] }), (k: string) => [{ name: "alex", keys: [k], sudo: { reason: "the admin while ops is set up" } }]],
    ] as const) {
        it(`fails the converge before it runs when the keys of ${what} (the Host's login) leave out the Host's key`, async () => {
            const k = keygen(["-t", "ed25519", "-N", ""]);
            const h = new Host({ name: "nas", address: "10.0.0.5", user: hostUser, privateKey: pulumi.secret(k.priv), hostKey: TEST_HOST_KEY });
            await assert.rejects(checkedKey({ host: h, deploy: deploy(OTHER), users: users(OTHER) }), (e: Error) => {
                assert.match(e.message, new RegExp(`the keys declared for ${hostUser}, the account host nas logs in as, do not include the public half of the Host's private key`));
                assert.ok(e.message.includes(k.pub), "names the key to add");
                assert.ok(!e.message.includes("PRIVATE"), "never shows the private key");
                return true;
            });
            assert.equal(await checkedKey({ host: h, deploy: deploy(`${k.pub} ops@laptop`), users: users(`${k.pub} alex@laptop`) }), k.priv);
        });
    }

    it("checks nothing when the Host logs in as root (root's keys are not HostAccounts')", async () => {
        const k = keygen(["-t", "ed25519", "-N", ""]);
        const h = new Host({ name: "nas", address: "10.0.0.5", privateKey: pulumi.secret(k.priv), hostKey: TEST_HOST_KEY });
        assert.equal(await checkedKey({ host: h, deploy: { user: "ops", keys: [OTHER] } }), k.priv);
        // The component registers its converge with that connection.
        new HostAccounts("acc", { host: h, deploy: { user: "ops", keys: [OTHER] } });
        await new Promise((r) => setTimeout(r, 50));
        assert.ok(recorded.some((r) => r.name === "acc-accounts"));
    });
});
