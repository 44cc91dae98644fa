// HostFirewall's arguments: one zod schema is their type, their checks and the README's argument table.
import { formatIp, parseCidr } from "../core/ip";
import { bool, checked, documented, int, list, oneOf, pattern, port, reasonInWords, record, z } from "../core/schema";
import { hostArg } from "../validate";
import { parsePorts } from "./render";

export { parsePorts };

/** How long a new ruleset may stay live unconfirmed before the guard restores the previous one. */
export const DEFAULT_CONFIRM_SECONDS = 30;
export const MIN_CONFIRM_SECONDS = 10;
export const MAX_CONFIRM_SECONDS = 600;

const MAX_NETWORKS = 256;
const MAX_RULES = 256;
const MAX_PORTS = 64;

export const CIDR_ALLOWED = "an IPv4 or IPv6 network in CIDR form with no host bits, e.g. \"192.168.1.0/24\", \"2001:db8::/64\" or \"203.0.113.7/32\"";
export const INTERFACE_ALLOWED = "an interface name of 1 to 15 characters: a-z, 0-9, '_' or '-', starting with a letter";
export const PORTS_ALLOWED = "a port from 1 to 65535, or a range \"LOW-HIGH\" of them with LOW below HIGH";
export const FROM_ALLOWED = "\"internet\" (any source), or an array of networks in CIDR form";

export const INTERFACE = /^[a-z][a-z0-9_-]{0,14}$/;

/** A network in CIDR form, no host bits. */
export const cidr = () => checked(CIDR_ALLOWED, (v) => parseCidr(v, { network: true }) !== undefined);

/**
 * The IPv4 form of an IPv4-mapped IPv6 network (inside ::ffff:0:0/96), or undefined: nftables matches IPv4 packets
 * with `ip saddr` only, so such a network in an `ip6 saddr` set never matches anything.
 */
export function ipv4Mapped(text: string): string | undefined {
    const c = parseCidr(text);
    if (!c || c.family !== 6 || c.prefixLength < 96 || c.base >> 32n !== 0xffffn) return undefined;
    return `${formatIp(4, c.base & 0xffffffffn)}/${c.prefixLength - 96}`;
}

const MAPPED = 0xffffn << 32n;

/**
 * Why an IPv6 network cannot stand in an `ip6 saddr` set (what it names never arrives as an IPv6 source), and what to
 * write instead; undefined when it can. Refused: a network inside ::ffff:0:0/96 (IPv4-mapped), one that contains
 * it without being ::/0 (every IPv6 source), and one inside ::/96 (the deprecated IPv4-compatible form) other than
 * ::/128 and ::1/128.
 */
export function ipv4InIpv6(text: string): string | undefined {
    const c = parseCidr(text);
    if (!c || c.family !== 6) return undefined;
    const p = c.prefixLength;
    const v4 = ipv4Mapped(text);
    if (v4 !== undefined) return `${text} is the IPv4 network ${v4} written as IPv4-mapped IPv6, which the firewall never matches (IPv4 packets are matched by their IPv4 address): write "${v4}"`;
    if (p > 0 && p < 96 && c.base >> BigInt(128 - p) === MAPPED >> BigInt(128 - p)) {
        // The rest of the network: the sibling of ::ffff:0:0/96's path at every length from p+1 to 96.
        const rest: string[] = [];
        for (let i = p; i < 96; i++) {
            const sh = BigInt(127 - i);
            rest.push(`${formatIp(6, ((MAPPED >> sh) ^ 1n) << sh)}/${i + 1}`);
        }
        const instead = rest.length <= 4 ? rest.map((r) => `"${r}"`).join(", ") : `the IPv6 networks of ${text} outside it`;
        return `${text} contains ::ffff:0:0/96, the IPv4-mapped addresses, which the firewall never matches (IPv4 packets are matched by their IPv4 address): write ${instead}, and IPv4 networks as IPv4 (e.g. "0.0.0.0/0"); "::/0" means every IPv6 source`;
    }
    if (p >= 96 && c.base >> 32n === 0n && !(p === 128 && c.base <= 1n)) {
        const v4c = `${formatIp(4, c.base & 0xffffffffn)}/${p - 96}`;
        return `${text} is the IPv4 network ${v4c} in the deprecated IPv4-compatible IPv6 form (inside ::/96, where only ::/128 and ::1/128 are IPv6 addresses), which no packet carries: write "${v4c}"`;
    }
    return undefined;
}

