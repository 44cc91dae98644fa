// The cloud backends under mocks: the exact Cloudflare DnsRecord and Route53 Record inputs, zone lookup, and credentials kept out of every input.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as cloudflare from "@pulumi/cloudflare";
import * as aws from "@pulumi/aws";
import { DnsZone, DnsZoneArgs } from "../../components/dns";
import { installMocks, plainStrings, recorded, resetRecorded, resolve, setCallResult, settle } from "../mocks";

const ZONE_ID = "0123456789abcdef0123456789abcdef";
const CF_RECORD = "cloudflare:index/dnsRecord:DnsRecord";
const R53_RECORD = "aws:route53/record:Record";
const LONG = "k=".padEnd(300, "x") + '"q"';

const RECORDS: DnsZoneArgs["records"] = [
    { name: "@", type: "A", value: "203.0.113.7" },
    { name: "@", type: "A", value: "203.0.113.8" },
    { name: "@", type: "AAAA", value: "2001:DB8:0::7" },
    { name: "www", type: "CNAME", value: "example.org.", proxied: true },
    { name: "@", type: "TXT", value: "v=spf1 -all" },
    { name: "long", type: "TXT", value: LONG },
    { name: "@", type: "MX", priority: 10, exchange: "mx.example.net" },
    { name: "_sip._tcp", type: "SRV", priority: 1, weight: 5, port: 5060, target: "sip.example.net" },
    { name: "@", type: "CAA", tag: "issue", value: "letsencrypt.org" },
    { name: "vpn", service: { hostname: "vpn", addresses: ["198.51.100.4"] } },
];

function ofType(type: string) {
    return recorded.filter((r) => r.type === type);
}

