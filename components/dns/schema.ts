// DnsZone's arguments as one zod schema: the argument type, every rule on a value, and the text of the README's
// argument table. Rules that need the zone (owners relative to it, delegations below it, the record set as a whole)
// are the zone model's (model.ts), run here as the schema's cross-field check so the site config runs them too.
import type * as pulumi from "@pulumi/pulumi";
import { ArgumentError } from "../core/errors";
import { classifyIp } from "../core/ip";
import { bool, documented, int, list, ONCE_VALID, oneOf, pattern, port, problem, record, say, z } from "../core/schema";
import { hostArg, isOutput, outputArg } from "../validate";
import { buildZone, TTL_MAX, TTL_MIN, TXT_MAX } from "./model";
import { NameRules, nameProblem, stripDot, targetProblem } from "./names";
import { RECORD_TYPES } from "./types";

type Ctx = z.RefinementCtx;
const refuse = (ctx: Ctx, value: unknown, allowed: string) => ctx.addIssue({ code: "custom", message: allowed, input: value });

// ---- values ----------------------------------------------------------------------------------------------------

/** A zone name: lowercase LDH labels, at least two; a trailing dot is allowed and dropped. */
export const zoneName = () =>
    z.string(say("a zone name such as example.org")).superRefine((v, ctx) => {
        const name = stripDot(v);
        const p = nameProblem(name);
        if (p) refuse(ctx, v, `a zone name such as example.org, but it has ${p}`);
        else if (!name.includes(".")) refuse(ctx, v, "a zone of at least two labels (home.arpa, example.org)");
    });

/**
 * An address a record may carry (core/ip.ts, strict): of the record's family when it has one, and never in a range
 * no record may point at (this network, multicast, reserved, IPv4-mapped). Private ranges are the zone's check.
 * Parsed once: the value comes out in canonical form (duplicates compare on it).
 */
export function recordAddress(family?: 4 | 6) {
    const want = family === 4 ? "an IPv4 address in dotted-quad form without leading zeros" : family === 6 ? "an IPv6 address" : "an IPv4 or IPv6 address";
    return z.string(say(want)).transform((v, ctx) => {
        const a = classifyIp(v);
        if (!a) refuse(ctx, v, want);
        else if (family === 4 && a.family !== 4) refuse(ctx, v, `${want} (an IPv6 address needs type "AAAA")`);
        else if (family === 6 && a.family !== 6) refuse(ctx, v, `${want} (an IPv4 address needs type "A")`);
        else if (a.class === "invalid") refuse(ctx, v, `an address usable in a record, not one in ${a.range}`);
        else return a.text;
        return z.NEVER;
    });
}

const addresses = (max: number) => list(recordAddress(), "a non-empty list of IP addresses", max, 1);

/** A host name records point at: fully qualified, not an IP address; `allowRoot` takes "." (a null MX or SRV). */
function hostTarget(rules: NameRules, allowRoot: boolean, what = "a fully qualified host name") {
    return z.string(say("a host name such as host.example.org")).superRefine((v, ctx) => {
        if (allowRoot && v === ".") return;
        const p = targetProblem(v, rules);
        if (p) refuse(ctx, v, `${what}, but it is ${p}`);
    });
}

const u16 = () => int(0, 65535);
const ttl = () => int(TTL_MIN, TTL_MAX);

/** A plain value checked now, or an Output checked by whoever applies it; `missing` is what a wrong kind reports. */
const inputOf = <S extends z.ZodType>(schema: S, missing: string) => z.union([outputArg<z.output<S>>(), schema], say(missing));

// ---- records ---------------------------------------------------------------------------------------------------

const common = {
    name: z.string(say(`a name relative to the zone ("www", "@" for the apex) or absolute with a trailing dot`))
        .describe("Owner relative to the zone (`www`, `_dmarc`, `@` for the apex) or absolute with a trailing dot (`www.example.org.`)."),
    ttl: ttl().optional().describe("Seconds, 60 to 86400. @default - the zone's `ttl`"),
    proxied: bool().optional().describe("Cloudflare only, A/AAAA/CNAME only: serve through Cloudflare's proxy. @default false"),
};

