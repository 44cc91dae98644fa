// hearth-dns-no-private-in-public: public zones publish no private, loopback or link-local addresses.
import { hearthPolicy } from "../lib/policy";
import { nonPublicRange } from "../lib/addresses";
import { DNS_TYPES, isZoneChild, recordsOf } from "./records";

export const dnsNoPrivateInPublic = hearthPolicy({
    name: "hearth-dns-no-private-in-public",
    description: "A public DNS zone (Cloudflare, Route53 public, or a zone marked public) has no A/AAAA record pointing at a private, CGNAT, loopback or link-local address: it leaks the internal network plan and breaks for outside clients.",
    enforcementLevel: "mandatory",
    types: DNS_TYPES,
    remediationSteps: "Put internal names in an internal zone served by a host, or publish the public address.",
    check({ type, props, parent, report }) {
        if (isZoneChild(parent)) return;
        const { records, isPublic } = recordsOf(type, props);
        if (isPublic !== true) return;
        for (const r of records) {
            if (r.type !== "A" && r.type !== "AAAA") continue;
            for (const v of r.values) {
                const range = nonPublicRange(v);
                if (range) report(`Public record ${r.name} ${r.type} ${v} points into ${range}.`);
            }
        }
    },
});
