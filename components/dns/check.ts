// Whole-zone checks over normalized records: duplicates, one TTL per RRset, CNAME exclusivity, delegation points, private addresses.
// Pure: core only (no Pulumi); a problem is an ArgumentError naming the record's argument path.
import { ArgumentError } from "../core/errors";
import { classifyIp } from "../core/ip";
import { ArgPath, argName } from "../core/schema";
import { absolute } from "./names";
import { rdataText } from "./render";
import { ZoneRecord } from "./types";

export interface SetContext {
    readonly zone: string;
    /** A public zone refuses private addresses unless allowPrivate. */
    readonly public: boolean;
    readonly allowPrivate: boolean;
}

function fail(path: ArgPath, value: unknown, allowed: string): never {
    throw new ArgumentError(argName(path), value, allowed, path);
}

const at = (r: ZoneRecord) => argName(r.path);

function show(r: ZoneRecord): string {
    return `${r.owner} ${r.type} ${rdataText(r)}`;
}

/** Whether `owner` lies strictly below `point` (both relative to the same zone; "@" is the apex). */
function below(owner: string, point: string): boolean {
    return point !== "@" && owner !== "@" && owner.endsWith("." + point);
}

/** Throws on the first record that would make the zone wrong or ambiguous, naming its argument. */
export function checkRecordSet(records: readonly ZoneRecord[], ctx: SetContext): void {
    for (const r of records) {
        if ((r.type === "A" || r.type === "AAAA") && ctx.public && !ctx.allowPrivate) {
            const a = classifyIp(r.address);
            if (a && a.class === "private") {
                // A user's own A/AAAA record names its value; service and glue addresses already carry their own path.
                fail(r.path.length === 2 && r.path[0] === "records" ? [...r.path, "value"] : r.path, r.address, `a public address in the public zone ${ctx.zone}: it is in ${a.range}; set allowPrivate: true to publish it anyway`);
            }
        }
        if (r.type === "NS" && r.owner === "@" && r.path[0] === "records") {
            fail([...r.path, "name"], "@", "a name below the apex: the zone's own NS records come from the backend (the host backend's nameservers, or the provider's)");
        }
        if (r.type === "CNAME" && r.owner === "@") {
            fail([...r.path, "name"], "@", "a name below the apex: a CNAME cannot share a name with the SOA and NS records (use A/AAAA at the apex)");
        }
    }

    const seen = new Map<string, ZoneRecord>();
    const rrsets = new Map<string, ZoneRecord>();
    const byOwner = new Map<string, ZoneRecord[]>();
    for (const r of records) {
        const key = `${r.owner}\u0000${r.type}\u0000${rdataText(r)}`;
        const dup = seen.get(key);
        if (dup) fail(r.path, show(r), `a record not already given by ${at(dup)}`);
        seen.set(key, r);
        const set = rrsets.get(`${r.owner}\u0000${r.type}`);
        if (set && set.ttl !== r.ttl) {
            fail([...r.path, "ttl"], r.ttl, `${set.ttl}, the TTL ${at(set)} gives the same ${r.owner} ${r.type} set (one RRset has one TTL, RFC 2181 §5.2)`);
        }
        if (set && set.proxied !== r.proxied) fail([...r.path, "proxied"], r.proxied, `${set.proxied}, as ${at(set)} sets for the same ${r.owner} ${r.type} set`);
        if (!set) rrsets.set(`${r.owner}\u0000${r.type}`, r);
        byOwner.set(r.owner, [...(byOwner.get(r.owner) ?? []), r]);
    }

    for (const [owner, rs] of byOwner) {
        const cname = rs.find((r) => r.type === "CNAME");
        if (cname && rs.length > 1) {
            const other = rs.find((r) => r !== cname)!;
            const [first, second] = records.indexOf(cname) < records.indexOf(other) ? [cname, other] : [other, cname];
            fail(second.path, show(second), `no other record at ${absolute(owner, ctx.zone)}, which ${at(first)} already holds as ${first.type} (a CNAME owns its name alone, RFC 1034 §3.6.2)`);
        }
    }

    // A name with NS records (other than the apex) is a delegation: the child zone answers for it and everything
    // below, so the parent may hold only the NS set there and address (glue) records for in-child name servers.
    const points = [...new Set(records.filter((r) => r.type === "NS" && r.owner !== "@").map((r) => r.owner))];
    for (const point of points) {
        const targets = new Set(records.flatMap((r) => (r.type === "NS" && r.owner === point ? [r.target] : [])));
        for (const r of records) {
            if (r.owner === point && r.type !== "NS") {
                fail(r.path, show(r), `no ${r.type} record at ${absolute(point, ctx.zone)}: it is delegated (only NS records belong there)`);
            }
            if (below(r.owner, point)) {
                const glue = (r.type === "A" || r.type === "AAAA") && targets.has(absolute(r.owner, ctx.zone));
                if (!glue) fail(r.path, show(r), `no record below the delegation ${absolute(point, ctx.zone)} other than glue addresses of its name servers (the child zone answers there)`);
            }
        }
    }
}
