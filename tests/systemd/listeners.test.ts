// SystemdService in the host's listener registry: its listenPorts and its socket; a conflict names the argument at the
// index the program gave it (the resolved ports are sorted) and the first declaration.
import { strict as assert } from "assert";
import { listenersOf } from "../../components/core/owner";
import { Host } from "../../components/host";
import { SystemdService, SystemdServiceArgs } from "../../components/systemd";
import { attempter, fakeHost } from "../attempt";
import { installMocks } from "../mocks";

const newHost = () => fakeHost("box", "10.0.0.9");
const attempt = attempter(SystemdService);
const svc = (host: Host, listenPorts: number[]): SystemdServiceArgs => ({ host, description: "x", execStart: ["/bin/true"], network: "local", listenPorts });

describe("SystemdService listeners", () => {
    before(() => installMocks());

    it("declares each listen port as the unit's, with the service's network as its scope", () => {
        const host = newHost();
        assert.equal(attempt("web", svc(host, [8443, 8080])), undefined);
        assert.deepEqual(listenersOf(host).map((l) => [l.protocol, l.port, l.listener, l.scope, l.arg]), [
            ["tcp", 8080, "unit web.service", "local", "listenPorts[1]"],
            ["tcp", 8443, "unit web.service", "local", "listenPorts[0]"],
        ]);
    });

    it("refuses a second unit on a port, naming the port at the index the program gave it and the first unit", () => {
        const host = newHost();
        assert.equal(attempt("web", svc(host, [8080])), undefined);
        const e = attempt("api", svc(host, [9090, 8080]));
        assert.ok(e);
        assert.match(e.message, /'listenPorts\[1\]' argument 8080 is not allowed: .*tcp\/8080 is already used by unit web\.service, declared by .*hearth:systemd:Service\/web/);
        // Another host's port is its own.
        assert.equal(attempt("api", svc(newHost(), [9090, 8080])), undefined);
    });
});

describe("SystemdService listeners: addresses and socket targets", () => {
    before(() => installMocks());
    const sock = (host: Host, listenStream: number | string, targetPort: number, network: "local" | "none" = "local"): SystemdServiceArgs =>
        ({ host, description: "x", execStart: ["/bin/true"], network, socket: { listenStream, targetPort, idleStopSec: 60 } }) as SystemdServiceArgs;

    it("compares socket addresses in canonical form: 0.0.0.0 and [::] are every address, mapped and long IPv6 forms are one", () => {
        const pairs: [string, string][] = [
            ["0.0.0.0:8080", "127.0.0.1:8080"],
            ["[::]:8081", "0.0.0.0:8081"],
            ["[::1]:8082", "[0:0:0:0:0:0:0:1]:8082"],
            ["[::]:8084", "[::1]:8084"],
            ["[::ffff:127.0.0.1]:8083", "127.0.0.1:8083"],
            ["[::ffff:192.168.10.10]:8085", "192.168.10.10:8085"],
        ];
        pairs.forEach(([a, b], i) => {
            const host = newHost();
            assert.equal(attempt(`a${i}`, sock(host, a, 9000 + i)), undefined, a);
            const e = attempt(`b${i}`, sock(host, b, 9100 + i));
            assert.ok(e, `${a} then ${b} was accepted`);
            assert.match(e.message, /'socket\.listenStream' argument .* is already used by unit a\d\.service/, `${a} then ${b}`);
        });
        // Different addresses of one family do not overlap.
        const host = newHost();
        assert.equal(attempt("c1", sock(host, "127.0.0.1:8090", 9200)), undefined);
        assert.equal(attempt("c2", sock(host, "192.168.10.10:8090", 9201)), undefined);
    });

    it("the app behind a socket holds its target port on loopback (unless it has a network of its own)", () => {
        const host = newHost();
        assert.equal(attempt("t1", sock(host, 8090, 9100)), undefined);
        const e = attempt("t2", sock(host, 8091, 9100));
        assert.ok(e);
        assert.match(e.message, /'socket\.targetPort' argument 9100 is not allowed: .*tcp\/9100 on 127\.0\.0\.1 is already used by unit t1\.service/);
        const lp = attempt("lp", svc(host, [9100]));
        assert.ok(lp);
        assert.match(lp.message, /'listenPorts\[0\]' argument 9100 .*already used by unit t1\.service/);
        // With network "none" the app has its own namespace: its target port is its own.
        const other = newHost();
        assert.equal(attempt("n1", sock(other, 8092, 9300, "none")), undefined);
        assert.equal(attempt("n2", sock(other, 8093, 9300, "none")), undefined);
    });
});
