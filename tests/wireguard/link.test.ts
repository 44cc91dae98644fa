// WireguardLink under mocks: commands per side, keys only as public halves, preshared keys secret, two stacks joined by outputs, hostile inputs.
import { strict as assert } from "assert";
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { parseScriptFiles } from "../../components/shell";
import { WireguardLink, WireguardLinkArgs } from "../../components/wireguard";
import { installMocks, isSecretValue, plainStrings, recorded, resetRecorded, resolve, setCommandStdout, settle, TEST_HOST_KEY } from "../mocks";
import { checkScript } from "../tools";

const sshKey = () => pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n");
const host = (name: string, address: string) => new Host({ name, address, privateKey: sshKey(), hostKey: TEST_HOST_KEY });
/** What a key script on `host` would print: a real 32-byte key, derived from the command's name. */
const mockKey = (resource: string) => createHash("sha256").update(resource).digest("base64");
const EXTERNAL = "yFBApxHlqZV2r32SzjVII0ZXAOQcZvyVlFFRbaifYWw=";

function commands() {
    return recorded.filter((r) => r.type === "command:remote:Command");
}

function files(name: string) {
    const c = recorded.find((r) => r.name === name)!;
    assert.ok(c, `no command ${name}`);
    return parseScriptFiles(c.inputs.create, c.inputs.stdin);
}

