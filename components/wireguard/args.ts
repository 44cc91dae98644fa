// WireguardLink arguments resolved: the schema (schema.ts) checks them, this fills in defaults and derived values.
import type * as pulumi from "@pulumi/pulumi";
import type { Host } from "../host";
import { parseCidr } from "../core/ip";
import { parseArgs, type ArgPath } from "../core/schema";
import { addressRoute, defaultAddress, defaultNetwork, WireguardLinkArgsSchema, type WireguardLinkArgs, type WireguardSideArgs } from "./schema";

export interface ResolvedSide {
    readonly name: string;
    readonly role: "hub" | "peer";
    /** Where the side is in the arguments (`["hub"]`, `["peers", 0]`), for errors about values known later. */
    readonly path: ArgPath;
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
    readonly adopt: boolean;
    readonly hub: ResolvedSide;
    readonly peers: readonly ResolvedSide[];
}

function resolveSide(network: string, s: WireguardSideArgs, path: ArgPath, role: "hub" | "peer"): ResolvedSide {
    // The schema demands a name for a side without a host.
    const name = s.name ?? s.host!.name;
    return {
        name,
        role,
        path,
        host: s.host,
        publicKey: s.publicKey,
        endpoint: s.endpoint,
        listenPort: s.listenPort ?? 51820,
        subnets: (s.subnets ?? []).map((t) => parseCidr(t, { network: true })!.networkText),
        addresses: s.addresses ? s.addresses.map((t) => parseCidr(t)!.text) : [defaultAddress(network, name)],
    };
}

/** Checks every argument by the schema (an ArgumentError names the first bad one) and resolves defaults. Registers nothing. */
export function resolveWireguardLinkArgs(args: WireguardLinkArgs): ResolvedLink {
    const v = parseArgs(WireguardLinkArgsSchema, args);
    const network = v.network !== undefined ? parseCidr(v.network, { network: true })!.networkText : defaultNetwork(v.interfaceName);
    const keepalive = v.keepaliveSec ?? 25;
    const psk = v.presharedKey ?? false;
    return {
        interfaceName: v.interfaceName,
        network,
        mtu: v.mtu ?? 1420,
        keepaliveSec: keepalive === 0 ? undefined : keepalive,
        presharedKey: psk === true ? "random" : psk === false ? "none" : psk,
        keyVersion: v.keyVersion ?? 0,
        adopt: v.adopt ?? false,
        hub: resolveSide(network, v.hub, ["hub"], "hub"),
        peers: v.peers.map((p, i) => resolveSide(network, p, ["peers", i], "peer")),
    };
}

/** AllowedIPs one side lists for another: the hub routes each peer's own networks; a peer routes everything via the hub. */
export function allowedIpsFor(link: ResolvedLink, self: ResolvedSide, other: ResolvedSide): string[] {
    const own = (s: ResolvedSide) => [...s.addresses.map(addressRoute), ...s.subnets];
    if (self.role === "hub") return own(other);
    return [link.hub, ...link.peers].filter((s) => s !== self).flatMap(own);
}