describe("DnsZone cloud backends", () => {
    before(() => installMocks());
    beforeEach(() => resetRecorded());
    afterEach(() => setCallResult());

    describe("cloudflare", () => {
        const args: DnsZoneArgs = {
            zone: "example.org",
            backend: { kind: "cloudflare", zoneId: ZONE_ID },
            records: RECORDS,
            delegations: [{ zone: "home.example.org", nameservers: [{ name: "ns1.home.example.org", addresses: ["198.51.100.53"] }] }],
        };

        it("registers one current cloudflare.DnsRecord per record with provider-shaped inputs (never the deprecated Record)", async () => {
            new DnsZone("pub", args);
            await settle();
            assert.equal(ofType("cloudflare:index/record:Record").length, 0);
            const got = ofType(CF_RECORD).map((r) => r.inputs).map(({ comment, ...rest }) => (assert.equal(comment, "managed by hearth"), rest));
            const base = { zoneId: ZONE_ID, ttl: 300, proxied: false };
            const want = [
                { ...base, name: "example.org", type: "A", content: "203.0.113.7" },
                { ...base, name: "example.org", type: "A", content: "203.0.113.8" },
                { ...base, name: "example.org", type: "AAAA", content: "2001:db8::7" },
                { ...base, name: "www.example.org", type: "CNAME", content: "example.org", ttl: 1, proxied: true },
                { ...base, name: "example.org", type: "TXT", content: '"v=spf1 -all"' },
                { ...base, name: "long.example.org", type: "TXT", content: `"${LONG.slice(0, 255)}" "${LONG.slice(255).replace(/"/g, '\\"')}"` },
                { ...base, name: "example.org", type: "MX", content: "mx.example.net", priority: 10 },
                { ...base, name: "_sip._tcp.example.org", type: "SRV", priority: 1, data: { priority: 1, weight: 5, port: 5060, target: "sip.example.net" } },
                { ...base, name: "example.org", type: "CAA", data: { flags: 0, tag: "issue", value: "letsencrypt.org" } },
                { ...base, name: "vpn.example.org", type: "A", content: "198.51.100.4" },
                { ...base, name: "home.example.org", type: "NS", content: "ns1.home.example.org" },
                { ...base, name: "ns1.home.example.org", type: "A", content: "198.51.100.53" },
            ];
            const key = (r: any) => JSON.stringify(r, Object.keys(r).sort());
            assert.deepEqual(got.map(key).sort(), want.map(key).sort());
        });

        it("names each record by owner, type and data, so reordering the records changes no resource", async () => {
            new DnsZone("pub", args);
            await settle();
            const first = ofType(CF_RECORD).map((r) => r.name).sort();
            resetRecorded();
            new DnsZone("pub", { ...args, records: [...RECORDS!].reverse() });
            await settle();
            assert.deepEqual(ofType(CF_RECORD).map((r) => r.name).sort(), first);
            assert.equal(new Set(first).size, first.length);
            for (const n of first) assert.match(n, /^pub-(a|aaaa|cname|txt|mx|srv|caa|ns)-(apex|[a-z0-9._-]+)-[0-9a-f]{8}$/);
            assert.equal(first.filter((n) => n.startsWith("pub-a-apex-")).length, 2, "two A records at the apex differ by their data hash");
        });

        it("outputs the zone name, the record names and Cloudflare's name servers", async () => {
            setCallResult((token, inputs) => (token === "cloudflare:index/getZone:getZone" && inputs.zoneId === ZONE_ID ? { zoneId: ZONE_ID, nameServers: ["b.ns.cloudflare.com", "a.ns.cloudflare.com"] } : undefined));
            const z = new DnsZone("pub", args);
            assert.equal(await resolve(z.zoneName), "example.org");
            assert.deepEqual(await resolve(z.nameservers), ["a.ns.cloudflare.com", "b.ns.cloudflare.com"]);
            assert.deepEqual(await resolve(z.fqdns), ["_sip._tcp.example.org", "example.org", "home.example.org", "long.example.org", "ns1.home.example.org", "vpn.example.org", "www.example.org"]);
            assert.equal(z.delegation, undefined);
        });

        it("keeps the API token in the provider: no input of the zone or its records carries it", async () => {
            const token = "cf-token-7f3a9c1e5b";
            const provider = new cloudflare.Provider("cf", { apiToken: pulumi.secret(token) });
            new DnsZone("pub", args, { providers: { cloudflare: provider } });
            await settle();
            const ours = recorded.filter((r) => r.type !== "pulumi:providers:cloudflare");
            assert.ok(ours.length > 10);
            for (const r of ours) {
                assert.ok(!JSON.stringify(r.inputs).includes(token), `${r.type} ${r.name} carries the token`);
            }
            // The provider itself holds it as a secret, never as a plain string in state.
            const p = recorded.find((r) => r.type === "pulumi:providers:cloudflare")!;
            assert.ok(!plainStrings(p.rawInputs).includes(token));
        });
    });

    describe("route53", () => {
        it("registers one aws.route53.Record per RRset in the given zone, with provider-shaped values", async () => {
            new DnsZone("r53", { zone: "example.org", backend: { kind: "route53", zoneId: "Z0123456789ABC" }, records: RECORDS!.filter((r) => !("proxied" in r)) });
            await settle();
            const got = ofType(R53_RECORD).map((r) => ({ resource: r.name, ...r.inputs }));
            const z = { zoneId: "Z0123456789ABC", ttl: 300 };
            const want = [
                { resource: "r53-a-apex", ...z, name: "example.org", type: "A", records: ["203.0.113.7", "203.0.113.8"] },
                { resource: "r53-aaaa-apex", ...z, name: "example.org", type: "AAAA", records: ["2001:db8::7"] },
                { resource: "r53-txt-apex", ...z, name: "example.org", type: "TXT", records: ["v=spf1 -all"] },
                // The AWS provider adds the outer quotes itself; inner strings are joined by `" "`.
                { resource: "r53-txt-long", ...z, name: "long.example.org", type: "TXT", records: [`${LONG.slice(0, 255)}" "${LONG.slice(255).replace(/"/g, '\\"')}`] },
                { resource: "r53-mx-apex", ...z, name: "example.org", type: "MX", records: ["10 mx.example.net."] },
                { resource: "r53-srv-_sip._tcp", ...z, name: "_sip._tcp.example.org", type: "SRV", records: ["1 5 5060 sip.example.net."] },
                { resource: "r53-caa-apex", ...z, name: "example.org", type: "CAA", records: ['0 issue "letsencrypt.org"'] },
                { resource: "r53-a-vpn", ...z, name: "vpn.example.org", type: "A", records: ["198.51.100.4"] },
            ];
            const key = (r: any) => JSON.stringify(r, Object.keys(r).sort());
            assert.deepEqual(got.map(key).sort(), want.map(key).sort());
        });

        it("looks the hosted zone up by name when no id is given, and outputs its name servers", async () => {
            const calls: Record<string, any>[] = [];
            setCallResult((token, inputs) => {
                if (token !== "aws:route53/getZone:getZone") return undefined;
                calls.push(inputs);
                return inputs.name === "example.org" && !inputs.privateZone ? { zoneId: "ZLOOKEDUP1", name: "example.org", nameServers: ["ns-2.awsdns-02.net", "ns-1.awsdns-01.org"] } : undefined;
            });
            const z = new DnsZone("r53", { zone: "example.org", backend: { kind: "route53" }, records: [{ name: "www", type: "A", value: "203.0.113.7" }] });
            await settle();
            assert.deepEqual(await resolve(z.nameservers), ["ns-1.awsdns-01.org", "ns-2.awsdns-02.net"]);
            await settle();
            assert.deepEqual(ofType(R53_RECORD).map((r) => [r.inputs.zoneId, r.inputs.name]), [["ZLOOKEDUP1", "www.example.org"]]);
            assert.ok(calls.some((c) => c.name === "example.org" && c.privateZone === false));
        });

        it("keeps AWS credentials in the provider", async () => {
            const secretKey = "aws-secret-9d8c7b6a5f";
            const provider = new aws.Provider("aws", { region: "eu-west-1", accessKey: "AKIAEXAMPLE", secretKey: pulumi.secret(secretKey) });
            new DnsZone("r53", { zone: "example.org", backend: { kind: "route53", zoneId: "Z0123456789ABC" }, records: [{ name: "www", type: "A", value: "203.0.113.7" }] }, { providers: { aws: provider } });
            await settle();
            for (const r of recorded.filter((x) => x.type !== "pulumi:providers:aws")) {
                assert.ok(!JSON.stringify(r.inputs).includes(secretKey), `${r.type} ${r.name} carries the secret key`);
            }
            assert.ok(ofType(R53_RECORD).length === 1);
        });
    });
});