describe("WireguardLink", () => {
    before(() => installMocks());
    beforeEach(() => {
        resetRecorded();
        setCommandStdout((name) => (name.endsWith("-key") ? `hearth: generated\nhearth-wg-public-key: ${mockKey(name)}\n` : ""));
    });
    after(() => setCommandStdout());

    it("site to site: a key and an interface command per side; each config names the other side's public key", async () => {
        const rack = host("rack", "10.231.1.2");
        const cabin = host("cabin", "10.231.2.2");
        const link = new WireguardLink("sites", {
            interfaceName: "wg-sites",
            hub: { host: rack, endpoint: "10.231.1.2:51820", subnets: ["10.10.0.0/16"] },
            peers: [{ host: cabin, subnets: ["10.20.0.0/24"] }],
            presharedKey: true,
        });
        const keys = await resolve(link.publicKeys);
        await settle();
        assert.deepEqual(commands().map((c) => c.name).sort(), [
            "sites-cabin-interface", "sites-cabin-interface-lifecycle", "sites-cabin-key", "sites-cabin-key-lifecycle",
            "sites-rack-interface", "sites-rack-interface-lifecycle", "sites-rack-key", "sites-rack-key-lifecycle",
        ]);
        assert.deepEqual(keys, { rack: mockKey("sites-rack-key"), cabin: mockKey("sites-cabin-key") });
        const rackConf = files("sites-rack-interface")[0].content;
        const cabinConf = files("sites-cabin-interface")[0].content;
        assert.match(rackConf, new RegExp(`PublicKey = ${escape(keys.cabin)}\nAllowedIPs = ${escape(link.addresses.cabin[0].replace("/64", "/128"))}, 10\\.20\\.0\\.0/24\n`));
        assert.match(cabinConf, new RegExp(`PublicKey = ${escape(keys.rack)}\nAllowedIPs = [^\n]*10\\.10\\.0\\.0/16\nEndpoint = 10\\.231\\.1\\.2:51820\n`));
        assert.ok(link.addresses.rack[0].startsWith(link.network.replace("::/64", ":")), "tunnel address inside the planned network");
        for (const c of commands()) {
            if (c.inputs.create) assert.deepEqual(checkScript(c.inputs.create), [], c.name);
            if (c.inputs.delete) assert.deepEqual(checkScript(c.inputs.delete), [], `${c.name} delete`);
            assert.equal(c.inputs.triggers, undefined, `${c.name}: no triggers, so a change never replaces (and never runs the old delete)`);
        }
        assert.match(recorded.find((r) => r.name === "sites-rack-key-lifecycle")!.inputs.delete, /for hearth_f in \/etc\/wireguard\/wg-sites\.key \/etc\/wireguard\/wg-sites\.key\.v\*/);
    });

    it("marks every interface with its resource's owner id, and every script carries that id", async () => {
        new WireguardLink("sites", {
            interfaceName: "wg-sites",
            hub: { host: host("rack", "10.231.1.2"), endpoint: "10.231.1.2:51820" },
            peers: [{ host: host("cabin", "10.231.2.2") }],
        });
        await settle();
        const id = `${pulumi.getProject()}/${pulumi.getStack()}/hearth:wireguard:Link/sites`;
        for (const side of ["rack", "cabin"]) {
            const [conf, loader] = files(`sites-${side}-interface`);
            assert.match(conf.content, new RegExp(`^# hearth-owner: ${escape(id)}$`, "m"), `${side} config`);
            assert.match(loader.content, new RegExp(`^# hearth-owner: ${escape(id)}$`, "m"), `${side} key loader`);
            for (const name of [`sites-${side}-interface`, `sites-${side}-key`]) {
                assert.match(recorded.find((r) => r.name === name)!.inputs.create, new RegExp(`hearth_owner=${escape(id)}\n`), name);
                assert.match(recorded.find((r) => r.name === `${name}-lifecycle`)!.inputs.delete, new RegExp(`hearth_owner=${escape(id)}\n`), `${name} delete`);
            }
        }
    });

    it("refuses, before anything registers, a second link claiming the same interface on a host", async () => {
        const rack = host("rack", "10.231.1.2");
        new WireguardLink("one", { interfaceName: "wg0", hub: { host: rack, endpoint: "10.231.1.2:51820" }, peers: [{ name: "x", publicKey: EXTERNAL }] });
        await settle();
        const before = recorded.length;
        assert.throws(
            () => new WireguardLink("two", { interfaceName: "wg0", hub: { host: rack, endpoint: "10.231.1.2:51821" }, peers: [{ name: "y", publicKey: EXTERNAL }] }),
            (e: unknown) => e instanceof pulumi.ResourceError && /'interfaceName' argument "wg0".*wireguard interface wg0 is already managed by .*\/one/.test((e as Error).message),
        );
        await settle();
        assert.equal(recorded.length, before, "nothing registered for the second link");
        // Another interface name on the same host (on its own port), or the same name on another host, is fine.
        new WireguardLink("three", { interfaceName: "wg1", hub: { host: rack, endpoint: "10.231.1.2:51822", listenPort: 51822 }, peers: [{ name: "z", publicKey: EXTERNAL }] });
        new WireguardLink("four", { interfaceName: "wg0", hub: { host: host("other", "10.231.3.2"), endpoint: "10.231.3.2:51820" }, peers: [{ name: "z", publicKey: EXTERNAL }] });
    });

    it("adopt: true is written into the scripts as an explicit takeover; aliases are accepted marks", async () => {
        new WireguardLink("sites", {
            interfaceName: "wg0", adopt: true,
            hub: { host: host("rack", "10.231.1.2"), endpoint: "10.231.1.2:51820" },
            peers: [{ name: "x", publicKey: EXTERNAL }],
        }, { aliases: [{ name: "old-sites" }] });
        await settle();
        const create: string = recorded.find((r) => r.name === "sites-rack-interface")!.inputs.create;
        assert.match(create, /\nhearth_adopt=1\n/);
        assert.match(create, new RegExp(`\\nhearth_aliases=\\(${escape(`${pulumi.getProject()}/${pulumi.getStack()}/hearth:wireguard:Link/old-sites`)}\\)\\n`));
    });

    it("keeps key material off plain inputs: no private key anywhere, preshared keys only inside a secret stdin", async () => {
        new WireguardLink("sites", {
            interfaceName: "wg0",
            hub: { host: host("rack", "10.231.1.2"), endpoint: "10.231.1.2:51820" },
            peers: [{ host: host("cabin", "10.231.2.2") }],
            presharedKey: true,
        });
        await settle();
        await new Promise((r) => setTimeout(r, 100));
        const psk = recorded.find((r) => r.type === "random:index/randomBytes:RandomBytes");
        assert.ok(psk, "a RandomBytes made the preshared key");
        const pskValue = Buffer.alloc(32, psk!.name.length).toString("base64");
        for (const c of commands()) {
            const plain = plainStrings(c.rawInputs).join("\n");
            assert.doesNotMatch(plain, /PrivateKey|PRIVATE KEY/, c.name);
            assert.ok(!plain.includes(pskValue), `${c.name} shows the preshared key in plain inputs`);
            if (c.name.endsWith("-interface")) {
                assert.ok(isSecretValue(c.rawInputs.stdin), `${c.name} stdin must be secret`);
                assert.ok(c.inputs.stdin.includes(pskValue), "the preshared key travels on stdin");
            }
        }
    });

    it("hub with peers: each peer routes the other peers through the hub, the hub lists every peer", async () => {
        new WireguardLink("mesh", {
            interfaceName: "wg-mesh",
            hub: { host: host("hub", "10.231.1.2"), endpoint: "10.231.1.2:51820" },
            peers: [{ host: host("a", "10.231.2.2"), subnets: ["10.1.0.0/24"] }, { host: host("b", "10.231.3.2"), subnets: ["10.2.0.0/24"] }],
        });
        await new Promise((r) => setTimeout(r, 100));
        const hubConf = files("mesh-hub-interface")[0].content;
        assert.equal(hubConf.match(/\[Peer\]/g)!.length, 2);
        const aConf = files("mesh-a-interface")[0].content;
        assert.equal(aConf.match(/\[Peer\]/g)!.length, 1);
        assert.match(aConf, /AllowedIPs = [^\n]*10\.2\.0\.0\/24/);
        assert.doesNotMatch(aConf, /10\.1\.0\.0\/24/);
    });

    it("two stacks: a side managed elsewhere plugs in through Inputs (a StackReference output), and only this side runs", async () => {
        // Stack "rack" exports its gateway's key and endpoint; stack "cabin" reads them as Outputs.
        const fromRackStack = { publicKey: pulumi.output(EXTERNAL), endpoint: pulumi.output("10.231.1.2:51820") };
        const link = new WireguardLink("sites", {
            interfaceName: "wg-sites",
            hub: { name: "rack", publicKey: fromRackStack.publicKey, endpoint: fromRackStack.endpoint, subnets: ["10.10.0.0/16"] },
            peers: [{ host: host("cabin", "10.231.2.2"), subnets: ["10.20.0.0/24"] }],
        });
        assert.equal(await resolve(link.publicKey("rack")), EXTERNAL);
        await new Promise((r) => setTimeout(r, 100));
        assert.deepEqual(commands().map((c) => c.name).sort(), ["sites-cabin-interface", "sites-cabin-interface-lifecycle", "sites-cabin-key", "sites-cabin-key-lifecycle"]);
        const conf = files("sites-cabin-interface")[0].content;
        assert.match(conf, new RegExp(`PublicKey = ${escape(EXTERNAL)}\nAllowedIPs = [^\n]+\nEndpoint = 10\\.231\\.1\\.2:51820`));
        // The other stack computes the same tunnel addresses from the same names: no coordination needed.
        resetRecorded();
        const other = new WireguardLink("sites", {
            interfaceName: "wg-sites",
            hub: { host: host("rack", "10.231.1.2"), endpoint: "10.231.1.2:51820", subnets: ["10.10.0.0/16"] },
            peers: [{ name: "cabin", publicKey: link.publicKey("cabin"), subnets: ["10.20.0.0/24"] }],
        });
        assert.deepEqual(other.addresses, link.addresses);
        assert.equal(await resolve(other.publicKey("cabin")), mockKey("sites-cabin-key"));
    });

    it("first up of two sites: a peer whose stack has not exported a key yet is left out, and added by the next up", async () => {
        const make = (publicKey: pulumi.Output<string | undefined>) => new WireguardLink("sites", {
            interfaceName: "wg-sites",
            hub: { name: "rack", publicKey: publicKey as pulumi.Output<string>, endpoint: "10.231.1.2:51820", subnets: ["10.10.0.0/16"] },
            peers: [{ host: host("cabin", "10.231.2.2"), subnets: ["10.20.0.0/24"] }],
        });
        const pending = make(pulumi.output(undefined));
        assert.deepEqual(await resolve(pending.publicKeys), { cabin: mockKey("sites-cabin-key") }, "a pending peer has no key to show");
        await settle();
        const before = recorded.find((r) => r.name === "sites-cabin-interface")!.inputs;
        const conf = parseScriptFiles(before.create, before.stdin)[0].content;
        assert.doesNotMatch(conf, /\[Peer\]/, "no peer section without a key");
        assert.match(conf, /^\[Interface\]/m);
        resetRecorded();
        make(pulumi.output(EXTERNAL));
        await settle();
        const after = recorded.find((r) => r.name === "sites-cabin-interface")!.inputs;
        assert.equal(after.create, before.create, "the script keeps its shape: the next up is an in-place update");
        assert.notEqual(after.stdin, before.stdin);
        assert.match(parseScriptFiles(after.create, after.stdin)[0].content, new RegExp(`# rack\n\\[Peer\\]\nPublicKey = ${escape(EXTERNAL)}`));
    });

    it("rotates keys by keyVersion: only the key step's script changes", async () => {
        const make = async (v: number) => {
            await settle();
            resetRecorded();
            new WireguardLink("sites", { interfaceName: "wg0", keyVersion: v, hub: { host: host("rack", "10.231.1.2"), endpoint: "10.231.1.2:51820" }, peers: [{ host: host("cabin", "10.231.2.2") }] });
            await new Promise((r) => setTimeout(r, 100));
            return Object.fromEntries(commands().map((c) => [c.name, c.inputs]));
        };
        const a = await make(0);
        const b = await make(1);
        assert.notEqual(a["sites-rack-key"].create, b["sites-rack-key"].create);
        assert.match(b["sites-rack-key"].create, /hearth_want=1/);
        assert.equal(a["sites-rack-interface"].create, b["sites-rack-interface"].create);
        assert.deepEqual(a["sites-rack-key-lifecycle"], b["sites-rack-key-lifecycle"], "the delete side never changes with a rotation");
    });

    describe("rejects hostile input before registering anything", () => {
        const rack = () => host("rack", "10.231.1.2");
        const cabin = () => host("cabin", "10.231.2.2");
        const ok = (): WireguardLinkArgs => ({ interfaceName: "wg0", hub: { host: rack(), endpoint: "10.231.1.2:51820" }, peers: [{ host: cabin() }] });
        const cases: Array<[string, (a: WireguardLinkArgs) => any, RegExp]> = [
            ["interface name over 15 chars", (a) => ({ ...a, interfaceName: "wg-much-too-long0" }), /'interfaceName' argument "wg-much-too-long0".*15/],
            ["interface name with a slash", (a) => ({ ...a, interfaceName: "wg/0" }), /'interfaceName' argument "wg\/0"/],
            ["interface name with a dot", (a) => ({ ...a, interfaceName: "wg.0" }), /'interfaceName'/],
            ["interface name with a space", (a) => ({ ...a, interfaceName: "wg 0" }), /'interfaceName'/],
            ["interface name with shell", (a) => ({ ...a, interfaceName: "$(id)" }), /'interfaceName'/],
            ["empty interface name", (a) => ({ ...a, interfaceName: "" }), /'interfaceName'/],
            ["public key too short", (a) => ({ ...a, peers: [{ name: "x", publicKey: "abc=" }] }), /'peers\[0\]\.publicKey' argument "abc="/],
            ["public key not 32 bytes", (a) => ({ ...a, peers: [{ name: "x", publicKey: EXTERNAL.slice(0, 42) + "B=" }] }), /'peers\[0\]\.publicKey'/],
            ["public key with a newline", (a) => ({ ...a, peers: [{ name: "x", publicKey: EXTERNAL.slice(0, 43) + "\n" }] }), /'peers\[0\]\.publicKey'/],
            ["side with both host and publicKey", (a) => ({ ...a, peers: [{ host: cabin(), publicKey: EXTERNAL }] }), /'peers\[0\]'.*exactly one of/],
            ["side with neither", (a) => ({ ...a, peers: [{ name: "x" }] }), /'peers\[0\]'.*exactly one of/],
            ["bad subnet CIDR", (a) => ({ ...a, peers: [{ host: cabin(), subnets: ["10.20.0.0/33"] }] }), /'peers\[0\]\.subnets\[0\]' argument "10\.20\.0\.0\/33"/],
            ["subnet with host bits", (a) => ({ ...a, peers: [{ host: cabin(), subnets: ["10.20.0.1/24"] }] }), /'peers\[0\]\.subnets\[0\]'/],
            ["subnet that is not an address", (a) => ({ ...a, peers: [{ host: cabin(), subnets: ["cabin-lan"] }] }), /'peers\[0\]\.subnets\[0\]'/],
            ["overlapping AllowedIPs between sides", (a) => ({ ...a, hub: { ...a.hub, subnets: ["10.0.0.0/8"] }, peers: [{ host: cabin(), subnets: ["10.20.0.0/24"] }] }), /'peers\[0\]\.subnets\[0\]' argument "10\.20\.0\.0\/24".*overlaps 10\.0\.0\.0\/8 of hub\.subnets\[0\]/],
            ["overlapping subnets on one side", (a) => ({ ...a, peers: [{ host: cabin(), subnets: ["fd00:1::/64", "fd00:1::/48"] }] }), /'peers\[0\]\.subnets\[1\]'/],
            ["tunnel address inside another side's subnet", (a) => ({ ...a, peers: [{ host: cabin(), addresses: ["10.99.0.2/24"] }], hub: { ...a.hub, addresses: ["10.99.0.1/24"], subnets: ["10.99.0.0/30"] } }), /overlaps/],
            ["bad tunnel address", (a) => ({ ...a, peers: [{ host: cabin(), addresses: ["10.99.0.2"] }] }), /'peers\[0\]\.addresses\[0\]'/],
            ["endpoint without a port", (a) => ({ ...a, hub: { ...a.hub, endpoint: "10.231.1.2" } }), /'hub\.endpoint' argument "10\.231\.1\.2"/],
            ["endpoint port 0", (a) => ({ ...a, hub: { ...a.hub, endpoint: "gw.example.org:0" } }), /'hub\.endpoint'/],
            ["endpoint with shell", (a) => ({ ...a, hub: { ...a.hub, endpoint: "$(reboot):51820" } }), /'hub\.endpoint'/],
            ["endpoint with a comment char", (a) => ({ ...a, hub: { ...a.hub, endpoint: "gw#x:51820" } }), /'hub\.endpoint'/],
            ["no side can dial", (a) => ({ ...a, hub: { host: rack() } }), /'peers\[0\]\.endpoint'.*handshake/],
            ["mtu below IPv6 minimum", (a) => ({ ...a, mtu: 1000 }), /'mtu' argument 1000/],
            ["listen port 70000", (a) => ({ ...a, hub: { ...a.hub, listenPort: 70000 } }), /'hub\.listenPort' argument 70000/],
            ["negative keyVersion", (a) => ({ ...a, keyVersion: -1 }), /'keyVersion' argument -1/],
            ["fractional keepalive", (a) => ({ ...a, keepaliveSec: 2.5 }), /'keepaliveSec'/],
            ["preshared key as a plain string", (a) => ({ ...a, presharedKey: EXTERNAL }), /'presharedKey' argument "<a plain string>"/],
            ["generated preshared key with a side managed elsewhere", (a) => ({ ...a, presharedKey: true, peers: [{ name: "x", publicKey: EXTERNAL }] }), /'presharedKey' argument true/],
            ["duplicate side names", (a) => ({ ...a, peers: [{ host: cabin() }, { name: "cabin", publicKey: EXTERNAL }] }), /'peers\[1\]\.name' argument "cabin"/],
            ["the same host twice", (a) => ({ ...a, peers: [{ host: rack(), name: "other" }] }), /'peers\[0\]\.host' argument "rack"/],
            ["side name with a dot", (a) => ({ ...a, peers: [{ name: "cabin.lan", publicKey: EXTERNAL }] }), /'peers\[0\]\.name' argument "cabin\.lan"/],
            ["no peers", (a) => ({ ...a, peers: [] }), /'peers' argument \[\]/],
            ["network not a /64", (a) => ({ ...a, network: "fd00:1:2::/48" }), /'network' argument "fd00:1:2::\/48"/],
            ["adopt not a boolean", (a) => ({ ...a, adopt: "yes" }), /'adopt' argument "yes".*true or false/],
            ["no managed side", (a) => ({ ...a, hub: { name: "r", publicKey: EXTERNAL, endpoint: "10.0.0.1:1" }, peers: [{ name: "c", publicKey: EXTERNAL.replace("y", "z") }] }), /at least one side managed/],
        ];
        for (const [what, mutate, re] of cases) {
            it(what, async () => {
                resetRecorded();
                assert.throws(() => new WireguardLink("bad", mutate(ok())), (e: unknown) => e instanceof pulumi.ResourceError && re.test((e as Error).message));
                await settle();
                assert.deepEqual(recorded.map((r) => r.name), [], "nothing registered");
            });
        }
        it("has at least 20 cases", () => assert.ok(cases.length >= 20));
    });
});

function escape(s: string): string {
    return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
