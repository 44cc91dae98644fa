// The ULA plan: deterministic, collision-free, inside fd00::/8, canonically formatted (fast-check properties).
import { strict as assert } from "assert";
import * as fc from "fast-check";
import { ArgumentError } from "../../components/core/errors";
import { parseIPv6, formatIPv6, parseIPv6Cidr, ipv6Mask } from "../../components/net/ipv6";
import { ulaPrefix, ulaInterfaceId, ulaSubnetIds, ulaSubnet, ulaAddress, ulaPlan } from "../../components/net/ula";

const identity = fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789-.:_ ".split("")), minLength: 1, maxLength: 40 })
    .map((s) => `h${s}x`);

/** WHATWG URL parsing canonicalizes IPv6 hosts the RFC 5952 way: an independent oracle for formatIPv6. */
function urlCanonical(text: string): string {
    return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

/** 128-bit values biased towards zero groups, where compression rules matter. */
const addr128 = fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 })
    .map((g) => g.reduce((acc, x) => (acc << 16n) | BigInt(x), 0n));

describe("net/ipv6", () => {
    it("formats like the WHATWG URL parser and parses its own output back", () => {
        fc.assert(fc.property(addr128, (x) => {
            const text = formatIPv6(x);
            assert.equal(text, urlCanonical(text));
            assert.equal(parseIPv6(text), x);
            const expanded = Array.from({ length: 8 }, (_, i) => ((x >> BigInt((7 - i) * 16)) & 0xffffn).toString(16).padStart(4, "0").toUpperCase()).join(":");
            assert.equal(parseIPv6(expanded), x);
            assert.equal(formatIPv6(parseIPv6(expanded)!), text);
        }), { numRuns: 2000 });
    });

    it("follows RFC 5952 on the textbook cases", () => {
        assert.equal(formatIPv6(0n), "::");
        assert.equal(formatIPv6(1n), "::1");
        assert.equal(formatIPv6(parseIPv6("2001:db8:0:0:1:0:0:1")!), "2001:db8::1:0:0:1");
        assert.equal(formatIPv6(parseIPv6("2001:db8:0:1:1:1:1:1")!), "2001:db8:0:1:1:1:1:1");
        assert.equal(formatIPv6(parseIPv6("2001:0DB8::0001")!), "2001:db8::1");
    });

    it("rejects malformed text", () => {
        for (const bad of ["", ":", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "g::", "::ffff:1.2.3.4", "fe80::1%eth0", "1:2:3:4:5:6:7::8"]) {
            assert.equal(parseIPv6(bad), undefined, bad);
        }
        for (const bad of ["fd00::/129", "fd00::", "fd00::/01", "fd00::/-1", "x/64"]) assert.equal(parseIPv6Cidr(bad), undefined, bad);
    });
});

