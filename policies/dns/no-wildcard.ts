// hearth-dns-no-wildcard: no wildcard records unless allowed by name in the policy config.
import { hearthPolicy } from "../lib/policy";
import { DNS_TYPES, DnsType, isZoneChild, recordsOf } from "./records";

export interface NoWildcardConfig {
    /** Wildcard record names allowed, fully qualified (e.g. "*.apps.example.org"; a trailing dot is optional). */
    allow: string[];
}

export const dnsNoWildcard = hearthPolicy<NoWildcardConfig, DnsType>({
    name: "hearth-dns-no-wildcard",
    description: "DNS records have no wildcard name (`*`) unless the name is listed in this policy's `allow` (a zone's own `allowWildcard` lets the component render one, not publish it past this policy): wildcards answer for names nobody meant to publish.",
    enforcementLevel: "mandatory",
    types: DNS_TYPES,
    config: {
        allow: { type: "array", items: { type: "string" }, default: [], description: "Wildcard record names that are allowed." },
    },
    remediationSteps: "Publish the names you serve one by one, or allow the wildcard by name.",
    check(resource) {
        const { parent, config, report } = resource;
        if (isZoneChild(parent)) return;
        const bare = (n: string) => n.replace(/\.$/, "");
        for (const r of recordsOf(resource).records) {
            if (!r.name.split(".").includes("*")) continue;
            if (config.allow.some((a) => bare(a) === bare(r.name))) continue;
            report(`Record ${r.name} ${r.type} is a wildcard; list it in 'allow' of hearth-dns-no-wildcard.`);
        }
    },
});
