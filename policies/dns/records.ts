// DNS records as hearth zones and the Cloudflare/Route53 providers carry them, in one shape.
import { ZONE_TYPE } from "../../components/tokens";

export const CLOUDFLARE_RECORD_TYPES = ["cloudflare:index/dnsRecord:DnsRecord", "cloudflare:index/record:Record"];
export const ROUTE53_RECORD_TYPE = "aws:route53/record:Record";
export const DNS_TYPES = [ZONE_TYPE, ...CLOUDFLARE_RECORD_TYPES, ROUTE53_RECORD_TYPE];

export interface DnsRecord {
    readonly name: string;
    readonly type: string;
    readonly values: string[];
    /** The record's own opt-in to a wildcard name (hearth zones), if any. */
    readonly allowWildcard?: unknown;
}

const asList = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === "string") : typeof v === "string" ? [v] : []);

/** Whether a hearth zone publishes to the internet: a public provider unless marked internal, or marked public. */
export function zoneIsPublic(props: Record<string, any>): boolean {
    const vis = props.visibility ?? props.scope ?? props.kind;
    if (vis === "public" || props.public === true) return true;
    if (vis === "internal" || vis === "private" || props.public === false || props.private === true) return false;
    const backend = props.backend ?? props.provider;
    const provider = typeof backend === "string" ? backend : backend?.kind ?? backend?.type;
    return provider === "cloudflare" || provider === "route53";
}

/** Whether a provider record belongs to a hearth zone, which is judged (and waived) as a whole instead. */
export function isZoneChild(parent: string | undefined): boolean {
    return !!parent && parent.split("::")[2]?.split("$").pop() === ZONE_TYPE;
}

/** The records a resource defines, and whether they are published to the internet (undefined when it cannot be told). */
export function recordsOf(type: string, props: Record<string, any>): { records: DnsRecord[]; isPublic: boolean | undefined } {
    if (type === ZONE_TYPE) {
        const raw = Array.isArray(props.records) ? props.records : props.records && typeof props.records === "object" ? Object.values(props.records) : [];
        // DnsZone records its records as zone-file lines: "<owner> <ttl> <TYPE> <rdata>".
        const lines = raw.filter((r: any) => typeof r === "string").map((line: string) => {
            const [name = "", , t = "", ...rdata] = line.trim().split(/\s+/);
            return { name, type: t.toUpperCase(), values: rdata.length ? [rdata.join(" ")] : [] };
        });
        const objects = raw.filter((r: any) => r && typeof r === "object").map((r: any) => ({
            name: String(r.name ?? "@"),
            type: String(r.type ?? "").toUpperCase(),
            values: [...asList(r.value), ...asList(r.values), ...asList(r.content), ...asList(r.address), ...asList(r.addresses), ...asList(r.target)],
            allowWildcard: r.allowWildcard,
        }));
        return { records: [...lines, ...objects], isPublic: zoneIsPublic(props) };
    }
    if (CLOUDFLARE_RECORD_TYPES.includes(type)) {
        // Cloudflare serves every record publicly.
        return { records: [{ name: String(props.name ?? ""), type: String(props.type ?? "").toUpperCase(), values: [...asList(props.content), ...asList(props.value)] }], isPublic: true };
    }
    // A Route53 record may sit in a private hosted zone; its zone is not visible from here.
    return { records: [{ name: String(props.name ?? ""), type: String(props.type ?? "").toUpperCase(), values: asList(props.records) }], isPublic: undefined };
}
