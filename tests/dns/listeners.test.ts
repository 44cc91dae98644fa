// DnsZone (host backend) in the host's listener registry: knotd's TCP and UDP port on each listen address, as its unit
// (one knotd per zone); two zones, or pgbouncer, on one port and address are refused before anything registers.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { listenersOf } from "../../components/core/owner";
import { DnsZone, DnsZoneArgs } from "../../components/dns";
import { serverLayout } from "../../components/dns/knot";
import { Host } from "../../components/host";
import { PostgresDb } from "../../components/postgres";
import { attempter, fakeHost } from "../attempt";
import { installMocks, recorded, resetRecorded, settle } from "../mocks";

const newHost = () => fakeHost("ns", "10.0.0.2");
const attempt = attempter(DnsZone);

function zone(host: Host, name: string, extra: Partial<Extract<DnsZoneArgs["backend"], { kind: "host" }>> = {}, isPublic = false): DnsZoneArgs {
    const ns = isPublic ? ["192.0.2.53"] : ["10.0.0.2", "fd00:0:0:0::2"];
    const a = isPublic ? "192.0.2.10" : "10.0.0.10";
    return { zone: name, public: isPublic, backend: { kind: "host", host, nameservers: [{ name: "ns1", addresses: ns }], ...extra }, records: [{ name: "@", type: "A", value: a }] };
}

describe("DnsZone listeners", () => {
    before(() => installMocks());

    it("declares TCP and UDP on each listen address (canonical form) as the zone's knotd unit", () => {
        const host = newHost();
        assert.equal(attempt("home", zone(host, "home.example.org")), undefined);
        const unit = `unit ${serverLayout("home.example.org").unit}`;
        const knot = listenersOf(host).filter((l) => l.listener === unit && l.address !== undefined);
        assert.deepEqual(knot.map((l) => [l.protocol, l.port, l.address, l.scope, l.arg]).sort(), [
            ["tcp", 53, "10.0.0.2", "local", "backend.port"],
            ["tcp", 53, "fd00::2", "local", "backend.port"],
            ["udp", 53, "10.0.0.2", "local", "backend.port"],
            ["udp", 53, "fd00::2", "local", "backend.port"],
        ]);
        // Whatever the knotd unit's own SystemdService declares for its port is the same listener, not a conflict.
        assert.ok(listenersOf(host).every((l) => l.port !== 53 || l.listener === unit), JSON.stringify(listenersOf(host)));
    });

    it("says 'internet' for a public zone and uses the given listen addresses and port", () => {
        const host = newHost();
        assert.equal(attempt("pub", zone(host, "example.org", { listen: ["192.0.2.53"], port: 5353 }, true)), undefined);
        const knot = listenersOf(host).filter((l) => l.address !== undefined);
        assert.deepEqual(knot.map((l) => `${l.protocol}/${l.port} ${l.address} ${l.scope}`).sort(), ["tcp/5353 192.0.2.53 internet", "udp/5353 192.0.2.53 internet"]);
    });

    it("refuses a second zone's knotd on the same address and port, naming the argument and the first unit, before registering", async () => {
        const host = newHost();
        assert.equal(attempt("home", zone(host, "home.example.org")), undefined);
        await settle();
        resetRecorded();
        const e = attempt("lab", zone(host, "lab.example.org", { listen: ["10.0.0.2"] }));
        assert.ok(e instanceof pulumi.ResourceError, `a ResourceError, got ${e}`);
        assert.match(e!.message, new RegExp(`^The 'backend\\.port' argument 53 is not allowed: expected a port no other listener on this host uses \\(tcp/53 on 10\\.0\\.0\\.2 is already used by unit ${serverLayout("home.example.org").unit.replace(/\./g, "\\.")}, declared by .*hearth:dns:Zone/home\\)\\.$`));
        await settle();
        assert.equal(recorded.length, 0, "nothing registered for the refused zone");
        // On another port the second zone is fine. On another address of the same port it is refused too: the knotd
        // unit (a SystemdService) declares its port on every address of the host.
        assert.match(attempt("lab", zone(host, "lab.example.org", { listen: ["10.0.0.3"] }))!.message, /tcp\/53 is already used by unit hearth-dns-home-example-org\.service, declared by .*hearth:systemd:Service\/home-knot/);
        assert.equal(attempt("lab2", zone(host, "lab2.example.org", { listen: ["10.0.0.2"], port: 5300 })), undefined);
    });

    it("refuses pgbouncer on every address of a port knotd answers on", () => {
        const host = newHost();
        assert.equal(attempt("home", zone(host, "home.example.org")), undefined);
        assert.throws(() => new PostgresDb("app", { host, database: "app", pooler: { port: 53, listenAddress: "*" } }), /'pooler\.port' argument 53 .*tcp\/53 on 10\.0\.0\.2 is already used by unit hearth-dns-home-example-org\.service/);
    });
});
