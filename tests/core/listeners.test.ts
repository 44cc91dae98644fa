// The per-host listener registry (core/owner.ts): one listener may be declared by many resources, two different
// listeners on one protocol and port with overlapping addresses are refused naming the first, and a rehearsal's
// declarations never reach the real registry.
import { strict as assert } from "assert";
import { ArgumentError } from "../../components/core/errors";
import { claimListener, declaredAt, Listener, listenersOf, rehearse } from "../../components/core/owner";

const tcp = (port: number, listener: string, address?: string): Listener => ({ protocol: "tcp", port, listener, scope: "local", ...(address ? { address } : {}) });
const udp = (port: number, listener: string, address?: string): Listener => ({ ...tcp(port, listener, address), protocol: "udp" });

function refusal(fn: () => void): ArgumentError {
    try {
        fn();
    } catch (e) {
        if (e instanceof ArgumentError) return e;
        throw e;
    }
    assert.fail("expected an ArgumentError");
}

describe("listener registry", () => {
    it("takes one listener declared by several resources once, and keeps each of its addresses", () => {
        const host = {};
        claimListener(host, tcp(5432, "postgresql@15-main"), "p/s/db/a", "port", 5432);
        claimListener(host, tcp(5432, "postgresql@15-main"), "p/s/db/b", "port", 5432);
        assert.equal(listenersOf(host).length, 1);
        assert.equal(listenersOf(host)[0].owner, "p/s/db/a", "the first declaration is the one recorded");
        claimListener(host, tcp(53, "unit knot.service", "10.0.0.1"), "p/s/zone/z", "backend.port", 53);
        claimListener(host, tcp(53, "unit knot.service", "10.0.0.2"), "p/s/zone/z", "backend.port", 53);
        claimListener(host, tcp(53, "unit knot.service"), "p/s/svc/knot", "listenPorts[0]", 53);
        assert.deepEqual(listenersOf(host).filter((l) => l.port === 53).map((l) => l.address), ["10.0.0.1", "10.0.0.2", undefined]);
    });

    it("refuses another listener on the same port and address, naming the port, the first listener and where it was declared", () => {
        const host = {};
        declaredAt("hearth:databases[0]", () => claimListener(host, tcp(5432, "postgresql@15-main"), "p/s/db/a", "port", 5432));
        const e = refusal(() => claimListener(host, tcp(5432, "unit web.service"), "p/s/svc/web", "listenPorts[0]", 5432));
        assert.equal(e.arg, "listenPorts[0]");
        assert.equal(e.value, 5432);
        assert.match(e.allowed, /^a port no other listener on this host uses \(tcp\/5432 is already used by postgresql@15-main, declared by p\/s\/db\/a \('hearth:databases\[0\]\.port'\)\)$/);
        assert.equal(listenersOf(host).length, 1, "the refused listener is not recorded");
    });

    it("refuses a wildcard next to a specific address and a specific address next to a wildcard", () => {
        const host = {};
        claimListener(host, tcp(6432, "pgbouncer", "127.0.0.1"), "p/s/db/a", "pooler.port", 6432);
        const wild = refusal(() => claimListener(host, tcp(6432, "unit web.service"), "p/s/svc/web", "listenPorts[0]", 6432));
        assert.match(wild.allowed, /tcp\/6432 on 127\.0\.0\.1 is already used by pgbouncer/);
        const other = {};
        claimListener(other, tcp(8080, "unit web.service"), "p/s/svc/web", "listenPorts[0]", 8080);
        assert.match(refusal(() => claimListener(other, tcp(8080, "pgbouncer", "::1"), "p/s/db/a", "pooler.port", 8080)).allowed, /tcp\/8080 is already used by unit web\.service/);
    });

    it("allows different addresses, UDP next to TCP, other ports and other hosts", () => {
        const host = {};
        claimListener(host, tcp(53, "unit a.service", "10.0.0.1"), "p/s/zone/a", "backend.port", 53);
        claimListener(host, tcp(53, "unit b.service", "10.0.0.2"), "p/s/zone/b", "backend.port", 53);
        claimListener(host, udp(5432, "wireguard wg0"), "p/s/link/l", "hub.listenPort", 5432);
        claimListener(host, tcp(5432, "postgresql@15-main"), "p/s/db/a", "port", 5432);
        claimListener(host, tcp(5433, "postgresql@16-main"), "p/s/db/b", "port", 5433);
        claimListener({}, tcp(5432, "unit web.service"), "p/s/svc/web", "listenPorts[0]", 5432);
        assert.equal(listenersOf(host).length, 5);
        // ...but the same UDP port twice is a conflict like TCP's.
        assert.match(refusal(() => claimListener(host, udp(5432, "wireguard wg1"), "p/s/link/m", "hub.listenPort", 5432)).allowed, /udp\/5432 is already used by wireguard wg0/);
    });

    it("keeps a rehearsal's listeners out of the real registry, and checks them against each other only", () => {
        const host = {};
        claimListener(host, tcp(80, "unit web.service"), "p/s/svc/web", "listenPorts[0]", 80);
        const seen = rehearse(() => {
            // The real registry's listener is not there: the rehearsal starts empty.
            assert.equal(listenersOf(host).length, 0);
            claimListener(host, tcp(80, "unit other.service"), "p/s/svc/other", "listenPorts[0]", 80);
            const e = refusal(() => claimListener(host, tcp(80, "unit third.service"), "p/s/svc/third", "listenPorts[0]", 80));
            assert.match(e.allowed, /already used by unit other\.service/);
            return listenersOf(host).map((l) => l.listener);
        });
        assert.deepEqual(seen, ["unit other.service"]);
        assert.deepEqual(listenersOf(host).map((l) => l.listener), ["unit web.service"], "the real registry is as it was");
    });
});
