// PostgresDb under the mock runtime: what it registers, that secrets stay secret, its outputs, and hostile input.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { PostgresDb, PostgresDbArgs, postgresUri, resolvePostgresDbArgs } from "../../components/postgres";
import { hostileDatabases } from "./hostile";
import { isUntrustedLanguage } from "../../components/postgres/schema";
import { scramVerifier } from "../../components/postgres/scram";
import { installMocks, isSecret, mockPassword, plainStrings, recorded, resetRecorded, resolve, settle, TEST_HOST_KEY } from "../mocks";

const key = () => pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n");
const host = () => new Host({ name: "db1", address: "10.0.0.7", privateKey: key(), hostKey: TEST_HOST_KEY, facts: { zfs: true } });

async function build(args: PostgresDbArgs): Promise<{ error?: Error; count: number }> {
    resetRecorded();
    let error: Error | undefined;
    try {
        new PostgresDb("app", args);
    } catch (e) {
        error = e as Error;
    }
    await settle();
    return { error, count: recorded.length };
}

/** The mock RandomPassword's result for resource `app-password` (tests/mocks.ts). */
const MOCK_PASSWORD = mockPassword("app-password", { version: "1" });


describe("PostgresDb", () => {
    before(() => installMocks());

    describe("refuses hostile names and impossible arguments before registering anything", () => {
        for (const [what, over, re] of hostileDatabases) {
            it(`refuses ${what}`, async () => {
                const { error, count } = await build({ host: host(), database: "app", ...over } as PostgresDbArgs);
                assert.ok(error instanceof pulumi.ResourceError, `a ResourceError, got ${error}`);
                assert.match(error!.message, re);
                assert.match(error!.message, /expected /);
                assert.equal(count, 0, "no resource registered");
            });
        }
    });

    it("creates an untrusted language only with its reasoned opt-in, and keeps trusted ones free of it", async () => {
        const r = resolvePostgresDbArgs({
            host: host(),
            database: "app",
            extensions: ["pgcrypto", "plpython3u", "plpgsql"],
            untrustedLanguages: [{ name: "plpython3u", reason: "scoring models run in SQL" }],
        });
        assert.deepEqual(r.spec.db.extensions, ["pgcrypto", "plpython3u", "plpgsql"]);
        assert.deepEqual(r.untrustedLanguages, [{ name: "plpython3u", reason: "scoring models run in SQL" }]);
        assert.deepEqual(resolvePostgresDbArgs({ host: host(), database: "app", extensions: ["pgcrypto", "plpgsql", "plperl", "pltcl", "plv8"] }).untrustedLanguages, []);
        for (const e of ["plpython3u", "plperlu", "pltclu", "plr", "plsh", "pljava"]) assert.ok(isUntrustedLanguage(e), e);
        for (const e of ["plpgsql", "plperl", "pltcl", "plv8", "pgcrypto", "uuid-ossp"]) assert.ok(!isUntrustedLanguage(e), e);
        const { error, count } = await build({ host: host(), database: "app", extensions: ["plpython3u"], untrustedLanguages: [{ name: "plpython3u", reason: "scoring models run in SQL" }] });
        assert.equal(error, undefined);
        assert.ok(count > 0);
    });

    it("registers the component, a random password, a converge command and a lifecycle command", async () => {
        resetRecorded();
        new PostgresDb("app", { host: host(), database: "app", clients: ["10.0.0.0/24"] });
        await settle();
        assert.deepEqual(recorded.map((r) => `${r.type} ${r.name}`), [
            "hearth:postgres:Database app",
            "random:index/randomPassword:RandomPassword app-password",
            "command:remote:Command app-database",
            "command:remote:Command app-database-lifecycle",
        ]);
        const pw = recorded[1].inputs;
        assert.equal(pw.length, 32);
        assert.equal(pw.special, false);
        assert.deepEqual(pw.keepers, { version: "1" });
        const cmd = recorded[2].inputs;
        assert.equal(cmd.triggers, undefined);
        assert.equal(cmd.delete, undefined);
        assert.match(recorded[3].inputs.delete, /COMMENT ON DATABASE "app" IS NULL/);
        assert.doesNotMatch(recorded[3].inputs.delete, /DROP DATABASE/);
        assert.equal(recorded[0].inputs.authMethod, "scram-sha-256");
    });

    it("keeps the password and its verifier out of every plain input, and sends them only in secret stdin", async () => {
        resetRecorded();
        const db = new PostgresDb("app", { host: host(), database: "app", pooler: {}, clients: ["10.0.0.0/24"] });
        await settle();
        const verifier = scramVerifier(MOCK_PASSWORD, "app");
        for (const r of recorded) {
            const plain = plainStrings(r.rawInputs);
            assert.ok(!plain.some((s) => s.includes(MOCK_PASSWORD) || s.includes(verifier) || s.includes("SCRAM-SHA-256$")), `${r.name} has the secret in a plain input`);
        }
        const cmd = recorded.find((r) => r.name === "app-database")!;
        assert.ok(cmd.inputs.stdin.includes(verifier), "the verifier travels in stdin");
        assert.ok(!cmd.inputs.stdin.includes(MOCK_PASSWORD), "the cleartext password does not even travel to the host");
        assert.equal(await isSecret(db.command.stdin as pulumi.Output<string>), true);
        for (const o of [db.password, db.uri, db.pooledUri]) assert.equal(await isSecret(o as pulumi.Output<unknown>), true);
    });

    it("outputs the connection details and URIs", async () => {
        const db = new PostgresDb("app", { host: host(), database: "app", user: "web", port: 5433, pooler: { port: 6543 } });
        assert.equal(await resolve(db.host), "10.0.0.7");
        assert.equal(await resolve(db.port), 5433);
        assert.equal(await resolve(db.database), "app");
        assert.equal(await resolve(db.user), "web");
        assert.equal(await resolve(db.password), MOCK_PASSWORD);
        assert.equal(await resolve(db.uri), `postgresql://web:${MOCK_PASSWORD}@10.0.0.7:5433/app`);
        // pgbouncer listens on loopback by default, so the pooled URI names loopback.
        assert.equal(await resolve(db.pooledUri), `postgresql://web:${MOCK_PASSWORD}@127.0.0.1:6543/app`);
        const open = new PostgresDb("open", { host: host(), database: "open", pooler: { listenAddress: "*" }, address: "db.example.org" });
        assert.match((await resolve(open.pooledUri))!, /@db\.example\.org:6432\/open$/);
        const none = new PostgresDb("nopool", { host: host(), database: "nopool" });
        assert.equal(await resolve(none.pooledUri), undefined);
        assert.equal(postgresUri("fd00::7", 5432, "a", "u", "p/w"), "postgresql://u:p%2Fw@[fd00::7]:5432/a");
    });

    it("rotates by replacing the password resource: passwordVersion is its keeper", async () => {
        resetRecorded();
        const rotated = new PostgresDb("app", { host: host(), database: "app", passwordVersion: 2 });
        await settle();
        assert.deepEqual(recorded.find((r) => r.name === "app-password")!.inputs.keepers, { version: "2" });
        assert.notEqual(await resolve(rotated.password), MOCK_PASSWORD, "a new keeper gives a new password");
        const stdin = recorded.find((r) => r.name === "app-database")?.inputs.stdin ?? "";
        assert.ok(stdin.includes(scramVerifier(await resolve(rotated.password), "app")), "the rotated verifier travels in stdin");
        assert.ok(!stdin.includes(scramVerifier(MOCK_PASSWORD, "app")), "the old verifier does not");
    });

    it("puts the database on its own dataset, deleted only after the database leaves it", async () => {
        resetRecorded();
        const db = new PostgresDb("app", { host: host(), database: "app", tablespace: { dataset: "tank/pg/app" }, destroyOnDelete: true });
        await settle();
        assert.ok(db.dataset);
        const names = recorded.map((r) => r.name);
        assert.deepEqual(names.filter((n) => n.startsWith("app-tablespace")), ["app-tablespace", "app-tablespace-dataset", "app-tablespace-dataset-lifecycle"]);
        const ds = recorded.find((r) => r.name === "app-tablespace")!.inputs;
        assert.equal(ds.dataset, "tank/pg/app");
        assert.deepEqual(ds.properties, { recordsize: "8192" });
        assert.equal(ds.destroyOnDelete, true, "destroyOnDelete carries to the dataset");
        const cmd = recorded.find((r) => r.name === "app-database")!.inputs;
        assert.match(cmd.create, /hearth_ds=tank\/pg\/app/);
        const life = recorded.find((r) => r.name === "app-database-lifecycle")!.inputs;
        assert.match(life.delete, /pg_dump/);
        assert.match(life.delete, /DROP TABLESPACE "hearth_app"/);
    });
});
