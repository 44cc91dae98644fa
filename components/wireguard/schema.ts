// WireguardLink's arguments: one zod schema is their type, their checks, the README's argument table and (through the
// public API) the site config's `hearth:wireguard` entries.
import type { Host } from "../host";
import { hostRoute, parseCidr, parseIp, width, type Cidr } from "../core/ip";
import { isHostAddress } from "../core/rules";
import { argName, bool, checked, int, label, list, ONCE_VALID, pattern, port, problem, record, z, type ArgPath } from "../core/schema";
import { WG_KEY, WG_PUBLIC_KEY_ALLOWED } from "../core/vocab";
import { ulaAddress, ulaPrefix, ulaSubnet } from "../net/ula";
import { hostArg, inputArg, secretArg } from "../validate";

// ---- rules only WireGuard has ------------------------------------------------------------------------------------

export const INTERFACE_NAME = /^[a-z][a-z0-9_-]{0,14}$/;
const INTERFACE_NAME_ALLOWED = "an interface name of 1 to 15 characters: a-z, 0-9, '_' or '-', starting with a letter (no '/', '.', or spaces)";
const SIDE_NAME_ALLOWED = "a side name: a lowercase DNS label";
const ENDPOINT_ALLOWED = "`host:port` or `[ipv6]:port` with a DNS name or IP address and a port from 1 to 65535";
const SUBNET_ALLOWED = "a CIDR network with no host bits, e.g. \"10.20.0.0/24\" or \"fd12:3456:789a:1::/64\"";
const ADDRESS_ALLOWED = "an interface address with its prefix, e.g. \"10.99.0.1/24\"";
const NETWORK_ALLOWED = "an IPv6 /64 network with no host bits, e.g. \"fd12:3456:789a::/64\"";
const PSK_ALLOWED = "true, false, or a Pulumi secret Output (a plain string would be stored in state in clear text)";
const SIDES_ALLOWED = "an array of sides";
/** Bounds on the lists, so that the overlap check stays cheap. */
const MAX_PEERS = 1000;
const MAX_SUBNETS = 256;
const MAX_ADDRESSES = 16;

/** Whether a value is `host:port` (an IPv4 address or a DNS name) or `[ipv6]:port`, with a port from 1 to 65535. */
export function isEndpoint(value: unknown): value is string {
    const m = typeof value === "string" ? /^(\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):([1-9][0-9]{0,4})$/.exec(value) : null;
    if (!m || Number(m[4]) > 65535) return false;
    return m[2] !== undefined ? parseIp(m[2])?.family === 6 : isHostAddress(m[3]);
}

/** A WireGuard public key as plain text (what `wg pubkey` prints). */
export const wgPublicKey = () => pattern(WG_KEY, WG_PUBLIC_KEY_ALLOWED);
/** Where a side is reached, as plain text. */
export const wgEndpoint = () => checked(ENDPOINT_ALLOWED, isEndpoint);
/** The list of peers of a link, whatever a side is (a component's side or a site config's). */
export const wgPeerList = <T extends z.ZodType>(side: T) => list(side, SIDES_ALLOWED, MAX_PEERS, 1);

const subnet = () => checked(SUBNET_ALLOWED, (v) => parseCidr(v, { network: true }) !== undefined);
const interfaceAddress = () =>
    checked(ADDRESS_ALLOWED, (v) => {
        const c = parseCidr(v);
        return c !== undefined && c.prefixLength !== 0 && c.prefixLength !== width(c.family);
    });
const tunnelNetwork = () =>
    checked(NETWORK_ALLOWED, (v) => {
        const c = parseCidr(v, { network: true });
        return c !== undefined && c.family === 6 && c.prefixLength === 64;
    });

// ---- derived values the check and the resolver share --------------------------------------------------------------

/** The tunnel network a link gets when `network` is not given: subnet 0 of the ULA prefix of its interface name. */
export function defaultNetwork(interfaceName: string): string {
    return ulaSubnet(ulaPrefix(`wireguard:${interfaceName}`), 0);
}

/** The tunnel address a side gets when `addresses` is not given: the ULA address of its name in the network. */
export function defaultAddress(network: string, name: string): string {
    return ulaAddress(network, name);
}

/** The host route (`/32` or `/128`) of an interface address (`addr/len`): what a peer's AllowedIPs carries for it. */
export function addressRoute(address: string): string {
    return hostRoute(parseIp(address.slice(0, address.indexOf("/")))!);
}

// ---- the schema ---------------------------------------------------------------------------------------------------

