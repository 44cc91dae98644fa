// The site schema checks every host path, environment value and argument by the components' own core rules, so a
// hostile value is refused at its key path by the schema alone, before any component resolves its arguments.
import { strict as assert } from "assert";
import { checkSiteConfig } from "../../stacks/schema";
import { HOST_PATH_ALLOWED, SYSTEM_TREE_ALLOWED } from "../../components/core/rules";
import { TEST_HOST_KEY } from "../mocks";

type Values = Record<string, any>;

function base(): Values {
    return {
        sshPrivateKey: "placeholder",
        ctKey: "placeholder",
        hosts: [{ name: "web1", address: "192.0.2.10", hostKey: TEST_HOST_KEY }],
        services: [{ name: "app", host: "web1", description: "An app", execStart: ["/usr/bin/python3", "-m", "http.server", "8080"], network: "local", listenPorts: [8080] }],
        datasets: [{ name: "photos", host: "web1", dataset: "tank/photos", mountpoint: "/srv/photos" }],
        databases: [{ name: "shop", host: "web1", database: "shop", dumpDir: "/var/backups/shop" }],
        containers: [
            {
                name: "ct",
                host: "web1",
                rootfs: { copyFrom: "/srv/base" },
                network: { bridge: "br0" },
                addresses: ["10.0.0.5/24"],
                bindMounts: [{ source: "/srv/media", target: "/media" }],
                ssh: { authorizedKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMHP0rnHYlQm9yr6Lk3ALEcrrwORdxW6oZsHCIu1dB2Z me", privateKey: "ctKey" },
            },
        ],
    };
}

function problems(values: Values): string[] {
    const r = checkSiteConfig({ values, secretKeys: new Set(["sshPrivateKey", "ctKey"]) });
    return r.ok ? [] : r.problems.map((p) => `'${p.path}' ${p.message}`);
}

const HOSTILE_PATHS = ["/srv/$(touch /tmp/CANARY)", "/srv/`id`", '/srv/"; id; "', "/srv/*", "/srv/[ab]", "/srv/%n", "~/base", "/srv/a b", "/srv/../etc", "/srv/a\nb", "/srv/-rf", "srv/base", "/"];

const PATH_FIELDS: [string, (v: Values, p: string) => void][] = [
    ["hearth:containers[0].rootfs.copyFrom", (v, p) => (v.containers[0].rootfs.copyFrom = p)],
    ["hearth:containers[0].bindMounts[0].source", (v, p) => (v.containers[0].bindMounts[0].source = p)],
    ["hearth:containers[0].bindMounts[0].target", (v, p) => (v.containers[0].bindMounts[0].target = p)],
    ["hearth:datasets[0].mountpoint", (v, p) => (v.datasets[0].mountpoint = p)],
    ["hearth:databases[0].dumpDir", (v, p) => (v.databases[0].dumpDir = p)],
    ["hearth:databases[0].socketDir", (v, p) => (v.databases[0].socketDir = p)],
    ["hearth:databases[0].tablespace.mountpoint", (v, p) => (v.databases[0].tablespace = { dataset: "tank/pg/shop", mountpoint: p })],
    ["hearth:services[0].readWritePaths[0]", (v, p) => (v.services[0].readWritePaths = [p])],
    ["hearth:services[0].bindPaths[0].source", (v, p) => (v.services[0].bindPaths = [{ source: p, target: "/data" }])],
    ["hearth:services[0].bindReadOnlyPaths[0]", (v, p) => (v.services[0].bindReadOnlyPaths = [p])],
    ["hearth:services[0].loosen.writablePaths.paths[0]", (v, p) => (v.services[0].loosen = { writablePaths: { paths: [p], reason: "a reason that is long enough" } })],
];

describe("site config: paths and free text by the core rules", () => {
    it("accepts the base config", () => assert.deepEqual(problems(base()), []));

    for (const [path, set] of PATH_FIELDS) {
        for (const p of HOSTILE_PATHS) {
            it(`refuses ${JSON.stringify(p)} at ${path}`, () => {
                const v = base();
                set(v, p);
                const found = problems(v).filter((m) => m.startsWith(`'${path}' `) || (path.endsWith(".source") && m.startsWith(`'${path.replace(/\.source$/, "")}' `)));
                assert.equal(found.length, 1, `no problem at ${path}: ${problems(v).join("\n")}`);
                assert.match(found[0], /: expected .+/);
            });
        }
    }

    it("says what a path may be, in the component's own words", () => {
        const v = base();
        v.containers[0].rootfs.copyFrom = "/srv/$(touch /tmp/CANARY)";
        assert.deepEqual(problems(v), [`'hearth:containers[0].rootfs.copyFrom' is "/srv/$(touch /tmp/CANARY)": expected ${HOST_PATH_ALLOWED}`]);
    });

    it("refuses a mountpoint or dump dir over a system tree, and takes none and legacy", () => {
        for (const m of ["/etc", "/var/lib/postgresql", "/usr/local", "/var/lib/machines"]) {
            const v = base();
            v.datasets[0].mountpoint = m;
            assert.deepEqual(problems(v), [`'hearth:datasets[0].mountpoint' is ${JSON.stringify(m)}: expected ${SYSTEM_TREE_ALLOWED}`]);
        }
        const d = base();
        d.databases[0].dumpDir = "/var/lib/postgresql/dumps";
        assert.equal(problems(d).length, 1);
        for (const m of ["none", "legacy", "/var/lib/machines/web"]) {
            const v = base();
            v.datasets[0].mountpoint = m;
            assert.deepEqual(problems(v), []);
        }
    });

    for (const [what, text] of [["a right-to-left override", "safe \u202eexe.sh"], ["a zero-width space", "a\u200bb"], ["a C1 control", "a\x9bb"], ["a newline", "a\nb"]] as const) {
        it(`refuses ${what} in an environment value, an argument and a description`, () => {
            const v = base();
            v.services[0].environment = { A: text };
            v.services[0].execStart = ["/usr/bin/echo", text];
            v.services[0].description = text;
            const found = problems(v);
            for (const path of ["hearth:services[0].environment.A", "hearth:services[0].execStart[1]", "hearth:services[0].description"]) {
                assert.ok(found.some((m) => m.startsWith(`'${path}' `)), `no problem at ${path}: ${found.join("\n")}`);
            }
        });
    }

    it("takes untrustedLanguages with a reason, and refuses one without", () => {
        const v = base();
        v.databases[0].extensions = ["plpython3u"];
        v.databases[0].untrustedLanguages = [{ name: "plpython3u", reason: "scoring models run in SQL" }];
        assert.deepEqual(problems(v), []);
        v.databases[0].untrustedLanguages = [{ name: "plpython3u" }];
        assert.ok(problems(v).some((m) => m.startsWith("'hearth:databases[0].untrustedLanguages[0].reason' ")), problems(v).join("\n"));
    });
});
