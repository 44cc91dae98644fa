// IPv6 text <-> 128-bit integer, with RFC 5952 canonical formatting; the base the ULA plan is built on.

const MAX128 = (1n << 128n) - 1n;

/** Parses an IPv6 address (any valid RFC 4291 text form without zone or embedded IPv4) into a 128-bit integer. */
export function parseIPv6(text: string): bigint | undefined {
    if (typeof text !== "string" || text.length < 2 || text.length > 39 || !/^[0-9a-fA-F:]+$/.test(text)) return undefined;
    const halves = text.split("::");
    if (halves.length > 2) return undefined;
    const groups = (s: string): string[] | undefined => (s === "" ? [] : s.split(":"));
    const head = groups(halves[0]);
    const tail = halves.length === 2 ? groups(halves[1]) : [];
    if (!head || !tail) return undefined;
    const all = [...head, ...tail];
    if (all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
    if (halves.length === 1 && all.length !== 8) return undefined;
    // "::" stands for at least one zero group (RFC 4291 2.2).
    if (halves.length === 2 && all.length > 7) return undefined;
    const full = halves.length === 2 ? [...head, ...Array(8 - all.length).fill("0"), ...tail] : all;
    return full.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** Formats a 128-bit integer as canonical IPv6 text (RFC 5952: lowercase, no leading zeros, longest zero run as "::"). */
export function formatIPv6(value: bigint): string {
    if (value < 0n || value > MAX128) throw new RangeError(`not a 128-bit value: ${value}`);
    const g: number[] = [];
    for (let i = 7; i >= 0; i--) g.push(Number((value >> BigInt(i * 16)) & 0xffffn));
    let bestStart = -1;
    let bestLen = 0;
    for (let i = 0; i < 8; ) {
        if (g[i] !== 0) { i++; continue; }
        let j = i;
        while (j < 8 && g[j] === 0) j++;
        // A single zero group is not compressed; the first of equally long runs is.
        if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
        i = j;
    }
    const hex = g.map((x) => x.toString(16));
    if (bestStart < 0) return hex.join(":");
    return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

export interface IPv6Cidr {
    readonly address: bigint;
    readonly prefixLength: number;
}

/** Parses `addr/len`; undefined when malformed. Host bits may be set (an interface address); see `networkOf`. */
export function parseIPv6Cidr(text: string): IPv6Cidr | undefined {
    if (typeof text !== "string") return undefined;
    const m = /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(text);
    if (!m) return undefined;
    const address = parseIPv6(m[1]);
    const prefixLength = Number(m[2]);
    if (address === undefined || prefixLength > 128 || String(prefixLength) !== m[2]) return undefined;
    return { address, prefixLength };
}

export function ipv6Mask(prefixLength: number): bigint {
    return prefixLength === 0 ? 0n : (MAX128 >> BigInt(128 - prefixLength)) << BigInt(128 - prefixLength);
}

export function formatIPv6Cidr(c: IPv6Cidr): string {
    return `${formatIPv6(c.address)}/${c.prefixLength}`;
}
