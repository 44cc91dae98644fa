// The IPv4 allocator: best fit, no overlaps, order-independent, pinned existing allocations, errors naming the request.
import { strict as assert } from "assert";
import * as fc from "fast-check";
import { ArgumentError } from "../../components/core/errors";
import { allocateIpv4, parseIPv4Cidr, ipv4Overlaps, ipv4Contains, formatIPv4Cidr, ipv4HostAddress, Ipv4Request, parseIPv4 } from "../../components/net/ipv4";

const POOL = "10.231.0.0/16";
const request = fc.record({ key: fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/), prefixLength: fc.integer({ min: 20, max: 30 }) });
const requests = fc.uniqueArray(request, { selector: (r) => r.key, maxLength: 40 });
const taken = fc.array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 16, max: 26 })), { maxLength: 4 })
    .map((ts) => ts.map(([third, len]) => formatIPv4Cidr(parseIPv4Cidr(`10.231.${third}.0/${len}`, false)!)));

function cidrs(r: Record<string, string>) {
    return Object.values(r).map((c) => parseIPv4Cidr(c)!);
}

/** Prefix length of the largest free aligned block (inside the /16 pool) that holds `c`. */
function freeBlockLen(c: { base: number; prefixLength: number }, used: { base: number; prefixLength: number }[]): number {
    let l = c.prefixLength;
    while (l > 16) {
        const parent = { base: c.base - (c.base % 2 ** (32 - (l - 1))), prefixLength: l - 1 };
        if (used.some((u) => ipv4Overlaps(u, parent))) break;
        l--;
    }
    return l;
}

function tryAllocate(args: Parameters<typeof allocateIpv4>[0]): Record<string, string> | undefined {
    try {
        return allocateIpv4(args);
    } catch (e) {
        if (e instanceof ArgumentError && /exhausted/.test(e.message)) return undefined;
        throw e;
    }
}

