// DnsZone refuses hostile and invalid input: each case names its argument, and nothing at all is registered.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { DnsZone, DnsZoneArgs } from "../../components/dns";
import { Host } from "../../components/host";
import { installMocks, recorded, resetRecorded, settle, TEST_HOST_KEY } from "../mocks";

const host = () => new Host({ name: "ns", address: "10.0.0.2", privateKey: pulumi.secret("test-key"), hostKey: TEST_HOST_KEY });
const CF = { kind: "cloudflare", zoneId: "0123456789abcdef0123456789abcdef" } as const;
const cf = (records: unknown[], extra: object = {}): DnsZoneArgs => ({ zone: "example.org", backend: CF, records: records as any, ...extra });
const internal = (records: unknown[], extra: object = {}): DnsZoneArgs => ({
    zone: "home.example.org",
    backend: { kind: "host", host: host(), nameservers: [{ name: "ns1", addresses: ["10.0.0.2"] }] },
    records: records as any,
    ...extra,
});
const A = (name: string, value = "192.0.2.10") => ({ name, type: "A", value });

// [what, args, the argument the error must name]
const cases: [string, () => DnsZoneArgs, string][] = [
    ["an uppercase zone", () => ({ ...cf([]), zone: "Example.org" }), "zone"],
    ["a single-label zone", () => ({ ...cf([]), zone: "lan" }), "zone"],
    ["a zone with an underscore label", () => ({ ...cf([]), zone: "_x.example.org" }), "zone"],
    ["a 64-character label", () => cf([A("a".repeat(64))]), "records[0].name"],
    ["a name longer than 253 characters", () => cf([A(Array(5).fill("a".repeat(60)).join("."))]), "records[0].name"],
    ["a name with a space", () => cf([A("a b")]), "records[0].name"],
    ["shell syntax in a name", () => cf([A("$(reboot)")]), "records[0].name"],
    ["an underscore label on an A record", () => cf([A("_svc")]), "records[0].name"],
    ["an inner underscore", () => cf([A("my_host")]), "records[0].name"],
    ["a label starting with a hyphen", () => cf([A("-www")]), "records[0].name"],
    ["a non-ASCII (IDN) label", () => cf([A("bücher")]), "records[0].name"],
    ["an absolute-looking name without its dot", () => cf([A("www.example.org")]), "records[0].name"],
    ["an absolute name outside the zone", () => cf([A("www.example.net.")]), "records[0].name"],
    ["a wildcard without allowWildcard", () => cf([A("*")]), "records[0].name"],
    ["a wildcard that is not leftmost", () => cf([A("a.*.b")], { allowWildcard: true }), "records[0].name"],
    ["a TTL of 0", () => cf([{ ...A("www"), ttl: 0 }]), "records[0].ttl"],
    ["a TTL beyond a day", () => cf([{ ...A("www"), ttl: 604800 }]), "records[0].ttl"],
    ["a fractional zone TTL", () => cf([], { ttl: 300.5 }), "ttl"],
    ["a CNAME beside an A record", () => cf([A("www"), { name: "www", type: "CNAME", value: "cdn.example.net" }]), "records[1]"],
    ["two CNAMEs at one name", () => cf([{ name: "w", type: "CNAME", value: "a.example.net" }, { name: "w", type: "CNAME", value: "b.example.net" }]), "records[1]"],
    ["a CNAME at the apex", () => cf([{ name: "@", type: "CNAME", value: "cdn.example.net" }]), "records[0].name"],
    ["a duplicate record", () => cf([A("www"), A("www")]), "records[1]"],
    ["a duplicate IPv6 record in another spelling", () => cf([{ name: "w", type: "AAAA", value: "2001:db8::1" }, { name: "w", type: "AAAA", value: "2001:0DB8:0:0::1" }]), "records[1]"],
    ["two TTLs in one RRset", () => cf([A("www", "192.0.2.1"), { ...A("www", "192.0.2.2"), ttl: 600 }]), "records[1].ttl"],
    ["an RFC 1918 address in a public zone", () => cf([A("nas", "10.1.2.3")]), "records[0].value"],
    ["a ULA address in a public zone", () => cf([{ name: "nas", type: "AAAA", value: "fd12:3456::1" }]), "records[0].value"],
    ["a loopback address in a public zone", () => cf([A("lo", "127.0.0.1")]), "records[0].value"],
    ["a CGNAT address in a public zone", () => cf([A("cg", "100.64.1.1")]), "records[0].value"],
    ["a link-local address in a public zone", () => cf([A("ll", "169.254.1.1")]), "records[0].value"],
    ["an IPv6 link-local address in a public zone", () => cf([{ name: "ll", type: "AAAA", value: "fe80::1" }]), "records[0].value"],
    ["a private service address in a public zone", () => cf([{ name: "git", service: { hostname: "git", addresses: ["192.168.1.5"] } }]), "records[0].service.addresses[0]"],
    ["a multicast address even with allowPrivate", () => cf([A("m", "224.0.0.1")], { allowPrivate: true }), "records[0].value"],
    ["an IPv6 address in an A record", () => cf([A("w", "2001:db8::1")]), "records[0].value"],
    ["an IPv4 address with leading zeros", () => cf([A("w", "010.0.0.1")]), "records[0].value"],
    ["an octet above 255", () => cf([A("w", "256.1.1.1")]), "records[0].value"],
    ["an IPv6 zone id", () => cf([{ name: "w", type: "AAAA", value: "2001:db8::1%eth0" }]), "records[0].value"],
    ["a TXT value with a newline", () => cf([{ name: "t", type: "TXT", value: "a\nb" }]), "records[0].value"],
    ["a TXT value longer than 4000 characters", () => cf([{ name: "t", type: "TXT", value: "x".repeat(4001) }]), "records[0].value"],
    ["an MX priority above 65535", () => cf([{ name: "@", type: "MX", priority: 70000, exchange: "mx.example.org" }]), "records[0].priority"],
    ["an MX pointing at an IP address", () => cf([{ name: "@", type: "MX", priority: 10, exchange: "192.0.2.1" }]), "records[0].exchange"],
    ["a CNAME target with a quote", () => cf([{ name: "w", type: "CNAME", value: "a\"b.example.net" }]), "records[0].value"],
    ["an SRV owner without a protocol label", () => cf([{ name: "_sip", type: "SRV", priority: 1, weight: 1, port: 5060, target: "sip.example.org" }]), "records[0].name"],
    ["an SRV port above 65535", () => cf([{ name: "_sip._tcp", type: "SRV", priority: 1, weight: 1, port: 65536, target: "sip.example.org" }]), "records[0].port"],
    ["an unknown CAA tag", () => cf([{ name: "@", type: "CAA", tag: "issuer", value: "letsencrypt.org" }]), "records[0].tag"],
    ["a CAA value with a quote", () => cf([{ name: "@", type: "CAA", tag: "issue", value: "le\"org" }]), "records[0].value"],
    ["an unsupported record type", () => cf([{ name: "x", type: "PTR", value: "a.example.org" }]), "records[0].type"],
    ["a record that is a string", () => cf(["www A 192.0.2.1"]), "records[0]"],
    ["a misspelled record key", () => cf([{ name: "w", type: "A", value: "192.0.2.1", adress: "x" }]), "records[0].adress"],
    ["a credential in the backend args", () => ({ zone: "example.org", backend: { ...CF, apiToken: "secret-token" } as any }), "backend.apiToken"],
    ["a malformed Cloudflare zone id", () => ({ zone: "example.org", backend: { kind: "cloudflare", zoneId: "example.org" } }), "backend.zoneId"],
    ["a malformed Route53 zone id", () => ({ zone: "example.org", backend: { kind: "route53", zoneId: "z123;rm" } }), "backend.zoneId"],
    ["an unknown backend", () => ({ zone: "example.org", backend: { kind: "bind" } as any }), "backend.kind"],
    ["proxied on Route53", () => ({ zone: "example.org", backend: { kind: "route53" }, records: [{ ...A("w"), proxied: true }] as any }), "records[0].proxied"],
    ["a proxied TXT record", () => cf([{ name: "t", type: "TXT", value: "x", proxied: true }]), "records[0].proxied"],
    ["an NS record at the apex", () => cf([{ name: "@", type: "NS", value: "ns.example.net" }]), "records[0].name"],
    ["a record below a delegation", () => cf([A("a.sub")], { delegations: [{ zone: "sub.example.org", nameservers: [{ name: "ns.example.net" }] }] }), "records[0]"],
    ["a delegation outside the zone", () => cf([], { delegations: [{ zone: "example.net", nameservers: [{ name: "ns.example.net" }] }] }), "delegations[0].zone"],
    ["an in-child name server without glue", () => cf([], { delegations: [{ zone: "sub.example.org", nameservers: [{ name: "ns1.sub.example.org" }] }] }), "delegations[0].nameservers[0].addresses"],
    ["Output addresses on a cloud backend", () => cf([{ name: "git", service: { hostname: "git", addresses: pulumi.output(["192.0.2.5"]) } }]), "records[0].service.addresses"],
    ["a service hostname outside the zone", () => internal([{ service: { hostname: "git.example.net", addresses: ["10.0.0.5"] } }]), "records[0].service.hostname"],
    ["a host backend without name servers", () => ({ ...internal([]), backend: { kind: "host", host: host(), nameservers: [] } }), "backend.nameservers"],
    ["a name server address that is not an address", () => ({ ...internal([]), backend: { kind: "host", host: host(), nameservers: [{ name: "ns1", addresses: ["10.0.0.300"] }] } }), "backend.nameservers[0].addresses[0]"],
    ["shell syntax in the hostmaster", () => ({ ...internal([]), backend: { kind: "host", host: host(), nameservers: [{ name: "ns1", addresses: ["10.0.0.2"] }], hostmaster: "a;reboot@example.org" } }), "backend.hostmaster"],
    ["a host that is not a Host", () => ({ ...internal([]), backend: { kind: "host", host: { address: "10.0.0.2" } as any, nameservers: [{ name: "ns1", addresses: ["10.0.0.2"] }] } }), "backend.host"],
    ["port 0", () => ({ ...internal([]), backend: { kind: "host", host: host(), nameservers: [{ name: "ns1", addresses: ["10.0.0.2"] }], port: 0 } }), "backend.port"],
    // Each record type and each backend kind has its own keys: a mix is refused at the key that does not belong.
    ["an MX record with a value", () => cf([{ name: "@", type: "MX", priority: 10, exchange: "mx.example.org", value: "x" }]), "records[0].value"],
    ["a typed record with a service", () => cf([{ ...A("git"), service: { hostname: "git", addresses: ["192.0.2.5"] } }]), "records[0].service"],
    ["a service record with a type", () => cf([{ type: undefined, name: "git", service: { hostname: "git", addresses: ["192.0.2.5"] }, value: "192.0.2.5" }]), "records[0].value"],
    ["a record without a type or a service", () => cf([{ name: "w", value: "192.0.2.1" }]), "records[0].type"],
    ["name servers on a cloud backend", () => ({ zone: "example.org", backend: { ...CF, nameservers: [{ name: "ns1" }] } as any }), "backend.nameservers"],
    ["a Cloudflare zone id on the host backend", () => ({ ...internal([]), backend: { kind: "host", host: host(), nameservers: [{ name: "ns1", addresses: ["10.0.0.2"] }], zoneId: CF.zoneId } as any }), "backend.zoneId"],
    ["a Cloudflare backend without a zone id", () => ({ zone: "example.org", backend: { kind: "cloudflare" } as any }), "backend.zoneId"],
    ["an IPv4-mapped IPv6 address", () => cf([{ name: "w", type: "AAAA", value: "::ffff:192.0.2.1" }]), "records[0].value"],
    ["a glue address in the multicast range", () => cf([], { delegations: [{ zone: "sub.example.org", nameservers: [{ name: "ns1.sub.example.org", addresses: ["224.0.0.1"] }] }] }), "delegations[0].nameservers[0].addresses[0]"],
];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("DnsZone validation", () => {
    before(() => installMocks());
    beforeEach(() => resetRecorded());

    it("has at least 20 hostile cases", () => assert.ok(cases.length >= 20, `${cases.length}`));

    for (const [what, args, arg] of cases) {
        it(`refuses ${what}, naming '${arg}', before registering anything`, async () => {
            let err: unknown;
            try {
                new DnsZone("z", args());
            } catch (e) {
                err = e;
            }
            assert.ok(err instanceof pulumi.ResourceError, `expected a ResourceError, got ${String(err)}`);
            assert.match((err as Error).message, new RegExp(`^The '${escape(arg)}' argument .* is not allowed: expected .+`));
            await settle();
            assert.deepEqual(recorded.map((r) => r.type), []);
        });
    }

    it("shows an object given as the Host only as '(not a Host)': it may carry a key", () => {
        const args = { ...internal([]), backend: { kind: "host", host: { address: "10.0.0.2", privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----" }, nameservers: [{ name: "ns1", addresses: ["10.0.0.2"] }] } } as any;
        assert.throws(() => new DnsZone("z", args), (e: Error) => e.message === `The 'backend.host' argument "(not a Host)" is not allowed: expected a hearth Host.`);
    });

    it("accepts the same private address once allowPrivate is set, and a wildcard once allowWildcard is set", async () => {
        new DnsZone("ok", cf([A("nas", "10.1.2.3"), A("*.apps")], { allowPrivate: true, allowWildcard: true }));
        await settle();
        assert.deepEqual(recorded.filter((r) => r.type === "cloudflare:index/dnsRecord:DnsRecord").map((r) => r.inputs.name).sort(), ["*.apps.example.org", "nas.example.org"]);
    });

    it("accepts private addresses in an internal (host) zone without allowPrivate", async () => {
        new DnsZone("home", internal([A("nas", "192.168.1.5"), { name: "ula", type: "AAAA", value: "fd00::5" }]));
        await settle();
        assert.ok(recorded.some((r) => r.type === "hearth:dns:Zone" && r.inputs.records.some((x: any) => x.value === "192.168.1.5")));
    });
});
