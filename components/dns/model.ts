// The provider-neutral record model: what users write (DnsRecordArgs) and the per-record checks that turn it into ZoneRecords.
import * as pulumi from "@pulumi/pulumi";
import { fail, checkInt } from "../validate";
import { parseAddress } from "./addresses";
import { DnsRecordType, RecordData, RECORD_TYPES, ZoneRecord } from "./types";
import { absolute, inZone, nameProblem, NameRules, stripDot, targetProblem } from "./names";

/** Anything with a host name and addresses (a SystemdService's host, an NspawnContainer) can be the source of A/AAAA records. */
export interface AddressSource {
    /** A label (`git`) or a name inside the zone (`git.home.example.org`). */
    readonly hostname: string;
    /** IPv4 and IPv6 addresses; each becomes an A or AAAA record. */
    readonly addresses: pulumi.Input<string[]>;
}

interface RecordCommon {
    /** Owner relative to the zone (`www`, `_dmarc`, `@` for the apex) or absolute with a trailing dot (`www.example.org.`). */
    readonly name: string;
    /** Seconds, 60 to 86400. @default - the zone's `ttl` */
    readonly ttl?: number;
    /** Cloudflare only, A/AAAA/CNAME only: serve through Cloudflare's proxy. @default false */
    readonly proxied?: boolean;
}

export interface AddressRecordArgs extends RecordCommon { readonly type: "A" | "AAAA"; readonly value: string }
export interface TargetRecordArgs extends RecordCommon { readonly type: "CNAME" | "NS"; readonly value: string }
export interface TxtRecordArgs extends RecordCommon {
    /** Printable ASCII, up to 4000 characters; split into 255-byte strings where needed. */
    readonly type: "TXT";
    readonly value: string;
}
export interface MxRecordArgs extends RecordCommon {
    readonly type: "MX";
    readonly priority: number;
    /** Mail host name, or "." for a null MX (RFC 7505). */
    readonly exchange: string;
}
export interface SrvRecordArgs extends RecordCommon {
    /** `name` starts with `_service._proto` (`_tcp`, `_udp`, `_sctp`). */
    readonly type: "SRV";
    readonly priority: number;
    readonly weight: number;
    readonly port: number;
    /** Host name, or "." for "service not available here". */
    readonly target: string;
}
export interface CaaRecordArgs extends RecordCommon {
    readonly type: "CAA";
    /** 0, or 128 (issuer critical). @default 0 */
    readonly flags?: number;
    readonly tag: "issue" | "issuewild" | "iodef";
    readonly value: string;
}
/** A/AAAA records for a service's addresses, without repeating them. */
export interface ServiceRecordArgs {
    /** @default - the service's hostname */
    readonly name?: string;
    readonly service: AddressSource;
    readonly ttl?: number;
    readonly proxied?: boolean;
}
export type DnsRecordArgs =
    | AddressRecordArgs | TargetRecordArgs | TxtRecordArgs | MxRecordArgs | SrvRecordArgs | CaaRecordArgs | ServiceRecordArgs;

/** A/AAAA records whose addresses are only known once an Output resolves (host backend only). */
export interface PendingAddressRecords {
    readonly owner: string;
    readonly ttl: number;
    readonly proxied: boolean;
    readonly arg: string;
    readonly addresses: pulumi.Input<string[]>;
}

export const TTL_MIN = 60;
export const TTL_MAX = 86400;
export const TXT_MAX = 4000;

/** What the per-record checks need to know about the zone. */
export interface RecordContext {
    readonly zone: string;
    readonly ttl: number;
    readonly allowWildcard: boolean;
    readonly cloudflare: boolean;
}

const KEYS: Record<DnsRecordType | "service", readonly string[]> = {
    A: ["value"], AAAA: ["value"], CNAME: ["value"], NS: ["value"], TXT: ["value"],
    MX: ["priority", "exchange"], SRV: ["priority", "weight", "port", "target"], CAA: ["flags", "tag", "value"],
    service: ["service"],
};

/** Refuses keys the record kind does not have, so a typo (`adress`) or a credential never passes silently. */
export function checkKeys(arg: string, obj: object, allowed: readonly string[]): void {
    for (const k of Object.keys(obj)) {
        if (!allowed.includes(k)) fail(`${arg}.${k}`, (obj as Record<string, unknown>)[k], `no such key here; allowed keys are ${allowed.join(", ")}`);
    }
}

