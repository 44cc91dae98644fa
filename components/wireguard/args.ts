// WireguardLink arguments: their documented shape, and resolving them into checked sides before any resource exists.
import * as pulumi from "@pulumi/pulumi";
import type { Host } from "../host";
import { check, checkInt, checkPattern, fail, HOST_NAME, isHost } from "../validate";
import { formatIPv4Cidr, parseIPv4Cidr } from "../net/ipv4";
import { formatIPv6Cidr, ipv6Mask, parseIPv6, parseIPv6Cidr } from "../net/ipv6";
import { ulaAddress, ulaPrefix, ulaSubnet } from "../net/ula";

export interface WireguardSideArgs {
    /** Side name: a DNS label, the same in every stack that names this side. @default - the host's name */
    readonly name?: string;
    /** The machine this stack manages for this side; its private key is generated there. */
    readonly host?: Host;
    /** For a side another stack manages: its public key (e.g. a StackReference output). */
    readonly publicKey?: pulumi.Input<string>;
    /** `host:port` or `[v6]:port` where the other sides reach this one. @default - none: this side dials out */
    readonly endpoint?: pulumi.Input<string>;
    /** UDP port the interface listens on. @default 51820 */
    readonly listenPort?: number;
    /** Site networks behind this side, routed to it through the tunnel (CIDR, no host bits). @default [] */
    readonly subnets?: readonly string[];
    /** Tunnel addresses (`addr/len`). @default - one ULA address of `name` inside `network` */
    readonly addresses?: readonly string[];
}

export interface WireguardLinkArgs {
    /** Interface name on every managed side: 1–15 of a-z 0-9 _ -, starting with a letter. */
    readonly interfaceName: string;
    /** The side every other side connects to (for site-to-site, either gateway). */
    readonly hub: WireguardSideArgs;
    /** The sides that connect to the hub (one for site-to-site). */
    readonly peers: readonly WireguardSideArgs[];
    /** Tunnel network (IPv6 /64). @default - subnet 0 of `ulaPrefix("wireguard:" + interfaceName)` */
    readonly network?: string;
    /** @default 1420 */
    readonly mtu?: number;
    /** PersistentKeepalive towards every peer, in seconds; 0 turns it off. @default 25 */
    readonly keepaliveSec?: number;
    /**
     * A preshared key per hub–peer pair: `true` makes each with `@pulumi/random` (all sides must be managed here);
     * a secret Output (e.g. a StackReference secret) is used for every pair. @default false
     */
    readonly presharedKey?: boolean | pulumi.Output<string>;
    /** Raise to rotate every managed side's private key. @default 0 */
    readonly keyVersion?: number;
    /**
     * Take over an interface whose config another resource (or nothing hearth knows) owns, rewriting its mark; that
     * resource's delete then leaves it alone. To rename this resource, use Pulumi's `aliases` instead. @default false
     */
    readonly adopt?: boolean;
}

export interface ResolvedSide {
    readonly name: string;
    readonly role: "hub" | "peer";
    readonly host?: Host;
    readonly publicKey?: pulumi.Input<string>;
    readonly endpoint?: pulumi.Input<string>;
    readonly listenPort: number;
    readonly subnets: readonly string[];
    readonly addresses: readonly string[];
}

export interface ResolvedLink {
    readonly interfaceName: string;
    readonly network: string;
    readonly mtu: number;
    readonly keepaliveSec?: number;
    readonly presharedKey: "none" | "random" | pulumi.Output<string>;
    readonly keyVersion: number;
    readonly hub: ResolvedSide;
    readonly peers: readonly ResolvedSide[];
}

export const INTERFACE_NAME = /^[a-z][a-z0-9_-]{0,14}$/;
const PUBLIC_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
const DNS_NAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** A prefix of either family, as numbers comparable within the family. */
interface Prefix { readonly v6: boolean; readonly base: bigint; readonly len: number; readonly text: string }

/** Parses a CIDR of either family; `network` demands zero host bits. Returns the canonical text too. */
export function parsePrefix(text: unknown, network: boolean): Prefix | undefined {
    if (typeof text !== "string") return undefined;
    if (text.includes(":")) {
        const c = parseIPv6Cidr(text);
        if (!c || (network && (c.address & ~ipv6Mask(c.prefixLength)) !== 0n)) return undefined;
        return { v6: true, base: c.address & ipv6Mask(c.prefixLength), len: c.prefixLength, text: formatIPv6Cidr(c) };
    }
    const c = parseIPv4Cidr(text, network);
    if (!c) return undefined;
    return { v6: false, base: BigInt(c.base), len: c.prefixLength, text: network ? formatIPv4Cidr(c) : text };
}

