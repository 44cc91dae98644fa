// Names and addresses: RFC 1035 label rules, strict address parsing and the private ranges, with property tests.
import { strict as assert } from "assert";
import fc from "fast-check";
import { classifyIp as parseAddress } from "../../components/core/ip";
import { parseArgs } from "../../components/core/schema";
import { recordAddress } from "../../components/dns/schema";
import { labelProblem, nameProblem, targetProblem } from "../../components/dns/names";
import { compareOwners, txtStrings } from "../../components/dns/render";

const v4 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
const inV4 = (n: number, base: string, bits: number) => {
    const b = base.split(".").reduce((a, o) => a * 256 + Number(o), 0);
    return Math.floor(n / 2 ** (32 - bits)) === Math.floor(b / 2 ** (32 - bits));
};

describe("dns names and addresses", () => {
    it("accepts LDH labels of 1 to 63 characters and refuses everything else", () => {
        fc.assert(fc.property(fc.stringMatching(/^[a-z0-9-]{1,70}$/), (label) => {
            const ok = label.length <= 63 && !label.startsWith("-") && !label.endsWith("-");
            assert.equal(labelProblem(label) === null, ok, label);
        }));
        for (const bad of ["", "a b", "a_b", "A", "é", "a.b", "a\u0000", "a\n"]) assert.notEqual(labelProblem(bad), null, JSON.stringify(bad));
        assert.equal(labelProblem("_dmarc", { underscore: true }), null);
        assert.notEqual(labelProblem("_dmarc"), null);
    });

    it("limits names to 253 characters and puts '*' only leftmost, only when allowed", () => {
        const n = Array(4).fill("a".repeat(63)).join(".");
        assert.equal(n.length, 255);
        assert.match(nameProblem(n)!, /at most 253/);
        assert.equal(nameProblem(n.slice(0, 253).replace(/\.$/, "a")), null);
        assert.equal(nameProblem("*.apps", { wildcard: true }), null);
        assert.match(nameProblem("*.apps")!, /allowWildcard/);
        assert.match(nameProblem("a.*", { wildcard: true })!, /leftmost/);
    });

    it("takes host names as targets, not addresses or single labels", () => {
        assert.equal(targetProblem("mx.example.org."), null);
        assert.match(targetProblem("192.0.2.1")!, /IP address/);
        assert.match(targetProblem("localhost")!, /single label/);
    });

    it("classifies every IPv4 address the same way the ranges say", () => {
        const privateRanges: [string, number][] = [["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12], ["192.168.0.0", 16]];
        const invalidRanges: [string, number][] = [["0.0.0.0", 8], ["224.0.0.0", 4], ["240.0.0.0", 4]];
        fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (n) => {
            const a = parseAddress(v4(n))!;
            const want = invalidRanges.some(([b, l]) => inV4(n, b, l)) ? "invalid" : privateRanges.some(([b, l]) => inV4(n, b, l)) ? "private" : "public";
            assert.equal(a.family, 4);
            assert.equal(a.class, want, v4(n));
        }), { numRuns: 2000 });
        for (const edge of ["10.255.255.255", "172.31.0.1", "100.127.255.255", "192.168.0.0"]) assert.equal(parseAddress(edge)!.class, "private", edge);
        for (const edge of ["172.32.0.1", "100.128.0.1", "11.0.0.1", "192.169.0.1", "203.0.113.7"]) assert.equal(parseAddress(edge)!.class, "public", edge);
        for (const bad of ["1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.256", " 1.2.3.4", "1.2.3.4\n", "0x1.2.3.4"]) assert.equal(parseAddress(bad), undefined, JSON.stringify(bad));
    });

    it("reads any IPv6 spelling into one canonical form, and classifies ULA, link-local and loopback as private", () => {
        const group = fc.integer({ min: 0, max: 0xffff });
        fc.assert(fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (g) => {
            const long = g.map((x) => x.toString(16).toUpperCase().padStart(4, "0")).join(":");
            const a = parseAddress(long)!;
            assert.equal(a.family, 6);
            assert.equal(parseAddress(a.text)!.text, a.text, "canonical text is a fixed point");
            assert.ok(!/[A-F]/.test(a.text) && !/(^|:)0[0-9a-f]/.test(a.text));
            const top = g[0];
            const want = (top & 0xfe00) === 0xfc00 || (top & 0xffc0) === 0xfe80 ? "private" : (top & 0xff00) === 0xff00 ? "invalid" : undefined;
            if (want) assert.equal(a.class, want, long);
        }), { numRuns: 2000 });
        assert.equal(parseAddress("2001:0DB8:0000:0000:0000:0000:0000:0001")!.text, "2001:db8::1");
        assert.equal(parseAddress("::1")!.class, "private");
        assert.equal(parseAddress("::")!.class, "invalid");
        for (const bad of ["fe80::1%eth0", "2001:db8::1::2", "12345::", "g::1"]) assert.equal(parseAddress(bad), undefined, bad);
        // IPv4-mapped parses, but no record may carry it.
        assert.equal(parseAddress("::ffff:1.2.3.4")!.class, "invalid");
        assert.throws(() => parseArgs(recordAddress(), "::ffff:1.2.3.4", ["value"]), /'value' argument "::ffff:1\.2\.3\.4" is not allowed: expected an address usable in a record, not one in ::ffff:0:0\/96 \(IPv4-mapped; use an A record\)\./);
        for (const bad of ["fe80::1%eth0", "2001:db8::1::2", "1.2.3"]) assert.throws(() => parseArgs(recordAddress(), bad, ["value"]), /expected an IPv4 or IPv6 address\./, bad);
    });

    it("orders owners canonically: the apex first, then by labels from the right", () => {
        const owners = ["www", "@", "a.www", "_sip._tcp", "mail", "b", "*.apps", "apps"];
        assert.deepEqual([...owners].sort(compareOwners), ["@", "_sip._tcp", "apps", "*.apps", "b", "mail", "www", "a.www"]);
    });

    it("splits TXT text at 255 bytes and round-trips any printable ASCII", () => {
        fc.assert(fc.property(fc.stringMatching(/^[\x20-\x7e]{0,1200}$/), (text) => {
            const parts = txtStrings(text);
            const raw = parts.map((p) => p.replace(/\\(.)/g, "$1"));
            assert.equal(raw.join(""), text);
            assert.ok(raw.every((r) => r.length <= 255));
            assert.ok(parts.every((p) => !/(^|[^\\])"/.test(p.replace(/\\\\/g, ""))), "every quote escaped");
        }), { numRuns: 300 });
    });
});
