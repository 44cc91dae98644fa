// DnsZone's arguments and their resolution: defaults, backend settings, delegations and every record, all checked before any resource exists.
import * as pulumi from "@pulumi/pulumi";
import type { Host } from "../host";
import { checkInt, fail, isHost } from "../validate";
import { parseAddress } from "./addresses";
import { checkRecordSet } from "./check";
import { checkKeys, DnsRecordArgs, normalizeRecord, PendingAddressRecords, RecordContext, resolveOwner, TTL_MAX, TTL_MIN } from "./model";
import { absolute, inZone, nameProblem, relativeTo, stripDot, targetProblem } from "./names";
import { ZoneRecord } from "./types";

/** A name server of a zone served by the host backend. */
export interface DnsNameserverArgs {
    /** `ns1` (inside the zone: give its addresses, they become its A/AAAA records) or `ns.example.net.` (outside, with a trailing dot). */
    readonly name: string;
    /** Required for a name server inside the zone, refused for one outside it. */
    readonly addresses?: readonly string[];
}

export interface CloudflareBackendArgs {
    readonly kind: "cloudflare";
    /** The Cloudflare zone id (Dashboard → the zone → Overview → API). Credentials come from the provider (`cloudflare:apiToken`), never from here. */
    readonly zoneId: pulumi.Input<string>;
}

export interface Route53BackendArgs {
    readonly kind: "route53";
    /** The hosted zone id. @default - looked up by the zone name */
    readonly zoneId?: pulumi.Input<string>;
    /** When looking the zone up: the private hosted zone of that name. @default false */
    readonly privateZone?: boolean;
}

export interface HostBackendArgs {
    readonly kind: "host";
    /** The hearth host that runs the authoritative server (Knot DNS, Debian package `knot`). */
    readonly host: Host;
    /** The zone's NS set; the first is the SOA primary. */
    readonly nameservers: readonly DnsNameserverArgs[];
    /** Addresses knotd listens on. @default - the addresses of the name servers inside the zone */
    readonly listen?: readonly string[];
    /** @default 53 */
    readonly port?: number;
    /** The SOA contact mailbox. @default - `hostmaster@<zone>` */
    readonly hostmaster?: string;
}

export type DnsBackendArgs = CloudflareBackendArgs | Route53BackendArgs | HostBackendArgs;

/** A child zone handed to other name servers: NS records at its name, and glue addresses for servers inside it. */
export interface ZoneDelegation {
    /** The child zone, below this one (`home.example.org`). */
    readonly zone: string;
    readonly nameservers: readonly {
        /** Absolute name of the child's name server. */
        readonly name: string;
        /** Glue: required when the name server lies inside the child zone, refused otherwise. */
        readonly addresses?: readonly string[];
    }[];
    /** @default - the parent zone's `ttl` */
    readonly ttl?: number;
}

