// hearth:zones is DnsZone's own schema: a value the component refuses, the site config refuses at the key path with
// the same sentence, and a value the component takes, the config takes. The zone-wide rules (owners relative to the
// zone, delegations, name servers, the record set) run on the config too, before any resource exists.
import { strict as assert } from "assert";
import { ArgumentError, describe as shown } from "../../components/core/errors";
import { DnsZoneArgs, resolveDnsZoneArgs } from "../../components/dns";
import type { Host } from "../../components/host";
import { checkSiteConfig } from "../../stacks/schema";
import { TEST_HOST_KEY } from "../mocks";

type Values = Record<string, any>;

/** A Host by its shape (the resolvers recognise a Host that way): enough for checking arguments. */
const host = (name: string) => ({ name, connection: {}, wrap: () => undefined }) as unknown as Host;

const CF = { kind: "cloudflare", zoneId: "0123456789abcdef0123456789abcdef" };
const HOST = { kind: "host", host: "web1", nameservers: [{ name: "ns1", addresses: ["10.0.0.2"] }] };

function config(zone: Values): Values {
    return { sshPrivateKey: "placeholder", hosts: [{ name: "web1", address: "192.0.2.10", hostKey: TEST_HOST_KEY }], zones: [zone] };
}

/** The same zone twice: as a config entry (the host by name) and as component arguments (the host as a Host). */
function pair(backend: Values, change: (z: Values) => void): { config: Values; args: DnsZoneArgs } {
    const z: Values = { zone: "example.org", backend: structuredClone(backend), records: [{ name: "www", type: "A", value: "192.0.2.10" }] };
    change(z);
    const b = z.backend;
    const args = { ...z, backend: b && typeof b === "object" && b.kind === "host" && typeof b.host === "string" ? { ...b, host: host(b.host) } : b } as DnsZoneArgs;
    return { config: config({ name: "pub", ...z }), args };
}

function problems(values: Values): string[] {
    const r = checkSiteConfig({ values, secretKeys: new Set(["sshPrivateKey"]) });
    return r.ok ? [] : r.problems.map((p) => `'${p.path}' ${p.message}`);
}

function componentError(args: DnsZoneArgs): ArgumentError | undefined {
    try {
        resolveDnsZoneArgs(args);
        return undefined;
    } catch (e) {
        assert.ok(e instanceof ArgumentError, `expected an ArgumentError, got ${e}`);
        return e;
    }
}

/** Asserts both refuse with one sentence at one place, or both accept; returns the sentence. */
function agree(change: (z: Values) => void, backend: Values = CF): string | undefined {
    const { config: c, args } = pair(backend, change);
    const e = componentError(args);
    const found = problems(c);
    if (!e) {
        assert.deepEqual(found, [], "the component takes it, so the config must");
        return undefined;
    }
    const path = e.arg.startsWith("[") ? `hearth:zones[0]${e.arg}` : `hearth:zones[0].${e.arg}`;
    // The site config never echoes the value of an unknown key (it may be a credential put in the wrong place).
    const value = e.allowed.startsWith("one of the keys of") ? "is not a known key" : e.value === undefined ? "is missing" : `is ${shown(e.value)}`;
    assert.deepEqual(found, [`'${path}' ${value}: expected ${e.allowed}`]);
    return `${e.arg}: ${e.allowed}`;
}

