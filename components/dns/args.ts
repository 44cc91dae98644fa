// DnsZone's arguments resolved: parsed by the schema (every rule, the zone's included), then the zone model's
// defaults and normalized records. Throws an ArgumentError naming the argument's path; the component turns it into a
// ResourceError.
import { parseArgs } from "../core/schema";
import { buildZone, ResolvedDnsZone } from "./model";
import { DnsZoneArgs, DnsZoneArgsSchema } from "./schema";

export { PendingAddressRecords, ResolvedBackend, ResolvedDnsZone } from "./model";

/** Checks everything and resolves defaults; throws an ArgumentError on the first problem. */
export function resolveDnsZoneArgs(args: DnsZoneArgs): ResolvedDnsZone {
    return buildZone(parseArgs(DnsZoneArgsSchema, args));
}
