// Two entries that would fight over one thing on a host are config errors before anything registers, and each error
// names both entries' key paths: the one refused and the one that declared the thing first.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { parseSiteConfig } from "../../stacks/schema";
import { buildSite } from "../../stacks/site";
import { installMocks, recorded, resetRecorded, settle, TEST_HOST_KEY } from "../mocks";

type Values = Record<string, any>;

function base(): Values {
    return { sshPrivateKey: "placeholder", hosts: [{ name: "web1", address: "192.0.2.10", hostKey: TEST_HOST_KEY, facts: { zfs: true } }] };
}

const svc = (name: string, extra: Values = {}) => ({ name, host: "web1", description: `the ${name} service`, execStart: ["/usr/bin/true"], ...extra });

/** The config problems the site reports (one per line), or [] when it built. */
function build(v: Values): string[] {
    resetRecorded();
    try {
        buildSite(parseSiteConfig({ values: v, secretKeys: new Set(["sshPrivateKey"]) }), { secret: () => pulumi.secret("fake-secret-value") });
        return [];
    } catch (e) {
        return (e as Error).message.split("\n").slice(1).map((l) => l.trim());
    }
}

const OWNER = "hearth/conflicts";

describe("site config: conflicts name both entries", () => {
    before(() => installMocks("hearth", "conflicts"));

    const cases: [string, (v: Values) => void, string][] = [
        [
            "two services on one host and port",
            (v) => (v.services = [svc("a", { network: "local", listenPorts: [8080] }), svc("b", { network: "local", listenPorts: [8080, 9090] })]),
            `'hearth:services[1].listenPorts[0]' is 8080: expected a port no other listener on this host uses (tcp/8080 is already used by unit a.service, declared by ${OWNER}/hearth:systemd:Service/a ('hearth:services[0].listenPorts[0]'))`,
        ],
        [
            "a service on the PostgreSQL server's port",
            (v) => {
                v.databases = [{ name: "db", host: "web1", database: "app" }];
                v.services = [svc("a", { network: "local", listenPorts: [5432] })];
            },
            `'hearth:services[0].listenPorts[0]' is 5432: expected a port no other listener on this host uses (tcp/5432 is already used by postgresql@15-main, declared by ${OWNER}/hearth:postgres:Database/db ('hearth:databases[0].port'))`,
        ],
        [
            "two datasets with one name",
            (v) => (v.datasets = [{ name: "a", host: "web1", dataset: "tank/data" }, { name: "b", host: "web1", dataset: "tank/data" }]),
            `'hearth:datasets[1].dataset' is "tank/data": expected an object no other resource on this host manages (dataset tank/data is already managed by ${OWNER}/hearth:zfs:Dataset/a ('hearth:datasets[0].dataset'))`,
        ],
        [
            "two databases with one name on one server",
            (v) => (v.databases = [{ name: "a", host: "web1", database: "app", user: "one" }, { name: "b", host: "web1", database: "app", user: "two" }]),
            `'hearth:databases[1].database' is "app": expected an object no other resource on this host manages (postgres database 5432/app is already managed by ${OWNER}/hearth:postgres:Database/a ('hearth:databases[0].database'))`,
        ],
        [
            "two roles with one name on one server",
            (v) => (v.databases = [{ name: "a", host: "web1", database: "one", user: "app" }, { name: "b", host: "web1", database: "two", user: "app" }]),
            `'hearth:databases[1].user' is "app": expected an object no other resource on this host manages (postgres role 5432/app is already managed by ${OWNER}/hearth:postgres:Database/a ('hearth:databases[0].user'))`,
        ],
        [
            "two files with one path",
            (v) => (v.files = [{ name: "a", host: "web1", path: "/etc/radicale/config", content: "x\n" }, { name: "b", host: "web1", path: "/etc/radicale/config", content: "y\n" }]),
            `'hearth:files[1].path' is "/etc/radicale/config": expected an object no other resource on this host manages (file /etc/radicale/config is already managed by ${OWNER}/hearth:files:File/a ('hearth:files[0].path'))`,
        ],
        [
            "a service named like a socket-activated service's proxy unit",
            (v) => (v.services = [svc("web", { socket: { listenStream: 8080, targetPort: 8081, idleStopSec: 60 } }), svc("web-proxy")]),
            `'hearth:services[1].unitName' is "web-proxy.service": expected an object no other resource on this host manages (systemd unit web-proxy.service is already managed by ${OWNER}/hearth:systemd:Service/web ('hearth:services[0].socket'))`,
        ],
        [
            "a package installed by two entries",
            (v) => (v.packages = [{ name: "a", host: "web1", packages: ["radicale"] }, { name: "b", host: "web1", packages: ["curl", { name: "radicale", hold: true }] }]),
            `'hearth:packages[1].packages[1]' is "radicale": expected an object no other resource on this host manages (apt package radicale is already managed by ${OWNER}/hearth:apt:Packages/a ('hearth:packages[0].packages[0]'))`,
        ],
        [
            "a packaged unit kept by two entries",
            (v) =>
                (v.packages = [
                    { name: "a", host: "web1", packages: ["postgresql"], keepUnits: ["postgresql@.service"] },
                    { name: "b", host: "web1", packages: ["postgresql-15"], keepUnits: ["postgresql@.service"] },
                ]),
            `'hearth:packages[1].keepUnits[0]' is "postgresql@.service": expected an object no other resource on this host manages (apt packaged unit postgresql@.service is already managed by ${OWNER}/hearth:apt:Packages/a ('hearth:packages[0].keepUnits[0]'))`,
        ],
        [
            "a packaged unit kept by hand that a service's drop-in already keeps",
            (v) => {
                v.packages = [
                    { name: "a", host: "web1", packages: ["pgbouncer"] },
                    { name: "b", host: "web1", packages: ["curl"], keepUnits: ["pgbouncer.service"] },
                ];
                v.services = [{ name: "pgb", host: "web1", dropIn: { unit: "pgbouncer.service" } }];
            },
            // The drop-in's unit goes to the entry installing the package of its name; listing it by hand elsewhere is a second claim.
            `'hearth:packages[1].keepUnits[0]' is "pgbouncer.service": expected an object no other resource on this host manages (apt packaged unit pgbouncer.service is already managed by ${OWNER}/hearth:apt:Packages/a ('hearth:packages[0].keepUnits[0]'))`,
        ],
    ];

    for (const [what, edit, expected] of cases) {
        it(`refuses ${what}, naming both key paths, with nothing registered`, async () => {
            const v = base();
            edit(v);
            const problems = build(v);
            await settle();
            assert.deepEqual(problems, [expected]);
            assert.deepEqual(recorded, [], "nothing may be registered");
        });
    }

    it("the same entries without the shared thing build", async () => {
        const v = base();
        v.services = [svc("a", { network: "local", listenPorts: [8080] }), svc("b", { network: "local", listenPorts: [8081] }), svc("web", { socket: { listenStream: 8090, targetPort: 8091, idleStopSec: 60 } })];
        v.databases = [{ name: "a", host: "web1", database: "one", user: "one" }, { name: "b", host: "web1", database: "two", user: "two" }];
        v.files = [{ name: "a", host: "web1", path: "/etc/radicale/config", content: "x\n" }, { name: "b", host: "web1", path: "/etc/radicale/rights", content: "y\n" }];
        v.packages = [{ name: "a", host: "web1", packages: ["radicale"] }, { name: "b", host: "web1", packages: ["curl"] }];
        assert.deepEqual(build(v), []);
        await settle();
        assert.equal(recorded.filter((r) => r.type === "hearth:systemd:Service").length, 3);
    });
});
