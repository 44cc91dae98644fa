// Site config for WireGuard links: sides here or in another site's stack.
import { z } from "zod";
import { bool, int, label, list, pattern, record, secretKey } from "./fields";

const text = (allowed: string) => z.string({ error: () => allowed });

/** A Pulumi stack name, bare (`vps`) or qualified (`org/project/vps`). */
export const STACK_NAME = /^([A-Za-z0-9_.-]{1,100}\/){0,2}[A-Za-z0-9_.-]{1,100}$/;
const stackName = () => pattern(STACK_NAME, "a stack name ('vps' or 'org/project/vps')");

export const sideSchema = record(
    {
        /** A host of this site: its key is generated there. */
        host: label("the name of a host in hearth:hosts").optional(),
        /** The side's name in every stack. @default - the host's name */
        name: label().optional(),
        /** The site (stack) that manages this side: its public key and endpoint come from that stack's outputs. */
        stack: stackName().optional(),
        /** A public key given by hand (day one, before the other site has run). */
        publicKey: text("a WireGuard public key").optional(),
        endpoint: text("host:port or [ipv6]:port").optional(),
        listenPort: int(1, 65535).optional(),
        subnets: list(text("a CIDR network"), "a list of CIDR networks", 64).optional(),
        addresses: list(text("an address with its prefix"), "a list of addresses with their prefix", 8).optional(),
    },
    "a WireGuard side",
);
export type SideConfig = z.infer<typeof sideSchema>;

export const wireguardLinkSchema = record(
    {
        /** Resource name, and the key this site exports the link's public keys under. */
        name: label(),
        interfaceName: text("an interface name"),
        hub: sideSchema,
        peers: list(sideSchema, "a list of WireGuard sides", 250).min(1, { error: () => "a list of at least one WireGuard side" }),
        network: text("an IPv6 /64").optional(),
        mtu: int(1280, 9000).optional(),
        keepaliveSec: int(0, 65535).optional(),
        /** `true`: random per pair (all sides here); a secret config key: one key shared with the other site. */
        presharedKey: z.union([bool(), secretKey()], { error: () => "true, false, or the name of a secret config key" }).optional(),
        keyVersion: int(0, 1_000_000).optional(),
        adopt: bool().optional(),
    },
    "a WireGuard link",
);
export type WireguardConfig = z.infer<typeof wireguardLinkSchema>;
export const wireguardSchema = list(wireguardLinkSchema, "a list of WireGuard links", 100);
