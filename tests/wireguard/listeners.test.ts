// WireguardLink in the host's listener registry: each managed side's UDP listenPort; two interfaces on one port of a
// host are refused before anything registers, naming the side's argument and the interface that has the port.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { listenersOf } from "../../components/core/owner";
import { PostgresDb } from "../../components/postgres";
import { WireguardLink } from "../../components/wireguard";
import { attempter, fakeHost } from "../attempt";
import { installMocks, recorded, resetRecorded, settle } from "../mocks";

const attempt = attempter(WireguardLink);
const EXTERNAL = "yFBApxHlqZV2r32SzjVII0ZXAOQcZvyVlFFRbaifYWw=";

describe("WireguardLink listeners", () => {
    before(() => installMocks());

    it("declares the UDP port of every side that has a host, reachable from anywhere when peers dial it", () => {
        const hub = fakeHost("hub", "10.231.1.2");
        const cabin = fakeHost("cabin", "10.231.2.2");
        assert.equal(attempt("sites", { interfaceName: "wg0", hub: { host: hub, endpoint: "198.51.100.1:51820" }, peers: [{ host: cabin, listenPort: 51900 }, { name: "phone", publicKey: EXTERNAL }] }), undefined);
        assert.deepEqual(listenersOf(hub).map((l) => [l.protocol, l.port, l.address, l.listener, l.scope, l.arg]), [["udp", 51820, undefined, "wireguard wg0", "internet", "hub.listenPort"]]);
        assert.deepEqual(listenersOf(cabin).map((l) => [l.protocol, l.port, l.address, l.listener, l.scope, l.arg]), [["udp", 51900, undefined, "wireguard wg0", "local", "peers[0].listenPort"]]);
    });

    it("refuses a second interface on a host's port, naming the side's argument and the first interface, before registering", async () => {
        const rack = fakeHost("rack", "10.231.1.2");
        assert.equal(attempt("one", { interfaceName: "wg0", hub: { host: rack, endpoint: "10.231.1.2:51820" }, peers: [{ name: "x", publicKey: EXTERNAL }] }), undefined);
        await settle();
        resetRecorded();
        const e = attempt("two", { interfaceName: "wg1", hub: { name: "far", publicKey: EXTERNAL, endpoint: "198.51.100.9:51820" }, peers: [{ host: rack }] });
        assert.ok(e instanceof pulumi.ResourceError, `a ResourceError, got ${e}`);
        assert.equal(e!.message, `The 'peers[0].listenPort' argument 51820 is not allowed: expected a port no other listener on this host uses (udp/51820 is already used by wireguard wg0, declared by ${pulumi.getProject()}/${pulumi.getStack()}/hearth:wireguard:Link/one).`);
        await settle();
        assert.equal(recorded.length, 0, "nothing registered for the refused link");
        // On its own port the second interface is fine.
        assert.equal(attempt("two", { interfaceName: "wg1", hub: { name: "far", publicKey: EXTERNAL, endpoint: "198.51.100.9:51820" }, peers: [{ host: rack, listenPort: 51821 }] }), undefined);
    });

    it("shares a port number with a TCP listener (PostgreSQL on 5432) without conflict", () => {
        const db = fakeHost("db", "10.231.4.2");
        new PostgresDb("app", { host: db, database: "app" });
        assert.equal(attempt("odd", { interfaceName: "wg5", hub: { host: db, listenPort: 5432, endpoint: "10.231.4.2:5432" }, peers: [{ name: "x", publicKey: EXTERNAL }] }), undefined);
        assert.deepEqual(listenersOf(db).map((l) => `${l.protocol}/${l.port} ${l.listener}`), ["tcp/5432 postgresql@15-main", "udp/5432 wireguard wg5"]);
    });
});
