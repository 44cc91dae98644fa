// hearth-postgres-no-superuser: application roles are not superusers, judged on what a real PostgresDb's commands run
// and install (its role SQL travels as a secret frame; a changed renderer could put it in plain text).
import { strict as assert } from "assert";
import { postgresNoSuperuser as policy } from "../../../policies/postgres/no-superuser";
import { superuserRoles } from "../../../policies/postgres/hba";
import { installMocks } from "../../mocks";
import { commandArgs, editScript, violations } from "../fixtures";
import { assertMetadata } from "../metadata";
import { database } from "./database";

describe("hearth-postgres-no-superuser", () => {
    before(() => installMocks());

    it("has its metadata", () => assertMetadata(policy, "hearth-postgres-no-superuser", "mandatory"));

    it("finds SUPERUSER but not NOSUPERUSER in role SQL", () => {
        assert.deepEqual(superuserRoles("CREATE ROLE app LOGIN NOSUPERUSER NOCREATEDB; ALTER ROLE app WITH SUPERUSER;"), ["app"]);
        assert.deepEqual(superuserRoles('CREATE USER "odd""name" WITH LOGIN SUPERUSER'), ['"odd""name"']);
        assert.deepEqual(superuserRoles("CREATE ROLE :\"role\" LOGIN NOSUPERUSER"), []);
    });

    it("passes a real database's commands", async () => {
        const db = await database();
        assert.deepEqual(await violations(policy, db.converge), []);
        assert.deepEqual(await violations(policy, db.lifecycle), []);
    });

    it("flags SQL in the converge script that makes a role a superuser", async () => {
        const { converge } = await database();
        assert.deepEqual(await violations(policy, editScript(converge, (s) => `${s}\npsql -c 'ALTER ROLE app SUPERUSER'`)), [
            "'create' command makes role app a superuser.",
            "'update' command makes role app a superuser.",
        ]);
    });

    it("flags SQL in a file a hearth command installs", async () => {
        const file = { path: "/var/lib/hearth/app.sql", content: "CREATE ROLE app LOGIN SUPERUSER;\n", mode: 0o600 };
        assert.deepEqual(await violations(policy, commandArgs({ files: [file] })), ["/var/lib/hearth/app.sql makes role app a superuser."]);
    });
});