/** A list of networks, each once (by its canonical form), none naming IPv4 addresses as IPv6 (ipv4InIpv6). */
export function networks(what: string, min = 0) {
    return list(cidr(), `an array of networks (${CIDR_ALLOWED})`, MAX_NETWORKS, min).superRefine((v, ctx) => {
        const seen = new Map<string, number>();
        v.forEach((n, i) => {
            const k = parseCidr(n)?.networkText;
            if (k === undefined) return;
            const why = ipv4InIpv6(n);
            if (why !== undefined) {
                ctx.addIssue({ code: "custom", path: [i], input: n, message: `a network in its own family: ${why}` });
                return;
            }
            const j = seen.get(k);
            if (j !== undefined) ctx.addIssue({ code: "custom", path: [i], input: n, message: `${what} without repeats (${n} is the same network as entry ${j})` });
            else seen.set(k, i);
        });
    });
}

/** A port, or a range "LOW-HIGH". */
export const portSpec = () => documented(z.custom<number | string>((v) => parsePorts(v) !== undefined, { error: () => PORTS_ALLOWED }), { type: "number | string" });

export const allowRuleSchema = record(
    {
        protocol: oneOf(["tcp", "udp"] as const).describe("`tcp` or `udp`."),
        ports: list(portSpec(), `an array of ports (${PORTS_ALLOWED})`, MAX_PORTS, 1).describe("Destination ports: numbers or `\"LOW-HIGH\"` ranges."),
        from: z.union([z.literal("internet"), networks("sources", 1)], { error: () => FROM_ALLOWED }).describe("`\"internet\"` (any source, both families) or the source networks (CIDR, at least one; IPv4 networks as IPv4, never IPv4-mapped IPv6)."),
        reason: reasonInWords().describe("Why the port is open: written above the rule in the ruleset and shown by the plan."),
    },
    "an allow rule",
);

export const firewallShape = {
    host: hostArg().describe("The host whose ruleset this is: every listener registered on this Host before the firewall is declared (declare it last)."),
    adminNetworks: networks("admin networks", 1).describe(
        "Where SSH (the host's `port`) is allowed from: the networks hearth and the admins connect from (IPv4 and IPv6). A ruleset that leaves out the address hearth connects from is rolled back by the guard, and the `up` fails.",
    ),
    networks: record(
        {
            local: networks("local networks").optional().describe("The site's LANs: listeners of scope `local` are open to them. @default []"),
            overlay: networks("overlay networks").optional().describe("The WireGuard overlay's networks: listeners of scope `overlay` are open to them (besides arriving on a WireGuard interface). @default []"),
        },
        "networks",
    )
        .optional()
        .describe("The networks the listener scopes mean on this host. @default {}"),
    overlayInterfaces: list(pattern(INTERFACE, INTERFACE_ALLOWED), `an array of interface names (${INTERFACE_ALLOWED})`, 64)
        .optional()
        .describe("Interfaces whose traffic counts as overlay, besides the WireGuard interfaces declared on this host before the firewall. @default []"),
    allow: list(allowRuleSchema, "an array of allow rules", MAX_RULES).optional().describe("Extra openings, each with a reason. @default []"),
    sshPort: port().optional().describe("The SSH port opened to `adminNetworks`: must be the port hearth connects on (the host's `port`). @default - the host's port"),
    adopt: bool().optional().describe("Take over a `table inet hearth` that no record says is this resource's (another resource's, or made by hand), rewriting the record; that resource's delete then leaves it alone. @default false"),
    confirmSeconds: int(MIN_CONFIRM_SECONDS, MAX_CONFIRM_SECONDS)
        .optional()
        .describe(`How long a new ruleset stays live unconfirmed: unless a fresh SSH connection confirms it within this window, the previous ruleset is restored. @default ${DEFAULT_CONFIRM_SECONDS}`),
};

export const HostFirewallArgsSchema = record(firewallShape, "HostFirewallArgs");

export type HostFirewallArgs = z.input<typeof HostFirewallArgsSchema>;

