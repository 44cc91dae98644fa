// The zone model: from parsed arguments (schema.ts) to the normalized records every backend consumes, with the rules
// that need the zone (owners relative to it, name servers and delegations, the record set as a whole). Throws an
// ArgumentError naming the argument's path; no Pulumi at run time.
import type * as pulumi from "@pulumi/pulumi";
import { ArgumentError } from "../core/errors";
import { ArgPath, argName } from "../core/schema";
import type { Host } from "../host";
import { checkRecordSet } from "./check";
import { absolute, inZone, nameProblem, NameRules, relativeTo, stripDot, targetProblem } from "./names";
import type { DnsRecordValue, DnsZoneValue } from "./schema";
import { RecordData, ZoneRecord } from "./types";

export const TTL_MIN = 60;
export const TTL_MAX = 86400;
export const TXT_MAX = 4000;

/** A/AAAA records whose addresses are only known once an Output resolves (host backend only). */
export interface PendingAddressRecords {
    readonly owner: string;
    readonly ttl: number;
    readonly proxied: boolean;
    /** The record's argument path (`["records", 3]`). */
    readonly path: ArgPath;
    readonly addresses: pulumi.Input<string[]>;
}

export type ResolvedBackend =
    | { readonly kind: "cloudflare"; readonly zoneId: pulumi.Input<string> }
    | { readonly kind: "route53"; readonly zoneId?: pulumi.Input<string>; readonly privateZone: boolean }
    | {
        readonly kind: "host";
        readonly host: Host;
        /** Absolute names with the addresses of those inside the zone. */
        readonly nameservers: readonly { readonly name: string; readonly addresses?: readonly string[] }[];
        readonly listen: readonly string[];
        readonly port: number;
        readonly hostmaster: string;
    };

export interface ResolvedDnsZone {
    readonly zone: string;
    readonly ttl: number;
    readonly public: boolean;
    readonly allowPrivate: boolean;
    readonly allowWildcard: boolean;
    /** Every record with known data: user records, delegations and glue, in-zone name server addresses. */
    readonly records: readonly ZoneRecord[];
    /** Service records whose addresses resolve later (host backend only). */
    readonly pending: readonly PendingAddressRecords[];
    readonly backend: ResolvedBackend;
}

/** What the per-record rules need to know about the zone. */
interface RecordContext {
    readonly zone: string;
    readonly ttl: number;
    readonly allowWildcard: boolean;
    readonly cloudflare: boolean;
}

function fail(path: ArgPath, value: unknown, allowed: string): never {
    throw new ArgumentError(argName(path), value, allowed, path);
}

/** Resolves a record's owner to the relative form ("@" or labels), checking it against the name rules. */
function resolveOwner(path: ArgPath, name: string, ctx: RecordContext, rules: NameRules): string {
    if (name.length === 0) fail(path, name, `a name relative to ${ctx.zone} ("www", "@" for the apex) or absolute with a trailing dot`);
    if (name === "@") return "@";
    let rel: string;
    if (name.endsWith(".")) {
        const abs = stripDot(name);
        if (!inZone(abs, ctx.zone)) fail(path, name, `a name inside the zone ${ctx.zone}`);
        if (abs === ctx.zone) return "@";
        rel = relativeTo(abs, ctx.zone);
    } else {
        if (inZone(name, ctx.zone)) {
            fail(path, name, `a relative name: it would mean ${name}.${ctx.zone}; write ${JSON.stringify(relativeTo(name, ctx.zone))} or "${name}." for the absolute name`);
        }
        rel = name;
    }
    const p = nameProblem(absolute(rel, ctx.zone), rules);
    if (p) fail(path, name, `a valid DNS name, but it has ${p}`);
    return rel;
}

/** One address of a record (checked and made canonical by the schema's rule) and its record type. */
function addressData(address: string): RecordData {
    return { type: address.includes(":") ? "AAAA" : "A", address };
}

const target = (v: string) => (v === "." ? "." : stripDot(v));

/** A/AAAA records of a list of (checked) addresses, each naming its place in the list. */
function addressRecords(owner: string, addrs: readonly string[], ttl: number, path: ArgPath, proxied = false): ZoneRecord[] {
    return addrs.map((a, i): ZoneRecord => ({ owner, ttl, proxied, path: [...path, i], ...addressData(a) }));
}

