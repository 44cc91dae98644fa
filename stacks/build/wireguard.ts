// WireGuard links from the site config; sides managed by another site come from that stack's outputs.
import * as pulumi from "@pulumi/pulumi";
import {
    Host,
    resolveWireguardLinkArgs,
    WireguardLink,
    WireguardLinkArgs,
    WireguardSideArgs,
} from "../../components";
import { SideConfig, WireguardConfig } from "../config/wireguard";
import { ProblemCollector } from "../config/problems";
import { SecretSource } from "./hosts";

/** What another site's stack exports about its WireGuard links (see `wireguardOutputs`). */
export type RemoteLinks = pulumi.Output<Record<string, { publicKeys?: Record<string, string>; endpoints?: Record<string, string> } | undefined> | undefined>;

/** Reads another site's exported links; one StackReference per site. */
export type RemoteSite = (stack: string) => RemoteLinks;

function sideArgs(link: string, side: SideConfig, hosts: Map<string, Host>, remote: RemoteSite | undefined): WireguardSideArgs {
    const { host, stack, publicKey, endpoint, ...rest } = side;
    if (host !== undefined) return { ...rest, host: hosts.get(host), ...(endpoint !== undefined ? { endpoint } : {}) };
    if (publicKey !== undefined) return { ...rest, publicKey, ...(endpoint !== undefined ? { endpoint } : {}) };
    const name = side.name!;
    // While the site is checked, no StackReference exists yet: an Output stands in for the key the other site exports.
    if (!remote) return { ...rest, publicKey: pulumi.output(""), endpoint: endpoint ?? pulumi.output("") };
    const links = remote(stack!);
    // Until that site's first `up` it exports no key: the side is pending (WireguardLink leaves it out and warns),
    // and the next `up` here adds it. So two sites that refer to each other can each go first.
    const key = links.apply((l) => l?.[link]?.publicKeys?.[name]) as pulumi.Output<string>;
    const theirs = links.apply((l) => l?.[link]?.endpoints?.[name] ?? "");
    return { ...rest, publicKey: key, endpoint: endpoint ?? theirs };
}

function linkArgs(l: WireguardConfig, hosts: Map<string, Host>, secret: SecretSource, remote: RemoteSite | undefined): WireguardLinkArgs {
    const { name, hub, peers, presharedKey, ...rest } = l;
    return {
        ...rest,
        hub: sideArgs(name, hub, hosts, remote),
        peers: peers.map((p) => sideArgs(name, p, hosts, remote)),
        ...(presharedKey !== undefined ? { presharedKey: typeof presharedKey === "string" ? secret(presharedKey) : presharedKey } : {}),
    };
}

export function planLinks(links: readonly WireguardConfig[], hosts: Map<string, Host>, secret: SecretSource, problems: ProblemCollector): WireguardConfig[] {
    return links.filter((l, i) => problems.run(`hearth:wireguard[${i}]`, () => resolveWireguardLinkArgs(linkArgs(l, hosts, secret, undefined))) !== undefined);
}

export function createLinks(links: readonly WireguardConfig[], hosts: Map<string, Host>, secret: SecretSource, remote: RemoteSite): Map<string, WireguardLink> {
    return new Map(links.map((l) => [l.name, new WireguardLink(l.name, linkArgs(l, hosts, secret, remote))]));
}

/** What this site exports for the sites on the other end of its links: public keys and the endpoints of its own sides. */
export function wireguardOutputs(configs: readonly WireguardConfig[], links: Map<string, WireguardLink>) {
    return Object.fromEntries(
        configs.map((c) => {
            const own = [c.hub, ...c.peers].filter((s) => s.host !== undefined && s.endpoint !== undefined);
            return [c.name, { publicKeys: links.get(c.name)!.publicKeys, endpoints: Object.fromEntries(own.map((s) => [s.name ?? s.host!, s.endpoint!])), addresses: links.get(c.name)!.addresses }];
        }),
    );
}
