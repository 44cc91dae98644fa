// hearth:wireguard is WireguardLink's own schema: a value the component refuses, the site config refuses at the key path
// with the same sentence, and a value the component takes, the config takes. Cross-field rules (unique names, overlapping
// AllowedIPs, who starts the handshake) run on the config too, before any resource exists.
import { strict as assert } from "assert";
import { ArgumentError, describe as shown } from "../../components/core/errors";
import type { Host } from "../../components/host";
import { resolveWireguardLinkArgs, WireguardLinkArgs } from "../../components/wireguard";
import { checkSiteConfig } from "../../stacks/schema";
import { TEST_HOST_KEY } from "../mocks";

type Values = Record<string, any>;

const KEY = "yFBApxHlqZV2r32SzjVII0ZXAOQcZvyVlFFRbaifYWw=";

/** A Host by its shape (the resolvers recognise a Host that way): enough for checking arguments. */
const host = (name: string) => ({ name, connection: {}, wrap: () => undefined }) as unknown as Host;

function config(link: Values): Values {
    return {
        sshPrivateKey: "placeholder",
        hosts: [
            { name: "web1", address: "192.0.2.10", hostKey: TEST_HOST_KEY },
            { name: "web2", address: "192.0.2.11", hostKey: TEST_HOST_KEY },
        ],
        wireguard: [link],
    };
}

/** The same link twice: as a config entry (hosts by name) and as component arguments (hosts as Hosts). */
function pair(change: (l: Values) => void = () => undefined): { config: Values; args: WireguardLinkArgs } {
    const l: Values = { interfaceName: "wg-sites", hub: { host: "web1", endpoint: "192.0.2.10:51820" }, peers: [{ host: "web2" }] };
    change(l);
    const side = (s: Values) => (s.host === undefined ? s : { ...s, host: host(s.host) });
    return { config: config({ name: "sites", ...l }), args: { ...l, hub: side(l.hub), peers: l.peers.map(side) } as WireguardLinkArgs };
}

function problems(values: Values): string[] {
    const r = checkSiteConfig({ values, secretKeys: new Set(["sshPrivateKey"]) });
    return r.ok ? [] : r.problems.map((p) => `'${p.path}' ${p.message}`);
}

function componentError(args: WireguardLinkArgs): ArgumentError | undefined {
    try {
        resolveWireguardLinkArgs(args);
        return undefined;
    } catch (e) {
        assert.ok(e instanceof ArgumentError, `expected an ArgumentError, got ${e}`);
        return e;
    }
}

/** Asserts both refuse with one sentence at one place, or both accept. */
function agree(change: (l: Values) => void): string | undefined {
    const { config: c, args } = pair(change);
    const e = componentError(args);
    const found = problems(c);
    if (!e) {
        assert.deepEqual(found, [], "the component takes it, so the config must");
        return undefined;
    }
    const path = e.arg.startsWith("[") ? `hearth:wireguard[0]${e.arg}` : `hearth:wireguard[0].${e.arg}`;
    const value = e.value === undefined ? "is missing" : `is ${shown(e.value)}`;
    assert.deepEqual(found, [`'${path}' ${value}: expected ${e.allowed}`]);
    return e.allowed;
}

