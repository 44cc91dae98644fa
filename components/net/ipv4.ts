// IPv4 subnet allocation from private ranges: pinned existing allocations, best-fit for new ones, order-independent.
import { ArgumentError } from "../core/errors";
import { formatIp, parseCidr, parseIp } from "../core/ip";

export interface Ipv4Cidr {
    /** Network address as an unsigned 32-bit number. */
    readonly base: number;
    readonly prefixLength: number;
}

/** Parses dotted-quad text (core/ip.ts: no leading zeros, which some tools read as octal) into an unsigned 32-bit number. */
export function parseIPv4(text: string): number | undefined {
    const ip = parseIp(text);
    return ip?.family === 4 ? Number(ip.value) : undefined;
}

export function formatIPv4(n: number): string {
    return formatIp(4, BigInt(n >>> 0));
}

function size(prefixLength: number): number {
    return 2 ** (32 - prefixLength);
}

/** Parses `a.b.c.d/len` (core/ip.ts). With `strict`, host bits must be zero (a network, not an interface address). */
export function parseIPv4Cidr(text: string, strict = true): Ipv4Cidr | undefined {
    const c = parseCidr(text, { network: strict });
    return c?.family === 4 ? { base: Number(c.base), prefixLength: c.prefixLength } : undefined;
}

export function formatIPv4Cidr(c: Ipv4Cidr): string {
    return `${formatIPv4(c.base)}/${c.prefixLength}`;
}

export function ipv4Overlaps(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
    return a.base < b.base + size(b.prefixLength) && b.base < a.base + size(a.prefixLength);
}

export function ipv4Contains(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
    return outer.prefixLength <= inner.prefixLength && inner.base >= outer.base && inner.base + size(inner.prefixLength) <= outer.base + size(outer.prefixLength);
}

/** RFC 1918 ranges, and the shared address space RFC 6598 for sites behind carrier NAT. */
export const PRIVATE_IPV4_RANGES: readonly string[] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
const ALLOWED_POOLS = [...PRIVATE_IPV4_RANGES, "100.64.0.0/10"].map((c) => parseIPv4Cidr(c)!);

export interface Ipv4Request {
    /** Stable name of what needs the subnet (a container, a bridge); allocations are keyed and sorted by it. */
    readonly key: string;
    /** Size of the subnet, e.g. 24 for a /24. */
    readonly prefixLength: number;
}