const aRecord = record({ type: z.literal("A"), ...common, value: recordAddress(4).describe("An IPv4 address.") }, "an A record");
const aaaaRecord = record({ type: z.literal("AAAA"), ...common, value: recordAddress(6).describe("An IPv6 address.") }, "an AAAA record");
const cnameRecord = record({ type: z.literal("CNAME"), ...common, value: hostTarget({ underscore: true }, false).describe("The canonical name.") }, "a CNAME record");
const nsRecord = record({ type: z.literal("NS"), ...common, value: hostTarget({}, false).describe("The name server of the delegated name.") }, "an NS record");
const txtRecord = record(
    {
        type: z.literal("TXT"),
        ...common,
        value: pattern(/^[\x20-\x7e]{0,4000}$/, `printable ASCII text of at most ${TXT_MAX} characters (no control characters or newlines)`)
            .describe("Printable ASCII, up to 4000 characters; split into 255-byte strings where needed."),
    },
    "a TXT record",
);
const mxRecord = record(
    {
        type: z.literal("MX"),
        ...common,
        priority: u16().describe("Preference, 0 to 65535 (lower first)."),
        exchange: hostTarget({}, true).describe("Mail host name, or \".\" for a null MX (RFC 7505)."),
    },
    "an MX record",
);
const srvRecord = record(
    {
        type: z.literal("SRV"),
        ...common,
        priority: u16().describe("0 to 65535 (lower first)."),
        weight: u16().describe("0 to 65535, among targets of one priority."),
        port: u16().describe("0 to 65535."),
        target: hostTarget({}, true).describe("Host name, or \".\" for \"service not available here\"."),
    },
    "an SRV record",
);
const caaRecord = record(
    {
        type: z.literal("CAA"),
        ...common,
        flags: z.union([z.literal(0), z.literal(128)], say("0, or 128 (issuer critical)")).optional().describe("0, or 128 (issuer critical). @default 0"),
        tag: oneOf(["issue", "issuewild", "iodef"]).describe("What the value says: who may issue, who may issue wildcards, where to report."),
        value: pattern(/^[\x20\x21\x23-\x5b\x5d-\x7e]{0,255}$/, "printable ASCII of at most 255 characters without quotes or backslashes")
            .describe("An issuer domain (`letsencrypt.org`, optionally with `;` parameters) or `;` for issue/issuewild; a mailto: or https: URL for iodef."),
    },
    "a CAA record",
).superRefine((r, ctx) => {
    if (r.tag === "iodef" && !/^(mailto:[^\s@]+@[^\s@]+|https?:\/\/\S+)$/.test(r.value)) problem(ctx, ["value"], r.value, "a mailto: or https: URL for an iodef CAA record");
    if (r.tag !== "iodef" && r.value !== ";" && !/^[a-z0-9.-]+(;.*)?$/.test(r.value)) {
        problem(ctx, ["value"], r.value, `an issuer domain such as "letsencrypt.org" (optionally with ";" parameters), or ";" to forbid issuance`);
    }
}, ONCE_VALID);

/** Addresses that resolve later (an Output or a Promise): the host backend checks them once known. */
const lateAddresses = documented(z.custom<pulumi.Output<string[]> | Promise<string[]>>((v) => isOutput(v) || v instanceof Promise), { type: "Output" });

/** Anything with a host name and addresses (a service's host, a container) can be the source of A/AAAA records. */
export const addressSourceSchema = z
    .object(
        {
            hostname: z.string(say("a host name (or give the record a name)")).describe("A label (`git`) or a name inside the zone (`git.home.example.org`)."),
            addresses: z.union([lateAddresses, addresses(1000)], say("a non-empty list of IP addresses, or an Output of one"))
                .describe("IPv4 and IPv6 addresses; each becomes an A or AAAA record."),
        },
        say("an object with a hostname and addresses (an AddressSource)"),
    );

export const serviceRecordShape = {
    type: z.undefined(say("no type: a { service } record's type comes from its addresses")).optional().describe("None: A or AAAA by each address."),
    name: common.name.optional().describe("Owner, as for other records. @default - the service's hostname"),
    service: addressSourceSchema.describe("A/AAAA records for a service's addresses, without repeating them."),
    ttl: common.ttl,
    proxied: common.proxied,
};
const serviceRecord = record(serviceRecordShape, "a service record");

/** The record options: a type each, and the { service } record (no type). */
export const recordOptions = [aRecord, aaaaRecord, cnameRecord, nsRecord, txtRecord, mxRecord, srvRecord, caaRecord] as const;

const RECORD_ALLOWED = `one of ${RECORD_TYPES.join(", ")} (or a { service } record)`;
const RECORD_OBJECT = "a record object such as { name: \"www\", type: \"A\", value: \"192.0.2.10\" }";

/**
 * Records discriminated by `type` (a { service } record has none). The discriminator is checked first, so a wrong
 * type is reported with its own value (not the whole record).
 */
