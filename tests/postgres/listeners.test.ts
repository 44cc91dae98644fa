// PostgresDb in the host's listener registry: the server's port (one listener for every database of a cluster) and
// pgbouncer's; another listener on either is refused before anything registers, naming the argument and the first.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { listenersOf } from "../../components/core/owner";
import { HostFacts } from "../../components/host";
import { PostgresDb } from "../../components/postgres";
import { attempter, fakeHost } from "../attempt";
import { installMocks, recorded, resetRecorded, settle } from "../mocks";

const newHost = (facts: HostFacts = {}) => fakeHost("db1", "10.0.0.7", facts);
const attempt = attempter(PostgresDb);

describe("PostgresDb listeners", () => {
    before(() => installMocks());

    it("declares the cluster's port once for every database on it, named after the host's cluster fact", () => {
        const host = newHost({ postgresql: { version: 16, cluster: "data" } });
        assert.equal(attempt("a", { host, database: "a" }), undefined);
        assert.equal(attempt("b", { host, database: "b" }), undefined);
        const ls = listenersOf(host);
        assert.equal(ls.length, 1);
        assert.deepEqual({ ...ls[0], owner: undefined }, { protocol: "tcp", port: 5432, listener: "postgresql@16-data", scope: "local", owner: undefined, arg: "port", where: undefined });
        assert.match(ls[0].owner, /hearth:postgres:Database\/a$/);
    });

    it("declares pgbouncer on its address (loopback by default), on every address for '*' or an unspecified address", () => {
        const host = newHost();
        assert.equal(attempt("a", { host, database: "a", pooler: {} }), undefined);
        assert.equal(attempt("b", { host, database: "b", pooler: {} }), undefined);
        const bouncer = listenersOf(host).filter((l) => l.listener === "pgbouncer");
        assert.deepEqual(bouncer.map((l) => [l.protocol, l.port, l.address, l.scope]), [["tcp", 6432, "127.0.0.1", "loopback"]]);
        for (const listenAddress of ["*", "0.0.0.0", "::"]) {
            const h = newHost();
            assert.equal(attempt("c", { host: h, database: "c", pooler: { listenAddress, port: 6000 } }), undefined);
            const l = listenersOf(h).find((x) => x.listener === "pgbouncer")!;
            assert.deepEqual([l.port, l.address, l.scope], [6000, undefined, "local"], listenAddress);
        }
        const h6 = newHost();
        assert.equal(attempt("d", { host: h6, database: "d", pooler: { listenAddress: "fd00:0:0:0::7" } }), undefined);
        assert.equal(listenersOf(h6).find((x) => x.listener === "pgbouncer")!.address, "fd00::7", "compared in canonical form");
    });

    it("refuses pgbouncer on the port of another cluster, naming the argument, the port and the server, before registering", async () => {
        const host = newHost();
        assert.equal(attempt("main", { host, database: "main" }), undefined);
        await settle();
        resetRecorded();
        const e = attempt("pooled", { host, database: "pooled", port: 5433, pooler: { port: 5432 } });
        assert.ok(e instanceof pulumi.ResourceError, `a ResourceError, got ${e}`);
        assert.equal(e!.message, `The 'pooler.port' argument 5432 is not allowed: expected a port no other listener on this host uses (tcp/5432 is already used by postgresql@15-main, declared by ${pulumi.getProject()}/${pulumi.getStack()}/hearth:postgres:Database/main).`);
        await settle();
        assert.equal(recorded.length, 0, "nothing registered for the refused resource");
    });

    it("refuses a server port that pgbouncer listens on; another Host object is another registry", () => {
        const host = newHost();
        assert.equal(attempt("a", { host, database: "a", pooler: { listenAddress: "10.0.0.7", port: 7000 } }), undefined);
        assert.match(attempt("b", { host, database: "b", port: 7000 })!.message, /^The 'port' argument 7000 is not allowed: .*tcp\/7000 on 10\.0\.0\.7 is already used by pgbouncer/);
        const shared = newHost();
        assert.equal(attempt("x", { host: shared, database: "x", port: 5500 }), undefined);
        const other = fakeHost("db1", "10.0.0.7", { postgresql: { version: 16, cluster: "main" } });
        assert.equal(attempt("y", { host: other, database: "y", port: 5500 }), undefined, "another Host object is another registry");
    });

    it("keeps loopback and another address of one port apart only for pgbouncer itself", () => {
        const host = newHost();
        // pgbouncer on 127.0.0.1:6432 and a database listing the same pooler: the same listener.
        assert.equal(attempt("a", { host, database: "a", pooler: { listenAddress: "127.0.0.1" } }), undefined);
        assert.equal(attempt("b", { host, database: "b", pooler: { listenAddress: "127.0.0.1" } }), undefined);
        // The server moved onto pgbouncer's port: refused whatever the address.
        assert.match(attempt("c", { host, database: "c", port: 6432 })!.message, /'port' argument 6432 .*tcp\/6432 on 127\.0\.0\.1 is already used by pgbouncer/);
    });
});
