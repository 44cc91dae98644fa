// WireGuard links from the site config; sides managed by another site come from that stack's outputs.
import * as pulumi from "@pulumi/pulumi";
import { Host, WireguardLink, WireguardLinkArgs, WireguardSideArgs } from "../../components";
import { SideConfig, WireguardConfig } from "../config/wireguard";
import { SecretSource } from "./hosts";

/** What another site's stack exports about its WireGuard links (see `wireguardOutputs`). */
export type RemoteLinks = pulumi.Output<Record<string, { publicKeys?: Record<string, string>; endpoints?: Record<string, string> } | undefined> | undefined>;

/** Reads another site's exported links; one StackReference per site. */
export type RemoteSite = (stack: string) => RemoteLinks;

function sideArgs(link: string, side: SideConfig, hosts: Map<string, Host>, remote: RemoteSite): WireguardSideArgs {
    const { host, stack, publicKey, endpoint, ...rest } = side;
    const at = endpoint !== undefined ? { endpoint } : {};
    // The config's cross-checks made sure a named host exists and a side without one has a name.
    if (host !== undefined) return { ...rest, ...at, host: hosts.get(host)! };
    const name = side.name!;
    if (publicKey !== undefined) return { ...rest, ...at, name, publicKey };
    const links = remote(stack!);
    // Until that site's first `up` it exports no key: the side is pending (WireguardLink leaves it out and warns),
    // and the next `up` here adds it. So two sites that refer to each other can each go first.
    const key = links.apply((l) => l?.[link]?.publicKeys?.[name]) as pulumi.Output<string>;
    const theirs = links.apply((l) => l?.[link]?.endpoints?.[name] ?? "");
    return { ...rest, name, publicKey: key, endpoint: endpoint ?? theirs };
}

function linkArgs(l: WireguardConfig, hosts: Map<string, Host>, secret: SecretSource, remote: RemoteSite): WireguardLinkArgs {
    const { name, hub, peers, presharedKey, ...rest } = l;
    return {
        ...rest,
        hub: sideArgs(name, hub, hosts, remote),
        peers: peers.map((p) => sideArgs(name, p, hosts, remote)),
        ...(presharedKey !== undefined ? { presharedKey: typeof presharedKey === "string" ? secret(presharedKey) : presharedKey } : {}),
    };
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