function overlaps(a: Prefix, b: Prefix): boolean {
    if (a.v6 !== b.v6) return false;
    const width = a.v6 ? 128 : 32;
    const len = Math.min(a.len, b.len);
    const shift = BigInt(width - len);
    return a.base >> shift === b.base >> shift;
}

/** The host route (`/32` or `/128`) of an interface address: what a peer's AllowedIPs carries for it. */
export function hostRoute(address: string): string {
    const [ip] = address.split("/");
    return ip.includes(":") ? `${formatIPv6Cidr({ address: parseIPv6(ip)!, prefixLength: 128 })}` : `${ip}/32`;
}

/** Whether a value is a WireGuard key in base64 (32 bytes). */
export function isWgKey(value: unknown): value is string {
    return typeof value === "string" && PUBLIC_KEY.test(value);
}

export function checkPublicKey(arg: string, value: unknown): string {
    return checkPattern(arg, value, PUBLIC_KEY, "a WireGuard public key: 44 characters of base64 encoding 32 bytes (the output of `wg pubkey`)");
}

export function checkEndpoint(arg: string, value: unknown): string {
    const m = typeof value === "string" ? /^(\[([0-9a-fA-F:]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value) : null;
    const port = m ? Number(m[4]) : 0;
    const hostOk = m && (m[2] !== undefined ? parseIPv6(m[2]) !== undefined : DNS_NAME.test(m[3]));
    if (!m || !hostOk || port < 1 || port > 65535) fail(arg, value, "`host:port` or `[ipv6]:port` with a DNS name or IP address and a port from 1 to 65535");
    return value as string;
}

function resolveSide(link: Omit<ResolvedLink, "hub" | "peers">, s: WireguardSideArgs, arg: string, role: "hub" | "peer"): ResolvedSide {
    if (typeof s !== "object" || s === null) fail(arg, s, "an object with `host`, or `name` and `publicKey`");
    if (s.host !== undefined && !isHost(s.host)) fail(`${arg}.host`, s.host, "a hearth Host");
    if ((s.host === undefined) === (s.publicKey === undefined)) fail(arg, Object.keys(s), "exactly one of `host` (managed here) or `publicKey` (managed by another stack)");
    const name = checkPattern(`${arg}.name`, s.name ?? s.host?.name, HOST_NAME, "a side name: a lowercase DNS label");
    if (typeof s.publicKey === "string") checkPublicKey(`${arg}.publicKey`, s.publicKey);
    if (typeof s.endpoint === "string") checkEndpoint(`${arg}.endpoint`, s.endpoint);
    const listenPort = checkInt(`${arg}.listenPort`, s.listenPort ?? 51820, 1, 65535);
    if (s.subnets !== undefined && !Array.isArray(s.subnets)) fail(`${arg}.subnets`, s.subnets, "an array of CIDR networks");
    const subnets = (s.subnets ?? []).map((t, i) => parsePrefix(t, true)?.text ?? fail(`${arg}.subnets[${i}]`, t, "a CIDR network with no host bits, e.g. \"10.20.0.0/24\" or \"fd12:3456:789a:1::/64\""));
    if (s.addresses !== undefined && (!Array.isArray(s.addresses) || s.addresses.length === 0)) fail(`${arg}.addresses`, s.addresses, "a non-empty array of interface addresses");
    const addresses = s.addresses
        ? s.addresses.map((t, i) => {
            const p = parsePrefix(t, false);
            if (!p || p.len === 0 || p.len === (p.v6 ? 128 : 32)) fail(`${arg}.addresses[${i}]`, t, "an interface address with its prefix, e.g. \"10.99.0.1/24\"");
            return p.text;
        })
        : [check(() => ulaAddress(link.network, name))];
    return { name, role, host: s.host, publicKey: s.publicKey, endpoint: s.endpoint, listenPort, subnets, addresses };
}

/** Resolves and checks every argument; throws a ResourceError naming the first bad one. Registers nothing. */
export function resolveWireguardLinkArgs(args: WireguardLinkArgs): ResolvedLink {
    if (typeof args !== "object" || args === null) fail("args", args, "WireguardLinkArgs");
    const interfaceName = checkPattern("interfaceName", args.interfaceName, INTERFACE_NAME, "an interface name of 1 to 15 characters: a-z, 0-9, '_' or '-', starting with a letter (no '/', '.', or spaces)");
    const defaultNetwork = check(() => ulaSubnet(ulaPrefix(`wireguard:${interfaceName}`), 0));
    const net = args.network === undefined ? parsePrefix(defaultNetwork, true)! : parsePrefix(args.network, true);
    if (!net || !net.v6 || net.len !== 64) fail("network", args.network, "an IPv6 /64 network with no host bits, e.g. \"fd12:3456:789a::/64\"");
    const mtu = checkInt("mtu", args.mtu ?? 1420, 1280, 9000);
    const keepalive = checkInt("keepaliveSec", args.keepaliveSec ?? 25, 0, 65535);
    const keyVersion = checkInt("keyVersion", args.keyVersion ?? 0, 0, 2 ** 31 - 1);
    const psk = args.presharedKey ?? false;
    if (typeof psk !== "boolean" && !pulumi.Output.isInstance(psk)) {
        fail("presharedKey", typeof psk === "string" ? "<a plain string>" : psk, "true, false, or a Pulumi secret Output (a plain string would be stored in state in clear text)");
    }
    const base = { interfaceName, network: net.text, mtu, keepaliveSec: keepalive === 0 ? undefined : keepalive, keyVersion, presharedKey: psk === true ? "random" as const : psk === false ? "none" as const : pulumi.secret(psk) };
    const hub = resolveSide(base, args.hub, "hub", "hub");
    if (!Array.isArray(args.peers) || args.peers.length === 0) fail("peers", args.peers, "a non-empty array of sides");
    const peers = args.peers.map((p, i) => resolveSide(base, p, `peers[${i}]`, "peer"));
    const sides = [hub, ...peers];
    const argOf = (i: number) => (i === 0 ? "hub" : `peers[${i - 1}]`);

    const names = new Map<string, number>();
    const hosts = new Map<string, number>();
    sides.forEach((s, i) => {
        if (names.has(s.name)) fail(`${argOf(i)}.name`, s.name, `a name no other side uses (${argOf(names.get(s.name)!)} has it)`);
        names.set(s.name, i);
        if (s.host) {
            if (hosts.has(s.host.name)) fail(`${argOf(i)}.host`, s.host.name, `a host not already a side of this link (${argOf(hosts.get(s.host.name)!)})`);
            hosts.set(s.host.name, i);
        }
    });
    if (!sides.some((s) => s.host)) fail("hub", "no side with a host", "at least one side managed by this stack (with `host`)");
    if (psk === true && sides.some((s) => !s.host)) fail("presharedKey", true, "a secret Output shared with the other stack when a side is managed elsewhere (a generated key would exist only here)");
    peers.forEach((p, i) => {
        if (p.endpoint === undefined && hub.endpoint === undefined) fail(`peers[${i}].endpoint`, undefined, "an endpoint on this peer or on the hub: with neither, no side can start the handshake");
    });

    // AllowedIPs of different sides must not overlap: WireGuard would silently route the overlap to one of them.
    const routed: Array<{ p: Prefix; where: string }> = [];
    sides.forEach((s, i) => {
        const items = [...s.addresses.map((a, j) => ({ t: hostRoute(a), where: `${argOf(i)}.addresses[${j}]` })), ...s.subnets.map((t, j) => ({ t, where: `${argOf(i)}.subnets[${j}]` }))];
        for (const { t, where } of items) {
            const p = parsePrefix(t, true)!;
            const clash = routed.find((r) => overlaps(r.p, p));
            if (clash) fail(where, t, `a network that overlaps no other routed network (it overlaps ${clash.p.text} of ${clash.where})`);
            routed.push({ p, where });
        }
    });
    return { ...base, hub, peers };
}

/** AllowedIPs one side lists for another: the hub routes each peer's own networks; a peer routes everything via the hub. */
export function allowedIpsFor(link: ResolvedLink, self: ResolvedSide, other: ResolvedSide): string[] {
    const own = (s: ResolvedSide) => [...s.addresses.map(hostRoute), ...s.subnets];
    if (self.role === "hub") return own(other);
    return [link.hub, ...link.peers].filter((s) => s !== self).flatMap(own);
}