export const wireguardSideShape = {
    name: label(SIDE_NAME_ALLOWED).optional().describe("Side name: a DNS label, the same in every stack that names this side. @default - the host's name"),
    host: hostArg().optional().describe("The machine this stack manages for this side; its private key is generated there. Exactly one of `host` and `publicKey`. @default - none: the side is managed by another stack"),
    publicKey: inputArg(wgPublicKey()).optional().describe("For a side another stack manages: its public key (e.g. a StackReference output); `name` is then required. @default - none: the key is generated on `host`"),
    endpoint: inputArg(wgEndpoint()).optional().describe("`host:port` or `[v6]:port` where the other sides reach this one. @default - none: this side dials out"),
    listenPort: port().optional().describe("UDP port the interface listens on. @default 51820"),
    subnets: list(subnet(), "an array of CIDR networks", MAX_SUBNETS).optional().describe("Site networks behind this side, routed to it through the tunnel (CIDR, no host bits). @default []"),
    addresses: list(interfaceAddress(), "an array of interface addresses", MAX_ADDRESSES, 1).optional().describe("Tunnel addresses (`addr/len`). @default - one ULA address of `name` inside `network`"),
};

/** A side: exactly one of `host` (managed here) or `publicKey` (managed elsewhere, then named). */
export function checkWireguardSide(v: { host?: unknown; publicKey?: unknown; name?: unknown }, ctx: z.RefinementCtx): void {
    if ((v.host === undefined) === (v.publicKey === undefined)) {
        problem(ctx, [], Object.keys(v), "exactly one of `host` (managed here) or `publicKey` (managed by another stack)");
    } else if (v.host === undefined && v.name === undefined) {
        problem(ctx, ["name"], undefined, SIDE_NAME_ALLOWED);
    }
}

const sideObject = record(wireguardSideShape, "a WireGuard side");
type SideFields = z.input<typeof sideObject>;

/** Lists in the argument types may be readonly arrays (the schema only reads them), as a user's `as const` lists are. */
type ReadonlyList<X> = X extends readonly (infer U)[] ? readonly U[] : X;
type ReadonlyLists<T> = { readonly [K in keyof T]: ReadonlyList<T[K]> };

/** One side of a link: a host this stack manages, or a side another stack manages, named and given by its public key. */
export type WireguardSideArgs = ReadonlyLists<
    | (Omit<SideFields, "host" | "publicKey"> & { readonly host: Host; readonly publicKey?: undefined })
    | (Omit<SideFields, "host" | "publicKey" | "name"> & { readonly host?: undefined; readonly publicKey: NonNullable<SideFields["publicKey"]>; readonly name: string })
>;

/** The side schema; its type is the union the check enforces (zod cannot say "exactly one of" by itself). */
export const WireguardSideSchema = sideObject.superRefine(checkWireguardSide) as unknown as z.ZodType<WireguardSideArgs, WireguardSideArgs>;

export const wireguardLinkShape = {
    interfaceName: pattern(INTERFACE_NAME, INTERFACE_NAME_ALLOWED).describe("Interface name on every managed side: 1–15 of a-z 0-9 _ -, starting with a letter."),
    hub: WireguardSideSchema.describe("The side every other side connects to (for site-to-site, either gateway)."),
    peers: wgPeerList(WireguardSideSchema).describe("The sides that connect to the hub (one for site-to-site)."),
    network: tunnelNetwork().optional().describe("Tunnel network (IPv6 /64). @default - subnet 0 of `ulaPrefix(\"wireguard:\" + interfaceName)`"),
    mtu: int(1280, 9000).optional().describe("The interface's MTU. @default 1420"),
    keepaliveSec: int(0, 65535).optional().describe("PersistentKeepalive towards every peer, in seconds; 0 turns it off. @default 25"),
    presharedKey: z
        .union([bool(), secretArg(PSK_ALLOWED)])
        .optional()
        .describe("A preshared key per hub–peer pair: `true` makes each with `@pulumi/random` (all sides must be managed here); a secret Output (e.g. a StackReference secret) is used for every pair. @default false"),
    keyVersion: int(0, 2 ** 31 - 1).optional().describe("Raise to rotate every managed side's private key. @default 0"),
    adopt: bool()
        .optional()
        .describe("Take over an interface whose config another resource (or nothing hearth knows) owns, rewriting its mark; that resource's delete then leaves it alone. To rename this resource, use Pulumi's `aliases` instead. @default false"),
};

/**
 * What the cross-field check reads of a link. A side's `host` is a Host for the component and a host's name in the
 * site config, where a side of another site has its key and endpoint from that site's outputs.
 */
export interface WireguardLinkView {
    readonly interfaceName: string;
    readonly network?: string;
    readonly presharedKey?: unknown;
    readonly hub: WireguardSideView;
    readonly peers: readonly WireguardSideView[];
}

export interface WireguardSideView {
    readonly name?: string;
    readonly host?: { readonly name: string };
    readonly endpoint?: unknown;
    readonly subnets?: readonly string[];
    readonly addresses?: readonly string[];
}