/** Resolves a record's owner to the relative form ("@" or labels), checking it against the name rules. */
export function resolveOwner(arg: string, name: unknown, ctx: RecordContext, rules: NameRules): string {
    if (typeof name !== "string" || name.length === 0) fail(arg, name, `a name relative to ${ctx.zone} ("www", "@" for the apex) or absolute with a trailing dot`);
    if (name === "@") return "@";
    let rel: string;
    if (name.endsWith(".")) {
        const abs = stripDot(name);
        if (!inZone(abs, ctx.zone)) fail(arg, name, `a name inside the zone ${ctx.zone}`);
        rel = abs === ctx.zone ? "@" : abs.slice(0, -(ctx.zone.length + 1));
        if (rel === "@") return rel;
    } else {
        if (inZone(name, ctx.zone)) {
            fail(arg, name, `a relative name: it would mean ${name}.${ctx.zone}; write ${JSON.stringify(name === ctx.zone ? "@" : name.slice(0, -(ctx.zone.length + 1)))} or "${name}." for the absolute name`);
        }
        rel = name;
    }
    const p = nameProblem(absolute(rel, ctx.zone), rules);
    if (p) fail(arg, name, `a valid DNS name, but it has ${p}`);
    return rel;
}

function checkTarget(arg: string, value: unknown, rules: NameRules, allowRoot: boolean): string {
    if (typeof value !== "string") fail(arg, value, "a host name such as host.example.org");
    if (allowRoot && value === ".") return ".";
    const p = targetProblem(value, rules);
    if (p) fail(arg, value, `a fully qualified host name, but it is ${p}`);
    return stripDot(value);
}

function checkAddress(arg: string, value: unknown, type: "A" | "AAAA" | undefined): { address: string; type: "A" | "AAAA" } {
    const a = typeof value === "string" ? parseAddress(value) : null;
    const want = type === "A" ? "an IPv4 address in dotted-quad form without leading zeros" : type === "AAAA" ? "an IPv6 address" : "an IPv4 or IPv6 address";
    if (!a) fail(arg, value, want);
    if (type === "A" && a.family !== 4) fail(arg, value, `${want} (an IPv6 address needs type "AAAA")`);
    if (type === "AAAA" && a.family !== 6) fail(arg, value, `${want} (an IPv4 address needs type "A")`);
    if (a.class === "invalid") fail(arg, value, `an address usable in a record, not one in ${a.range}`);
    return { address: a.text, type: a.family === 4 ? "A" : "AAAA" };
}

/** Parses one address of a service into its record data (also used once an Output resolves). */
export function addressData(arg: string, value: unknown): RecordData {
    const { address, type } = checkAddress(arg, value, undefined);
    return { type, address };
}

function txt(arg: string, value: unknown): string {
    if (typeof value !== "string" || !/^[\x20-\x7e]*$/.test(value) || value.length > TXT_MAX) {
        fail(arg, value, `printable ASCII text of at most ${TXT_MAX} characters (no control characters or newlines)`);
    }
    return value;
}

function u16(arg: string, v: unknown): number {
    return checkInt(arg, v, 0, 65535);
}

/**
 * Normalizes one user record. Address records of a service with addresses still unknown come back as pending;
 * everything else comes back as ZoneRecords.
 */
