// hearth-dns-no-private-in-public: public zones publish no private, loopback, link-local or otherwise unroutable addresses.
import { classifyIp } from "../../components/core/ip";
import { hearthPolicy } from "../lib/policy";
import { DNS_TYPES, isZoneChild, recordsOf } from "./records";

export const dnsNoPrivateInPublic = hearthPolicy({
    name: "hearth-dns-no-private-in-public",
    description: "A public DNS zone (Cloudflare, Route53 public, or a zone marked public) has no A/AAAA record pointing at a private, CGNAT, loopback, link-local, multicast or reserved address (the DNS component's range table): it leaks the internal network plan and breaks for outside clients.",
    enforcementLevel: "mandatory",
    types: DNS_TYPES,
    remediationSteps: "Put internal names in an internal zone served by a host, or publish the public address.",
    check(resource) {
        const { parent, report } = resource;
        if (isZoneChild(parent)) return;
        const { records, isPublic } = recordsOf(resource);
        if (isPublic !== true) return;
        for (const r of records) {
            if (r.type !== "A" && r.type !== "AAAA") continue;
            for (const v of r.values) {
                const ip = classifyIp(v.trim());
                if (ip && ip.class !== "public") report(`Public record ${r.name} ${r.type} ${v} points into ${ip.range}.`);
            }
        }
    },
});
