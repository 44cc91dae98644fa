// PostgresDb renderer: golden SQL, scripts and fragments, shellcheck on every script, and the SCRAM verifier's shape.
import { strict as assert } from "assert";
import * as path from "path";
import { PostgresSpec, convergeStdin, renderScripts, secretFrames } from "../../components/postgres/render";
import { scramVerifier } from "../../components/postgres/scram";
import { quoteIdent, quoteLiteral } from "../../components/postgres/sql";
import { parseScriptFiles } from "../../components/shell";
import { checkScript } from "../tools";
import { golden } from "../zfs/golden";
import { pgSpec } from "./specs";

const GOLDEN = path.join(__dirname, "golden");

const cases: Record<string, PostgresSpec> = {
    minimal: pgSpec({}),
    full: pgSpec({
        db: { extensions: ["pgcrypto", "uuid-ossp"], schemas: ["app", "audit"], grants: [{ role: "reporting", schema: "app", privileges: ["USAGE"], tables: ["SELECT"] }], tablespace: "hearth_app", connectionLimit: 50 },
        clients: [{ cidr: "10.1.0.0/16", ssl: false }, { cidr: "fd00:1::/64", ssl: true }],
        pooler: { port: 6432, listenAddress: "127.0.0.1", poolMode: "transaction" },
        tablespaceDataset: "tank/pg/app",
    }),
    destroy: pgSpec({ destroyOnDelete: true, pooler: { port: 6432, listenAddress: "*", poolMode: "session" } }),
};

describe("postgres render", () => {
    for (const [name, spec] of Object.entries(cases)) {
        describe(name, () => {
            const r = renderScripts(spec);
            it("matches the golden SQL, scripts and fragments", () => {
                golden(GOLDEN, `${name}.converge.sql`, r.convergeSql);
                golden(GOLDEN, `${name}.delete.sql`, r.deleteSql);
                golden(GOLDEN, `${name}.converge.sh`, r.script);
                golden(GOLDEN, `${name}.delete.sh`, r.deleteScript);
                golden(GOLDEN, `${name}.pg_hba.conf`, r.hbaFragment);
                if (r.pgbouncerIni) golden(GOLDEN, `${name}.pgbouncer.ini`, r.pgbouncerIni + r.pgbouncerDatabase);
            });
            it("passes bash -n and shellcheck", () => {
                assert.deepEqual(checkScript(r.script), []);
                assert.deepEqual(checkScript(r.deleteScript), []);
            });
            it("only ever writes scram-sha-256 client entries", () => {
                for (const line of r.hbaFragment.split("\n").filter((l) => l && !l.startsWith("#"))) {
                    assert.match(line, /^(host|hostssl) "app" "app" \S+ scram-sha-256$/);
                }
            });
            it("keeps data unless destroyOnDelete, and then dumps before it drops", () => {
                if (!spec.destroyOnDelete) {
                    assert.doesNotMatch(r.deleteScript + r.deleteSql, /DROP (DATABASE|ROLE|TABLESPACE)|pg_dump/);
                    assert.match(r.deleteSql, /COMMENT ON DATABASE "app" IS NULL;/);
                } else {
                    const dump = r.deleteScript.indexOf("pg_dump");
                    const drop = r.deleteScript.indexOf('hearth_psql -d postgres < "$hearth_sql"');
                    assert.ok(dump > 0 && drop > dump, "the final dump comes before the SQL that drops");
                    assert.match(r.deleteSql, /DROP DATABASE "app" WITH \(FORCE\);/);
                }
            });
            it("reads every stdin frame it is sent, in order, and installs only non-secret files", () => {
                const v = scramVerifier("Abcdefgh12345678", "app");
                const stdin = convergeStdin(r, spec, v);
                const files = parseScriptFiles(r.script, stdin);
                assert.deepEqual(files.map((f) => f.path), [
                    `/etc/hearth/postgres/5432/hba.d/app.conf`,
                    ...(spec.pooler ? ["/etc/pgbouncer/pgbouncer.ini", "/etc/hearth/pgbouncer/databases.d/app.ini"] : []),
                ]);
                assert.ok(files.every((f) => !f.content.includes(v)), "the verifier is never in an installed file");
                assert.ok(!r.script.includes(v) && !r.deleteScript.includes(v), "nor in a script");
            });
        });
    }

    it("makes pgbouncer's entry only with a pooler, and pgbouncer logs in over loopback with scram", () => {
        const r = renderScripts(cases.full);
        assert.match(r.hbaFragment, /^host "app" "app" 127\.0\.0\.1\/32 scram-sha-256$/m);
        assert.match(r.pgbouncerIni!, /^auth_type = scram-sha-256$/m);
        assert.match(r.pgbouncerDatabase!, /^app = host=127\.0\.0\.1 port=5432 dbname=app pool_mode=transaction$/m);
        assert.equal(renderScripts(cases.minimal).pgbouncerIni, undefined);
        assert.deepEqual(secretFrames(cases.full, scramVerifier("Abcdefgh12345678", "app")).length, 2);
        assert.deepEqual(secretFrames(cases.minimal, scramVerifier("Abcdefgh12345678", "app")).length, 1);
    });

    it("computes a stable SCRAM-SHA-256 verifier per password and role, and refuses non-ASCII passwords", () => {
        const v = scramVerifier("correct horse".replace(" ", "-"), "app");
        assert.match(v, /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
        assert.equal(scramVerifier("correct-horse", "app"), v);
        assert.notEqual(scramVerifier("correct-horse", "other"), v, "the salt differs per role");
        assert.notEqual(scramVerifier("correct-horsf", "app"), v);
        assert.throws(() => scramVerifier("pässwörter", "app"), /printable ASCII/);
        assert.throws(() => secretFrames(cases.minimal, "md5abc"), /not a SCRAM-SHA-256 verifier/);
    });

    it("quotes identifiers and literals so that no input can end them", () => {
        assert.equal(quoteIdent('a"b'), '"a""b"');
        assert.equal(quoteLiteral("it's"), "'it''s'");
        assert.throws(() => quoteLiteral("a\\b"), /backslash/);
        assert.throws(() => quoteIdent("a\0b"), /NUL/);
    });
});