/** One user record: its ZoneRecords, or (a service's addresses not known yet) pending ones. */
function normalizeRecord(path: ArgPath, r: DnsRecordValue, ctx: RecordContext): { records: ZoneRecord[]; pending?: PendingAddressRecords } {
    const ttl = r.ttl ?? ctx.ttl;
    const proxied = r.proxied ?? false;
    if (proxied && !ctx.cloudflare) fail([...path, "proxied"], proxied, "false: only the cloudflare backend proxies records");
    if (proxied && r.type !== undefined && r.type !== "A" && r.type !== "AAAA" && r.type !== "CNAME") fail([...path, "proxied"], proxied, "false: Cloudflare proxies only A, AAAA and CNAME records");

    if (r.type === undefined) {
        let name = r.name;
        if (name === undefined) {
            const h = stripDot(r.service.hostname);
            if (h.length === 0) fail([...path, "service", "hostname"], r.service.hostname, "a host name (or give the record a name)");
            if (h.includes(".") && !inZone(h, ctx.zone)) fail([...path, "service", "hostname"], r.service.hostname, `a label or a name inside ${ctx.zone} (or give the record a name)`);
            name = h.includes(".") ? `${h}.` : h;
        }
        const owner = resolveOwner([...path, "name"], name, ctx, { wildcard: ctx.allowWildcard });
        const addrs = r.service.addresses;
        if (Array.isArray(addrs)) return { records: addressRecords(owner, addrs, ttl, [...path, "service", "addresses"], proxied) };
        return { records: [], pending: { owner, ttl, proxied, path, addresses: addrs } };
    }

    const rules: NameRules = { wildcard: ctx.allowWildcard, underscore: r.type === "TXT" || r.type === "CNAME" || r.type === "SRV" };
    const owner = resolveOwner([...path, "name"], r.name, ctx, rules);
    const base = { owner, ttl, proxied, path };
    switch (r.type) {
        case "A":
        case "AAAA":
            return { records: [{ ...base, ...addressData(r.value) }] };
        case "CNAME":
        case "NS":
            return { records: [{ ...base, type: r.type, target: stripDot(r.value) }] };
        case "TXT":
            return { records: [{ ...base, type: r.type, text: r.value }] };
        case "MX":
            return { records: [{ ...base, type: r.type, priority: r.priority, exchange: target(r.exchange) }] };
        case "SRV": {
            const labels = owner.split(".");
            if (labels.length < 2 || !/^_[a-z0-9]/.test(labels[0]) || !["_tcp", "_udp", "_sctp"].includes(labels[1])) {
                fail([...path, "name"], r.name, "an SRV owner of the form _service._proto[.name] with _proto one of _tcp, _udp, _sctp");
            }
            if (labels.slice(2).some((l) => l.startsWith("_"))) fail([...path, "name"], r.name, "underscore labels only in the _service._proto prefix");
            return { records: [{ ...base, type: r.type, priority: r.priority, weight: r.weight, port: r.port, target: target(r.target) }] };
        }
        case "CAA":
            return { records: [{ ...base, type: r.type, flags: r.flags ?? 0, tag: r.tag, value: r.value }] };
    }
}

type Delegation = NonNullable<DnsZoneValue["delegations"]>[number];

function resolveDelegation(path: ArgPath, d: Delegation, zone: string, ttl: number): ZoneRecord[] {
    const child = stripDot(d.zone);
    if (child === zone || !inZone(child, zone)) fail([...path, "zone"], d.zone, `a zone strictly below ${zone}`);
    const t = d.ttl ?? ttl;
    const owner = relativeTo(child, zone);
    return d.nameservers.flatMap((ns, i): ZoneRecord[] => {
        const p = [...path, "nameservers", i];
        const name = stripDot(ns.name);
        const nsRecord: ZoneRecord = { owner, ttl: t, proxied: false, path: p, type: "NS", target: name };
        if (!inZone(name, child)) {
            if (ns.addresses !== undefined) fail([...p, "addresses"], ns.addresses, `no addresses: ${name} lies outside ${child}, so resolvers find it without glue`);
            return [nsRecord];
        }
        if (ns.addresses === undefined) fail([...p, "addresses"], ns.addresses, "a non-empty list of IP addresses");
        return [nsRecord, ...addressRecords(relativeTo(name, zone), ns.addresses, t, [...p, "addresses"])];
    });
}

type Backend = DnsZoneValue["backend"];

