// hearth:databases is PostgresDb's own schema: the same keys, and every value the component refuses is refused by the
// site config at the same argument with the same sentence; what needs the host's facts is reported at build time.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ArgumentError } from "../../components/core/errors";
import { Host } from "../../components/host";
import { PostgresDbArgs, resolvePostgresDbArgs } from "../../components/postgres";
import { postgresDbShape } from "../../components/postgres/schema";
import { planDatabases } from "../../stacks/build/databases";
import { databaseSchema, DatabaseConfig } from "../../stacks/config/databases";
import { ProblemCollector } from "../../stacks/config/problems";
import { checkSiteConfig } from "../../stacks/schema";
import { hostileDatabases } from "../postgres/hostile";
import { installMocks, TEST_HOST_KEY } from "../mocks";

const host = (facts = { zfs: true }) => new Host({ name: "web1", address: "192.0.2.10", privateKey: pulumi.secret("k"), hostKey: TEST_HOST_KEY, facts });

/** The site config's problems for one database entry. */
function configProblems(over: Record<string, unknown>): string[] {
    const values = {
        sshPrivateKey: "placeholder",
        hosts: [{ name: "web1", address: "192.0.2.10", hostKey: TEST_HOST_KEY, facts: { zfs: true } }],
        databases: [{ name: "app-db", host: "web1", database: "app", ...over }],
    };
    const r = checkSiteConfig({ values, secretKeys: new Set(["sshPrivateKey"]) });
    return r.ok ? [] : r.problems.map((p) => `'${p.path}' ${p.message}`);
}

/** The component's refusal of the same arguments, as `'<config key path>' ... expected <allowed>`. */
function componentProblem(over: Record<string, unknown>): string {
    try {
        resolvePostgresDbArgs({ host: host(), database: "app", ...over } as PostgresDbArgs);
    } catch (e) {
        assert.ok(e instanceof ArgumentError, `an ArgumentError, got ${e}`);
        const arg = e.arg.startsWith("[") ? e.arg : `.${e.arg}`;
        return `'hearth:databases[0]${arg}' ... expected ${e.allowed}`;
    }
    assert.fail(`the component accepted ${JSON.stringify(over)}`);
}

/** A config problem without how it shows the value (`is "x"`, `is missing`, `is not a known key`). */
const sentence = (problem: string) => problem.replace(/^('[^']*') [\s\S]*?: expected /, "$1 ... expected ");

/** Needs the host's facts: the config cannot know, the build step asks the component. */
const NEEDS_FACTS = new Set(["a tablespace asking for lz4 the pool lacks"]);

/** Limits and cross-field rules beyond the hostile names: the same schema, so the same limits. */
const LIMITS: [string, Record<string, unknown>][] = [
    ["a connection limit of 0", { connectionLimit: 0 }],
    ["a connection limit above 100000", { connectionLimit: 100_001 }],
    ["a password version above a million", { passwordVersion: 1_000_001 }],
    ["a server port of 0", { port: 0 }],
    ["a pooler port of 70000", { pooler: { port: 70_000 } }],
    ["a pooler on the server's port 6432", { port: 6432, pooler: {} }],
    ["an unknown pool mode", { pooler: { poolMode: "statement" } }],
    ["a repeated client network", { clients: ["10.0.0.0/24", { cidr: "10.0.0.0/24", ssl: true }] }],
    ["a client object with a bad network", { clients: [{ cidr: "10.0.0.0/33" }] }],
    ["a repeated grant", { grants: [{ role: "reader" }, { role: "reader", schema: "public" }] }],
    ["an address with a path", { address: "db.example.org/x" }],
    ["a tablespace that destroys on its own", { tablespace: { dataset: "tank/pg/app", destroyOnDelete: true } }],
    ["a tablespace record size that is not a power of two", { tablespace: { dataset: "tank/pg/app", recordsizeKiB: 12 } }],
    ["a tablespace cloned across pools", { tablespace: { dataset: "tank/pg/app", origin: "other/base@v1" } }],
    ["a tablespace snapshot policy keeping nothing", { tablespace: { dataset: "tank/pg/app", snapshots: { every: "daily", keep: {} } } }],
];

describe("site config: hearth:databases derives from PostgresDb's schema", () => {
    before(() => installMocks());

    it("has exactly the component's arguments as keys, besides the entry's name and the site's dependsOn", () => {
        assert.deepEqual(Object.keys(databaseSchema.shape).sort(), ["name", "dependsOn", ...Object.keys(postgresDbShape)].sort());
    });

    for (const [what, over] of [...hostileDatabases.filter(([w]) => !NEEDS_FACTS.has(w)), ...LIMITS] as [string, Record<string, unknown>][]) {
        it(`refuses ${what} as the component does`, () => {
            const expected = componentProblem(over);
            const got = configProblems(over);
            assert.ok(got.length > 0, `the config accepted ${what}`);
            // The config reports every problem (sorted by key path); the component throws its first.
            assert.ok(got.map(sentence).includes(expected), `${expected}\nnot among\n${got.join("\n")}`);
        });
    }

    it("accepts what the component accepts", () => {
        const ok = {
            user: "web",
            address: "db.example.org",
            extensions: ["pgcrypto", "plpython3u"],
            untrustedLanguages: [{ name: "plpython3u", reason: "scoring models run in SQL" }],
            schemas: ["sales"],
            grants: [{ role: "reporting", schema: "sales", tables: ["SELECT"] }],
            clients: ["10.1.0.0/16", { cidr: "fd00::/64", ssl: true }],
            tablespace: { dataset: "tank/pg/app", snapshots: { every: "hourly", keep: { hourly: 24 } } },
            pooler: { listenAddress: "*" },
        };
        assert.deepEqual(configProblems(ok), []);
        resolvePostgresDbArgs({ host: host(), database: "app", ...ok } as PostgresDbArgs);
    });

    it("reports a tablespace the host's facts refuse at its key path when the site is built", () => {
        for (const w of NEEDS_FACTS) {
            const over = hostileDatabases.find(([x]) => x === w)![1] as Record<string, unknown>;
            assert.deepEqual(configProblems(over), [], "the config alone cannot know the pool's features");
            const problems = new ProblemCollector();
            const entry = { name: "app-db", host: "web1", database: "app", ...over } as DatabaseConfig;
            assert.deepEqual(planDatabases([entry], new Map([["web1", host()]]), problems), []);
            assert.deepEqual(problems.problems.map((p) => sentence(`'${p.path}' ${p.message}`)), [componentProblem(over)]);
        }
        const problems = new ProblemCollector();
        const entry: DatabaseConfig = { name: "app-db", host: "web1", database: "app", tablespace: { dataset: "tank/pg/app" } };
        assert.deepEqual(planDatabases([entry], new Map([["web1", host({ zfs: false })]]), problems), []);
        assert.deepEqual(problems.problems.map((p) => p.path), ["hearth:databases[0].tablespace.host"]);
        // Without a tablespace nothing needs the host, and the entry becomes the component's arguments as they are.
        const plain: DatabaseConfig = { name: "app-db", host: "web1", database: "app", clients: ["10.0.0.0/24"] };
        const planned = planDatabases([plain], new Map([["web1", host({ zfs: false })]]), new ProblemCollector());
        assert.equal(planned.length, 1);
        assert.equal(planned[0][0], "app-db");
        assert.deepEqual({ ...planned[0][1], host: undefined }, { database: "app", clients: ["10.0.0.0/24"], host: undefined });
    });
});
