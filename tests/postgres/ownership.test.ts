// PostgresDb ownership at plan time: two resources claiming one database, role or pgbouncer entry on a host are refused
// before anything is registered, with an error naming the argument; the mark the scripts carry names the resource.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { PostgresDb, PostgresDbArgs } from "../../components/postgres";
import { installMocks, recorded, resetRecorded, settle, TEST_HOST_KEY } from "../mocks";

const key = () => pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n");
const newHost = (name = "db1") => new Host({ name, address: "10.0.0.7", privateKey: key(), hostKey: TEST_HOST_KEY, facts: { zfs: true } });

function attempt(name: string, args: PostgresDbArgs, opts?: pulumi.ComponentResourceOptions): Error | undefined {
    try {
        new PostgresDb(name, args, opts);
        return undefined;
    } catch (e) {
        return e as Error;
    }
}

describe("PostgresDb ownership", () => {
    before(() => installMocks());

    it("refuses a second resource for the same database on a host, naming the argument, before registering it", async () => {
        const host = newHost();
        resetRecorded();
        assert.equal(attempt("shop", { host, database: "shop" }), undefined);
        await settle();
        const before = recorded.length;
        const e = attempt("shop-again", { host, database: "shop", user: "other" });
        assert.ok(e instanceof pulumi.ResourceError, `a ResourceError, got ${e}`);
        assert.match(e!.message, /'database' argument "shop"/);
        assert.match(e!.message, /already managed by .*hearth:postgres:Database\/shop/);
        await settle();
        assert.equal(recorded.length, before, "nothing registered for the refused resource");
    });

    it("refuses a second resource for the same role, and the same pgbouncer entry on another port", () => {
        const host = newHost();
        assert.equal(attempt("a", { host, database: "a", user: "app" }), undefined);
        assert.match(attempt("b", { host, database: "b", user: "app" })!.message, /'user' argument "app"/);
        assert.equal(attempt("c", { host, database: "c", pooler: {} }), undefined);
        assert.match(attempt("c2", { host, database: "c", user: "c2", port: 5433, pooler: {} })!.message, /'database' argument "c"/);
    });

    it("allows the same names on another host or on another cluster port of one host", () => {
        assert.equal(attempt("x", { host: newHost("h1"), database: "x" }), undefined);
        assert.equal(attempt("x", { host: newHost("h2"), database: "x" }), undefined);
        const host = newHost();
        assert.equal(attempt("y", { host, database: "y" }), undefined);
        assert.equal(attempt("y5433", { host, database: "y", port: 5433 }), undefined);
    });

    it("names the resource in the scripts' mark, accepts its aliases, and carries adopt", async () => {
        resetRecorded();
        new PostgresDb("renamed", { host: newHost(), database: "shop", adopt: true }, { aliases: [{ name: "shop-old" }] });
        await settle();
        const create: string = recorded.find((r) => r.name === "renamed-database")!.inputs.create;
        assert.match(create, /^hearth_owner=[^\n]*\/hearth:postgres:Database\/renamed$/m);
        assert.match(create, /^hearth_aliases=\([^\n]*\/hearth:postgres:Database\/shop-old\)$/m);
        assert.match(create, /^hearth_adopt=1$/m);
        const del: string = recorded.find((r) => r.name === "renamed-database-lifecycle")!.inputs.delete;
        assert.match(del, /^hearth_owner=[^\n]*\/hearth:postgres:Database\/renamed$/m);
    });
});
