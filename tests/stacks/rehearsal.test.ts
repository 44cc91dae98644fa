// A site registers nothing unless every entry would: two entries that would manage one object on a host (a unit, a
// dataset, a database, an interface, a zone, a machine) are refused as config problems before the first registers,
// not by the second constructor after the first has registered.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { rehearse, Rehearsed, SystemdService } from "../../components";
import { installMocks, recorded, resetRecorded, settle } from "../mocks";
import { Host } from "../../components";
import { buildProblems as build, refusedProblems, Values, webHosts } from "./site-values";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

function base(): Values {
    return {
        sshPrivateKey: "placeholder",
        hosts: webHosts(),
    };
}

const svc = (name: string, host: string, extra: Values = {}) => ({ name, host, description: `the ${name} service`, execStart: ["/usr/bin/true"], ...extra });

describe("site: every constructor is rehearsed before the first registers", () => {
    before(() => installMocks("hearth", "rehearsal"));

    const cases: [string, (v: Values) => void, string][] = [
        [
            "two services with one unit name on one host",
            (v) => (v.services = [svc("app", "web1"), svc("other", "web1", { unitName: "app" })]),
            `'hearth:services[1].unitName' is "app.service": expected an object no other resource on this host manages (systemd unit app.service is already managed by hearth/rehearsal/hearth:systemd:Service/app ('hearth:services[0].unitName'))`,
        ],
        [
            "two datasets naming one dataset",
            (v) => (v.datasets = [{ name: "a", host: "web1", dataset: "tank/data" }, { name: "b", host: "web1", dataset: "tank/data" }]),
            `'hearth:datasets[1].dataset' is "tank/data": expected an object no other resource on this host manages (dataset tank/data is already managed by hearth/rehearsal/hearth:zfs:Dataset/a ('hearth:datasets[0].dataset'))`,
        ],
        [
            "a dataset whose previous name is another's dataset",
            (v) => (v.datasets = [{ name: "a", host: "web1", dataset: "tank/data" }, { name: "b", host: "web1", dataset: "tank/new", previousNames: ["tank/data"] }]),
            `'hearth:datasets[1].previousNames[0]' is "tank/data": expected an object no other resource on this host manages (dataset tank/data is already managed by hearth/rehearsal/hearth:zfs:Dataset/a ('hearth:datasets[0].dataset'))`,
        ],
        [
            "two databases with one name on one host",
            (v) => (v.databases = [{ name: "a", host: "web1", database: "app" }, { name: "b", host: "web1", database: "app", user: "other" }]),
            `'hearth:databases[1].database' is "app": expected an object no other resource on this host manages (postgres database 5432/app is already managed by hearth/rehearsal/hearth:postgres:Database/a ('hearth:databases[0].database'))`,
        ],
    ];

    // Claims of the children a component declares (a tablespace dataset, a rootfs clone, a snapshot timer) are
    // rehearsed too: nothing registers when one collides.
    const childCases: [string, (v: Values) => void, RegExp][] = [
        [
            "a dataset that is another database's tablespace",
            (v) => {
                v.datasets = [{ name: "data", host: "web1", dataset: "tank/pg" }];
                v.databases = [{ name: "db", host: "web1", database: "app", tablespace: { dataset: "tank/pg" } }];
            },
            /^'hearth:databases\[0\]\.tablespace\.dataset' is "tank\/pg": .*dataset tank\/pg is already managed by hearth\/rehearsal\/hearth:zfs:Dataset\/data/,
        ],
        [
            "a service named like a dataset's snapshot timer child",
            (v) => {
                v.services = [svc("data-snapshots", "web1")];
                v.datasets = [{ name: "data", host: "web1", dataset: "tank/data", snapshots: { every: "daily", keep: { daily: 7 } } }];
            },
            // Datasets are declared before the services that may name them: the service is the second claimant.
            /^'hearth:services\[0\]\.name' is .*expected a resource name whose mark no other resource on this host has .*\('hearth:datasets\[0\]\.snapshots\.name'\)/,
        ],
    ];
    childCases.push([
        "two services with one unit name inside one container",
        (v) => {
            v.containers = [{ name: "c1", host: "web1", rootfs: { existing: true }, network: { bridge: "br0" }, addresses: ["10.0.3.2/24"], ssh: { authorizedKey: KEY, privateKey: "sshPrivateKey" } }];
            v.services = [svc("a", "c1"), svc("b", "c1", { unitName: "a" })];
        },
        /^'hearth:services\[1\]\.unitName' is "a\.service": expected an object no other resource on this host manages/,
    ]);
    for (const [what, edit, expected] of childCases) {
        it(`refuses ${what} with nothing registered`, async () => {
            const v = base();
            edit(v);
            const problems = await refusedProblems(v);
            assert.equal(problems.length, 1, problems.join("\n"));
            assert.match(problems[0], expected);
        });
    }

    for (const [what, edit, expected] of cases) {
        it(`refuses ${what} with nothing registered`, async () => {
            const v = base();
            edit(v);
            assert.deepEqual(await refusedProblems(v), [expected]);
        });
    }

    it("the same entries on two hosts build (a claim is per host), and the real claims are not taken by the rehearsal", async () => {
        const v = base();
        v.services = [svc("app", "web1"), svc("other", "web2", { unitName: "app" })];
        v.datasets = [{ name: "a", host: "web1", dataset: "tank/data" }, { name: "b", host: "web2", dataset: "tank/data" }];
        assert.deepEqual(build(v), []);
        await settle();
        assert.deepEqual(recorded.filter((r) => r.type === "hearth:systemd:Service").map((r) => r.name).sort(), ["app", "other"]);
        assert.deepEqual(recorded.filter((r) => r.type === "hearth:zfs:Dataset").map((r) => r.name).sort(), ["a", "b"]);
    });

    it("a rehearsed constructor stops before registering, and its claims are gone afterwards", async () => {
        resetRecorded();
        const host = new Host({ name: "box", address: "192.0.2.20", privateKey: pulumi.secret("k"), hostKey: KEY });
        const args = { host, description: "x", execStart: ["/usr/bin/true"] };
        assert.throws(() => rehearse(() => new SystemdService("one", args)), Rehearsed);
        // A second resource on the same unit is refused in a rehearsal of both...
        assert.throws(
            () =>
                rehearse(() => {
                    assert.throws(() => new SystemdService("one", args), Rehearsed);
                    new SystemdService("two", { ...args, unitName: "one" });
                }),
            /no other resource on this host manages/,
        );
        // ...but a rehearsal leaves no claim behind: the real declaration of "two" on that unit name still builds.
        new SystemdService("two", { ...args, unitName: "one" });
        await settle();
        assert.deepEqual(recorded.filter((r) => r.type === "hearth:systemd:Service").map((r) => r.name), ["two"]);
    });
});
