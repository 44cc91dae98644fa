// Record addresses: strict parsing through the net module and the private / never-valid ranges a public zone refuses.
import { formatIPv4, parseIPv4, parseIPv4Cidr } from "../net/ipv4";
import { formatIPv6, ipv6Mask, parseIPv6, parseIPv6Cidr } from "../net/ipv6";

export type AddressClass = "public" | "private" | "invalid";

export interface ParsedAddress {
    readonly family: 4 | 6;
    /** Canonical text (duplicates compare on it). */
    readonly text: string;
    readonly class: AddressClass;
    /** Which range made it private or invalid. */
    readonly range?: string;
}

type Range = readonly [cidr: string, name: string, cls: AddressClass];

// Ranges reachable only inside a site (allowed in a public zone with allowPrivate) or never valid in a record.
const V4_RANGES: readonly Range[] = [
    ["0.0.0.0/8", "0.0.0.0/8 (this network)", "invalid"],
    ["10.0.0.0/8", "10.0.0.0/8 (RFC 1918)", "private"],
    ["100.64.0.0/10", "100.64.0.0/10 (CGNAT, RFC 6598)", "private"],
    ["127.0.0.0/8", "127.0.0.0/8 (loopback)", "private"],
    ["169.254.0.0/16", "169.254.0.0/16 (link-local)", "private"],
    ["172.16.0.0/12", "172.16.0.0/12 (RFC 1918)", "private"],
    ["192.168.0.0/16", "192.168.0.0/16 (RFC 1918)", "private"],
    ["224.0.0.0/4", "224.0.0.0/4 (multicast)", "invalid"],
    ["240.0.0.0/4", "240.0.0.0/4 (reserved, broadcast)", "invalid"],
];
const V6_RANGES: readonly Range[] = [
    ["::/128", "::/128 (unspecified)", "invalid"],
    ["::1/128", "::1/128 (loopback)", "private"],
    ["::ffff:0:0/96", "::ffff:0:0/96 (IPv4-mapped; use an A record)", "invalid"],
    ["fc00::/7", "fc00::/7 (unique local)", "private"],
    ["fe80::/10", "fe80::/10 (link-local)", "private"],
    ["ff00::/8", "ff00::/8 (multicast)", "invalid"],
];

function inV4(addr: number, cidr: string): boolean {
    const c = parseIPv4Cidr(cidr)!;
    return c.prefixLength === 0 || addr >>> (32 - c.prefixLength) === c.base >>> (32 - c.prefixLength);
}

function inV6(addr: bigint, cidr: string): boolean {
    const c = parseIPv6Cidr(cidr)!;
    const mask = ipv6Mask(c.prefixLength);
    return (addr & mask) === (c.address & mask);
}

/**
 * Parses an IPv4 address (dotted quad, no leading zeros: some parsers read them as octal) or an IPv6 address (no
 * zone id: it means nothing off the host) and classifies it; null when it is neither.
 */
export function parseAddress(s: string): ParsedAddress | null {
    const v4 = parseIPv4(s);
    if (v4 !== undefined) {
        const r = V4_RANGES.find(([cidr]) => inV4(v4, cidr));
        return { family: 4, text: formatIPv4(v4), class: r ? r[2] : "public", ...(r ? { range: r[1] } : {}) };
    }
    const v6 = parseIPv6(s);
    if (v6 !== undefined) {
        const r = V6_RANGES.find(([cidr]) => inV6(v6, cidr));
        return { family: 6, text: formatIPv6(v6), class: r ? r[2] : "public", ...(r ? { range: r[1] } : {}) };
    }
    return null;
}
