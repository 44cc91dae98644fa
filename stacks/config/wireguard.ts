// Site config for WireGuard links, derived from WireguardLink's schema: the same keys with the same limits, save what a
// site config says differently (a host by name, a side managed by another site's stack, a secret by its config key).
import { z } from "zod";
import { checkWireguardLink, rules, wgEndpoint, wgPeerList, wgPublicKey, WireguardLinkView, wireguardLinkShape, wireguardSideShape } from "../../components";
import { bool, label, list, pattern, record, secretKey } from "./fields";

/** A Pulumi stack name, bare (`vps`) or qualified (`org/project/vps`). */
export const STACK_NAME = /^([A-Za-z0-9_.-]{1,100}\/){0,2}[A-Za-z0-9_.-]{1,100}$/;
const { problem } = rules;
const stackName = () => pattern(STACK_NAME, "a stack name ('vps' or 'org/project/vps')");

const { host: _host, publicKey: _publicKey, endpoint: _endpoint, name: sideName, ...sideFields } = wireguardSideShape;

/** A side of this site (`host`), of another site (`stack`) or given by hand (`publicKey`); the last two are named. */
function checkSide(s: { host?: string; stack?: string; publicKey?: string; name?: string }, ctx: z.RefinementCtx): void {
    const kinds = [s.host, s.stack, s.publicKey].filter((k) => k !== undefined).length;
    if (kinds !== 1) problem(ctx, [], s, "exactly one of host (a host of this site), stack (the site that manages it) or publicKey");
    else if (s.host === undefined && s.name === undefined) problem(ctx, ["name"], undefined, "a side name (the same in every stack) for a side managed elsewhere");
}

export const sideSchema = record(
    {
        host: label("the name of a host in hearth:hosts").optional().describe("A host of this site: its key is generated there. Exactly one of `host`, `stack` and `publicKey`."),
        name: sideName,
        stack: stackName().optional().describe("The site (stack) that manages this side: its public key and endpoint come from that stack's outputs."),
        publicKey: wgPublicKey().optional().describe("A public key given by hand (day one, before the other site has run)."),
        endpoint: wgEndpoint().optional().describe(wireguardSideShape.endpoint.description ?? ""),
        ...sideFields,
    },
    "a WireGuard side",
).superRefine(checkSide);
export type SideConfig = z.infer<typeof sideSchema>;

const { hub: _hub, peers: _peers, presharedKey: _presharedKey, interfaceName, ...linkFields } = wireguardLinkShape;

/** The component's link check over a config entry: a host by name, a side of another site keyed and reached through its stack. */
function asLink(l: { interfaceName: string; network?: string; presharedKey?: unknown; hub: SideConfig; peers: readonly SideConfig[] }): WireguardLinkView {
    const side = (s: SideConfig) => ({
        name: s.name,
        host: s.host === undefined ? undefined : { name: s.host },
        endpoint: s.endpoint ?? (s.stack !== undefined ? "(from the outputs of its stack)" : undefined),
        subnets: s.subnets,
        addresses: s.addresses,
    });
    return { interfaceName: l.interfaceName, network: l.network, presharedKey: l.presharedKey, hub: side(l.hub), peers: l.peers.map(side) };
}

export const wireguardLinkSchema = record(
    {
        name: label().describe("Resource name, and the key this site exports the link's public keys under."),
        interfaceName,
        hub: sideSchema,
        peers: wgPeerList(sideSchema),
        ...linkFields,
        presharedKey: z
            .union([bool(), secretKey()], { error: () => "true, false, or the name of a secret config key" })
            .optional()
            .describe("`true`: random per pair (all sides here); the name of a secret config key: one key shared with the other site. @default false"),
    },
    "a WireGuard link",
).superRefine((l, ctx) => checkWireguardLink(asLink(l), ctx), rules.ONCE_VALID);
export type WireguardConfig = z.infer<typeof wireguardLinkSchema>;
export const wireguardSchema = list(wireguardLinkSchema, "a list of WireGuard links", 100);
