// hearth-postgres-no-superuser: application roles are not superusers.
import { strict as assert } from "assert";
import { DATABASE_TYPE } from "../../../components/tokens";
import { postgresNoSuperuser as policy } from "../../../policies/postgres/no-superuser";
import { superuserRoles } from "../../../policies/postgres/hba";
import { commandArgs, resourceArgs, violations } from "../fixtures";
import { assertMetadata } from "../metadata";

describe("hearth-postgres-no-superuser", () => {
    it("has its metadata", () => assertMetadata(policy, "hearth-postgres-no-superuser", "mandatory"));

    it("finds SUPERUSER but not NOSUPERUSER in role SQL", () => {
        assert.deepEqual(superuserRoles("CREATE ROLE app LOGIN NOSUPERUSER NOCREATEDB; ALTER ROLE app WITH SUPERUSER;"), ["app"]);
        assert.deepEqual(superuserRoles('CREATE USER "odd""name" WITH LOGIN SUPERUSER'), ['"odd""name"']);
        assert.deepEqual(superuserRoles("CREATE ROLE :\"role\" LOGIN NOSUPERUSER"), []);
    });

    it("passes a plain application role", async () => {
        assert.deepEqual(await violations(policy, resourceArgs(DATABASE_TYPE, { database: "app", user: "app" })), []);
        assert.deepEqual(await violations(policy, commandArgs({ lines: ["hearth_psql -c 'CREATE ROLE app LOGIN NOSUPERUSER NOCREATEROLE'"] })), []);
    });

    it("flags a superuser flag on the database", async () => {
        assert.deepEqual(await violations(policy, resourceArgs(DATABASE_TYPE, { superuser: true })), ["The database's role is a superuser ('superuser' is true)."]);
    });

    it("flags SUPERUSER in role options", async () => {
        assert.match((await violations(policy, resourceArgs(DATABASE_TYPE, { roleOptions: ["LOGIN", "SUPERUSER"] }))).join(), /role options include SUPERUSER/);
    });

    it("flags SQL that makes a role a superuser, in scripts and installed files", async () => {
        assert.deepEqual(await violations(policy, commandArgs({ lines: ["psql -c 'ALTER ROLE app SUPERUSER'"] })), [
            "'create' command makes role app a superuser.",
            "'update' command makes role app a superuser.",
        ]);
        const file = { path: "/var/lib/hearth/app.sql", content: "CREATE ROLE app LOGIN SUPERUSER;\n", mode: 0o600 };
        assert.deepEqual(await violations(policy, commandArgs({ files: [file] })), ["/var/lib/hearth/app.sql makes role app a superuser."]);
    });
});
