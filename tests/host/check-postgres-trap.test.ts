// A database's owner (the app's own login role, not a superuser) plants functions and views named like the system
// catalog's in a schema of its own, and sets its database's search_path to find them first. Neither the read-only
// drift check nor the converge, both of which connect to that database as postgres, may run them: every hearth psql
// connection resolves names in pg_catalog only (search_path=pg_catalog,pg_temp, which an ALTER DATABASE ... SET
// does not override). The check still reports what really drifted, and a reapply repairs it, with the planted code
// never run (it would write a file as postgres through COPY ... TO PROGRAM, which a read-only transaction allows).
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { PostgresDb } from "../../components/postgres";
import { mustExec } from "./crash";
import { checkHost, driftLines } from "./drift";
import { describeHost, startHost, TestHost } from "./harness";
import { ProgramRunner } from "./runner";

const PWNED = "/tmp/hearth-planted-code-ran";

describeHost("PostgresDb's check and converge in a database whose owner planted catalog look-alikes", function () {
    this.timeout(900_000);
    let h: TestHost;
    let reapply = 0;
    const runner = new ProgramRunner();
    const psql = (db: string, sql: string) => mustExec(h, `runuser -u postgres -- psql -X -q -A -t -v ON_ERROR_STOP=1 -d ${db} <<'SQL'\n${sql}\nSQL`);
    const program = () => {
        const host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey, ...(reapply ? { reapply: { all: reapply } } : {}) });
        new PostgresDb("shop", { host, database: "shop", clients: ["10.231.0.1/32"], schemas: ["sales"], grants: [{ role: "reporting", schema: "sales" }], extensions: ["pgcrypto"] });
    };

    before(async () => {
        h = await startHost({ name: "pgtrap" });
        await mustExec(h, "for i in $(seq 1 30); do runuser -u postgres -- psql -X -q -c 'SELECT 1' >/dev/null 2>&1 && break; sleep 1; done");
        await psql("postgres", "CREATE ROLE reporting NOLOGIN;");
    });
    after(async () => { await h?.stop(); });

    it("converges and checks clean", async () => {
        await runner.up(program);
        assert.deepEqual(driftLines(await checkHost(h, runner.resources)), []);
    });

    it("the owner's planted functions never run; the check reports the extension dropped, and a reapply brings it back", async () => {
        // As the role shop (SET ROLE): what the app's own credentials allow.
        await psql("shop", `SET ROLE shop;
CREATE SCHEMA trap;
CREATE FUNCTION trap.aclexplode(acl aclitem[], OUT grantor oid, OUT grantee oid, OUT privilege_type text, OUT is_grantable boolean) RETURNS SETOF record LANGUAGE plpgsql AS $f$
BEGIN
  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    EXECUTE 'COPY (SELECT current_user) TO PROGRAM ''cat > ${PWNED}''';
  END IF;
  RETURN QUERY SELECT * FROM pg_catalog.aclexplode(acl);
END $f$;
CREATE VIEW trap.pg_extension AS SELECT 'pgcrypto'::name AS extname;
ALTER DATABASE shop SET search_path = trap, pg_catalog;`);
        // The trap works for a plain connection (the database's own setting applies there).
        assert.equal((await psql("shop", "SELECT count(*) FROM pg_extension WHERE extname = 'pgcrypto'")).trim(), "1");
        await psql("shop", "RESET ROLE; DROP EXTENSION pgcrypto;");
        await mustExec(h, `rm -f ${PWNED}`);

        const lines = driftLines(await checkHost(h, runner.resources));
        assert.deepEqual(lines, ["shop-database: database shop extension pgcrypto: installed -> absent"]);
        assert.notEqual((await h.exec(`test -e ${PWNED}`)).code, 0, "the check ran none of the owner's code");

        reapply = 1;
        const up = await runner.up(program);
        assert.ok(up.updated.includes("shop-database"), "the database's converge ran again");
        assert.notEqual((await h.exec(`test -e ${PWNED}`)).code, 0, "the converge ran none of the owner's code");
        assert.equal((await psql("shop", "SELECT count(*) FROM pg_catalog.pg_extension WHERE extname = 'pgcrypto'")).trim(), "1", "pgcrypto is back");
        assert.equal((await psql("shop", "SELECT n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pgcrypto'")).trim(), "public", "in public, as before");
        assert.deepEqual(driftLines(await checkHost(h, runner.resources)), []);
    });
});
