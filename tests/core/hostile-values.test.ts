// Hostile values an outside review found: each must get an argument error that names its path and shows no secret,
// never a crash; and values that a schema accepted but the tool reading the file would refuse.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ArgumentError, describe as show, HIDDEN, pathOf } from "../../components/core/errors";
import { parseArgs, record, z } from "../../components/core/schema";
import { isCalendarExpression } from "../../components/systemd/check";
import { checkSiteConfig } from "../../stacks/schema";
import { DnsZone, Host, SystemdService, WireguardLink, ZfsDataset } from "../../components";
import { installMocks, recorded, resetRecorded, TEST_HOST_KEY } from "../mocks";

const host = () => new Host({ name: "box", address: "192.0.2.5", privateKey: pulumi.secret("k"), hostKey: TEST_HOST_KEY });

function messageOf(fn: () => unknown): string {
    try {
        fn();
    } catch (e) {
        return (e as Error).message;
    }
    assert.fail("accepted");
}

describe("hostile values", () => {
    before(() => installMocks());

    it("describe never throws and shows numbers as they are", () => {
        const throwing = { toJSON() { throw new Error("boom"); }, toString() { throw new Error("boom"); } };
        const proxy = new Proxy({}, { get() { throw new Error("trap"); } });
        let deep: unknown = [];
        for (let i = 0; i < 10000; i++) deep = [deep];
        for (const v of [throwing, proxy, deep, Object.create(null)]) assert.equal(typeof show(v), "string");
        assert.equal(show(throwing), "(a value that cannot be shown)");
        assert.deepEqual([NaN, Infinity, -Infinity, -0, 10n].map(show), ["NaN", "Infinity", "-Infinity", "-0", "10n"]);
        assert.equal(show({ n: NaN }), '{"n":"NaN"}');
    });

    it("never shows key material or the value of a secret-named key, wherever it sits", () => {
        assert.equal(show("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn"), HIDDEN);
        assert.equal(show({ apiToken: "t0ken", nested: { privateKey: "x" }, publicKey: "y" }), `{"apiToken":"${HIDDEN}","nested":{"privateKey":"${HIDDEN}"},"publicKey":"y"}`);
        // An unknown key with a secret's name is named, its value is not shown.
        const s = record({ kind: z.literal("cloudflare") }, "a backend");
        const e = messageOf(() => parseArgs(s, { kind: "cloudflare", apiToken: "SECRET-18" }));
        assert.match(e, /'apiToken'/);
        assert.ok(!e.includes("SECRET-18"), e);
        // ...but a rule's own placeholder and booleans stay as they are, and names that merely start like one are shown.
        const m = messageOf(() => new WireguardLink("l", { interfaceName: "wg0", hub: { host: host() }, peers: [{ name: "p", publicKey: "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=", endpoint: "192.0.2.9:51820" }], presharedKey: "plain" as any }));
        assert.match(m, /'presharedKey' argument "<a plain string>"/);
        assert.match(messageOf(() => parseArgs(record({ passwordVersion: z.int().min(1) }, "x"), { passwordVersion: 0 })), /'passwordVersion' argument 0/);
    });

    it("hides values under the secret names people use (STRIPE_SECRET_KEY, API_KEY, privKey), numbers too", () => {
        for (const name of ["STRIPE_SECRET_KEY", "AWS_SECRET_ACCESS_KEY", "API_KEY", "api_key", "clientSecretKey", "privKey", "DB_PASSWORD", "pin_token"]) {
            assert.equal(show({ [name]: "sk_live_123" }), `{"${name}":"${HIDDEN}"}`, name);
        }
        assert.equal(show({ password: 123456 }), `{"password":"${HIDDEN}"}`);
        for (const name of ["passwordVersion", "privateUsersOwnership", "publicKey", "hostKey", "sshKey"]) assert.equal(show({ [name]: 1 }), `{"${name}":1}`, name);
        assert.equal(show("AGE-SECRET-KEY-1QQQ"), HIDDEN);
        const m = messageOf(() => new SystemdService("s", { host: host(), description: "x", execStart: ["/bin/true"], environment: { STRIPE_SECRET_KEY: "sk_live_1\n" } }));
        assert.ok(!m.includes("sk_live"), m);
    });

    it("refuses a top-level resource whose mark a child of another resource has on the same host", () => {
        const nas = new Host({ name: "nas", address: "192.0.2.6", privateKey: pulumi.secret("k"), hostKey: TEST_HOST_KEY, facts: { zfs: true } });
        new SystemdService("data-snapshots", { host: nas, description: "x", execStart: ["/usr/bin/true"] });
        const m = messageOf(() => new ZfsDataset("data", { host: nas, dataset: "tank/data", snapshots: { every: "daily", keep: { daily: 7 } } }));
        assert.match(m, /^The 'name' argument .*data-snapshots" is not allowed: expected a resource name whose mark no other resource on this host has/);
    });

    it("names an argument path from an argument text", () => {
        assert.deepEqual(pathOf("peers[0].endpoint"), ["peers", 0, "endpoint"]);
        assert.deepEqual(pathOf('environment["A B"]'), ["environment", "A B"]);
        assert.deepEqual(new ArgumentError("tablespace.compression", "x", "y").path, ["tablespace", "compression"]);
    });

    it("refuses `constructor` and `__proto__` as week days in a calendar expression", () => {
        for (const bad of ["constructor 09:00", "Constructor..constructor", "__proto__ *-*-* 00:00", "toString 10:00"]) assert.equal(isCalendarExpression(bad), false, bad);
        assert.equal(isCalendarExpression("Mon..Fri 09:00"), true);
    });

    it("refuses a hostmaster mailbox with '+' (a name server refuses it in the SOA), naming backend.hostmaster", () => {
        resetRecorded();
        const m = messageOf(() => new DnsZone("z", { zone: "home.arpa", backend: { kind: "host", host: host(), nameservers: [{ name: "ns1", addresses: ["10.0.0.2"] }], hostmaster: "dns+admin@home.arpa" }, records: [] }));
        assert.match(m, /'backend.hostmaster' argument "dns\+admin@home.arpa" is not allowed: .*no '\+'/);
        assert.deepEqual(recorded, []);
    });

    it("names `dropIn` first when a drop-in is malformed, not a field the drop-in forbids", () => {
        const m = messageOf(() => new SystemdService("s", { host: host(), dropIn: "nginx.service", execStart: ["/bin/true"], description: "x" } as any));
        assert.match(m, /^The 'dropIn' argument "nginx.service"/);
    });

    it("the site config hides the values of a section set as a secret, and a pasted secret where a key name belongs", () => {
        const values = {
            sshPrivateKey: "k",
            hosts: [{ name: "web1", address: "192.0.2.10", hostKey: TEST_HOST_KEY, sshKey: "-----BEGIN OPENSSH PRIVATE KEY-----" }],
            services: [{ name: "app", host: "web1", description: "app", execStart: ["/bin/true"], credentials: { token: "s3cr3t/Value+Q==" } }],
        };
        const r = checkSiteConfig({ values, secretKeys: new Set(["sshPrivateKey", "services"]) });
        assert.ok(!r.ok);
        const text = r.problems.map((p) => `${p.path} ${p.message}`).join("\n");
        for (const secret of ["s3cr3t", "BEGIN OPENSSH"]) assert.ok(!text.includes(secret), text);
        assert.match(text, /hearth:hosts\[0\]\.sshKey is "\(not shown: it may be the secret itself\)"/);
    });
});
