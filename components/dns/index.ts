// DnsZone (hearth:dns:Zone): one provider-neutral set of records, published on Cloudflare, Route53, or a hearth host running Knot DNS.
import type { ZoneProps } from "../core/props";
import { rehearsalPoint, rehearseChildren } from "../core/owner";
import * as pulumi from "@pulumi/pulumi";
import { ZONE_TYPE } from "../tokens";
import { resolveDnsZoneArgs, ResolvedDnsZone } from "./args";
import { cloudflareRecords, route53Records } from "./cloud";
import { absolute } from "./names";
import { rdataText } from "./render";
import { DnsZoneArgs, ZoneDelegation } from "./schema";
import { hostServer, knotServiceArgs } from "./server";
import { serverLayout } from "./knot";
import { resolveServiceArgs, SystemdService } from "../systemd";
import { childAliases, claimOnHost, listenOnHost, ownerMark } from "../ownership";
import { check } from "../validate";
import { parseIp } from "../core/ip";

export { resolveDnsZoneArgs, ResolvedDnsZone } from "./args";
export {
    DnsZoneArgs, DnsBackendArgs, CloudflareBackendArgs, Route53BackendArgs, HostBackendArgs, DnsNameserverArgs, ZoneDelegation,
    AddressSource, DnsRecordArgs, AddressRecordArgs, TargetRecordArgs, TxtRecordArgs, MxRecordArgs, SrvRecordArgs, CaaRecordArgs, ServiceRecordArgs,
    // The schema pieces a site config derives its zone entries from.
    DnsZoneArgsSchema, DnsZoneValue, dnsZoneShape, checkDnsZone, recordUnion, serviceRecordShape, backendUnion, hostBackendShape, delegationSchema,
} from "./schema";
export { DnsRecordType, ZoneRecord } from "./types";
/** The knotd unit a host zone runs (a site checks it with the zone, before anything registers). */
export { knotServiceArgs } from "./server";

export class DnsZone extends pulumi.ComponentResource {
    /** The zone's name, without a trailing dot. */
    readonly zoneName: pulumi.Output<string>;
    /** Every name that has a record, absolute, sorted (including delegations, glue and name server addresses). */
    readonly fqdns: pulumi.Output<string[]>;
    /** The zone's name servers: the provider's for cloudflare/route53, the declared ones for host. */
    readonly nameservers: pulumi.Output<string[]>;
    /**
     * What a parent zone needs to delegate to this one (host backend only): pass it in the parent's `delegations`.
     * Plain data, so a parent on another host (or in another stack, through its outputs) can use it.
     */
    readonly delegation?: ZoneDelegation;

    constructor(name: string, args: DnsZoneArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const z: ResolvedDnsZone = check(() => resolveDnsZoneArgs(args));
        const backend = z.backend;
        if (backend.kind === "host") check(() => resolveServiceArgs(`${name}-knot`, knotServiceArgs(z, backend)));
        const mark = ownerMark(ZONE_TYPE, name, opts, args.adopt);
        // A renamed parent's child was named after the old name: its mark follows the parent's aliases.
        const knotAliases = childAliases(opts, "-knot");
        // One resource per zone on a host: a second claimant is refused before anything registers.
        if (z.backend.kind === "host") claimOnHost(z.backend.host, `dns zone ${z.zone}`, mark, "zone", z.zone);
        // knotd answers on TCP and UDP on each listen address. The listener is its unit (one knotd per zone), the same
        // one the unit's own SystemdService declares for its port: two zones, or anything else, on that port and an
        // overlapping address are refused before anything runs.
        if (backend.kind === "host") {
            const listener = `unit ${serverLayout(z.zone).unit}`;
            for (const protocol of ["tcp", "udp"] as const) {
                for (const address of backend.listen) {
                    listenOnHost(backend.host, { protocol, port: backend.port, address: parseIp(address)?.text ?? address, listener, scope: z.public ? "internet" : "local" }, mark, "backend.port", backend.port);
                }
            }
        }
        rehearseChildren(`${ZONE_TYPE} '${name}'`, () => backend.kind === "host" && new SystemdService(`${name}-knot`, knotServiceArgs(z, backend)), ["backend"]);
        // A summary, not the args: the host backend's Host carries a key, and policies want the records in one readable form.
        rehearsalPoint();
        super(ZONE_TYPE, name, {
            zone: z.zone, backend: z.backend.kind, ttl: z.ttl, public: z.public, allowPrivate: z.allowPrivate, allowWildcard: z.allowWildcard,
            records: z.records.map((r) => ({ name: absolute(r.owner, z.zone), type: r.type, ttl: r.ttl, value: rdataText(r) })),
            serviceRecords: z.pending.map((p) => ({ name: absolute(p.owner, z.zone), ttl: p.ttl })),
        } satisfies ZoneProps, opts);

        const owners = new Set([...z.records.map((r) => r.owner), ...z.pending.map((p) => p.owner)]);
        this.zoneName = pulumi.output(z.zone);
        this.fqdns = pulumi.output([...owners].map((o) => absolute(o, z.zone)).sort());

        const b = z.backend;
        switch (b.kind) {
            case "cloudflare":
                this.nameservers = cloudflareRecords(name, z, b.zoneId, this).nameservers;
                break;
            case "route53":
                this.nameservers = route53Records(name, z, b, this).nameservers;
                break;
            case "host":
                hostServer(name, z, b, this, mark, knotAliases);
                this.nameservers = pulumi.output(b.nameservers.map((n) => n.name));
                this.delegation = {
                    zone: z.zone,
                    nameservers: b.nameservers.map((n) => ({ name: n.name, ...(n.addresses ? { addresses: [...n.addresses] } : {}) })),
                };
                break;
        }

        this.registerOutputs({ zoneName: this.zoneName, fqdns: this.fqdns, nameservers: this.nameservers });
    }
}