describe("net/ipv4", () => {
    it("allocates non-overlapping subnets of the requested size inside the pool and outside what is taken", () => {
        fc.assert(fc.property(requests, taken, (reqs, tk) => {
            const r = tryAllocate({ requests: reqs, pools: [POOL], taken: tk });
            if (!r) return;
            assert.deepEqual(Object.keys(r).sort(), reqs.map((q) => q.key).sort());
            const cs = cidrs(r);
            for (const q of reqs) assert.equal(parseIPv4Cidr(r[q.key])!.prefixLength, q.prefixLength);
            for (const c of cs) {
                assert.ok(ipv4Contains(parseIPv4Cidr(POOL)!, c));
                for (const t of tk) assert.ok(!ipv4Overlaps(c, parseIPv4Cidr(t)!), `${formatIPv4Cidr(c)} overlaps taken ${t}`);
            }
            for (let i = 0; i < cs.length; i++) for (let j = i + 1; j < cs.length; j++) assert.ok(!ipv4Overlaps(cs[i], cs[j]));
        }), { numRuns: 300 });
    });

    it("does not depend on the order requests are listed in", () => {
        const reqsAndShuffle = requests.chain((rs) => fc.tuple(fc.constant(rs), fc.shuffledSubarray(rs, { minLength: rs.length })));
        fc.assert(fc.property(reqsAndShuffle, taken, ([reqs, shuffled], tk) => {
            assert.deepEqual(tryAllocate({ requests: shuffled, pools: [POOL], taken: tk }), tryAllocate({ requests: reqs, pools: [POOL], taken: tk }));
        }), { numRuns: 300 });
    });

    it("never renumbers an existing allocation when requests are added or removed", () => {
        fc.assert(fc.property(requests, requests, taken, (before, added, tk) => {
            const first = tryAllocate({ requests: before, pools: [POOL], taken: tk });
            if (!first) return;
            const keys = new Set(before.map((b) => b.key));
            const kept = before.filter((_, i) => i % 3 !== 0);
            const next = [...kept, ...added.filter((a) => !keys.has(a.key))];
            const second = tryAllocate({ requests: next, pools: [POOL], taken: tk, existing: first });
            if (!second) return;
            for (const k of kept) assert.equal(second[k.key], first[k.key]);
            const cs = cidrs(second);
            for (let i = 0; i < cs.length; i++) for (let j = i + 1; j < cs.length; j++) assert.ok(!ipv4Overlaps(cs[i], cs[j]));
        }), { numRuns: 300 });
    });

    it("takes the smallest free block that fits, so big holes stay whole", () => {
        // Free space: a /26 hole left by taken /26 neighbours and the rest of a /24. A /28 goes into the /26 hole.
        const r = allocateIpv4({ pools: ["10.231.0.0/24"], taken: ["10.231.0.0/26", "10.231.0.128/25"], requests: [{ key: "a", prefixLength: 28 }] });
        assert.equal(r.a, "10.231.0.64/28");
        const r2 = allocateIpv4({
            pools: ["10.231.0.0/23"],
            taken: ["10.231.0.0/25", "10.231.0.192/26"],
            requests: [{ key: "small", prefixLength: 27 }, { key: "big", prefixLength: 24 }],
        });
        // The /27 goes into the 64-address hole at .128, leaving 10.231.1.0/24 for the /24.
        assert.deepEqual(r2, { small: "10.231.0.128/27", big: "10.231.1.0/24" });
        fc.assert(fc.property(requests, taken, fc.integer({ min: 22, max: 28 }), (reqs, tk, len) => {
            const base = tryAllocate({ requests: reqs, pools: [POOL], taken: tk });
            if (!base) return;
            const extra: Ipv4Request = { key: "zz-extra", prefixLength: len };
            const r3 = tryAllocate({ requests: [...reqs, extra], pools: [POOL], taken: tk, existing: base });
            if (!r3) return;
            // Best fit: every free spot of that size sits in a free aligned block at least as big as the one it took.
            const used = [...cidrs(base), ...tk.map((t) => parseIPv4Cidr(t)!)];
            const got = parseIPv4Cidr(r3[extra.key])!;
            const lo = parseIPv4("10.231.0.0")!;
            for (let b = lo; b < lo + 2 ** 16; b += 2 ** (32 - len)) {
                const cand = { base: b, prefixLength: len };
                if (used.some((u) => ipv4Overlaps(u, cand))) continue;
                assert.ok(freeBlockLen(got, used) >= freeBlockLen(cand, used), `${formatIPv4Cidr(cand)} sits in a smaller free block than ${formatIPv4Cidr(got)}`);
            }
        }), { numRuns: 40 });
    });

    it("names the request when the pool is exhausted", () => {
        assert.throws(
            () => allocateIpv4({ pools: ["192.168.7.0/24"], requests: [{ key: "web", prefixLength: 25 }, { key: "db", prefixLength: 25 }, { key: "cache", prefixLength: 26 }] }),
            (e: unknown) => e instanceof ArgumentError && /'requests\[2\]' argument "cache".*exhausted/.test((e as Error).message),
        );
    });

    it("host addresses", () => {
        assert.equal(ipv4HostAddress("10.231.5.0/24", 1), "10.231.5.1/24");
        assert.equal(ipv4HostAddress("10.231.5.0/31", 1), "10.231.5.1/31");
        assert.throws(() => ipv4HostAddress("10.231.5.0/24", 255), /'index'/);
    });

    describe("rejects bad input naming the argument", () => {
        const cases: Array<[string, () => unknown, RegExp]> = [
            ["public pool", () => allocateIpv4({ pools: ["8.8.8.0/24"], requests: [] }), /'pools\[0\]'.*8\.8\.8\.0\/24.*private/],
            ["pool with host bits", () => allocateIpv4({ pools: ["10.0.0.1/8"], requests: [] }), /'pools\[0\]'/],
            ["octal-looking octet", () => allocateIpv4({ pools: ["10.010.0.0/16"], requests: [] }), /'pools\[0\]'/],
            ["bad taken", () => allocateIpv4({ taken: ["10.0.0.0/33"], requests: [] }), /'taken\[0\]'/],
            ["duplicate key", () => allocateIpv4({ requests: [{ key: "a", prefixLength: 24 }, { key: "a", prefixLength: 24 }] }), /'requests\[1\]\.key'/],
            ["key with a space", () => allocateIpv4({ requests: [{ key: "a b", prefixLength: 24 }] }), /'requests\[0\]\.key'/],
            ["prefix length 33", () => allocateIpv4({ requests: [{ key: "a", prefixLength: 33 }] }), /'requests\[0\]\.prefixLength'.*33/],
            ["existing of the wrong size", () => allocateIpv4({ pools: [POOL], requests: [{ key: "a", prefixLength: 24 }], existing: { a: "10.231.0.0/25" } }), /'existing\.a'/],
            ["existing outside the pool", () => allocateIpv4({ pools: [POOL], requests: [{ key: "a", prefixLength: 24 }], existing: { a: "10.9.0.0/24" } }), /'existing\.a'/],
            ["existing overlapping taken", () => allocateIpv4({ pools: [POOL], taken: ["10.231.0.0/16"], requests: [{ key: "a", prefixLength: 24 }], existing: { a: "10.231.0.0/24" } }), /'existing\.a'/],
        ];
        for (const [what, f, re] of cases) {
            it(what, () => assert.throws(f, (e: unknown) => e instanceof ArgumentError && re.test((e as Error).message)));
        }
    });
});