export interface Ipv4AllocateArgs {
    readonly requests: readonly Ipv4Request[];
    /** @default PRIVATE_IPV4_RANGES */
    readonly pools?: readonly string[];
    /** Networks in use by anything else (a LAN, a VPN); never allocated. @default [] */
    readonly taken?: readonly string[];
    /**
     * Allocations made before (`key -> cidr`), e.g. the previous result kept in the stack's config. They stay
     * where they are, so adding a request never renumbers another. Keys no longer requested are released.
     * @default {}
     */
    readonly existing?: Readonly<Record<string, string>>;
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/;

/** Splits `[lo, hi)` into maximal aligned CIDR blocks. */
function blocksOf(lo: number, hi: number): Ipv4Cidr[] {
    const out: Ipv4Cidr[] = [];
    while (lo < hi) {
        let len = 32;
        while (len > 0 && lo % size(len - 1) === 0 && lo + size(len - 1) <= hi) len--;
        out.push({ base: lo, prefixLength: len });
        lo += size(len);
    }
    return out;
}

/** Free space as sorted, disjoint `[lo, hi)` intervals. */
function subtract(free: Array<[number, number]>, c: Ipv4Cidr): Array<[number, number]> {
    const lo = c.base;
    const hi = c.base + size(c.prefixLength);
    const out: Array<[number, number]> = [];
    for (const [a, b] of free) {
        if (hi <= a || lo >= b) { out.push([a, b]); continue; }
        if (a < lo) out.push([a, lo]);
        if (hi < b) out.push([hi, b]);
    }
    return out;
}

/**
 * Allocates one subnet per request. Existing allocations are pinned; new requests are placed largest first,
 * then by key, each in the smallest free aligned block that fits (lowest address on a tie), so the result does
 * not depend on the order requests are listed in. Throws naming the request when no block is left.
 */
export function allocateIpv4(args: Ipv4AllocateArgs): Record<string, string> {
    const poolTexts = args.pools ?? PRIVATE_IPV4_RANGES;
    const pools = poolTexts.map((p, i) => {
        const c = parseIPv4Cidr(p);
        if (!c) fail(`pools[${i}]`, p, "an IPv4 network in CIDR form with no host bits, e.g. \"10.20.0.0/16\"");
        if (!ALLOWED_POOLS.some((a) => ipv4Contains(a, c))) fail(`pools[${i}]`, p, `a network inside a private range (${[...PRIVATE_IPV4_RANGES, "100.64.0.0/10"].join(", ")})`);
        return c;
    });
    const taken = (args.taken ?? []).map((t, i) => parseIPv4Cidr(t, false) ?? fail(`taken[${i}]`, t, "an IPv4 network in CIDR form, e.g. \"192.168.1.0/24\""));
    const keys = new Set<string>();
    for (const [i, r] of args.requests.entries()) {
        if (typeof r?.key !== "string" || !KEY.test(r.key)) fail(`requests[${i}].key`, r?.key, "1 to 128 characters of A-Z a-z 0-9 . _ : @ / -, starting with a letter or digit");
        if (keys.has(r.key)) fail(`requests[${i}].key`, r.key, "a key that appears only once");
        keys.add(r.key);
        if (!Number.isInteger(r.prefixLength) || r.prefixLength < 8 || r.prefixLength > 32) fail(`requests[${i}].prefixLength`, r.prefixLength, "an integer from 8 to 32");
    }

    let free: Array<[number, number]> = [];
    for (const p of [...pools].sort((a, b) => a.base - b.base)) {
        // Pools may overlap each other; merge by subtracting first.
        free = subtract(free, p);
        free.push([p.base, p.base + size(p.prefixLength)]);
        free.sort((a, b) => a[0] - b[0]);
    }
    for (const t of taken) free = subtract(free, t);

    const result: Record<string, string> = {};
    const wanted = new Map(args.requests.map((r) => [r.key, r.prefixLength]));
    for (const key of Object.keys(args.existing ?? {}).sort()) {
        const text = args.existing![key];
        if (!wanted.has(key)) continue;
        const c = parseIPv4Cidr(text);
        if (!c) fail(`existing.${key}`, text, "an IPv4 network in CIDR form with no host bits");
        if (c.prefixLength !== wanted.get(key)) fail(`existing.${key}`, text, `a /${wanted.get(key)} as requested (change the key to renumber)`);
        const inside = free.some(([a, b]) => c.base >= a && c.base + size(c.prefixLength) <= b);
        if (!inside) fail(`existing.${key}`, text, "a network inside the pools that overlaps nothing taken or allocated");
        free = subtract(free, c);
        result[key] = text;
    }

    const pending = args.requests.filter((r) => !(r.key in result)).sort((a, b) => a.prefixLength - b.prefixLength || (a.key < b.key ? -1 : 1));
    for (const r of pending) {
        let best: Ipv4Cidr | undefined;
        for (const [a, b] of free) {
            for (const blk of blocksOf(a, b)) {
                if (blk.prefixLength > r.prefixLength) continue;
                if (!best || blk.prefixLength > best.prefixLength || (blk.prefixLength === best.prefixLength && blk.base < best.base)) best = blk;
            }
        }
        if (!best) {
            const i = args.requests.indexOf(r);
            fail(`requests[${i}]`, r.key, `a /${r.prefixLength} that fits in the free space of pools ${JSON.stringify(poolTexts)}; they are exhausted`);
        }
        const got: Ipv4Cidr = { base: best.base, prefixLength: r.prefixLength };
        free = subtract(free, got);
        result[r.key] = formatIPv4Cidr(got);
    }
    return result;
}

/** The `index`-th host address of a network with its prefix (`10.1.2.1/24` for index 1), for interface configs. */
export function ipv4HostAddress(network: string, index: number): string {
    const c = parseIPv4Cidr(network);
    if (!c) fail("network", network, "an IPv4 network in CIDR form with no host bits");
    const last = size(c.prefixLength) - (c.prefixLength >= 31 ? 1 : 2);
    const first = c.prefixLength >= 31 ? 0 : 1;
    if (!Number.isInteger(index) || index < first || index > last) fail("index", index, `a host index from ${first} to ${last} in ${network}`);
    return `${formatIPv4(c.base + index)}/${c.prefixLength}`;
}

/** A bad argument (core's ArgumentError: the wiring that calls this turns it into a ResourceError). */
function fail(arg: string, value: unknown, allowed: string): never {
    throw new ArgumentError(arg, value, allowed);
}
