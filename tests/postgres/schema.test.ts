// PostgresDb's schema: what the union and list rules refuse, the tablespace as ZfsDataset's own fields, an Output
// address checked when it resolves, and a @default in every optional argument's description.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { ArgumentError } from "../../components/core/errors";
import { Host } from "../../components/host";
import { PostgresDbArgs, resolvePostgresDbArgs } from "../../components/postgres";
import { postgresDbShape } from "../../components/postgres/schema";
import { installMocks, resolve, TEST_HOST_KEY } from "../mocks";

const host = () => new Host({ name: "db1", address: "10.0.0.7", privateKey: pulumi.secret("k"), hostKey: TEST_HOST_KEY, facts: { zfs: true } });

/** The ArgumentError resolving these arguments throws: its path and message. */
function refusal(over: Partial<PostgresDbArgs> | Record<string, unknown>): { path: readonly (string | number)[]; message: string } {
    try {
        resolvePostgresDbArgs({ host: host(), database: "app", ...over } as PostgresDbArgs);
    } catch (e) {
        assert.ok(e instanceof ArgumentError, `an ArgumentError, got ${e}`);
        return { path: e.path, message: e.message };
    }
    assert.fail(`accepted ${JSON.stringify(over)}`);
}

const CIDR = "an IPv4 or IPv6 network in CIDR form, e.g. 10.0.0.0/24 or fd00::/64";