export interface DnsZoneArgs {
    /** The zone's name (`example.org`, `home.example.org`); lowercase, at least two labels. */
    readonly zone: string;
    readonly backend: DnsBackendArgs;
    /** @default [] */
    readonly records?: readonly DnsRecordArgs[];
    /** @default [] */
    readonly delegations?: readonly ZoneDelegation[];
    /** Default TTL in seconds (60 to 86400), also the negative-answer TTL of a host zone. @default 300 */
    readonly ttl?: number;
    /** Whether the zone is visible from the internet, which refuses private addresses. @default - true for cloudflare and route53, false for host */
    readonly public?: boolean;
    /** Publish RFC 1918, ULA, loopback, link-local and CGNAT addresses in a public zone. @default false */
    readonly allowPrivate?: boolean;
    /** Allow `*` as the leftmost label of record names. @default false */
    readonly allowWildcard?: boolean;
    /**
     * Host backend: take over a zone whose files another resource (or nothing hearth knows) owns, rewriting its mark;
     * that resource's delete then leaves it alone. To rename this resource, use Pulumi's `aliases` instead.
     * @default false
     */
    readonly adopt?: boolean;
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

function bool(arg: string, v: unknown, dflt: boolean): boolean {
    if (v === undefined) return dflt;
    if (typeof v !== "boolean") fail(arg, v, "true or false");
    return v;
}

/** A zone name: lowercase LDH labels, at least two, no trailing dot needed. */
export function checkZoneName(arg: string, v: unknown): string {
    if (typeof v !== "string") fail(arg, v, "a zone name such as example.org");
    const z = stripDot(v);
    const p = nameProblem(z);
    if (p) fail(arg, v, `a zone name such as example.org, but it has ${p}`);
    if (!z.includes(".")) fail(arg, v, "a zone of at least two labels (home.arpa, example.org)");
    return z;
}

function addressList(arg: string, v: unknown): string[] {
    if (!Array.isArray(v) || v.length === 0) fail(arg, v, "a non-empty list of IP addresses");
    return v.map((a, i) => {
        const p = typeof a === "string" ? parseAddress(a) : null;
        if (!p || p.class === "invalid") fail(`${arg}[${i}]`, a, `an IPv4 or IPv6 address usable in a record${p?.range ? ` (not ${p.range})` : ""}`);
        return p.text;
    });
}

function glue(owner: string, addresses: readonly string[], ttl: number, arg: string): ZoneRecord[] {
    return addresses.map((a, i): ZoneRecord => ({ owner, ttl, proxied: false, arg: `${arg}[${i}]`, type: a.includes(":") ? "AAAA" : "A", address: a }));
}

function resolveDelegation(arg: string, raw: unknown, zone: string, ttl: number): ZoneRecord[] {
    if (typeof raw !== "object" || raw === null) fail(arg, raw, "a delegation { zone, nameservers }");
    const d = raw as Record<string, unknown>;
    checkKeys(arg, d, ["zone", "nameservers", "ttl"]);
    const child = checkZoneName(`${arg}.zone`, d.zone);
    if (child === zone || !inZone(child, zone)) fail(`${arg}.zone`, d.zone, `a zone strictly below ${zone}`);
    const t = d.ttl === undefined ? ttl : checkInt(`${arg}.ttl`, d.ttl, TTL_MIN, TTL_MAX);
    const owner = relativeTo(child, zone);
    const nss = d.nameservers;
    if (!Array.isArray(nss) || nss.length === 0) fail(`${arg}.nameservers`, nss, "a non-empty list of { name, addresses? }");
    return nss.flatMap((ns: unknown, i: number): ZoneRecord[] => {
        const a = `${arg}.nameservers[${i}]`;
        if (typeof ns !== "object" || ns === null) fail(a, ns, "a name server { name, addresses? }");
        const n = ns as Record<string, unknown>;
        checkKeys(a, n, ["name", "addresses"]);
        const p = typeof n.name === "string" ? targetProblem(n.name) : "not a string";
        if (p) fail(`${a}.name`, n.name, `an absolute name server name, but it is ${p}`);
        const target = stripDot(n.name as string);
        const ns_: ZoneRecord = { owner, ttl: t, proxied: false, arg: a, type: "NS", target };
        if (!inZone(target, child)) {
            if (n.addresses !== undefined) fail(`${a}.addresses`, n.addresses, `no addresses: ${target} lies outside ${child}, so resolvers find it without glue`);
            return [ns_];
        }
        return [ns_, ...glue(relativeTo(target, zone), addressList(`${a}.addresses`, n.addresses), t, `${a}.addresses`)];
    });
}

function resolveBackend(raw: unknown, zone: string, ttl: number): { backend: ResolvedBackend; records: ZoneRecord[] } {
    if (typeof raw !== "object" || raw === null) fail("backend", raw, `{ kind: "cloudflare" | "route53" | "host", ... }`);
    const b = raw as Record<string, unknown>;
    switch (b.kind) {
        case "cloudflare":
            checkKeys("backend", b, ["kind", "zoneId"]);
            if (b.zoneId === undefined || b.zoneId === "") fail("backend.zoneId", b.zoneId, "the Cloudflare zone id (a 32-character hex string, or an Output)");
            if (typeof b.zoneId === "string" && !/^[0-9a-f]{32}$/.test(b.zoneId)) fail("backend.zoneId", b.zoneId, "a Cloudflare zone id: 32 lowercase hex characters");
            return { backend: { kind: "cloudflare", zoneId: b.zoneId as pulumi.Input<string> }, records: [] };
        case "route53":
            checkKeys("backend", b, ["kind", "zoneId", "privateZone"]);
            if (typeof b.zoneId === "string" && !/^Z[A-Z0-9]{1,31}$/.test(b.zoneId)) fail("backend.zoneId", b.zoneId, "a Route53 hosted zone id (Z followed by uppercase letters and digits)");
            return { backend: { kind: "route53", ...(b.zoneId !== undefined ? { zoneId: b.zoneId as pulumi.Input<string> } : {}), privateZone: bool("backend.privateZone", b.privateZone, false) }, records: [] };
        case "host":
            return resolveHostBackend(b, zone, ttl);
        default:
            return fail("backend.kind", b.kind, `one of "cloudflare", "route53", "host"`);
    }
}

function resolveHostBackend(b: Record<string, unknown>, zone: string, ttl: number): { backend: ResolvedBackend; records: ZoneRecord[] } {
    checkKeys("backend", b, ["kind", "host", "nameservers", "listen", "port", "hostmaster"]);
    if (!isHost(b.host)) fail("backend.host", b.host === undefined ? undefined : "(not a Host)", "a Host from hearth");
    const nss = b.nameservers;
    if (!Array.isArray(nss) || nss.length === 0) fail("backend.nameservers", nss, "a non-empty list of { name, addresses? }");
    const ctx: RecordContext = { zone, ttl, allowWildcard: false, cloudflare: false };
    const records: ZoneRecord[] = [];
    const names: { name: string; addresses?: string[] }[] = [];
    const own: string[] = [];
    nss.forEach((ns: unknown, i: number) => {
        const a = `backend.nameservers[${i}]`;
        if (typeof ns !== "object" || ns === null) fail(a, ns, "a name server { name, addresses? }");
        const n = ns as Record<string, unknown>;
        checkKeys(a, n, ["name", "addresses"]);
        const outside = typeof n.name === "string" && n.name.endsWith(".") && !inZone(stripDot(n.name), zone);
        if (outside) {
            const p = targetProblem(n.name as string);
            if (p) fail(`${a}.name`, n.name, `a name server name, but it is ${p}`);
            if (n.addresses !== undefined) fail(`${a}.addresses`, n.addresses, `no addresses: ${n.name} lies outside ${zone}`);
            names.push({ name: stripDot(n.name as string) });
            return;
        }
        const owner = resolveOwner(`${a}.name`, n.name, ctx, {});
        if (owner === "@") fail(`${a}.name`, n.name, "a name below the apex (ns1)");
        const addrs = addressList(`${a}.addresses`, n.addresses);
        names.push({ name: absolute(owner, zone), addresses: addrs });
        own.push(...addrs);
        records.push(...glue(owner, addrs, ttl, `${a}.addresses`));
    });
    if (new Set(names.map((n) => n.name)).size !== names.length) fail("backend.nameservers", names.map((n) => n.name), "distinct name server names");
    const listen = b.listen === undefined ? [...new Set(own)] : addressList("backend.listen", b.listen);
    if (listen.length === 0) fail("backend.listen", b.listen, "the addresses knotd listens on (needed when no name server lies inside the zone)");
    const port = b.port === undefined ? 53 : checkInt("backend.port", b.port, 1, 65535);
    const hostmaster = b.hostmaster === undefined ? `hostmaster@${zone}` : b.hostmaster;
    const m = typeof hostmaster === "string" ? /^([a-z0-9_+-]+(\.[a-z0-9_+-]+)*)@(.+)$/.exec(hostmaster) : null;
    if (!m || m[1].length > 63 || targetProblem(m[3])) fail("backend.hostmaster", hostmaster, "a mailbox such as hostmaster@example.org (lowercase)");
    return { backend: { kind: "host", host: b.host as Host, nameservers: names, listen, port, hostmaster: hostmaster as string }, records };
}

/** Resolves defaults and checks everything; throws a ResourceError naming the argument on the first problem. */
export function resolveDnsZoneArgs(args: DnsZoneArgs): ResolvedDnsZone {
    if (typeof args !== "object" || args === null) fail("args", args, "DnsZoneArgs");
    checkKeys("args", args, ["zone", "backend", "records", "delegations", "ttl", "public", "allowPrivate", "allowWildcard", "adopt"]);
    const zone = checkZoneName("zone", args.zone);
    const ttl = args.ttl === undefined ? 300 : checkInt("ttl", args.ttl, TTL_MIN, TTL_MAX);
    const { backend, records: nsRecords } = resolveBackend(args.backend, zone, ttl);
    const isPublic = bool("public", args.public, backend.kind !== "host");
    const allowPrivate = bool("allowPrivate", args.allowPrivate, false);
    const allowWildcard = bool("allowWildcard", args.allowWildcard, false);
    const ctx: RecordContext = { zone, ttl, allowWildcard, cloudflare: backend.kind === "cloudflare" };

    const raw = args.records ?? [];
    if (!Array.isArray(raw)) fail("records", raw, "a list of records");
    const records: ZoneRecord[] = [...nsRecords];
    const pending: PendingAddressRecords[] = [];
    raw.forEach((r, i) => {
        const n = normalizeRecord(`records[${i}]`, r, ctx);
        records.push(...n.records);
        if (n.pending) {
            if (backend.kind !== "host") {
                fail(`records[${i}].service.addresses`, "(an Output)", `addresses known when the zone is declared (plain strings) for the ${backend.kind} backend, which needs one resource per address; the host backend accepts Outputs`);
            }
            pending.push(n.pending);
        }
    });
    const dels = args.delegations ?? [];
    if (!Array.isArray(dels)) fail("delegations", dels, "a list of { zone, nameservers }");
    dels.forEach((d, i) => records.push(...resolveDelegation(`delegations[${i}]`, d, zone, ttl)));

    // Pending owners take part in the name-level checks now (as placeholder addresses); their data is checked once known.
    const placeholders = pending.map((p): ZoneRecord => ({ owner: p.owner, ttl: p.ttl, proxied: p.proxied, arg: p.arg, type: "A", address: `0.0.0.0#${p.arg}` }));
    checkRecordSet([...records, ...placeholders], { zone, public: isPublic, allowPrivate });
    return { zone, ttl, public: isPublic, allowPrivate, allowWildcard, records, pending, backend };
}
