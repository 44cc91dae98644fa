// hearth-dns-no-wildcard: no wildcard records unless allowed by name, judged on what a real DnsZone and real provider
// records register.
import { strict as assert } from "assert";
import * as aws from "@pulumi/aws";
import { DnsZone, DnsZoneArgs } from "../../../components/dns";
import { dnsNoWildcard as policy } from "../../../policies/dns/no-wildcard";
import { installMocks } from "../../mocks";
import { declare, violations } from "../fixtures";
import { assertMetadata } from "../metadata";

const ZONE_ID = "0123456789abcdef0123456789abcdef";

/** A real zone that lets the component render wildcards; the policy decides whether they may be published. */
async function zone(records: DnsZoneArgs["records"], config?: Record<string, unknown>) {
    const d = await declare(() => new DnsZone("public", { zone: "example.org", backend: { kind: "cloudflare", zoneId: ZONE_ID }, allowWildcard: true, records } as DnsZoneArgs));
    return d.args("public", { config });
}

describe("hearth-dns-no-wildcard", () => {
    before(() => installMocks());

    it("has its metadata", () => assertMetadata(policy, "hearth-dns-no-wildcard", "mandatory"));

    it("passes named records", async () => {
        assert.deepEqual(await violations(policy, zone([{ name: "www", type: "A", value: "203.0.113.7" }, { name: "_acme-challenge", type: "TXT", value: "x" }])), []);
    });

    it("flags a wildcard record the zone allows", async () => {
        assert.deepEqual(await violations(policy, zone([{ name: "*.apps", type: "A", value: "203.0.113.7" }])), [
            "Record *.apps.example.org A is a wildcard; list it in 'allow' of hearth-dns-no-wildcard.",
        ]);
    });

    it("allows a wildcard listed in config, with or without the trailing dot", async () => {
        assert.deepEqual(await violations(policy, zone([{ name: "*.apps", type: "A", value: "203.0.113.7" }], { allow: ["*.apps.example.org"] })), []);
        assert.deepEqual(await violations(policy, zone([{ name: "*.apps", type: "A", value: "203.0.113.7" }], { allow: ["*.apps.example.org."] })), []);
        assert.equal((await violations(policy, zone([{ name: "*", type: "A", value: "203.0.113.7" }], { allow: ["*.apps.example.org"] }))).length, 1);
    });

    it("flags wildcard provider records", async () => {
        const d = await declare(() => new aws.route53.Record("star", { zoneId: "Z123", name: "*.example.org", type: "A", ttl: 300, records: ["203.0.113.7"] }));
        assert.deepEqual(await violations(policy, d.args("star")), ["Record *.example.org A is a wildcard; list it in 'allow' of hearth-dns-no-wildcard."]);
    });
});