describe("site config hearth:zones: the component's schema", () => {
    it("accepts the base zones, as the component does", () => {
        assert.equal(agree(() => undefined), undefined);
        assert.equal(agree(() => undefined, HOST), undefined);
    });

    const numbers: [string, (z: Values, v: unknown) => void, unknown[]][] = [
        ["ttl", (z, v) => (z.ttl = v), [59, 60, 300, 86400, 86401, 300.5, "300"]],
        ["records[0].ttl", (z, v) => (z.records[0].ttl = v), [0, 60, 86400, 604800]],
        ["an MX priority", (z, v) => (z.records = [{ name: "@", type: "MX", priority: v, exchange: "mx.example.org" }]), [-1, 0, 65535, 65536]],
        ["a CAA flag", (z, v) => (z.records = [{ name: "@", type: "CAA", flags: v, tag: "issue", value: "letsencrypt.org" }]), [0, 1, 128, 255]],
    ];
    for (const [arg, set, values] of numbers) {
        it(`refuses exactly the ${arg} values the component refuses, with its sentence`, () => {
            const refused = values.filter((v) => agree((z) => set(z, v)) !== undefined);
            assert.ok(refused.length > 0 && refused.length < values.length, `${arg}: refused ${JSON.stringify(refused)}`);
        });
    }

    const others: [string, (z: Values) => void, RegExp, Values?][] = [
        ["an uppercase zone", (z) => (z.zone = "Example.org"), /^zone: a zone name such as example\.org, but it has an uppercase label/],
        ["a single-label zone", (z) => (z.zone = "lan"), /^zone: a zone of at least two labels/],
        ["an unknown backend kind", (z) => (z.backend = { kind: "bind", apiToken: "t" }), /^backend\.kind: a backend \{ kind: "cloudflare" \| "route53" \| "host", \.\.\. \}$/],
        ["a malformed Cloudflare zone id", (z) => (z.backend.zoneId = "example.org"), /^backend\.zoneId: a Cloudflare zone id: 32 lowercase hex characters$/],
        ["a credential beside the Cloudflare zone id", (z) => (z.backend.apiToken = "secret"), /^backend\.apiToken: one of the keys of a cloudflare backend: kind, zoneId$/],
        ["name servers on a cloud backend", (z) => (z.backend.nameservers = [{ name: "ns1" }]), /^backend\.nameservers: one of the keys of a cloudflare backend/],
        ["an unsupported record type", (z) => (z.records = [{ name: "x", type: "PTR", value: "a.example.org" }]), /^records\[0\]\.type: one of A, AAAA, CNAME, TXT, MX, SRV, CAA, NS \(or a \{ service \} record\)$/],
        ["an MX record with a value", (z) => (z.records = [{ name: "@", type: "MX", priority: 10, exchange: "mx.example.org", value: "x" }]), /^records\[0\]\.value: one of the keys of an MX record/],
        ["an A record without a value", (z) => (z.records = [{ name: "w", type: "A" }]), /^records\[0\]\.value: an IPv4 address/],
        ["an IPv6 address in an A record", (z) => (z.records[0].value = "2001:db8::1"), /needs type "AAAA"/],
        ["a multicast address", (z) => ((z.records[0].value = "224.0.0.1"), (z.allowPrivate = true)), /^records\[0\]\.value: an address usable in a record, not one in 224\.0\.0\.0\/4 \(multicast\)$/],
        ["a private address in a public zone", (z) => (z.records[0].value = "10.1.2.3"), /^records\[0\]\.value: a public address in the public zone example\.org: it is in 10\.0\.0\.0\/8 \(RFC 1918\)/],
        ["an absolute-looking name without its dot", (z) => (z.records[0].name = "www.example.org"), /^records\[0\]\.name: a relative name: it would mean www\.example\.org\.example\.org/],
        ["a wildcard without allowWildcard", (z) => (z.records[0].name = "*"), /^records\[0\]\.name: .*allowWildcard: true/],
        ["a duplicate record", (z) => z.records.push({ ...z.records[0] }), /^records\[1\]: a record not already given by records\[0\]$/],
        ["a CNAME beside an A record", (z) => z.records.push({ name: "www", type: "CNAME", value: "cdn.example.net" }), /^records\[1\]: no other record at www\.example\.org/],
        ["an iodef CAA value that is not a URL", (z) => (z.records = [{ name: "@", type: "CAA", tag: "iodef", value: "x" }]), /^records\[0\]\.value: a mailto: or https: URL/],
        ["an SRV owner without a protocol label", (z) => (z.records = [{ name: "_sip", type: "SRV", priority: 1, weight: 1, port: 5060, target: "sip.example.org" }]), /^records\[0\]\.name: an SRV owner/],
        ["proxied on a TXT record", (z) => (z.records = [{ name: "t", type: "TXT", value: "x", proxied: true }]), /^records\[0\]\.proxied: false: Cloudflare proxies only A, AAAA and CNAME records$/],
        ["a delegation outside the zone", (z) => (z.delegations = [{ zone: "example.net", nameservers: [{ name: "ns.example.net" }] }]), /^delegations\[0\]\.zone: a zone strictly below example\.org$/],
        ["an in-child name server without glue", (z) => (z.delegations = [{ zone: "sub.example.org", nameservers: [{ name: "ns1.sub.example.org" }] }]), /^delegations\[0\]\.nameservers\[0\]\.addresses: a non-empty list of IP addresses$/],
        ["adopt on a cloud zone", (z) => (z.adopt = true), /^adopt: only with backend kind 'host'/],
        ["a name server at the apex", (z) => (z.backend.nameservers = [{ name: "@", addresses: ["10.0.0.2"] }]), /^backend\.nameservers\[0\]\.name: a name below the apex/, HOST],
        ["an outside name server with addresses", (z) => (z.backend.nameservers = [{ name: "ns.example.net.", addresses: ["192.0.2.1"] }]), /^backend\.nameservers\[0\]\.addresses: no addresses/, HOST],
        ["a hostmaster with shell syntax", (z) => (z.backend.hostmaster = "a;reboot@example.org"), /^backend\.hostmaster: a mailbox such as hostmaster@example\.org/, HOST],
        ["a zone id on the host backend", (z) => (z.backend.zoneId = "Z123"), /^backend\.zoneId: one of the keys of a host backend/, HOST],
        ["port 0", (z) => (z.backend.port = 0), /^backend\.port: an integer from 1 to 65535$/, HOST],
    ];
    for (const [what, change, sentence, backend] of others) {
        it(`refuses ${what} in both, with one sentence at one key path`, () => {
            const allowed = agree(change, backend);
            assert.ok(allowed !== undefined && sentence.test(allowed), `got ${allowed}`);
        });
    }

    it("takes what the component takes: a private address with allowPrivate, a wildcard with allowWildcard, an internal host zone", () => {
        assert.equal(agree((z) => ((z.records[0].value = "10.1.2.3"), (z.allowPrivate = true))), undefined);
        assert.equal(agree((z) => ((z.records[0].name = "*.apps"), (z.allowWildcard = true))), undefined);
        assert.equal(agree((z) => (z.records[0].value = "192.168.1.5"), HOST), undefined);
    });

    it("names the host backend's host by a host of hearth:hosts, and a { service } record by a service of this site", () => {
        const v = config({ name: "home", zone: "home.example.org", backend: { ...HOST, host: host("web1") } });
        assert.deepEqual(problems(v), [`'hearth:zones[0].backend.host' is {"name":"web1","connection":{}}: expected the name of a host in hearth:hosts`]);
        const s = config({ name: "home", zone: "home.example.org", backend: HOST, records: [{ service: { hostname: "git", addresses: ["10.0.0.5"] } }] });
        assert.deepEqual(problems(s), [`'hearth:zones[0].records[0].service' is {"hostname":"git","addresses":["10.0.0.5"]}: expected the name of a service or container of this site`]);
        // A typed record has no `service`: the type decides which keys a record has.
        const typed = config({ name: "home", zone: "home.example.org", backend: HOST, records: [{ name: "git", service: "app", type: "A" }] });
        assert.deepEqual(problems(typed), [
            "'hearth:zones[0].records[0].service' is not a known key: expected one of the keys of an A record: type, name, ttl, proxied, value",
            "'hearth:zones[0].records[0].value' is missing: expected an IPv4 address in dotted-quad form without leading zeros",
        ]);
    });
});
