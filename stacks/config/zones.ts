// Site config for DNS zones, derived from DnsZone's own schema: the same keys, limits and sentences, and the same
// zone-wide rules. What the config says differently: the host backend names a host of hearth:hosts, a { service }
// record names a service or container of this site, and a delegation may name a host zone of this site ({ child }).
import { z } from "zod";
import { backendUnion, checkDnsZone, delegationSchema, dnsZoneShape, DnsZoneValue, hostBackendShape, recordUnion, rules, serviceRecordShape } from "../../components";
import { label, list, record } from "./fields";

/** A { service } record: A/AAAA records for the addresses of a service or container of this site (by its name). */
const serviceRecord = record(
    {
        ...serviceRecordShape,
        service: label("the name of a service or container of this site")
            .describe("A service or container of this site with a `hostname`: its host's address becomes the A/AAAA records."),
    },
    "a service record",
);

/** One record: DnsZone's record schema, with `service` naming a service or container of this site. */
export const recordSchema = recordUnion(serviceRecord);
export type RecordConfig = z.infer<typeof recordSchema>;

const backendSchema = backendUnion(record({ ...hostBackendShape, host: label("the name of a host in hearth:hosts") }, "a host backend"));

const delegationConfig = z.union([record({ child: label("the name of a zone in hearth:zones") }, "a delegation"), delegationSchema], {
    error: () => "{ child: <zone entry of this site> } or { zone, nameservers, ttl? }",
});

const { backend: _b, records: _r, delegations: _d, ...rest } = dnsZoneShape;

export const zoneSchema = record(
    {
        name: label(),
        ...rest,
        backend: backendSchema,
        records: list(recordSchema, "a list of records", 5000).optional(),
        delegations: list(delegationConfig, "a list of delegations", 100).optional(),
    },
    "a DNS zone",
).superRefine(
    // DnsZone's zone-wide rules over what the config already says; records and delegations that name a service or a
    // zone of this site are checked once the site program has built them (stacks/build/zones.ts).
    (v, ctx) => {
        const { name: _n, ...zone } = v;
        checkDnsZone(zone as unknown as DnsZoneValue, ctx, true);
    },
    rules.ONCE_VALID,
);
export type ZoneConfig = z.infer<typeof zoneSchema>;
export const zonesSchema = list(zoneSchema, "a list of DNS zones", 200);
