// Two entries that would fight over one thing on a host are config errors before anything registers, and each error
// names both entries' key paths: the one refused and the one that declared the thing first.
import { strict as assert } from "assert";
import { installMocks, recorded, settle } from "../mocks";
import { buildProblems as build, refusedProblems, Values, webHosts } from "./site-values";

function base(): Values {
    return { sshPrivateKey: "placeholder", hosts: webHosts(1) };
}

const svc = (name: string, extra: Values = {}) => ({ name, host: "web1", description: `the ${name} service`, execStart: ["/usr/bin/true"], ...extra });

const OWNER = "hearth/conflicts";
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMHP0rnHYlQm9yr6Lk3ALEcrrwORdxW6oZsHCIu1dB2Z me";
const box = () => ({ name: "box", host: "web1", rootfs: { copyFrom: "/srv/base" }, network: { bridge: "br0" }, addresses: ["10.0.0.5/24"], ssh: { authorizedKey: KEY, privateKey: "sshPrivateKey" } });
const dropIn = (name: string, unit: string, extra: Values = {}) => ({ name, host: "web1", dropIn: { unit, ...extra } });
const OWNED = "a packaged unit, not one another resource on this host manages";
const DROPPED = "a unit no other resource on this host puts a drop-in on";

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
        // A drop-in and a unit another hearth resource writes never meet on a host (the drop-in would change that
        // resource's unit behind its back), whichever entry comes first.
        [
            "a drop-in over another service's unit",
            (v) => (v.services = [svc("web", { network: "local", listenPorts: [9001] }), dropIn("loosen", "web.service", { name: "zz-loose" })]),
            `'hearth:services[1].dropIn.unit' is "web.service": expected ${OWNED} (systemd unit web.service is managed by ${OWNER}/hearth:systemd:Service/web ('hearth:services[0].unitName')): change that resource's own arguments instead`,
        ],
        [
            "a service whose unit another entry's drop-in targets",
            (v) => (v.services = [dropIn("harden", "web.service"), svc("web")]),
            `'hearth:services[1].unitName' is "web.service": expected ${DROPPED} (systemd unit web.service has a drop-in of ${OWNER}/hearth:systemd:Service/harden ('hearth:services[0].dropIn.unit'), which would change this unit)`,
        ],
        [
            "a drop-in over a socket-activated service's proxy unit",
            (v) => (v.services = [svc("sock", { socket: { listenStream: 8080, targetPort: 9002, idleStopSec: 60 } }), dropIn("sockhard", "sock-proxy.service")]),
            `'hearth:services[1].dropIn.unit' is "sock-proxy.service": expected ${OWNED} (systemd unit sock-proxy.service is managed by ${OWNER}/hearth:systemd:Service/sock ('hearth:services[0].socket')): change that resource's own arguments instead`,
        ],
        [
            "a socket-activated service whose proxy unit another entry's drop-in targets",
            (v) => (v.services = [dropIn("proxyhard", "web-proxy.service"), svc("web", { socket: { listenStream: 8080, targetPort: 9002, idleStopSec: 60 } })]),
            `'hearth:services[1].socket' is "web-proxy.service": expected ${DROPPED} (systemd unit web-proxy.service has a drop-in of ${OWNER}/hearth:systemd:Service/proxyhard ('hearth:services[0].dropIn.unit'), which would change this unit)`,
        ],
        [
            "a drop-in over a container's unit",
            (v) => {
                v.containers = [box()];
                v.services = [dropIn("s2", "systemd-nspawn@box.service")];
            },
            `'hearth:services[0].dropIn.unit' is "systemd-nspawn@box.service": expected ${OWNED} (systemd unit systemd-nspawn@box.service is managed by ${OWNER}/hearth:nspawn:Container/box ('hearth:containers[0].machine')): change that resource's own arguments instead`,
        ],
        [
            "a drop-in over a dataset's snapshot unit",
            (v) => {
                v.datasets = [{ name: "photos", host: "web1", dataset: "tank/photos", snapshots: { every: "hourly", keep: { hourly: 24 } } }];
                v.services = [dropIn("s5", "zfs-snapshot-tank-photos-2a801fd7.service")];
            },
            `'hearth:services[0].dropIn.unit' is "zfs-snapshot-tank-photos-2a801fd7.service": expected ${OWNED} (systemd unit zfs-snapshot-tank-photos-2a801fd7.service is managed by ${OWNER}/hearth:systemd:Service/photos-snapshots ('hearth:datasets[0].snapshots.unitName')): change that resource's own arguments instead`,
        ],
        [
            "a zone whose Knot unit a service's drop-in targets",
            (v) => {
                v.zones = [{ name: "z", zone: "home.arpa", backend: { kind: "host", host: "web1", nameservers: [{ name: "ns1", addresses: ["192.0.2.10"] }] } }];
                v.services = [dropIn("s3", "hearth-dns-home-arpa.service", { name: "99-x" })];
            },
            `'hearth:zones[0].backend.unitName' is "hearth-dns-home-arpa.service": expected ${DROPPED} (systemd unit hearth-dns-home-arpa.service has a drop-in of ${OWNER}/hearth:systemd:Service/s3 ('hearth:services[0].dropIn.unit'), which would change this unit)`,
        ],
        // A service sees its config file through a read-only bind over the target: a HostFile at that path is hidden from it.
        [
            "a file at a path a service binds a config file over",
            (v) => {
                v.files = [{ name: "fa", host: "web1", path: "/etc/radicale/config", content: "x\n" }];
                v.services = [svc("radicale", { files: [{ target: "/etc/radicale/users", content: "u\n" }, { target: "/etc/radicale/config", content: "svc\n" }] })];
            },
            `'hearth:services[0].files[1].target' is "/etc/radicale/config": expected a path no other resource on this host writes a file at (file /etc/radicale/config is managed by ${OWNER}/hearth:files:File/fa ('hearth:files[0].path')): the service's read-only bind would hide it from the service; keep one of the two`,
        ],
        [
            "two datasets with one mountpoint",
            (v) => (v.datasets = [{ name: "d3", host: "web1", dataset: "tank/b", mountpoint: "/srv/x" }, { name: "d4", host: "web1", dataset: "tank/c", mountpoint: "/srv/x" }]),
            `'hearth:datasets[1].mountpoint' is "/srv/x": expected an object no other resource on this host manages (mountpoint /srv/x is already managed by ${OWNER}/hearth:zfs:Dataset/d3 ('hearth:datasets[0].mountpoint'))`,
        ],
    ];

    for (const [what, edit, expected] of cases) {
        it(`refuses ${what}, naming both key paths, with nothing registered`, async () => {
            const v = base();
            edit(v);
            assert.deepEqual(await refusedProblems(v), [expected]);
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

    it("drop-ins by several entries on a packaged unit, one target bound by two services, and unmounted datasets build", async () => {
        const v = base();
        v.containers = [box()];
        v.packages = [{ name: "web", host: "web1", packages: ["nginx"] }];
        v.services = [
            dropIn("harden", "nginx.service"),
            dropIn("limits", "nginx.service", { name: "60-limits" }),
            // Each service has its own mount namespace: one path bound in both meets nothing.
            svc("a", { files: [{ target: "/etc/app/config", content: "a\n" }] }),
            svc("b", { files: [{ target: "/etc/app/config", content: "b\n" }] }),
        ];
        v.files = [{ name: "f", host: "web1", path: "/etc/app/other", content: "x\n" }];
        v.datasets = [
            { name: "d1", host: "web1", dataset: "tank/one", mountpoint: "none" },
            { name: "d2", host: "web1", dataset: "tank/two", mountpoint: "none" },
            { name: "d3", host: "web1", dataset: "tank/three", mountpoint: "legacy" },
            { name: "d4", host: "web1", dataset: "tank/four", mountpoint: "legacy" },
            { name: "d5", host: "web1", dataset: "tank/five", mountpoint: "/srv/x" },
            { name: "d6", host: "web1", dataset: "tank/six", mountpoint: "/srv/x/y" },
        ];
        assert.deepEqual(build(v), []);
        await settle();
        assert.deepEqual(recorded.filter((r) => r.type === "hearth:systemd:Service").map((r) => r.name).sort(), ["a", "b", "harden", "limits"]);
        assert.equal(recorded.filter((r) => r.type === "hearth:zfs:Dataset").length, 6);
    });
});
