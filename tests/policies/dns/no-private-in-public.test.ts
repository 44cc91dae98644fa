// hearth-dns-no-private-in-public: public zones publish only public addresses, judged on what a real DnsZone and real
// provider records register.
import { strict as assert } from "assert";
import * as cloudflare from "@pulumi/cloudflare";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DnsZone, DnsZoneArgs } from "../../../components/dns";
import { Host } from "../../../components/host";
import { dnsNoPrivateInPublic as policy } from "../../../policies/dns/no-private-in-public";
import { installMocks, TEST_HOST_KEY } from "../../mocks";
import { declare, violations } from "../fixtures";
import { assertMetadata } from "../metadata";

const ZONE_ID = "0123456789abcdef0123456789abcdef";

/** A real Cloudflare zone named public (published to the internet), with its provider records as children. */
async function publicZone(records: DnsZoneArgs["records"], extra: Partial<DnsZoneArgs> = {}) {
    return declare(() => new DnsZone("public", { zone: "example.org", backend: { kind: "cloudflare", zoneId: ZONE_ID }, records, ...extra } as DnsZoneArgs));
}

describe("hearth-dns-no-private-in-public", () => {
    before(() => installMocks());

    it("has its metadata", () => assertMetadata(policy, "hearth-dns-no-private-in-public", "mandatory"));

    it("passes public addresses in a public zone", async () => {
        const d = await publicZone([{ name: "www", type: "A", value: "203.0.113.7" }, { name: "www", type: "AAAA", value: "2001:db8::7" }, { name: "mail", type: "TXT", value: "10.0.0.1" }]);
        assert.deepEqual(await violations(policy, d.args("public")), []);
    });

    it("passes private addresses in an internal zone served by a host", async () => {
        const host = new Host({ name: "ns", address: "10.0.0.2", privateKey: pulumi.secret("k"), hostKey: TEST_HOST_KEY });
        const d = await declare(() => new DnsZone("home", { zone: "home.example.org", backend: { kind: "host", host, nameservers: [{ name: "ns1", addresses: ["10.0.0.2"] }] }, records: [{ name: "nas", type: "A", value: "192.168.1.10" }] } as DnsZoneArgs));
        assert.deepEqual(await violations(policy, d.args("home")), []);
    });

    it("flags a private IPv4 address the zone's allowPrivate let through", async () => {
        const d = await publicZone([{ name: "nas", type: "A", value: "192.168.1.10" }], { allowPrivate: true });
        assert.deepEqual(await violations(policy, d.args("public")), ["Public record nas.example.org A 192.168.1.10 points into 192.168.0.0/16 (RFC 1918)."]);
    });

    it("flags a ULA IPv6 address and a CGNAT one, with the component's range names", async () => {
        const d = await publicZone([{ name: "vpn", type: "AAAA", value: "fd12:3456::1" }, { name: "cg", type: "A", value: "100.64.1.1" }], { allowPrivate: true });
        assert.deepEqual(await violations(policy, d.args("public")), [
            "Public record vpn.example.org AAAA fd12:3456::1 points into fc00::/7 (unique local).",
            "Public record cg.example.org A 100.64.1.1 points into 100.64.0.0/10 (CGNAT, RFC 6598).",
        ]);
    });

    it("flags a Cloudflare record made outside a hearth zone, but leaves a zone's own records to the zone", async () => {
        const outside = await declare(() => new cloudflare.DnsRecord("db", { zoneId: ZONE_ID, name: "db.example.org", type: "A", content: "10.1.1.1", ttl: 300 }));
        assert.deepEqual(await violations(policy, outside.args("db")), ["Public record db.example.org A 10.1.1.1 points into 10.0.0.0/8 (RFC 1918)."]);
        const zone = await publicZone([{ name: "db", type: "A", value: "10.1.1.1" }], { allowPrivate: true });
        const child = zone.resources.find((r) => r.type === "cloudflare:index/dnsRecord:DnsRecord");
        assert.ok(child, "the zone registers its records with the provider");
        assert.deepEqual(await violations(policy, zone.args(child.name)), []);
    });

    it("leaves a Route53 record alone: its hosted zone may be private", async () => {
        const d = await declare(() => new aws.route53.Record("db", { zoneId: "Z123", name: "db.example.org", type: "A", ttl: 300, records: ["10.0.0.5"] }));
        assert.deepEqual(await violations(policy, d.args("db")), []);
    });
});
