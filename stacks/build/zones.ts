// DNS zones from the site config: records derived from services and containers, delegations between zones.
import { DnsRecordArgs, DnsZone, DnsZoneArgs, Host, ip, knotServiceArgs, resolveDnsZoneArgs, resolveServiceArgs, ZoneDelegation } from "../../components";
import { RecordConfig, ZoneConfig } from "../config/zones";
import { ProblemCollector } from "../config/problems";

/** Where a service or container of the site answers: its DNS name and the addresses its records get. */
export interface AddressOwner {
    readonly hostname?: string;
    readonly addresses: readonly string[];
    /** Why it has no usable address, if so. */
    readonly problem?: string;
}

/** A config record as DnsZone takes it: a { service } record gets the service's hostname and addresses. */
function recordArgs(r: RecordConfig, owners: Map<string, AddressOwner>): DnsRecordArgs {
    if (r.type !== undefined) return r;
    const { service, ...rest } = r;
    const o = owners.get(service)!;
    return { ...rest, service: { hostname: o.hostname ?? rest.name!, addresses: [...o.addresses] } };
}

function zoneArgs(z: ZoneConfig, hosts: Map<string, Host>, owners: Map<string, AddressOwner>, delegations: Map<string, ZoneDelegation>): DnsZoneArgs {
    const { name: _n, backend, records, delegations: dels, ...rest } = z;
    return {
        ...rest,
        backend: backend.kind === "host" ? { ...backend, host: hosts.get(backend.host)! } : backend,
        records: (records ?? []).map((r) => recordArgs(r, owners)),
        delegations: (dels ?? []).map((d) => ("child" in d ? delegations.get(d.child)! : d)),
    };
}

export interface PlannedZone {
    readonly config: ZoneConfig;
    readonly args: DnsZoneArgs;
}

/**
 * Builds every zone's arguments and checks what the config schema could not (records of services, delegations to
 * zones of this site, the knotd unit of host zones) before anything exists. A delegation to a zone of this site uses
 * that zone's resolved name servers, which is what DnsZone.delegation will say.
 */
export function planZones(zones: readonly ZoneConfig[], hosts: Map<string, Host>, owners: Map<string, AddressOwner>, problems: ProblemCollector): PlannedZone[] {
    // Records naming a service are checked here, where the service's config is known; such a zone goes no further.
    const badZones = new Set<number>();
    zones.forEach((z, i) =>
        (z.records ?? []).forEach((r, j) => {
            if (r.type !== undefined) return;
            const o = owners.get(r.service);
            const problem = o?.problem ?? (o && o.hostname === undefined && r.name === undefined ? "a service with a 'hostname' (the name its records get), or a 'name' on the record" : undefined);
            if (problem) {
                problems.problems.push({ path: `hearth:zones[${i}].records[${j}].service`, message: `is ${JSON.stringify(r.service)}: expected ${problem}` });
                badZones.add(i);
            }
        }),
    );
    const delegations = new Map<string, ZoneDelegation>();
    for (const z of zones) {
        if (z.backend.kind !== "host") continue;
        try {
            // A zone's own delegations do not change its name servers, so they are left out here.
            const r = resolveDnsZoneArgs(zoneArgs({ ...z, delegations: [] }, hosts, owners, new Map()));
            if (r.backend.kind === "host") delegations.set(z.name, { zone: r.zone, nameservers: r.backend.nameservers.map((n) => ({ name: n.name, ...(n.addresses ? { addresses: [...n.addresses] } : {}) })) });
        } catch {
            // Reported with its key path below.
        }
    }
    const planned: PlannedZone[] = [];
    zones.forEach((z, i) => {
        if (badZones.has(i)) return;
        if ((z.delegations ?? []).some((d) => "child" in d && !delegations.has(d.child))) {
            // The child's own entry reports why it does not resolve.
            return;
        }
        const args = zoneArgs(z, hosts, owners, delegations);
        const ok = problems.run(`hearth:zones[${i}]`, () => {
            const r = resolveDnsZoneArgs(args);
            if (r.backend.kind === "host") resolveServiceArgs(`${z.name}-knot`, knotServiceArgs(r, r.backend));
            return r;
        });
        if (ok) planned.push({ config: z, args });
    });
    return planned;
}

export function createZones(planned: readonly PlannedZone[]): Map<string, DnsZone> {
    return new Map(planned.map((p) => [p.config.name, new DnsZone(p.config.name, p.args)]));
}

/** The addresses of a host as records can carry them: only an IP literal is an address. */
export function literalAddresses(address: string): string[] {
    return ip.isIp(address) ? [address] : [];
}
