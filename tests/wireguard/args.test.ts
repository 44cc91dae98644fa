// WireguardLink's schema and resolver, without Pulumi: errors carry the argument's path, defaults come from the ULA
// plan, and addresses come out in the canonical text the rendered configs have always carried.
import { strict as assert } from "assert";
import { ArgumentError } from "../../components/core/errors";
import type { Host } from "../../components/host";
import { ulaAddress, ulaPrefix, ulaSubnet } from "../../components/net/ula";
import { allowedIpsFor, resolveWireguardLinkArgs } from "../../components/wireguard/args";
import { isEndpoint, WireguardLinkArgs, WireguardSideArgs } from "../../components/wireguard/schema";

const host = (name: string) => ({ name, connection: {}, wrap: () => undefined }) as unknown as Host;
const KEY = "yFBApxHlqZV2r32SzjVII0ZXAOQcZvyVlFFRbaifYWw=";

function base(): WireguardLinkArgs {
    return { interfaceName: "wg0", hub: { host: host("rack"), endpoint: "rack.example.org:51820" }, peers: [{ host: host("cabin") }] };
}

function refusal(args: unknown): ArgumentError {
    try {
        resolveWireguardLinkArgs(args as WireguardLinkArgs);
    } catch (e) {
        assert.ok(e instanceof ArgumentError, `expected an ArgumentError, got ${e}`);
        return e;
    }
    assert.fail("the arguments were accepted");
}

describe("WireguardLink arguments", () => {
    it("defaults: the ULA network of the interface name, each side's ULA address, port 51820, MTU 1420, keepalive 25", () => {
        const link = resolveWireguardLinkArgs(base());
        const network = ulaSubnet(ulaPrefix("wireguard:wg0"), 0);
        assert.equal(link.network, network);
        assert.deepEqual([link.hub.addresses, link.peers[0].addresses], [[ulaAddress(network, "rack")], [ulaAddress(network, "cabin")]]);
        assert.deepEqual([link.hub.listenPort, link.mtu, link.keepaliveSec, link.keyVersion, link.presharedKey, link.adopt], [51820, 1420, 25, 0, "none", false]);
        assert.equal(resolveWireguardLinkArgs({ ...base(), keepaliveSec: 0 }).keepaliveSec, undefined, "0 turns keepalive off");
    });

    it("prints addresses, networks and host routes in the canonical text (RFC 5952, lowercase)", () => {
        const link = resolveWireguardLinkArgs({
            ...base(),
            network: "FD00:0000:0000:0007:0000:0000:0000:0000/64",
            hub: { host: host("rack"), endpoint: "[2001:DB8::7]:51820", addresses: ["2001:db8:0:0:1:0:0:1/64", "10.99.0.1/24"], subnets: ["2001:DB8:0:1:0:0:0:0/64"] },
            peers: [{ host: host("cabin"), addresses: ["2001:db8:0:2:1:1:1:1/64"], subnets: ["10.20.0.0/24"] }],
        });
        assert.equal(link.network, "fd00:0:0:7::/64");
        assert.deepEqual(link.hub.addresses, ["2001:db8::1:0:0:1/64", "10.99.0.1/24"], "the first of two equal zero runs is compressed");
        assert.deepEqual(link.hub.subnets, ["2001:db8:0:1::/64"]);
        assert.deepEqual(link.peers[0].addresses, ["2001:db8:0:2:1:1:1:1/64"], "a single zero group is not compressed");
        assert.deepEqual(allowedIpsFor(link, link.peers[0], link.hub), ["2001:db8::1:0:0:1/128", "10.99.0.1/32", "2001:db8:0:1::/64"]);
        assert.deepEqual(allowedIpsFor(link, link.hub, link.peers[0]), ["2001:db8:0:2:1:1:1:1/128", "10.20.0.0/24"]);
    });

    it("takes readonly lists, as the argument types always did", () => {
        const subnets = ["10.20.0.0/24"] as const;
        const peers: readonly WireguardLinkArgs["peers"][number][] = [{ host: host("cabin"), subnets }];
        assert.deepEqual(resolveWireguardLinkArgs({ ...base(), peers }).peers[0].subnets, ["10.20.0.0/24"]);
    });

    it("names the argument by its path, for the site config to put under its key path", () => {
        const e = refusal({ ...base(), peers: [{ host: host("cabin"), subnets: ["10.20.0.0/24", "10.30.0.1/24"] }] });
        assert.deepEqual([e.path, e.arg, e.value], [["peers", 0, "subnets", 1], "peers[0].subnets[1]", "10.30.0.1/24"]);
        assert.match(e.message, /^The 'peers\[0\]\.subnets\[1\]' argument "10\.30\.0\.1\/24" is not allowed: expected a CIDR network with no host bits/);
    });

    it("a side is a host here or a named key from elsewhere: the mixed case, neither, and a nameless remote side are refused", () => {
        // The type says so too (tsc fails if these compile).
        // @ts-expect-error: host and publicKey exclude each other
        const mixed: WireguardSideArgs = { host: host("cabin"), publicKey: KEY };
        // @ts-expect-error: a side managed elsewhere needs its name
        const nameless: WireguardSideArgs = { publicKey: KEY };
        assert.ok(mixed && nameless);
        assert.match(refusal({ ...base(), peers: [{ host: host("cabin"), publicKey: KEY }] }).message, /'peers\[0\]' argument \["host","publicKey"\].*exactly one of `host` \(managed here\) or `publicKey`/);
        assert.match(refusal({ ...base(), peers: [{ name: "cabin" }] }).message, /'peers\[0\]'.*exactly one of/);
        const e = refusal({ ...base(), peers: [{ publicKey: KEY }] });
        assert.deepEqual([e.arg, e.value, e.allowed], ["peers[0].name", undefined, "a side name: a lowercase DNS label"]);
        assert.equal(resolveWireguardLinkArgs({ ...base(), peers: [{ name: "cabin", publicKey: KEY }] }).peers[0].name, "cabin");
    });

    it("refuses a preshared key given as a plain string without showing it", () => {
        const e = refusal({ ...base(), presharedKey: KEY });
        assert.equal(e.arg, "presharedKey");
        assert.ok(!e.message.includes(KEY), e.message);
        assert.match(e.message, /"<a plain string>".*a Pulumi secret Output/);
        assert.equal(refusal({ ...base(), presharedKey: 1 }).arg, "presharedKey");
    });

    it("refuses an unknown argument (a typo) naming the known ones", () => {
        const e = refusal({ ...base(), keepalive: 25 });
        assert.equal(e.arg, "keepalive");
        assert.match(e.allowed, /one of the keys of WireguardLinkArgs: interfaceName, hub, peers, network, mtu, keepaliveSec, presharedKey, keyVersion, adopt/);
    });

    it("endpoints: a DNS name or IPv4 address with a port, or a bracketed IPv6 address with a port", () => {
        for (const ok of ["gw.example.org:51820", "203.0.113.9:1", "[2001:db8::7]:65535", "GW.Example.org:51820"]) assert.ok(isEndpoint(ok), ok);
        for (const bad of ["203.0.113.9", "gw:0", "gw:65536", "gw:051820", "[fe80::1%eth0]:51820", "[203.0.113.9]:51820", "2001:db8::7:51820", "999.1.1.1:51820", "gw#x:51820", "$(id):1", "gw.example.org:51820\n"]) {
            assert.ok(!isEndpoint(bad), bad);
        }
    });
});
