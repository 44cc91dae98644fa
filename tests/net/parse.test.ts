// net/'s parse and format helpers are wrappers over the one IP parser (core/ip.ts): the same strictness, the same values.
import { strict as assert } from "assert";
import * as fc from "fast-check";
import { formatIp, parseCidr, parseIp } from "../../components/core/ip";
import { formatIPv4, formatIPv4Cidr, parseIPv4, parseIPv4Cidr, allocateIpv4, ipv4HostAddress } from "../../components/net/ipv4";
import { formatIPv6, parseIPv6, parseIPv6Cidr, ulaAddress } from "../../components/net";

const quad = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join("."));

describe("net parsing (core/ip.ts underneath)", () => {
    it("reads every dotted quad as core does, and formats it back", () => {
        fc.assert(fc.property(quad, (text) => {
            const n = parseIPv4(text);
            assert.equal(n, Number(parseIp(text)!.value));
            assert.equal(formatIPv4(n!), text);
            assert.equal(formatIPv4(n!), formatIp(4, BigInt(n!)));
        }));
        assert.equal(parseIPv4("255.255.255.255"), 0xffffffff);
        assert.equal(formatIPv4(0xffffffff), "255.255.255.255");
    });

    it("refuses IPv4 octets with leading zeros (some tools read them as octal), in addresses and networks", () => {
        for (const bad of ["010.0.0.1", "10.0.0.01", "10.00.0.1", "0x0a.0.0.1", "1.2.3", "1.2.3.4.5", "256.0.0.1", " 10.0.0.1", "10.0.0.1 ", "::1", ""]) {
            assert.equal(parseIPv4(bad), undefined, bad);
        }
        for (const bad of ["010.0.0.0/8", "10.0.0.0/08", "10.0.0.0/+8", "10.0.0.0/33", "10.0.0.0", "fd00::/8", "10.0.0.0/8/8"]) {
            assert.equal(parseIPv4Cidr(bad), undefined, bad);
            assert.equal(parseIPv4Cidr(bad, false), undefined, bad);
        }
        assert.throws(() => allocateIpv4({ taken: ["10.0.0.0/08"], requests: [] }), /'taken\[0\]' argument "10\.0\.0\.0\/08"/);
        assert.throws(() => ipv4HostAddress("192.168.001.0/24", 1), /'network' argument "192\.168\.001\.0\/24"/);
    });

    it("takes host bits in a network only when not strict, and clears them", () => {
        assert.equal(parseIPv4Cidr("10.1.2.3/16"), undefined);
        assert.deepEqual(parseIPv4Cidr("10.1.2.3/16", false), { base: parseIPv4("10.1.0.0"), prefixLength: 16 });
        assert.deepEqual(parseIPv4Cidr("0.0.0.0/0"), { base: 0, prefixLength: 0 });
        assert.equal(formatIPv4Cidr(parseIPv4Cidr("192.168.7.128/25")!), "192.168.7.128/25");
        fc.assert(fc.property(quad, fc.integer({ min: 0, max: 32 }), (a, len) => {
            const c = parseIPv4Cidr(`${a}/${len}`, false)!;
            assert.equal(BigInt(c.base), parseCidr(`${a}/${len}`)!.base);
        }));
    });

    it("refuses an IPv6 zone index, which means nothing off the host that wrote it", () => {
        for (const bad of ["fe80::1%eth0", "fe80::1%1", "fe80::1%", "fd00::1%25eth0"]) {
            assert.equal(parseIPv6(bad), undefined, bad);
            assert.equal(parseIPv6Cidr(`${bad}/64`), undefined, bad);
        }
    });

    it("refuses an embedded IPv4 tail: ipaddr.js reads the deprecated ::a.b.c.d as ::ffff:a.b.c.d, another address", () => {
        for (const bad of ["::1.2.3.4", "::ffff:1.2.3.4", "64:ff9b::1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "::ffff:1.2.3.04"]) {
            assert.equal(parseIPv6(bad), undefined, bad);
            assert.equal(parseIPv6Cidr(`${bad}/96`), undefined, bad);
        }
        // The same addresses in hex groups parse, each to its own value.
        assert.equal(parseIPv6("::102:304"), 0x01020304n);
        assert.equal(parseIPv6("::ffff:102:304"), (0xffffn << 32n) | 0x01020304n);
    });

    it("takes leading zeros and upper case in IPv6 groups (RFC 4291), but not five digits, and no IPv4 text", () => {
        assert.equal(parseIPv6("2001:0DB8:0000::0001"), (0x20010db8n << 96n) | 1n);
        assert.equal(parseIPv6Cidr("FD00:0001::/032"), undefined, "a prefix with a leading zero");
        assert.deepEqual(parseIPv6Cidr("FD00:0001::/32"), { address: (0xfd000001n << 96n), prefixLength: 32 });
        for (const bad of ["2001:00db8::1", "10.0.0.1", "::/129", "::/-0"]) assert.equal(bad.includes("/") ? parseIPv6Cidr(bad) : parseIPv6(bad), undefined, bad);
        assert.throws(() => ulaAddress("fd00:1:2:3::%eth0/64", "x"), /'subnet'/);
    });

    it("formats IPv6 by RFC 5952 where the rules bite", () => {
        assert.equal(formatIPv6(parseIPv6("2001:db8:0:1:1:1:1:1")!), "2001:db8:0:1:1:1:1:1", "one zero group is not compressed");
        assert.equal(formatIPv6(parseIPv6("2001:0:0:1:0:0:0:1")!), "2001:0:0:1::1", "the longest run is compressed");
        assert.equal(formatIPv6(parseIPv6("2001:db8:0:0:1:0:0:1")!), "2001:db8::1:0:0:1", "the first of equal runs is compressed");
        assert.equal(formatIPv6(parseIPv6("::ffff:102:304")!), "::ffff:102:304", "an IPv4-mapped value stays in hex groups");
        assert.equal(formatIPv6((1n << 128n) - 1n), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
        assert.throws(() => formatIPv6(1n << 128n), RangeError);
        assert.throws(() => formatIPv6(-1n), RangeError);
    });

    it("agrees with core on every IPv6 value it parses", () => {
        const addr = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 })
            .map((g) => g.reduce((acc, x) => (acc << 16n) | BigInt(x), 0n));
        fc.assert(fc.property(addr, fc.integer({ min: 0, max: 128 }), (v, len) => {
            const text = formatIPv6(v);
            assert.equal(text, formatIp(6, v));
            assert.equal(parseIPv6(text), parseIp(text)!.value);
            assert.deepEqual(parseIPv6Cidr(`${text}/${len}`), { address: v, prefixLength: len });
        }));
    });
});
