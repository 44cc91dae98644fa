// hearth-dns-no-private-in-public: public zones publish only public addresses.
import { strict as assert } from "assert";
import { ZONE_TYPE } from "../../../components/tokens";
import { dnsNoPrivateInPublic as policy } from "../../../policies/dns/no-private-in-public";
import { resourceArgs, urnOf, violations } from "../fixtures";
import { assertMetadata } from "../metadata";

/** DnsZone props as the component records them: a summary with zone-file record lines. */
const zone = (records: string[], extra: Record<string, unknown> = {}) =>
    resourceArgs(ZONE_TYPE, { zone: "example.org", backend: "cloudflare", ttl: 300, public: true, allowPrivate: false, allowWildcard: false, records, ...extra }, { name: "public" });

describe("hearth-dns-no-private-in-public", () => {
    it("has its metadata", () => assertMetadata(policy, "hearth-dns-no-private-in-public", "mandatory"));

    it("passes public addresses in a public zone", async () => {
        assert.deepEqual(await violations(policy, zone(["www.example.org. 300 A 203.0.113.7", "www.example.org. 300 AAAA 2001:db8::7", "mail.example.org. 300 TXT \"10.0.0.1\""])), []);
    });

    it("passes private addresses in an internal zone", async () => {
        assert.deepEqual(await violations(policy, zone(["nas.home.example.org. 300 A 192.168.1.10"], { backend: "host", public: false })), []);
    });

    it("flags a private IPv4 address, even with the component's allowPrivate", async () => {
        assert.deepEqual(await violations(policy, zone(["nas.example.org. 300 A 192.168.1.10"], { allowPrivate: true })), [
            "Public record nas.example.org. A 192.168.1.10 points into 192.168.0.0/16 (private).",
        ]);
    });

    it("flags a ULA IPv6 address", async () => {
        assert.match((await violations(policy, zone(["vpn.example.org. 300 AAAA fd12:3456::1"]))).join(), /fc00::\/7 \(unique local\)/);
    });

    it("judges a zone public by its backend when not told", async () => {
        const args = resourceArgs(ZONE_TYPE, { zone: "example.org", backend: "route53", records: [{ name: "db", type: "A", address: "10.0.0.5" }] });
        assert.match((await violations(policy, args)).join(), /Public record db A 10.0.0.5 points into 10.0.0.0\/8/);
    });

    it("flags a Cloudflare record made outside a hearth zone, but leaves a zone's own records to the zone", async () => {
        const props = { name: "db", type: "A", content: "10.1.1.1", zoneId: "z" };
        assert.equal((await violations(policy, resourceArgs("cloudflare:index/dnsRecord:DnsRecord", props))).length, 1);
        assert.deepEqual(await violations(policy, resourceArgs("cloudflare:index/dnsRecord:DnsRecord", props, { parent: urnOf(ZONE_TYPE, "public") })), []);
    });
});