describe("site config hearth:wireguard: the component's schema", () => {
    it("accepts the base link, as the component does", () => assert.equal(agree(() => undefined), undefined));

    const numbers: [string, (l: Values, v: unknown) => void, unknown[]][] = [
        ["keepaliveSec", (l, v) => (l.keepaliveSec = v), [-1, 0, 1, 25, 3600, 3601, 65535, 65536, 2.5, "25", null]],
        ["mtu", (l, v) => (l.mtu = v), [1279, 1280, 1420, 9000, 9001, 1500.5, "1420"]],
        ["hub.listenPort", (l, v) => (l.hub.listenPort = v), [0, 1, 51820, 65535, 65536, -5, "51820"]],
        ["peers[0].listenPort", (l, v) => (l.peers[0].listenPort = v), [0, 65535, 65536]],
        ["keyVersion", (l, v) => (l.keyVersion = v), [-1, 0, 1_000_000, 1_000_001, 2 ** 31 - 1, 2 ** 31, 0.5]],
    ];
    for (const [arg, set, values] of numbers) {
        it(`refuses exactly the ${arg} values the component refuses, with its sentence`, () => {
            const refused = values.filter((v) => agree((l) => set(l, v)) !== undefined);
            // The check must be able to fail: some values are refused and some taken.
            assert.ok(refused.length > 0 && refused.length < values.length, `${arg}: refused ${JSON.stringify(refused)}`);
        });
    }

    it("takes keepaliveSec up to 65535 (WireGuard's limit) in both", () => {
        assert.equal(agree((l) => (l.keepaliveSec = 3601)), undefined);
        assert.equal(agree((l) => (l.keepaliveSec = 65535)), undefined);
        assert.equal(agree((l) => (l.keepaliveSec = 65536)), "an integer from 0 to 65535");
    });

    const others: [string, (l: Values) => void, RegExp][] = [
        ["an interface name over 15 characters", (l) => (l.interfaceName = "wg-much-too-long0"), /15 characters/],
        ["a network that is not a /64", (l) => (l.network = "fd00:1:2::/48"), /IPv6 \/64/],
        ["a subnet with host bits", (l) => (l.peers[0].subnets = ["10.20.0.1/24"]), /no host bits/],
        ["an address without a prefix", (l) => (l.peers[0].addresses = ["10.99.0.2"]), /with its prefix/],
        ["an endpoint without a port", (l) => (l.hub.endpoint = "192.0.2.10"), /port from 1 to 65535/],
        ["an endpoint with a bare IPv6 address", (l) => (l.hub.endpoint = "2001:db8::1:51820"), /\[ipv6\]:port/],
        ["a public key that is not 32 bytes", (l) => (l.peers = [{ name: "far", publicKey: "abc=" }]), /WireGuard public key/],
        ["duplicate side names", (l) => (l.peers = [{ host: "web2" }, { name: "web2", publicKey: KEY }]), /a name no other side uses \(peers\[0\] has it\)/],
        ["the same host twice", (l) => (l.peers = [{ host: "web1", name: "other" }]), /a host not already a side of this link \(hub\)/],
        ["overlapping subnets", (l) => ((l.hub.subnets = ["10.0.0.0/8"]), (l.peers[0].subnets = ["10.20.0.0/24"])), /overlaps 10\.0\.0\.0\/8 of hub\.subnets\[0\]/],
        ["a tunnel address inside another side's subnet", (l) => ((l.hub.subnets = ["fd00:1::/48"]), (l.peers[0].addresses = ["fd00:1::5/64"])), /overlaps fd00:1::\/48 of hub\.subnets\[0\]/],
        ["no side that can dial", (l) => delete l.hub.endpoint, /start the handshake/],
        ["no peers", (l) => (l.peers = []), /an array of sides, at least 1 entry/],
    ];
    for (const [what, change, sentence] of others) {
        it(`refuses ${what} in both, with one sentence at one key path`, () => {
            const allowed = agree(change);
            assert.ok(allowed !== undefined && sentence.test(allowed), `got ${allowed}`);
        });
    }

    it("refuses a generated preshared key when a side is another site's, at the presharedKey key", () => {
        const v = config({ name: "sites", interfaceName: "wg-sites", hub: { host: "web1", endpoint: "192.0.2.10:51820" }, peers: [{ name: "far", stack: "vps" }], presharedKey: true });
        assert.deepEqual(problems(v), [`'hearth:wireguard[0].presharedKey' is true: expected a secret Output shared with the other stack when a side is managed elsewhere (a generated key would exist only here)`]);
    });

    it("a side is a host of this site, a side of another site's stack or a key given by hand, and the last two are named", () => {
        const exactly = "expected exactly one of host (a host of this site), stack (the site that manages it) or publicKey";
        const link = (hub: Values) => config({ name: "sites", interfaceName: "wg-sites", hub, peers: [{ host: "web2" }] });
        assert.deepEqual(problems(link({ name: "edge", endpoint: "192.0.2.1:51820" })), [`'hearth:wireguard[0].hub' is {"name":"edge","endpoint":"192.0.2.1:51820"}: ${exactly}`]);
        assert.deepEqual(problems(link({ host: "web1", publicKey: KEY })), [`'hearth:wireguard[0].hub' is {"host":"web1","publicKey":"${KEY}"}: ${exactly}`]);
        assert.deepEqual(problems(link({ publicKey: KEY, endpoint: "192.0.2.1:51820" })), [`'hearth:wireguard[0].hub.name' is missing: expected a side name (the same in every stack) for a side managed elsewhere`]);
        assert.deepEqual(problems(link({ name: "edge", publicKey: KEY, endpoint: "192.0.2.1:51820" })), []);
    });

    it("counts a side of another site as reachable through its stack's outputs, and its default address in the overlap check", () => {
        const v = config({ name: "sites", interfaceName: "wg-sites", hub: { name: "edge", stack: "vps" }, peers: [{ host: "web1" }] });
        assert.deepEqual(problems(v), []);
        // A peer subnet over the whole tunnel network takes in the hub's default ULA address.
        v.wireguard[0].network = "fd00:aa::/64";
        v.wireguard[0].peers[0].subnets = ["fd00:aa::/64"];
        const found = problems(v);
        assert.equal(found.length, 1, found.join("\n"));
        assert.match(found[0], /^'hearth:wireguard\[0\]\.peers\[0\]\.subnets\[0\]' is "fd00:aa::\/64": expected a network that overlaps no other routed network \(it overlaps fd00:aa::[0-9a-f:]+\/128 of hub\.addresses\[0\]\)$/);
    });
});
