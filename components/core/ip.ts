// IP addresses and networks, parsed once for every component, the site config and the policies (ipaddr.js underneath).
//
// Pure: no Pulumi import. Strict on purpose: IPv4 only as a dotted quad without leading zeros (some parsers read
// `010` as octal), IPv6 without a zone index (it means nothing off the host that wrote it), prefixes as decimal
// without leading zeros. Canonical text is RFC 5952 for IPv6 and the dotted quad for IPv4.
import ipaddr from "ipaddr.js";

export type Family = 4 | 6;

/** One address: its family, its value as a number of 32 or 128 bits, and its canonical text. */
export interface Ip {
    readonly family: Family;
    readonly value: bigint;
    readonly text: string;
}

/** One prefix: the address as written (host bits kept), its length, the network base and canonical texts. */
export interface Cidr {
    readonly family: Family;
    /** The address as written, host bits included. */
    readonly address: bigint;
    readonly prefixLength: number;
    /** The address with the host bits cleared. */
    readonly base: bigint;
    /** `address/len`, canonical. */
    readonly text: string;
    /** `base/len`, canonical. */
    readonly networkText: string;
}

const V4_QUAD = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;
const V6_CHARS = /^[0-9A-Fa-f:.]{2,45}$/;
const PREFIX = /^(0|[1-9][0-9]{0,2})$/;

export const width = (family: Family): number => (family === 4 ? 32 : 128);

function toBigInt(bytes: number[]): bigint {
    return bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
}

/** Parses an IPv4 or IPv6 address (strict, see the file's head); undefined when it is neither. */
export function parseIp(text: unknown): Ip | undefined {
    if (typeof text !== "string") return undefined;
    if (V4_QUAD.test(text)) {
        const a = ipaddr.IPv4.parse(text);
        return { family: 4, value: toBigInt(a.toByteArray()), text: a.toString() };
    }
    if (!V6_CHARS.test(text) || !text.includes(":") || !ipaddr.IPv6.isValid(text)) return undefined;
    // A dotted IPv4 tail only as an IPv4-mapped address (`::ffff:a.b.c.d`), as a strict dotted quad: the deprecated
    // IPv4-compatible `::a.b.c.d` is refused (ipaddr.js would read it as the mapped address, a different one).
    if (text.includes(".")) {
        const m = /^::ffff:([0-9.]+)$/i.exec(text);
        if (!m || !V4_QUAD.test(m[1])) return undefined;
    }
    const a = ipaddr.IPv6.parse(text);
    return { family: 6, value: toBigInt(a.toByteArray()), text: a.toString() };
}

/** Whether a value is an IP address by `parseIp`. */
export function isIp(text: unknown): text is string {
    return parseIp(text) !== undefined;
}

/** The netmask of a prefix length as a number of the family's width. */
export function mask(family: Family, prefixLength: number): bigint {
    const w = BigInt(width(family));
    return prefixLength === 0 ? 0n : ((1n << w) - 1n) ^ ((1n << (w - BigInt(prefixLength))) - 1n);
}

/** Canonical text of an address given as a number. */
export function formatIp(family: Family, value: bigint): string {
    const bytes: number[] = [];
    for (let i = width(family) / 8 - 1; i >= 0; i--) bytes.push(Number((value >> BigInt(i * 8)) & 0xffn));
    return ipaddr.fromByteArray(bytes).toString();
}

export interface CidrOptions {
    /** Demand zero host bits (a network, not an interface address). @default false */
    readonly network?: boolean;
}

/** Parses `address/len`; undefined when it is not one (or, with `network`, when host bits are set). */
export function parseCidr(text: unknown, opts: CidrOptions = {}): Cidr | undefined {
    if (typeof text !== "string") return undefined;
    const slash = text.indexOf("/");
    if (slash < 0 || !PREFIX.test(text.slice(slash + 1))) return undefined;
    const ip = parseIp(text.slice(0, slash));
    if (!ip) return undefined;
    const prefixLength = Number(text.slice(slash + 1));
    if (prefixLength > width(ip.family)) return undefined;
    const base = ip.value & mask(ip.family, prefixLength);
    if (opts.network && base !== ip.value) return undefined;
    return { family: ip.family, address: ip.value, prefixLength, base, text: `${ip.text}/${prefixLength}`, networkText: `${formatIp(ip.family, base)}/${prefixLength}` };
}

/** Whether two prefixes share any address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
    if (a.family !== b.family) return false;
    const m = mask(a.family, Math.min(a.prefixLength, b.prefixLength));
    return (a.base & m) === (b.base & m);
}

/** The host route of an address (`/32` or `/128`), canonical. */
export function hostRoute(ip: Ip): string {
    return `${ip.text}/${width(ip.family)}`;
}

// ---- ranges ----------------------------------------------------------------------------------------------------

export type AddressClass = "public" | "private" | "invalid";

type Range = readonly [cidr: string, name: string, cls: AddressClass];

/**
 * Ranges reachable only inside a site (`private`: allowed in a public zone only with allowPrivate) or never valid as
 * a published address (`invalid`). One table for the DNS component and the policy pack.
 */
const RANGES: readonly Range[] = [
    ["0.0.0.0/8", "0.0.0.0/8 (this network)", "invalid"],
    ["10.0.0.0/8", "10.0.0.0/8 (RFC 1918)", "private"],
    ["100.64.0.0/10", "100.64.0.0/10 (CGNAT, RFC 6598)", "private"],
    ["127.0.0.0/8", "127.0.0.0/8 (loopback)", "private"],
    ["169.254.0.0/16", "169.254.0.0/16 (link-local)", "private"],
    ["172.16.0.0/12", "172.16.0.0/12 (RFC 1918)", "private"],
    ["192.168.0.0/16", "192.168.0.0/16 (RFC 1918)", "private"],
    ["224.0.0.0/4", "224.0.0.0/4 (multicast)", "invalid"],
    ["240.0.0.0/4", "240.0.0.0/4 (reserved, broadcast)", "invalid"],
    ["::/128", "::/128 (unspecified)", "invalid"],
    ["::1/128", "::1/128 (loopback)", "private"],
    ["::ffff:0:0/96", "::ffff:0:0/96 (IPv4-mapped; use an A record)", "invalid"],
    ["fc00::/7", "fc00::/7 (unique local)", "private"],
    ["fe80::/10", "fe80::/10 (link-local)", "private"],
    ["ff00::/8", "ff00::/8 (multicast)", "invalid"],
];
const PARSED_RANGES = RANGES.map(([cidr, name, cls]) => {
    const c = parseCidr(cidr, { network: true })!;
    return { family: c.family, base: c.base, mask: mask(c.family, c.prefixLength), name, cls };
});

export interface ClassifiedIp extends Ip {
    readonly class: AddressClass;
    /** The range that made it private or invalid. */
    readonly range?: string;
}

/** Parses and classifies an address; undefined when it is not one. */
export function classifyIp(text: unknown): ClassifiedIp | undefined {
    const ip = parseIp(text);
    if (!ip) return undefined;
    const r = PARSED_RANGES.find((x) => x.family === ip.family && (ip.value & x.mask) === x.base);
    return r ? { ...ip, class: r.cls, range: r.name } : { ...ip, class: "public" };
}