export function normalizeRecord(arg: string, raw: unknown, ctx: RecordContext): { records: ZoneRecord[]; pending?: PendingAddressRecords } {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail(arg, raw, "a record object such as { name: \"www\", type: \"A\", value: \"192.0.2.10\" }");
    const r = raw as Record<string, unknown>;
    const isService = "service" in r;
    const type = isService ? undefined : r.type;
    if (!isService && (typeof type !== "string" || !(RECORD_TYPES as readonly string[]).includes(type))) {
        fail(`${arg}.type`, type, `one of ${RECORD_TYPES.join(", ")} (or a { service } record)`);
    }
    checkKeys(arg, r, ["name", "ttl", "proxied", ...(isService ? [] : ["type"]), ...KEYS[(type as DnsRecordType) ?? "service"]]);
    const ttl = r.ttl === undefined ? ctx.ttl : checkInt(`${arg}.ttl`, r.ttl, TTL_MIN, TTL_MAX);
    const proxied = r.proxied === undefined ? false : r.proxied;
    if (typeof proxied !== "boolean") fail(`${arg}.proxied`, proxied, "true or false");
    if (proxied && !ctx.cloudflare) fail(`${arg}.proxied`, proxied, "false: only the cloudflare backend proxies records");
    if (proxied && !(isService || type === "A" || type === "AAAA" || type === "CNAME")) fail(`${arg}.proxied`, proxied, "false: Cloudflare proxies only A, AAAA and CNAME records");

    if (isService) return normalizeService(arg, r, ctx, ttl, proxied);

    const t = type as DnsRecordType;
    const rules: NameRules = { wildcard: ctx.allowWildcard, underscore: t === "TXT" || t === "CNAME" || t === "SRV" };
    const owner = resolveOwner(`${arg}.name`, r.name, ctx, rules);
    const base = { owner, ttl, proxied, arg };
    switch (t) {
        case "A":
        case "AAAA":
            return { records: [{ ...base, type: t, address: checkAddress(`${arg}.value`, r.value, t).address }] };
        case "CNAME":
            return { records: [{ ...base, type: t, target: checkTarget(`${arg}.value`, r.value, { underscore: true }, false) }] };
        case "NS":
            return { records: [{ ...base, type: t, target: checkTarget(`${arg}.value`, r.value, {}, false) }] };
        case "TXT":
            return { records: [{ ...base, type: t, text: txt(`${arg}.value`, r.value) }] };
        case "MX":
            return { records: [{ ...base, type: t, priority: u16(`${arg}.priority`, r.priority), exchange: checkTarget(`${arg}.exchange`, r.exchange, {}, true) }] };
        case "SRV": {
            const labels = owner.split(".");
            if (labels.length < 2 || !/^_[a-z0-9]/.test(labels[0]) || !["_tcp", "_udp", "_sctp"].includes(labels[1])) {
                fail(`${arg}.name`, r.name, "an SRV owner of the form _service._proto[.name] with _proto one of _tcp, _udp, _sctp");
            }
            if (labels.slice(2).some((l) => l.startsWith("_"))) fail(`${arg}.name`, r.name, "underscore labels only in the _service._proto prefix");
            return {
                records: [{
                    ...base, type: t, priority: u16(`${arg}.priority`, r.priority), weight: u16(`${arg}.weight`, r.weight),
                    port: u16(`${arg}.port`, r.port), target: checkTarget(`${arg}.target`, r.target, {}, true),
                }],
            };
        }
        case "CAA": {
            const flags = r.flags === undefined ? 0 : r.flags;
            if (flags !== 0 && flags !== 128) fail(`${arg}.flags`, flags, "0, or 128 (issuer critical)");
            const tag = r.tag;
            if (tag !== "issue" && tag !== "issuewild" && tag !== "iodef") fail(`${arg}.tag`, tag, `one of "issue", "issuewild", "iodef"`);
            const value = r.value;
            if (typeof value !== "string" || !/^[\x20-\x7e]{0,255}$/.test(value) || /["\\]/.test(value)) {
                fail(`${arg}.value`, value, "printable ASCII of at most 255 characters without quotes or backslashes");
            }
            if (tag === "iodef" && !/^(mailto:[^\s@]+@[^\s@]+|https?:\/\/\S+)$/.test(value)) fail(`${arg}.value`, value, "a mailto: or https: URL for an iodef CAA record");
            if (tag !== "iodef" && value !== ";" && !/^[a-z0-9.-]+(;.*)?$/.test(value)) fail(`${arg}.value`, value, `an issuer domain such as "letsencrypt.org" (optionally with ";" parameters), or ";" to forbid issuance`);
            return { records: [{ ...base, type: t, flags, tag, value }] };
        }
    }
}

function normalizeService(arg: string, r: Record<string, unknown>, ctx: RecordContext, ttl: number, proxied: boolean): { records: ZoneRecord[]; pending?: PendingAddressRecords } {
    const svc = r.service as AddressSource | undefined;
    if (typeof svc !== "object" || svc === null) fail(`${arg}.service`, svc, "an object with a hostname and addresses (an AddressSource)");
    let name = r.name;
    if (name === undefined) {
        const h = svc.hostname;
        if (typeof h !== "string" || h.length === 0) fail(`${arg}.service.hostname`, h, "a host name (or give the record a name)");
        const hn = stripDot(h);
        if (hn.includes(".") && !inZone(hn, ctx.zone)) fail(`${arg}.service.hostname`, h, `a label or a name inside ${ctx.zone} (or give the record a name)`);
        name = hn.includes(".") ? `${hn}.` : hn;
    }
    const owner = resolveOwner(`${arg}.name`, name, ctx, { wildcard: ctx.allowWildcard });
    const addresses: unknown = svc.addresses;
    const known = Array.isArray(addresses) && addresses.every((a) => typeof a === "string");
    if (!known && (pulumi.Output.isInstance(addresses) || Array.isArray(addresses) || addresses instanceof Promise)) {
        return { records: [], pending: { owner, ttl, proxied, arg, addresses: addresses as pulumi.Input<string[]> } };
    }
    if (!Array.isArray(addresses) || addresses.length === 0) fail(`${arg}.service.addresses`, addresses, "a non-empty list of IP addresses");
    const records = addresses.map((a, i): ZoneRecord => ({ owner, ttl, proxied, arg: `${arg}.service.addresses[${i}]`, ...addressData(`${arg}.service.addresses[${i}]`, a) }));
    return { records };
}
