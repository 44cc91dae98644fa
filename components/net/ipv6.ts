// IPv6 text <-> 128-bit integer for the ULA plan: thin wrappers over the one IP parser (core/ip.ts, ipaddr.js).
import { formatIp, mask, parseCidr, parseIp } from "../core/ip";

const MAX128 = (1n << 128n) - 1n;

/**
 * Parses an IPv6 address (any RFC 4291 text form, as core/ip.ts accepts it) into a 128-bit integer. No zone index
 * (core refuses it) and no embedded IPv4 tail: ipaddr.js reads the deprecated `::a.b.c.d` as `::ffff:a.b.c.d`, a
 * different address, and a ULA plan has no use for either form.
 */
export function parseIPv6(text: string): bigint | undefined {
    if (typeof text !== "string" || text.includes(".")) return undefined;
    const ip = parseIp(text);
    return ip?.family === 6 ? ip.value : undefined;
}

/** Formats a 128-bit integer as canonical IPv6 text (RFC 5952: lowercase, no leading zeros, longest zero run as "::"). */
export function formatIPv6(value: bigint): string {
    if (typeof value !== "bigint" || value < 0n || value > MAX128) throw new RangeError(`not a 128-bit value: ${value}`);
    return formatIp(6, value);
}

export interface IPv6Cidr {
    readonly address: bigint;
    readonly prefixLength: number;
}

/** Parses `addr/len`; undefined when malformed. Host bits may be set (an interface address); see `ipv6Mask`. */
export function parseIPv6Cidr(text: string): IPv6Cidr | undefined {
    if (typeof text !== "string" || text.includes(".")) return undefined;
    const c = parseCidr(text);
    return c?.family === 6 ? { address: c.address, prefixLength: c.prefixLength } : undefined;
}

/** The netmask of a prefix length, as a 128-bit integer. */
export function ipv6Mask(prefixLength: number): bigint {
    return mask(6, prefixLength);
}

export function formatIPv6Cidr(c: IPv6Cidr): string {
    return `${formatIPv6(c.address)}/${c.prefixLength}`;
}