describe("net/ula", () => {
    it("gives the same prefix and interface id for the same identity, and pins the derivation", () => {
        fc.assert(fc.property(identity, (id) => {
            assert.equal(ulaPrefix(id), ulaPrefix(id));
            assert.equal(ulaInterfaceId(id), ulaInterfaceId(id));
        }), { numRuns: 300 });
        // Pinned vectors: a change here renumbers every deployed site, so it must be a deliberate, versioned one.
        assert.deepEqual(
            ["rack-1", "cabin", "vps.example.org"].map((id) => [ulaPrefix(id), ulaInterfaceId(id).toString(16)]),
            GOLDEN,
        );
    });

    it("always lands in fd00::/8 as a /48 with no host bits, canonically formatted", () => {
        fc.assert(fc.property(identity, (id) => {
            const p = ulaPrefix(id);
            const c = parseIPv6Cidr(p)!;
            assert.equal(c.prefixLength, 48);
            assert.equal(c.address >> 120n, 0xfdn);
            assert.equal(c.address & ~ipv6Mask(48), 0n);
            assert.equal(p, `${urlCanonical(p.slice(0, -3))}/48`);
        }), { numRuns: 500 });
    });

    it("gives distinct identities distinct prefixes and interface ids", () => {
        fc.assert(fc.property(fc.uniqueArray(identity, { minLength: 500, maxLength: 3000 }), (ids) => {
            assert.equal(new Set(ids.map(ulaPrefix)).size, ids.length);
            assert.equal(new Set(ids.map((i) => ulaInterfaceId(i))).size, ids.length);
        }), { numRuns: 10 });
    });

    it("never hands out a reserved interface id (RFC 5453)", () => {
        fc.assert(fc.property(identity, (id) => {
            const iid = ulaInterfaceId(id);
            assert.ok(iid > 0n && iid < 0xfdffffffffffff80n && iid < 1n << 64n);
        }), { numRuns: 2000 });
    });

    it("orders subnet ids by name set only: unique, non-zero, the same for any listing order", () => {
        const namesAndShuffle = fc.uniqueArray(identity, { minLength: 1, maxLength: 200 })
            .chain((names) => fc.tuple(fc.constant(names), fc.shuffledSubarray(names, { minLength: names.length })));
        fc.assert(fc.property(namesAndShuffle, ([names, shuffled]) => {
            const ids = ulaSubnetIds(names);
            assert.deepEqual(ulaSubnetIds(shuffled), ids);
            const values = Object.values(ids);
            assert.equal(new Set(values).size, names.length);
            assert.ok(values.every((v) => v >= 1 && v <= 0xffff));
        }), { numRuns: 200 });
    });

    it("settles a hash collision deterministically instead of sharing a subnet", () => {
        // Alone, a name gets its preferred id; find two names that prefer the same one (birthday bound: a few hundred).
        const byId = new Map<number, string>();
        let pair: [string, string] | undefined;
        for (let i = 0; !pair; i++) {
            const name = `if${i}`;
            const id = ulaSubnetIds([name])[name];
            const other = byId.get(id);
            if (other !== undefined) pair = [other, name].sort() as [string, string];
            byId.set(id, name);
        }
        const [first, second] = pair;
        const preferred = ulaSubnetIds([first])[first];
        const ids = ulaSubnetIds([second, first]);
        assert.equal(ids[first], preferred, "the name sorted first keeps its preferred id");
        assert.equal(ids[second], (preferred + 1) & 0xffff || 1, "the other walks up to the next free id");
    });

    it("puts subnets and addresses inside the machine's prefix", () => {
        fc.assert(fc.property(identity, fc.uniqueArray(identity, { maxLength: 10 }), identity, (machine, ifaces, member) => {
            const plan = ulaPlan(machine, ifaces);
            const p = parseIPv6Cidr(plan.prefix)!;
            for (const name of ["self", ...ifaces]) {
                const a = parseIPv6Cidr(plan.address(name, member))!;
                assert.equal(a.prefixLength, 64);
                assert.equal(a.address & ipv6Mask(48), p.address);
                assert.equal(a.address & ~ipv6Mask(64), ulaInterfaceId(member));
            }
            assert.equal(plan.self, ulaSubnet(plan.prefix, 0));
        }), { numRuns: 200 });
    });

    describe("rejects bad input naming the argument", () => {
        const cases: Array<[string, () => unknown, RegExp]> = [
            ["empty identity", () => ulaPrefix(""), /'identity'/],
            ["identity with a newline", () => ulaPrefix("a\nb"), /'identity'.*"a\\nb"/],
            ["identity over 255 chars", () => ulaInterfaceId("x".repeat(256)), /'identity'/],
            ["duplicate interface", () => ulaSubnetIds(["eth0", "eth0"]), /'interfaces\[1\]'.*"eth0"/],
            ["non-ULA prefix", () => ulaSubnet("2001:db8::/48", 1), /'prefix'.*2001:db8::\/48/],
            ["prefix with host bits", () => ulaSubnet("fd00::1/48", 1), /'prefix'/],
            ["subnet id out of range", () => ulaSubnet("fd00:1:2::/48", 65536), /'subnetId'.*65536/],
            ["subnet not a /64", () => ulaAddress("fd00:1:2::/56", "x"), /'subnet'/],
            ["unknown interface", () => ulaPlan("m", ["br0"]).address("br1", "x"), /'iface'.*"br1"/],
        ];
        for (const [what, f, re] of cases) {
            it(what, () => assert.throws(f, (e: unknown) => e instanceof ArgumentError && re.test((e as Error).message)));
        }
    });
});

const GOLDEN: Array<[string, string]> = [
    ["fd9a:8c69:3554::/48", "e5c64866ca668e02"],
    ["fd86:a291:d877::/48", "a5862a92d1162670"],
    ["fdc8:db5b:4974::/48", "b678e6d51d112e0e"],
];