describe("PostgresDb schema", () => {
    before(() => installMocks());

    it("takes a client as a CIDR or as { cidr, ssl }, and names the part that is wrong", () => {
        const r = resolvePostgresDbArgs({ host: host(), database: "app", clients: ["10.0.0.0/24", { cidr: "fd00::/64", ssl: true }, { cidr: "10.1.0.0/16" }] });
        assert.deepEqual(r.spec.clients, [
            { cidr: "10.0.0.0/24", ssl: false },
            { cidr: "fd00::/64", ssl: true },
            { cidr: "10.1.0.0/16", ssl: false },
        ]);
        assert.deepEqual(refusal({ clients: [{ cidr: "everyone" }] }), { path: ["clients", 0, "cidr"], message: `The 'clients[0].cidr' argument "everyone" is not allowed: expected ${CIDR}.` });
        // A wrong type inside the object form: the object form matched, so the field inside it is named.
        assert.deepEqual(refusal({ clients: [{ cidr: "10.0.0.0/8", ssl: "yes" }] }), { path: ["clients", 0, "ssl"], message: `The 'clients[0].ssl' argument "yes" is not allowed: expected true or false.` });
        assert.deepEqual(refusal({ clients: [{ cidr: "10.0.0.0/8", method: "trust" }] }).path, ["clients", 0, "method"]);
        assert.deepEqual(refusal({ clients: [5] }), { path: ["clients", 0], message: `The 'clients[0]' argument 5 is not allowed: expected ${CIDR}, or { cidr, ssl? }.` });
        // The core IP parser: no leading zeros (octal elsewhere), no zone index.
        assert.deepEqual(refusal({ clients: ["010.0.0.0/8"] }).path, ["clients", 0]);
        assert.deepEqual(refusal({ clients: ["fe80::%eth0/64"] }).path, ["clients", 0]);
    });

    it("refuses a repeated value at the list, comparing networks and grants by what they mean", () => {
        assert.deepEqual(refusal({ clients: ["fd00::/64", { cidr: "FD00:0::/64", ssl: true }] }), {
            path: ["clients"],
            message: `The 'clients' argument "fd00::/64" is not allowed: expected each value at most once.`,
        });
        assert.deepEqual(refusal({ grants: [{ role: "reader" }, { role: "reader", schema: "public", tables: ["SELECT"] }] }), {
            path: ["grants"],
            message: `The 'grants' argument "reader@public" is not allowed: expected each value at most once.`,
        });
        assert.deepEqual(refusal({ grants: [{ role: "reader", tables: ["SELECT", "SELECT"] }] }).path, ["grants", 0, "tables"]);
        assert.deepEqual(refusal({ schemas: ["sales", "sales"] }).path, ["schemas"]);
        assert.deepEqual(refusal({ extensions: ["pgcrypto", "pgcrypto"] }).path, ["extensions"]);
    });

    it("checks a pooler against the server's port, whichever of the two is the default", () => {
        assert.match(refusal({ port: 6432, pooler: {} }).message, /^The 'pooler.port' argument 6432 is not allowed: expected a port other than the server's own \(6432\)\.$/);
        assert.equal(resolvePostgresDbArgs({ host: host(), database: "app", port: 6432, pooler: { port: 6433 } }).spec.pooler?.port, 6433);
        assert.deepEqual(refusal({ pooler: { listenAddress: "fe80::1%eth0" } }).path, ["pooler", "listenAddress"]);
        assert.equal(resolvePostgresDbArgs({ host: host(), database: "app", pooler: { listenAddress: "::" } }).spec.pooler?.listenAddress, "::");
    });

    it("takes the tablespace as ZfsDataset's own fields and rules, without what follows the database", () => {
        for (const key of ["host", "destroyOnDelete", "recursive"]) {
            const r = refusal({ tablespace: { dataset: "tank/pg/app", [key]: true } });
            assert.deepEqual(r.path, ["tablespace", key]);
            assert.match(r.message, /expected one of the keys of a tablespace dataset/);
        }
        // A cross-field rule of ZfsDataset, reported under tablespace.
        assert.deepEqual(refusal({ tablespace: { dataset: "tank/pg/app", origin: "other/base@v1" } }).path, ["tablespace", "origin"]);
        assert.deepEqual(refusal({ tablespace: { dataset: "tank/pg/app", recordsizeKiB: 12 } }).path, ["tablespace", "recordsizeKiB"]);
        // A rule that needs the host's facts, reported under tablespace too.
        assert.deepEqual(refusal({ tablespace: { dataset: "tank/pg/app", encryption: true } }).path, ["tablespace", "encryption"]);
        const r = resolvePostgresDbArgs({ host: host(), database: "app", tablespace: { dataset: "tank/pg/app", recordsizeKiB: 16 }, destroyOnDelete: true });
        assert.equal(r.dataset?.args.recordsizeKiB, 16, "an explicit record size wins over the default 8");
        assert.equal(r.dataset?.args.destroyOnDelete, true);
        assert.equal(r.dataset?.args.recursive, false);
    });

    it("checks an Output address by the same rule when it resolves", async () => {
        const ok = resolvePostgresDbArgs({ host: host(), database: "app", address: pulumi.output("db.example.org") });
        assert.equal(await resolve(ok.address as pulumi.Output<string>), "db.example.org");
        const bad = resolvePostgresDbArgs({ host: host(), database: "app", address: pulumi.output("db.example.org/evil?x=") });
        // The SDK's own promise of the value (an apply that throws never calls the mocks' `resolve`).
        const settled = (bad.address as unknown as { promise(): Promise<string> }).promise();
        await assert.rejects(settled, (e: Error) => e instanceof ArgumentError && e.arg === "address" && /expected an IPv4 or IPv6 address, or a DNS name/.test(e.message));
        assert.deepEqual(refusal({ address: "db example" }).path, ["address"]);
    });

    it("refuses arguments that are not an object, and unknown keys by name", () => {
        assert.deepEqual(refusal({ databse: "app" }).path, ["databse"]);
        assert.throws(() => resolvePostgresDbArgs(undefined as unknown as PostgresDbArgs), (e: Error) => e instanceof ArgumentError && /expected PostgresDbArgs \(a mapping with keys host, database/.test(e.message));
    });

    it("gives every optional argument a @default in its description", () => {
        const missing: string[] = [];
        const walk = (shape: Record<string, z.ZodType>, prefix: string) => {
            for (const [k, s] of Object.entries(shape)) {
                if (!s.description) missing.push(`${prefix}${k} (no description)`);
                else if (s.safeParse(undefined).success && !s.description.includes("@default")) missing.push(`${prefix}${k}`);
            }
        };
        walk(postgresDbShape, "");
        walk({ ...(postgresDbShape.pooler.unwrap() as z.ZodObject).shape }, "pooler.");
        assert.deepEqual(missing, []);
    });
});

// The type is the schema's input: these must not compile (checked by `tsc --noEmit`).
export const typeChecks: PostgresDbArgs[] = [
    // @ts-expect-error a pool mode other than session or transaction
    { host: undefined as unknown as Host, database: "app", pooler: { poolMode: "statement" } },
    // @ts-expect-error a privilege PostgreSQL has no schema-level form of
    { host: undefined as unknown as Host, database: "app", grants: [{ role: "r", privileges: ["SELECT"] }] },
    // @ts-expect-error the tablespace's destroy follows the database's
    { host: undefined as unknown as Host, database: "app", tablespace: { dataset: "tank/pg/app", destroyOnDelete: true } },
];
