// hearth-dns-no-wildcard: no wildcard records unless allowed by name.
import { strict as assert } from "assert";
import { ZONE_TYPE } from "../../../components/tokens";
import { dnsNoWildcard as policy } from "../../../policies/dns/no-wildcard";
import { resourceArgs, violations } from "../fixtures";
import { assertMetadata } from "../metadata";

const zone = (records: unknown[], config?: Record<string, unknown>) =>
    resourceArgs(ZONE_TYPE, { zone: "example.org", backend: "host", public: false, allowWildcard: true, records }, { config });

describe("hearth-dns-no-wildcard", () => {
    it("has its metadata", () => assertMetadata(policy, "hearth-dns-no-wildcard", "mandatory"));

    it("passes named records", async () => {
        assert.deepEqual(await violations(policy, zone(["www.example.org. 300 A 203.0.113.7", "_acme-challenge.example.org. 300 TXT \"x\""])), []);
    });

    it("flags a wildcard record", async () => {
        assert.deepEqual(await violations(policy, zone(["*.apps.example.org. 300 A 203.0.113.7"])), [
            "Record *.apps.example.org. A is a wildcard; list it in 'allow' of hearth-dns-no-wildcard or give the record 'allowWildcard: { reason }'.",
        ]);
    });

    it("allows a wildcard listed in config, with or without the trailing dot", async () => {
        assert.deepEqual(await violations(policy, zone(["*.apps.example.org. 300 A 203.0.113.7"], { allow: ["*.apps.example.org"] })), []);
        assert.equal((await violations(policy, zone(["*.example.org. 300 A 203.0.113.7"], { allow: ["*.apps.example.org"] }))).length, 1);
    });

    it("allows a record that carries its own reason", async () => {
        assert.deepEqual(await violations(policy, zone([{ name: "*.apps", type: "CNAME", target: "ingress", allowWildcard: { reason: "every app gets a name from the ingress" } }])), []);
        assert.equal((await violations(policy, zone([{ name: "*.apps", type: "CNAME", target: "ingress", allowWildcard: true }]))).length, 1);
    });

    it("flags wildcard provider records", async () => {
        assert.equal((await violations(policy, resourceArgs("aws:route53/record:Record", { name: "*.example.org", type: "A", records: ["203.0.113.7"] }))).length, 1);
    });
});
