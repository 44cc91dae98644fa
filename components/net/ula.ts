// Deterministic IPv6 ULA addressing: BLAKE3 of stable names gives prefixes, subnet ids and interface ids with no coordination.
import { blake3 } from "@noble/hashes/blake3";
import { ArgumentError } from "../core/errors";
import { formatIPv6, formatIPv6Cidr, ipv6Mask, parseIPv6Cidr } from "./ipv6";

/** Versioned contexts: changing a derivation must change its context, never silently renumber. */
const CTX_PREFIX = "hearth/ula/v1/prefix";
const CTX_IID = "hearth/ula/v1/interface-id";
const CTX_SUBNET = "hearth/ula/v1/subnet-id";

/** Identities are names people write (host names, link names): one line of printable ASCII. */
const IDENTITY = /^[\x21-\x7e]([\x20-\x7e]{0,253}[\x21-\x7e])?$/;

function checkIdentity(arg: string, identity: unknown): string {
    if (typeof identity !== "string" || !IDENTITY.test(identity)) {
        fail(arg, identity, "a stable identity of 1 to 255 printable ASCII characters, not starting or ending with a space");
    }
    return identity;
}

/** BLAKE3 in derive-key mode, so each use has its own key space and a value can never be mistaken for another's. */
function derive(context: string, input: string, bytes: number): bigint {
    const out = blake3(new TextEncoder().encode(input), { context: new TextEncoder().encode(context), dkLen: bytes });
    return out.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
}

/**
 * The /48 ULA prefix of an identity (RFC 4193: `fd` + a 40-bit global id), e.g. `ulaPrefix("rack-1")`
 * = `fdXX:XXXX:XXXX::/48`. The same identity gives the same prefix on every machine and every run.
 */
export function ulaPrefix(identity: string): string {
    checkIdentity("identity", identity);
    const globalId = derive(CTX_PREFIX, identity, 5);
    return formatIPv6Cidr({ address: ((0xfdn << 40n) | globalId) << 80n, prefixLength: 48 });
}

/** RFC 5453 reserved interface ids: the subnet-router anycast (all zero) and the top 128 (fdff:ffff:ffff:ff80-ffff). */
function reservedInterfaceId(iid: bigint): boolean {
    return iid === 0n || iid >= 0xfdffffffffffff80n;
}

/** The 64-bit interface id of an identity, never one of the reserved ids. */
export function ulaInterfaceId(identity: string): bigint {
    checkIdentity("identity", identity);
    for (let round = 0; ; round++) {
        // Re-deriving with a counter keeps the result a pure function of the identity.
        const iid = derive(CTX_IID, round === 0 ? identity : `${identity}\0${round}`, 8);
        if (!reservedInterfaceId(iid)) return iid;
    }
}

/**
 * Subnet ids (16 bits) for a machine's local interfaces. Each name hashes to a preferred id; collisions are
 * settled by walking up from it, in sorted name order, so the result depends only on the set of names, never
 * on the order they were listed in. Id 0 is kept for the machine itself (its tunnel/loopback addresses).
 */
export function ulaSubnetIds(interfaces: readonly string[]): Record<string, number> {
    if (!Array.isArray(interfaces)) fail("interfaces", interfaces, "an array of interface names");
    const seen = new Set<string>();
    for (const [i, name] of interfaces.entries()) {
        checkIdentity(`interfaces[${i}]`, name);
        if (seen.has(name)) fail(`interfaces[${i}]`, name, "names that appear only once");
        seen.add(name);
    }
    if (seen.size > 0xffff) fail("interfaces", seen.size, "at most 65535 interfaces");
    const used = new Set<number>([0]);
    const ids: Record<string, number> = {};
    for (const name of [...seen].sort()) {
        let id = Number(derive(CTX_SUBNET, name, 2));
        while (used.has(id)) id = (id + 1) & 0xffff;
        used.add(id);
        ids[name] = id;
    }
    return ids;
}

function checkPrefix48(arg: string, prefix: unknown): bigint {
    const c = typeof prefix === "string" ? parseIPv6Cidr(prefix) : undefined;
    if (!c || c.prefixLength !== 48 || (c.address & ~ipv6Mask(48)) !== 0n || c.address >> 120n !== 0xfdn) {
        fail(arg, prefix, "a ULA /48 network such as \"fd12:3456:789a::/48\" (inside fd00::/8, no host bits)");
    }
    return c.address;
}

/** The /64 of `subnetId` inside a /48 ULA prefix. */
export function ulaSubnet(prefix: string, subnetId: number): string {
    const base = checkPrefix48("prefix", prefix);
    if (!Number.isInteger(subnetId) || subnetId < 0 || subnetId > 0xffff) fail("subnetId", subnetId, "an integer from 0 to 65535");
    return formatIPv6Cidr({ address: base | (BigInt(subnetId) << 64n), prefixLength: 64 });
}

/** The address of `identity` inside a /64 (`addr/64`, ready for an interface). */
export function ulaAddress(subnet: string, identity: string): string {
    const c = typeof subnet === "string" ? parseIPv6Cidr(subnet) : undefined;
    if (!c || c.prefixLength !== 64 || (c.address & ~ipv6Mask(64)) !== 0n) {
        fail("subnet", subnet, "an IPv6 /64 network such as \"fd12:3456:789a:1::/64\" (no host bits)");
    }
    return `${formatIPv6(c.address | ulaInterfaceId(identity))}/64`;
}

/** Everything a machine needs: its /48, a /64 per local interface, and addresses inside them. */
export interface UlaPlan {
    readonly identity: string;
    /** `fdXX:XXXX:XXXX::/48` */
    readonly prefix: string;
    /** The machine's own /64 (subnet id 0): tunnel and loopback addresses. */
    readonly self: string;
    /** Interface name -> its /64. */
    readonly subnets: Readonly<Record<string, string>>;
    /** The address (`addr/64`) of `member` on `iface` (a name from `subnets`, or `"self"`). */
    address(iface: string, member: string): string;
}

/** Plans a machine's ULA space from its identity and the names of its local interfaces. */
export function ulaPlan(identity: string, interfaces: readonly string[] = []): UlaPlan {
    const prefix = ulaPrefix(checkIdentity("identity", identity));
    const ids = ulaSubnetIds(interfaces);
    const subnets: Record<string, string> = {};
    for (const [name, id] of Object.entries(ids)) subnets[name] = ulaSubnet(prefix, id);
    const self = ulaSubnet(prefix, 0);
    return {
        identity,
        prefix,
        self,
        subnets,
        address(iface: string, member: string): string {
            if (iface === "self") return ulaAddress(self, member);
            const s = subnets[iface];
            if (s === undefined) fail("iface", iface, `"self" or one of the planned interfaces ${JSON.stringify(Object.keys(subnets))}`);
            return ulaAddress(s, member);
        },
    };
}

/** A bad argument (core's ArgumentError: the wiring that calls this turns it into a ResourceError). */
function fail(arg: string, value: unknown, allowed: string): never {
    throw new ArgumentError(arg, value, allowed);
}
