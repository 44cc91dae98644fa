// hearth-postgres-scram-only: scram-sha-256 logins only.
import { strict as assert } from "assert";
import { DATABASE_TYPE } from "../../../components/tokens";
import { postgresScramOnly as policy } from "../../../policies/postgres/scram-only";
import { hbaMethod } from "../../../policies/postgres/hba";
import { commandArgs, resourceArgs, violations } from "../fixtures";
import { assertMetadata } from "../metadata";

const hba = (content: string) => ({ path: "/var/lib/hearth/postgres/5432/hba.d/app.conf", content, mode: 0o644 });

describe("hearth-postgres-scram-only", () => {
    it("has its metadata", () => assertMetadata(policy, "hearth-postgres-scram-only", "mandatory"));

    it("reads the method column of pg_hba lines", () => {
        assert.equal(hbaMethod("local all postgres peer"), "peer");
        assert.equal(hbaMethod("hostssl app app 10.0.0.0/8 scram-sha-256"), "scram-sha-256");
        assert.equal(hbaMethod("host all all 192.168.0.0 255.255.0.0 md5"), "md5");
        assert.equal(hbaMethod("# host all all 0.0.0.0/0 trust"), undefined);
        assert.equal(hbaMethod("host trust trust 10.0.0.0/8 scram-sha-256"), "scram-sha-256");
    });

    it("passes scram entries and a scram database", async () => {
        assert.deepEqual(await violations(policy, resourceArgs(DATABASE_TYPE, { database: "app", authMethod: "scram-sha-256" })), []);
        assert.deepEqual(await violations(policy, commandArgs({ files: [hba("# BEGIN hearth: app\nhostssl app app 10.0.0.0/8 scram-sha-256\n# END hearth\n")] })), []);
    });

    for (const method of ["trust", "md5", "password"]) {
        it(`flags a pg_hba entry with ${method}`, async () => {
            const line = `host app app 10.0.0.0/8 ${method}`;
            assert.deepEqual(await violations(policy, commandArgs({ files: [hba(line + "\n")] })), [
                `/var/lib/hearth/postgres/5432/hba.d/app.conf has a pg_hba entry with method '${method}': ${line}`,
            ]);
        });
    }

    it("flags a trust line written by the script itself", async () => {
        assert.match((await violations(policy, commandArgs({ lines: ["echo 'local all all trust' >> /etc/postgresql/15/main/pg_hba.conf"] }))).join(), /method 'trust'/);
    });

    it("flags md5 password storage", async () => {
        assert.match((await violations(policy, commandArgs({ lines: ["psql -c \"ALTER SYSTEM SET password_encryption = 'md5'\""] }))).join(), /password_encryption to 'md5'/);
    });

    it("flags a database whose auth method is not scram", async () => {
        assert.deepEqual(await violations(policy, resourceArgs(DATABASE_TYPE, { authMethod: "trust" })), [
            "'authMethod' is \"trust\"; only scram-sha-256 is allowed for PostgreSQL logins.",
        ]);
    });
});
