// Site config for DNS zones: cloud or on a host.
import { z } from "zod";
import { bool, int, label, list, oneOf, record } from "./fields";

const text = (allowed: string) => z.string({ error: () => allowed });

const RECORD_TYPES = ["A", "AAAA", "CNAME", "TXT", "MX", "SRV", "CAA", "NS"] as const;

/** One record; which fields a type needs is the component's check. `service` derives A/AAAA from a service or container. */
export const recordSchema = record(
    {
        name: text("a record name").optional(),
        type: oneOf(RECORD_TYPES).optional(),
        value: text("the record's value").optional(),
        ttl: int(60, 86400).optional(),
        proxied: bool().optional(),
        priority: int(0, 65535).optional(),
        exchange: text("a mail host name").optional(),
        weight: int(0, 65535).optional(),
        port: int(0, 65535).optional(),
        target: text("a host name").optional(),
        flags: int(0, 255).optional(),
        tag: oneOf(["issue", "issuewild", "iodef"]).optional(),
        /** A service or container of this site with a `hostname`: its host's address becomes the A/AAAA records. */
        service: label("the name of a service or container of this site").optional(),
    },
    "a DNS record",
);
export type RecordConfig = z.infer<typeof recordSchema>;

const backendSchema = z.discriminatedUnion(
    "kind",
    [
        record({ kind: z.literal("cloudflare"), zoneId: text("a Cloudflare zone id") }, "a cloudflare backend"),
        record({ kind: z.literal("route53"), zoneId: text("a Route53 hosted zone id").optional(), privateZone: bool().optional() }, "a route53 backend"),
        record(
            {
                kind: z.literal("host"),
                host: label("the name of a host in hearth:hosts"),
                nameservers: list(record({ name: text("a name server name"), addresses: list(text("an IP address"), "a list of IP addresses", 8).optional() }, "a name server"), "a list of name servers", 13),
                listen: list(text("an IP address"), "a list of IP addresses", 8).optional(),
                port: int(1, 65535).optional(),
                hostmaster: text("a mailbox").optional(),
            },
            "a host backend",
        ),
    ],
    { error: () => `a backend { kind: "cloudflare" | "route53" | "host", ... }` },
);

const delegationSchema = z.union(
    [
        record({ child: label("the name of a zone in hearth:zones") }, "a delegation"),
        record(
            {
                zone: text("a zone name"),
                nameservers: list(record({ name: text("a name server name"), addresses: list(text("an IP address"), "a list of IP addresses", 8).optional() }, "a name server"), "a list of name servers", 13),
                ttl: int(60, 86400).optional(),
            },
            "a delegation",
        ),
    ],
    { error: () => "{ child: <zone entry of this site> } or { zone, nameservers, ttl? }" },
);

export const zoneSchema = record(
    {
        name: label(),
        zone: text("a zone name such as example.org"),
        backend: backendSchema,
        records: list(recordSchema, "a list of records", 5000).optional(),
        delegations: list(delegationSchema, "a list of delegations", 100).optional(),
        ttl: int(60, 86400).optional(),
        public: bool().optional(),
        allowPrivate: bool().optional(),
        allowWildcard: bool().optional(),
        adopt: bool().optional(),
    },
    "a DNS zone",
);
export type ZoneConfig = z.infer<typeof zoneSchema>;
export const zonesSchema = list(zoneSchema, "a list of DNS zones", 200);