function resolveBackend(b: Backend, zone: string, ttl: number): { backend: ResolvedBackend; records: ZoneRecord[] } {
    if (b.kind === "cloudflare") return { backend: { kind: "cloudflare", zoneId: b.zoneId }, records: [] };
    if (b.kind === "route53") return { backend: { kind: "route53", ...(b.zoneId !== undefined ? { zoneId: b.zoneId } : {}), privateZone: b.privateZone ?? false }, records: [] };
    const ctx: RecordContext = { zone, ttl, allowWildcard: false, cloudflare: false };
    const records: ZoneRecord[] = [];
    const names: { name: string; addresses?: string[] }[] = [];
    const own: string[] = [];
    b.nameservers.forEach((ns, i) => {
        const p = ["backend", "nameservers", i];
        if (ns.name.endsWith(".") && !inZone(stripDot(ns.name), zone)) {
            const problem = targetProblem(ns.name);
            if (problem) fail([...p, "name"], ns.name, `a name server name, but it is ${problem}`);
            if (ns.addresses !== undefined) fail([...p, "addresses"], ns.addresses, `no addresses: ${ns.name} lies outside ${zone}`);
            names.push({ name: stripDot(ns.name) });
            return;
        }
        const owner = resolveOwner([...p, "name"], ns.name, ctx, {});
        if (owner === "@") fail([...p, "name"], ns.name, "a name below the apex (ns1)");
        if (ns.addresses === undefined) fail([...p, "addresses"], ns.addresses, "a non-empty list of IP addresses");
        const addrs = ns.addresses;
        names.push({ name: absolute(owner, zone), addresses: addrs });
        own.push(...addrs);
        records.push(...addressRecords(owner, ns.addresses, ttl, [...p, "addresses"]));
    });
    if (new Set(names.map((n) => n.name)).size !== names.length) fail(["backend", "nameservers"], names.map((n) => n.name), "distinct name server names");
    const listen = b.listen === undefined ? [...new Set(own)] : b.listen;
    if (listen.length === 0) fail(["backend", "listen"], b.listen, "the addresses knotd listens on (needed when no name server lies inside the zone)");
    return { backend: { kind: "host", host: b.host, nameservers: names, listen, port: b.port ?? 53, hostmaster: b.hostmaster ?? `hostmaster@${zone}` }, records };
}

/** Zones already built from a parsed value: the schema's check builds it, the resolver then takes it from here. */
const built = new WeakMap<DnsZoneValue, ResolvedDnsZone>();

/**
 * The zone from its parsed arguments: defaults, backend settings, delegations and every record, with the rules that
 * need the zone. `partial` (the site config, before services are known) skips records and delegations whose data is
 * given by name (`service` as a name, `child`): the site program checks them once it has built them.
 */
export function buildZone(v: DnsZoneValue, partial = false): ResolvedDnsZone {
    const done = partial ? undefined : built.get(v);
    if (done) return done;
    const zone = stripDot(v.zone);
    const ttl = v.ttl ?? 300;
    const { backend, records: nsRecords } = resolveBackend(v.backend, zone, ttl);
    if (v.adopt !== undefined && backend.kind !== "host") fail(["adopt"], v.adopt, "only with backend kind 'host' (a cloud zone's records carry no hearth mark)");
    const isPublic = v.public ?? backend.kind !== "host";
    const allowPrivate = v.allowPrivate ?? false;
    const allowWildcard = v.allowWildcard ?? false;
    const ctx: RecordContext = { zone, ttl, allowWildcard, cloudflare: backend.kind === "cloudflare" };

    const records: ZoneRecord[] = [...nsRecords];
    const pending: PendingAddressRecords[] = [];
    (v.records ?? []).forEach((r, i) => {
        if (partial && r.type === undefined && typeof r.service !== "object") return;
        const n = normalizeRecord(["records", i], r, ctx);
        records.push(...n.records);
        if (n.pending) {
            if (backend.kind !== "host") {
                fail(["records", i, "service", "addresses"], "(an Output)", `addresses known when the zone is declared (plain strings) for the ${backend.kind} backend, which needs one resource per address; the host backend accepts Outputs`);
            }
            pending.push(n.pending);
        }
    });
    (v.delegations ?? []).forEach((d, i) => {
        if (partial && !("zone" in d)) return;
        records.push(...resolveDelegation(["delegations", i], d, zone, ttl));
    });

    // Pending owners take part in the name-level checks now (as placeholder addresses); their data is checked once known.
    const placeholders = pending.map((p): ZoneRecord => ({ owner: p.owner, ttl: p.ttl, proxied: p.proxied, path: p.path, type: "A", address: `0.0.0.0#${argName(p.path)}` }));
    checkRecordSet([...records, ...placeholders], { zone, public: isPublic, allowPrivate });
    const resolved: ResolvedDnsZone = { zone, ttl, public: isPublic, allowPrivate, allowWildcard, records, pending, backend };
    if (!partial) built.set(v, resolved);
    return resolved;
}

/** The records of late addresses once known: each checked by the schema's address rule, then the zone as a whole. */
export function lateRecords(z: ResolvedDnsZone, lists: readonly unknown[], check: (path: ArgPath, value: unknown) => string): ZoneRecord[] {
    const extra = lists.flatMap((addrs, i): ZoneRecord[] => {
        const p = z.pending[i];
        const path = [...p.path, "service", "addresses"];
        if (!Array.isArray(addrs) || addrs.length === 0) fail(path, addrs, "a non-empty list of IP addresses");
        return addrs.map((a, j) => ({ owner: p.owner, ttl: p.ttl, proxied: p.proxied, path: [...path, j], ...addressData(check([...path, j], a)) }));
    });
    const all = [...z.records, ...extra];
    if (extra.length > 0) checkRecordSet(all, { zone: z.zone, public: z.public, allowPrivate: z.allowPrivate });
    return all;
}
