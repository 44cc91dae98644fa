// SystemdService in the host's listener registry: its listenPorts and its socket; a conflict names the argument at the
// index the program gave it (the resolved ports are sorted) and the first declaration.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { listenersOf } from "../../components/core/owner";
import { Host } from "../../components/host";
import { SystemdService, SystemdServiceArgs } from "../../components/systemd";
import { installMocks, TEST_HOST_KEY } from "../mocks";

const key = () => pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n");
const newHost = () => new Host({ name: "box", address: "10.0.0.9", privateKey: key(), hostKey: TEST_HOST_KEY });
const svc = (host: Host, listenPorts: number[]): SystemdServiceArgs => ({ host, description: "x", execStart: ["/bin/true"], network: "local", listenPorts });

function attempt(name: string, args: SystemdServiceArgs): Error | undefined {
    try {
        new SystemdService(name, args);
        return undefined;
    } catch (e) {
        return e as Error;
    }
}

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