export function recordUnion<S extends z.ZodType>(service: S) {
    const head = z.looseObject({ type: z.enum(RECORD_TYPES, say(RECORD_ALLOWED)).optional() }, say(RECORD_OBJECT)).superRefine((r, ctx) => {
        if (r.type === undefined && !("service" in r)) problem(ctx, ["type"], undefined, RECORD_ALLOWED);
    }, ONCE_VALID);
    const union = z.discriminatedUnion("type", [...recordOptions, service as unknown as typeof serviceRecord], { error: (i: { code: string }) => (i.code === "invalid_type" ? RECORD_OBJECT : RECORD_ALLOWED) });
    // The head's type is the union's: it only checks first what the union checks anyway.
    return head.pipe(union as z.ZodType<unknown, any>) as unknown as z.ZodType<
        z.output<(typeof recordOptions)[number]> | z.output<S>,
        z.input<(typeof recordOptions)[number]> | z.input<S>
    >;
}

export const recordSchema = recordUnion(serviceRecord);

// ---- backends --------------------------------------------------------------------------------------------------

export const cloudflareBackendSchema = record(
    {
        kind: z.literal("cloudflare"),
        zoneId: inputOf(pattern(/^[0-9a-f]{32}$/, "a Cloudflare zone id: 32 lowercase hex characters"), "the Cloudflare zone id (a 32-character hex string, or an Output)")
            .describe("The Cloudflare zone id (Dashboard → the zone → Overview → API). Credentials come from the provider (`cloudflare:apiToken`), never from here."),
    },
    "a cloudflare backend",
);

export const route53BackendSchema = record(
    {
        kind: z.literal("route53"),
        zoneId: inputOf(pattern(/^Z[A-Z0-9]{1,31}$/, "a Route53 hosted zone id (Z followed by uppercase letters and digits)"), "a Route53 hosted zone id, or an Output")
            .optional()
            .describe("The hosted zone id. @default - looked up by the zone name"),
        privateZone: bool().optional().describe("When looking the zone up: the private hosted zone of that name. @default false"),
    },
    "a route53 backend",
);

export const nameserverSchema = record(
    {
        name: z.string(say("a name server name: ns1 (inside the zone) or ns.example.net. (outside, with a trailing dot)"))
            .describe("`ns1` (inside the zone: give its addresses, they become its A/AAAA records) or `ns.example.net.` (outside, with a trailing dot)."),
        addresses: addresses(8).optional().describe("Required for a name server inside the zone, refused for one outside it. @default - none (a name server outside the zone)"),
    },
    "a name server",
);

// The SOA RNAME is a domain name (RFC 1035 §8): the local part becomes its first label, so it takes only what a label
// takes (no '+', which a name server refuses in the zone file).
const MAILBOX = /^([a-z0-9_-]+(\.[a-z0-9_-]+)*)@(.+)$/;
const MAILBOX_ALLOWED = "a mailbox such as hostmaster@example.org (lowercase; the part before '@' of letters, digits, '_', '-' and '.', no '+')";
const hostmaster = () =>
    z.string(say(MAILBOX_ALLOWED)).refine((v) => {
        const m = MAILBOX.exec(v);
        return m !== null && m[1].length <= 63 && targetProblem(m[3]) === null;
    }, say(MAILBOX_ALLOWED));


export const hostBackendShape = {
    kind: z.literal("host"),
    host: hostArg().describe("The hearth host that runs the authoritative server (Knot DNS, Debian package `knot`)."),
    nameservers: list(nameserverSchema, "a non-empty list of { name, addresses? }", 13, 1).describe("The zone's NS set; the first is the SOA primary."),
    listen: addresses(8).optional().describe("Addresses knotd listens on. @default - the addresses of the name servers inside the zone"),
    port: port().optional().describe("The port knotd answers on. @default 53"),
    hostmaster: hostmaster().optional().describe("The SOA contact mailbox. @default - `hostmaster@<zone>`"),
};
export const hostBackendSchema = record(hostBackendShape, "a host backend");

export const BACKEND_KINDS = ["cloudflare", "route53", "host"] as const;
const BACKEND_ALLOWED = `a backend { kind: "cloudflare" | "route53" | "host", ... }`;

/** The backends discriminated by `kind`, checked first so a wrong kind is reported with its own value. */
export function backendUnion<H extends z.ZodType>(host: H) {
    const head = z.looseObject({ kind: z.enum(BACKEND_KINDS, say(BACKEND_ALLOWED)) }, say(BACKEND_ALLOWED));
    const union = z.discriminatedUnion("kind", [cloudflareBackendSchema, route53BackendSchema, host as unknown as typeof hostBackendSchema], say(BACKEND_ALLOWED));
    return head.pipe(union as z.ZodType<unknown, any>) as unknown as z.ZodType<
        z.output<typeof cloudflareBackendSchema> | z.output<typeof route53BackendSchema> | z.output<H>,
        z.input<typeof cloudflareBackendSchema> | z.input<typeof route53BackendSchema> | z.input<H>
    >;
}

