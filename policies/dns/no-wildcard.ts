// hearth-dns-no-wildcard: no wildcard records unless allowed by name in the policy config or on the record.
import { hearthPolicy } from "../lib/policy";
import { isReason } from "../lib/reason";
import { DNS_TYPES, isZoneChild, recordsOf } from "./records";

export interface NoWildcardConfig {
    /** Wildcard record names allowed, fully qualified (e.g. "*.apps.example.org"; a trailing dot is optional). */
    allow: string[];
}

export const dnsNoWildcard = hearthPolicy<NoWildcardConfig>({
    name: "hearth-dns-no-wildcard",
    description: "DNS records have no wildcard name (`*`) unless the name is listed in this policy's `allow` or the record carries `allowWildcard: { reason }`: wildcards answer for names nobody meant to publish.",
    enforcementLevel: "mandatory",
    types: DNS_TYPES,
    config: {
        allow: { type: "array", items: { type: "string" }, default: [], description: "Wildcard record names that are allowed." },
    },
    remediationSteps: "Publish the names you serve one by one, or allow the wildcard by name.",
    check({ type, props, parent, config, report }) {
        if (isZoneChild(parent)) return;
        for (const r of recordsOf(type, props).records) {
            if (!r.name.split(".").includes("*")) continue;
            const bare = (n: string) => n.replace(/\.$/, "");
            if (config.allow.some((a) => bare(a) === bare(r.name))) continue;
            const w = r.allowWildcard;
            if (w && typeof w === "object" && isReason((w as any).reason)) continue;
            report(`Record ${r.name} ${r.type} is a wildcard; list it in 'allow' of hearth-dns-no-wildcard or give the record 'allowWildcard: { reason }'.`);
        }
    },
});