/**
 * The link as a whole: unique side names and hosts, a side managed here, someone to start the handshake, a generated
 * preshared key only when every side is here, and AllowedIPs that do not overlap (WireGuard would silently route the
 * overlap to one of them). Runs once every field is valid.
 */
export function checkWireguardLink(v: WireguardLinkView, ctx: z.RefinementCtx): void {
    const sides = [v.hub, ...v.peers];
    const at = (i: number): ArgPath => (i === 0 ? ["hub"] : ["peers", i - 1]);
    const argOf = (i: number) => (i === 0 ? "hub" : `peers[${i - 1}]`);
    const names = sides.map((s) => s.name ?? s.host?.name);

    const byName = new Map<string, number>();
    const byHost = new Map<string, number>();
    const renamed = new Set<number>();
    sides.forEach((s, i) => {
        const name = names[i];
        if (name !== undefined) {
            const first = byName.get(name);
            if (first !== undefined) {
                problem(ctx, [...at(i), "name"], name, `a name no other side uses (${argOf(first)} has it)`);
                renamed.add(i);
            } else byName.set(name, i);
        }
        if (s.host) {
            const first = byHost.get(s.host.name);
            if (first !== undefined) problem(ctx, [...at(i), "host"], s.host.name, `a host not already a side of this link (${argOf(first)})`);
            else byHost.set(s.host.name, i);
        }
    });
    if (!sides.some((s) => s.host)) problem(ctx, ["hub"], "no side with a host", "at least one side managed by this stack (with `host`)");
    if (v.presharedKey === true && sides.some((s) => !s.host)) {
        problem(ctx, ["presharedKey"], true, "a secret Output shared with the other stack when a side is managed elsewhere (a generated key would exist only here)");
    }
    v.peers.forEach((p, i) => {
        if (p.endpoint === undefined && v.hub.endpoint === undefined) {
            problem(ctx, ["peers", i, "endpoint"], undefined, "an endpoint on this peer or on the hub: with neither, no side can start the handshake");
        }
    });

    const network = v.network ?? defaultNetwork(v.interfaceName);
    // AllowedIPs of different sides must not overlap: WireGuard would silently route the overlap to one of them.
    // Prefixes are nested or disjoint, so after sorting by family and base (shorter first on a tie) a prefix overlaps
    // an earlier one exactly when it starts before the furthest end seen so far: one pass, not every pair.
    const routed: Array<{ c: Cidr; end: bigint; path: ArgPath; order: number }> = [];
    sides.forEach((s, i) => {
        const name = names[i];
        // A side without a name, or with another side's name (refused above), has no default address of its own.
        const addresses = s.addresses ?? (name === undefined || renamed.has(i) ? [] : [defaultAddress(network, name)]);
        const items = [
            ...addresses.map((a, j) => ({ text: addressRoute(a), path: [...at(i), "addresses", j] })),
            ...(s.subnets ?? []).map((t, j) => ({ text: t, path: [...at(i), "subnets", j] })),
        ];
        for (const { text, path } of items) {
            const c = parseCidr(text)!;
            const size = 1n << BigInt(width(c.family) - c.prefixLength);
            routed.push({ c, end: c.base + size - 1n, path, order: routed.length });
        }
    });
    const sorted = [...routed].sort((a, b) => a.c.family - b.c.family || (a.c.base < b.c.base ? -1 : a.c.base > b.c.base ? 1 : a.c.prefixLength - b.c.prefixLength));
    const clashes: Array<{ later: (typeof routed)[number]; earlier: (typeof routed)[number] }> = [];
    let top: (typeof routed)[number] | undefined;
    for (const x of sorted) {
        if (top && top.c.family === x.c.family && x.c.base <= top.end) {
            const [earlier, later] = top.order < x.order ? [top, x] : [x, top];
            clashes.push({ earlier, later });
        }
        if (!top || top.c.family !== x.c.family || x.end > top.end) top = x;
    }
    const reported = new Set<number>();
    for (const { earlier, later } of clashes.sort((a, b) => a.later.order - b.later.order)) {
        if (reported.has(later.order)) continue;
        reported.add(later.order);
        problem(ctx, later.path, later.c.networkText, `a network that overlaps no other routed network (it overlaps ${earlier.c.networkText} of ${argName(earlier.path)})`);
    }
}

/** Cross-field checks run only once every field is valid (they read parsed addresses and names). */

export const WireguardLinkArgsSchema = record(wireguardLinkShape, "WireguardLinkArgs").superRefine(checkWireguardLink, ONCE_VALID);

export type WireguardLinkArgs = ReadonlyLists<z.input<typeof WireguardLinkArgsSchema>>;