// ---- delegations -----------------------------------------------------------------------------------------------

export const delegationSchema = record(
    {
        zone: zoneName().describe("The child zone, below this one (`home.example.org`)."),
        nameservers: list(
            record(
                {
                    name: hostTarget({}, false, "an absolute name server name").describe("Absolute name of the child's name server."),
                    addresses: addresses(8).optional().describe("Glue: required when the name server lies inside the child zone, refused otherwise. @default - none"),
                },
                "a name server",
            ),
            "a non-empty list of { name, addresses? }",
            13,
            1,
        ).describe("The child's name servers."),
        ttl: ttl().optional().describe("@default - the parent zone's `ttl`"),
    },
    "a delegation",
);

// ---- the zone --------------------------------------------------------------------------------------------------

export const dnsZoneShape = {
    zone: zoneName().describe("The zone's name (`example.org`, `home.example.org`); lowercase, at least two labels."),
    backend: backendUnion(hostBackendSchema).describe("Where the zone is published: cloudflare, route53, or a hearth host running Knot DNS."),
    records: list(recordSchema, "a list of records", 5000).optional().describe("The zone's records. @default []"),
    delegations: list(delegationSchema, "a list of { zone, nameservers }", 100).optional()
        .describe("Child zones handed to other name servers: NS records at their names, and glue for servers inside them. @default []"),
    ttl: ttl().optional().describe("Default TTL in seconds (60 to 86400), also the negative-answer TTL of a host zone. @default 300"),
    public: bool().optional().describe("Whether the zone is visible from the internet, which refuses private addresses. @default - true for cloudflare and route53, false for host"),
    allowPrivate: bool().optional().describe("Publish RFC 1918, ULA, loopback, link-local and CGNAT addresses in a public zone. @default false"),
    allowWildcard: bool().optional().describe("Allow `*` as the leftmost label of record names. @default false"),
    adopt: bool().optional().describe(
        "Host backend: take over a zone whose files another resource (or nothing hearth knows) owns, rewriting its mark; " +
        "that resource's delete then leaves it alone. To rename this resource, use Pulumi's `aliases` instead. @default false",
    ),
};

const zoneObject = record(dnsZoneShape, "DnsZoneArgs");
/** The parsed arguments the zone model works on. */
export type DnsZoneValue = z.output<typeof zoneObject>;

/**
 * The rules that need the whole zone (owners, delegations, name servers, the record set): the zone model's, whose
 * first ArgumentError becomes a problem at its path. `partial` leaves out what a caller checks later (see buildZone).
 */
export function checkDnsZone(v: DnsZoneValue, ctx: Ctx, partial = false): void {
    try {
        buildZone(v, partial);
    } catch (e) {
        if (!(e instanceof ArgumentError)) throw e;
        problem(ctx, e.path, e.value, e.allowed);
    }
}

export const DnsZoneArgsSchema = zoneObject.superRefine((v, ctx) => checkDnsZone(v, ctx), ONCE_VALID);

export type DnsZoneArgs = z.input<typeof DnsZoneArgsSchema>;
export type DnsBackendArgs = DnsZoneArgs["backend"];
export type CloudflareBackendArgs = z.input<typeof cloudflareBackendSchema>;
export type Route53BackendArgs = z.input<typeof route53BackendSchema>;
export type HostBackendArgs = z.input<typeof hostBackendSchema>;
export type DnsNameserverArgs = z.input<typeof nameserverSchema>;
/** A child zone handed to other name servers: NS records at its name, and glue addresses for servers inside it. */
export type ZoneDelegation = z.input<typeof delegationSchema>;
export type AddressSource = z.input<typeof addressSourceSchema>;
export type DnsRecordArgs = z.input<typeof recordSchema>;
export type AddressRecordArgs = z.input<typeof aRecord> | z.input<typeof aaaaRecord>;
export type TargetRecordArgs = z.input<typeof cnameRecord> | z.input<typeof nsRecord>;
export type TxtRecordArgs = z.input<typeof txtRecord>;
export type MxRecordArgs = z.input<typeof mxRecord>;
export type SrvRecordArgs = z.input<typeof srvRecord>;
export type CaaRecordArgs = z.input<typeof caaRecord>;
/** A/AAAA records for a service's addresses, without repeating them. */
export type ServiceRecordArgs = z.input<typeof serviceRecord>;
export type DnsRecordValue = z.output<typeof recordSchema>;
