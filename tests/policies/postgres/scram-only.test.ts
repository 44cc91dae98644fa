// hearth-postgres-scram-only: scram-sha-256 logins only, judged on the pg_hba fragment and script of a real PostgresDb.
import { strict as assert } from "assert";
import { postgresScramOnly as policy } from "../../../policies/postgres/scram-only";
import { hbaMethod } from "../../../policies/postgres/hba";
import { installMocks } from "../../mocks";
import { editInstalled, editScript, violations } from "../fixtures";
import { assertMetadata } from "../metadata";
import { database, HBA } from "./database";

describe("hearth-postgres-scram-only", () => {
    before(() => installMocks());

    it("has its metadata", () => assertMetadata(policy, "hearth-postgres-scram-only", "mandatory"));

    it("reads the method column of pg_hba lines", () => {
        assert.equal(hbaMethod("local all postgres peer"), "peer");
        assert.equal(hbaMethod("hostssl app app 10.0.0.0/8 scram-sha-256"), "scram-sha-256");
        assert.equal(hbaMethod("host all all 192.168.0.0 255.255.0.0 md5"), "md5");
        assert.equal(hbaMethod("# host all all 0.0.0.0/0 trust"), undefined);
        assert.equal(hbaMethod("host trust trust 10.0.0.0/8 scram-sha-256"), "scram-sha-256");
    });

    it("passes a real database's scram entries", async () => {
        const db = await database({ clients: ["10.0.0.0/8", { cidr: "192.168.0.0/16", ssl: true }] });
        assert.deepEqual(await violations(policy, db.converge), []);
        assert.deepEqual(await violations(policy, db.lifecycle), []);
    });

    for (const method of ["trust", "md5", "password"]) {
        it(`flags a pg_hba entry with ${method}`, async () => {
            const { converge } = await database();
            const edited = editInstalled(converge, HBA, (t) => t.replace(/scram-sha-256$/m, method));
            assert.deepEqual(await violations(policy, edited), [`${HBA} has a pg_hba entry with method '${method}': host "app" "app" 10.0.0.0/8 ${method}`]);
        });
    }

    it("flags a trust line written by the script itself", async () => {
        const { converge } = await database();
        assert.match((await violations(policy, editScript(converge, (s) => `${s}\necho 'local all all trust' >> /etc/postgresql/15/main/pg_hba.conf`))).join(), /method 'trust'/);
    });

    it("flags md5 password storage", async () => {
        const { converge } = await database();
        assert.match((await violations(policy, editScript(converge, (s) => `${s}\npsql -c "ALTER SYSTEM SET password_encryption = 'md5'"`))).join(), /password_encryption to 'md5'/);
    });
});
