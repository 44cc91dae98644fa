// DNS records as hearth zones and the Cloudflare/Route53 providers carry them, in one shape.
import { ZONE_TYPE } from "../../components/tokens";
import type { TypedResource } from "../lib/props";

export const CLOUDFLARE_RECORD_TYPES = ["cloudflare:index/dnsRecord:DnsRecord", "cloudflare:index/record:Record"] as const;
export const ROUTE53_RECORD_TYPE = "aws:route53/record:Record";
export const DNS_TYPES = [ZONE_TYPE, ...CLOUDFLARE_RECORD_TYPES, ROUTE53_RECORD_TYPE] as const;
export type DnsType = (typeof DNS_TYPES)[number];

export interface DnsRecord {
    readonly name: string;
    readonly type: string;
    readonly values: string[];
}

const text = (v: unknown): string => (typeof v === "string" ? v : "");
const asList = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === "string") : typeof v === "string" ? [v] : []);

/** Whether a provider record belongs to a hearth zone, which is judged (and waived) as a whole instead. */
export function isZoneChild(parent: string | undefined): boolean {
    return !!parent && parent.split("::")[2]?.split("$").pop() === ZONE_TYPE;
}

/** The records a resource defines, and whether they are published to the internet (undefined when it cannot be told). */
export function recordsOf(r: TypedResource<DnsType>): { records: DnsRecord[]; isPublic: boolean | undefined } {
    if (r.type === ZONE_TYPE) {
        return { records: r.props.records.map((x) => ({ name: x.name, type: x.type, values: [x.value] })), isPublic: r.props.public };
    }
    const p = r.props;
    const one = (values: string[]): DnsRecord[] => [{ name: text(p.name), type: text(p.type).toUpperCase(), values }];
    // Cloudflare serves every record publicly (`content`; the provider's v4 Record also took `value`).
    if (r.type !== ROUTE53_RECORD_TYPE) return { records: one([...asList(p.content), ...asList(p.value)]), isPublic: true };
    // A Route53 record may sit in a private hosted zone; its zone is not visible from here.
    return { records: one(asList(p.records)), isPublic: undefined };
}
