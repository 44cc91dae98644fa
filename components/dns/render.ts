// Pure rendering for DnsZone: record presentation, the zone file with its content-derived serial, and the shapes Cloudflare and Route53 take.
import { contentHash } from "../shell";
import { absolute } from "./names";
import { DnsRecordType, RECORD_TYPES, ZoneRecord } from "./types";

/** A TXT value as RFC 1035 character-strings: at most 255 bytes each, `"` and `\` escaped, without the quotes. */
export function txtStrings(text: string): string[] {
    const chunks: string[] = [];
    // The text is printable ASCII (checked), so characters are bytes; escaping comes after cutting so no escape is split.
    for (let i = 0; i < text.length; i += 255) chunks.push(text.slice(i, i + 255));
    if (chunks.length === 0) chunks.push("");
    return chunks.map((c) => c.replace(/[\\"]/g, (m) => `\\${m}`));
}

function fq(target: string): string {
    return target === "." ? "." : `${target}.`;
}

/** The record data in zone-file presentation form (also the identity that duplicates compare on). */
export function rdataText(r: ZoneRecord): string {
    switch (r.type) {
        case "A":
        case "AAAA":
            return r.address;
        case "CNAME":
        case "NS":
            return fq(r.target);
        case "TXT":
            return txtStrings(r.text).map((s) => `"${s}"`).join(" ");
        case "MX":
            return `${r.priority} ${fq(r.exchange)}`;
        case "SRV":
            return `${r.priority} ${r.weight} ${r.port} ${fq(r.target)}`;
        case "CAA":
            return `${r.flags} ${r.tag} "${r.value}"`;
    }
}

/** Canonical DNS order of relative owners (RFC 4034 §6.1 on lowercase LDH names): the apex, then by labels from the right. */
export function compareOwners(a: string, b: string): number {
    const la = a === "@" ? [] : a.split(".").reverse();
    const lb = b === "@" ? [] : b.split(".").reverse();
    for (let i = 0; i < Math.min(la.length, lb.length); i++) {
        if (la[i] !== lb[i]) return la[i] < lb[i] ? -1 : 1;
    }
    return la.length - lb.length;
}

/** Records in a stable order, so the same set renders the same bytes whatever order it was given in. */
export function sortRecords(records: readonly ZoneRecord[]): ZoneRecord[] {
    const typeIndex = (t: DnsRecordType) => RECORD_TYPES.indexOf(t);
    return [...records].sort((a, b) =>
        compareOwners(a.owner, b.owner) || typeIndex(a.type) - typeIndex(b.type) || (rdataText(a) < rdataText(b) ? -1 : rdataText(a) > rdataText(b) ? 1 : 0));
}

// ---- zone file ----

/** SOA timers (seconds): how long secondaries wait, retry and keep serving; the last is the negative-answer TTL. */
export const SOA_TIMERS = { refresh: 3600, retry: 900, expire: 1209600 } as const;

export interface ZoneFileSpec {
    readonly zone: string;
    readonly ttl: number;
    /** `hostmaster@example.org`: becomes the SOA RNAME. */
    readonly hostmaster: string;
    /** Absolute names of the zone's name servers; the first is the SOA MNAME. */
    readonly nameservers: readonly string[];
    /** Every record, including the in-zone name servers' addresses. */
    readonly records: readonly ZoneRecord[];
}

/** The SOA RNAME of a mailbox: the local part's dots escaped (RFC 1035 §8). */
export function mailboxName(email: string): string {
    const at = email.lastIndexOf("@");
    return `${email.slice(0, at).replace(/\./g, "\\.")}.${email.slice(at + 1)}.`;
}

/**
 * Renders the zone file. The serial is derived from the rest of the content (so an unchanged zone keeps its serial
 * and any change gets a new one) and lies in 1..2^31-1; it is not monotonic, which is fine for a server with no
 * secondaries, and knot loads the file whole whatever the serial did.
 */
export function renderZoneFile(spec: ZoneFileSpec): { text: string; serial: number } {
    const line = (owner: string, ttl: number, type: string, rdata: string) => `${owner}\t${ttl}\tIN\t${type}\t${rdata}`;
    const body = [
        ...spec.nameservers.map((ns) => line("@", spec.ttl, "NS", `${ns}.`)),
        ...sortRecords(spec.records).map((r) => line(r.owner, r.ttl, r.type, rdataText(r))),
    ];
    const soa = (serial: number) =>
        line("@", spec.ttl, "SOA", `${spec.nameservers[0]}. ${mailboxName(spec.hostmaster)} ${serial} ${SOA_TIMERS.refresh} ${SOA_TIMERS.retry} ${SOA_TIMERS.expire} ${spec.ttl}`);
    const head = [`; hearth: authoritative zone ${spec.zone}, rendered by DnsZone; edits here are overwritten`, `$ORIGIN ${spec.zone}.`, `$TTL ${spec.ttl}`];
    const serial = (parseInt(contentHash(...head, soa(0), ...body).slice(0, 8), 16) % 2147483646) + 1;
    return { text: [...head, soa(serial), ...body, ""].join("\n"), serial };
}

// ---- cloud providers ----

/** The inputs of one `cloudflare.DnsRecord` (one record each; Cloudflare has no RRset object). */
export interface CloudflareRecordSpec {
    readonly name: string;
    readonly type: DnsRecordType;
    /** 1 means "automatic", which Cloudflare requires of proxied records. */
    readonly ttl: number;
    readonly proxied: boolean;
    readonly content?: string;
    readonly priority?: number;
    readonly data?: Record<string, string | number>;
}

export function cloudflareRecord(r: ZoneRecord, zone: string): CloudflareRecordSpec {
    const base = { name: absolute(r.owner, zone), type: r.type, ttl: r.proxied ? 1 : r.ttl, proxied: r.proxied };
    switch (r.type) {
        case "A":
        case "AAAA":
            return { ...base, content: r.address };
        case "CNAME":
        case "NS":
            return { ...base, content: r.target };
        case "TXT":
            return { ...base, content: rdataText(r) };
        case "MX":
            return { ...base, content: r.exchange, priority: r.priority };
        case "SRV":
            return { ...base, priority: r.priority, data: { priority: r.priority, weight: r.weight, port: r.port, target: r.target } };
        case "CAA":
            return { ...base, data: { flags: r.flags, tag: r.tag, value: r.value } };
    }
}

/** The inputs of one `aws.route53.Record`: a whole RRset (every value of one name and type). */
export interface Route53RecordSetSpec {
    readonly name: string;
    readonly type: DnsRecordType;
    readonly ttl: number;
    readonly records: readonly string[];
}

function route53Value(r: ZoneRecord): string {
    // The AWS provider wraps each TXT value in one pair of quotes itself, so several strings are joined by `" "`.
    return r.type === "TXT" ? txtStrings(r.text).join('" "') : rdataText(r);
}

export function route53RecordSets(records: readonly ZoneRecord[], zone: string): Route53RecordSetSpec[] {
    const sets = new Map<string, { name: string; type: DnsRecordType; ttl: number; records: string[] }>();
    for (const r of sortRecords(records)) {
        const key = `${r.owner} ${r.type}`;
        const set = sets.get(key) ?? { name: absolute(r.owner, zone), type: r.type, ttl: r.ttl, records: [] };
        set.records.push(route53Value(r));
        sets.set(key, set);
    }
    return [...sets.values()];
}

/** A stable, readable suffix for a child resource name: the owner (apex as `apex`) plus, when asked, a short hash of the data. */
export function recordResourceSuffix(r: { owner: string; type: string }, data?: string): string {
    const owner = r.owner === "@" ? "apex" : r.owner;
    return `${r.type.toLowerCase()}-${owner}${data === undefined ? "" : `-${contentHash(data).slice(0, 8)}`}`;
}
