// PostgresDb renderer: golden SQL, scripts and fragments, shellcheck on every script, and the SCRAM verifier's shape.
import { strict as assert } from "assert";
import * as path from "path";
import { PostgresSpec, convergeStdin, renderScripts, secretFrames } from "../../components/postgres/render";
import { scramVerifier } from "../../components/postgres/scram";
import { quoteIdent, quoteLiteral } from "../../components/postgres/sql";
import { parseScriptFiles } from "../../components/shell";
import { RUNTIME, RUNTIME_FUNCTIONS } from "../../components/core/runtime";
import { OwnerMark } from "../../components/core/owner";
import { checkScript } from "../tools";
import { golden } from "../zfs/golden";
import { pgSpec } from "./specs";

const GOLDEN = path.join(__dirname, "golden");
/** A script without the runtime it starts with (the runtime has its own specs): what this component adds. */
const own = (script: string) => script.slice(0, script.indexOf(RUNTIME)) + script.slice(script.indexOf(RUNTIME) + RUNTIME.length);
/** One runtime function's definition: a one-line one, or up to the closing brace at column 0. */
const runtimeFunction = (name: string) => {
    const m = new RegExp(`^${name}\\(\\) \\{(?: .*\\}$|\n[\\s\\S]*?\n\\}$)`, "m").exec(RUNTIME);
    assert.ok(m, `the runtime defines ${name}`);
    return m[0];
};
const MARK: OwnerMark = { id: "site/prod/hearth:postgres:Database/app", aliases: ["site/prod/hearth:postgres:Database/old-app"], adopt: false };

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
            const r = renderScripts(spec, MARK);
            it("matches the golden SQL, scripts and fragments", () => {
                golden(GOLDEN, `${name}.converge.sql`, r.convergeSql);
                golden(GOLDEN, `${name}.delete.sql`, r.deleteSql);
                assert.ok(r.script.includes(RUNTIME) && r.deleteScript.includes(RUNTIME));
                golden(GOLDEN, `${name}.converge.sh`, own(r.script));
                golden(GOLDEN, `${name}.delete.sh`, own(r.deleteScript));
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
                    const drop = r.deleteScript.indexOf("DROP DATABASE");
                    assert.ok(dump > 0 && drop > dump, "the final dump comes before the SQL that drops");
                    assert.match(r.deleteSql, /DROP DATABASE "app" WITH \(FORCE\);/);
                }
            });
            it("is a call sequence over the runtime: no own copy of a primitive, no own lock, no edge-triggered decision", () => {
                for (const text of [r.script, r.deleteScript]) {
                    const own = text.slice(text.indexOf(RUNTIME) + RUNTIME.length);
                    assert.ok(text.includes(RUNTIME), "the runtime is included verbatim");
                    assert.doesNotMatch(own, /^hearth_[a-z_]+\(\) \{/m, "no runtime function is redefined");
                    assert.doesNotMatch(own, /^\s*(?:function\s+)?[A-Za-z_][A-Za-z0-9_]*\s*\(\s*\)/m, "no function of its own: the runtime's hearth_pg_* and hearth_bouncer_* do the work");
                    assert.doesNotMatch(own, /hearth_changed|flock|exec [0-9]|\.hearth-(new|prev)/, "no own lock, no fixed temp names, no decision from what this run wrote");
                    assert.match(own, /^hearth_lock postgres$/m);
                    assert.match(own, /^hearth_owner=site\/prod\/hearth:postgres:Database\/app$/m);
                }
            });
            it("writes pg_hba.conf only as its directory's owner, and keeps the rollback copy in root-only state", () => {
                for (const text of [r.script, r.deleteScript]) {
                    const own = text.slice(text.indexOf(RUNTIME) + RUNTIME.length);
                    assert.match(own, /^hearth_pg_update_hba "\$pg_socket" "\$pg_port" "\$pg_hba_dir" "\$pg_state"$/m);
                    assert.match(own, /^pg_state=\/var\/lib\/hearth\/postgres\/5432$/m);
                    assert.match(own, /^pg_hba_dir=\/etc\/hearth\/postgres\/5432\/hba\.d$/m);
                }
                const update = runtimeFunction("hearth_pg_update_hba");
                assert.match(update, /hearth_put_below "\$dir" "\$base" 0640 <"\$new"/);
                assert.match(update, /hearth_read_below "\$dir" "\$base" >"\$cur"/);
                assert.match(update, /hearth_put "\$prev" "\$state\/pg_hba\.conf\.prev" 0600 root root/);
                assert.match(update, /\[ "\$\(hearth_applied "postgres\/\$port\/hba"\)" != "\$want" \] \|\| \[ "\$mtime" -gt "\$loaded" \]/, "the reload is decided from state");
                const pg = RUNTIME_FUNCTIONS.filter((f) => /^hearth_(pg|bouncer)_/.test(f));
                assert.ok(pg.includes("hearth_pg_update_hba") && pg.includes("hearth_bouncer_apply"), pg.join(" "));
                for (const f of pg) assert.doesNotMatch(runtimeFunction(f), /\$\{?(pg|bouncer)_/, `${f} reads no script variable: the cluster and directories are its arguments`);
            });
            it("marks what it creates with its owner id, in the same transaction as the role, before the database gets its name", () => {
                assert.match(r.script, /BEGIN; CREATE ROLE "app" NOLOGIN; COMMENT ON ROLE "app" IS '"'"'hearth-owner: site\/prod\/hearth:postgres:Database\/app'"'"'; COMMIT;/);
                const create = r.script.search(/CREATE DATABASE "hearth_new_[0-9a-f]{24}" OWNER "app"/);
                const mark = r.script.search(/COMMENT ON DATABASE "hearth_new_[0-9a-f]{24}" IS/);
                const rename = r.script.search(/ALTER DATABASE "hearth_new_[0-9a-f]{24}" RENAME TO "app"/);
                assert.ok(create > 0 && mark > create && rename > mark, "created under its temp name, marked, then renamed");
                assert.match(r.hbaFragment, /^# hearth-owner: site\/prod\/hearth:postgres:Database\/app$/m);
                assert.match(r.convergeSql, /COMMENT ON DATABASE "app" IS 'hearth-owner: site\/prod\/hearth:postgres:Database\/app';/);
                assert.match(r.deleteSql, /ARRAY\['hearth-owner: site\/prod\/hearth:postgres:Database\/app', 'hearth-owner: site\/prod\/hearth:postgres:Database\/old-app', 'hearth:managed'\]/, "a delete touches only its own, its aliases' and legacy marks");
            });
            it("moves a database that lost its tablespace back to pg_default before anything else changes", () => {
                const back = r.script.indexOf('ALTER DATABASE "app" SET TABLESPACE pg_default');
                if (spec.db.tablespace !== undefined) {
                    assert.equal(back, -1);
                } else {
                    assert.ok(back > 0 && back < r.script.indexOf("CREATE ROLE") && back < r.script.indexOf('cat -- "$hearth_secret_sql"'));
                    assert.doesNotMatch(r.script + r.deleteScript, /zfs destroy/);
                }
            });
            it("reads every stdin frame it is sent, in order, and installs only non-secret files", () => {
                const v = scramVerifier("Abcdefgh12345678", "app");
                const stdin = convergeStdin(r, spec, v);
                const files = parseScriptFiles(r.script, stdin);
                assert.deepEqual(files.map((f) => f.path), [
                    `/etc/hearth/postgres/5432/hba.d/app.db.conf`,
                    ...(spec.pooler ? ["/etc/pgbouncer/pgbouncer.ini", "/etc/hearth/pgbouncer/databases.d/app.db.ini"] : []),
                ]);
                assert.ok(files.every((f) => !f.content.includes(v)), "the verifier is never in an installed file");
                assert.ok(!r.script.includes(v) && !r.deleteScript.includes(v), "nor in a script");
            });
        });
    }

    it("makes pgbouncer's entry only with a pooler, and pgbouncer logs in over loopback with scram", () => {
        const r = renderScripts(cases.full, MARK);
        assert.match(r.hbaFragment, /^host "app" "app" 127\.0\.0\.1\/32 scram-sha-256$/m);
        assert.match(r.pgbouncerIni!, /^auth_type = scram-sha-256$/m);
        assert.match(r.pgbouncerDatabase!, /^app = host=127\.0\.0\.1 port=5432 dbname=app pool_mode=transaction$/m);
        assert.equal(renderScripts(cases.minimal, MARK).pgbouncerIni, undefined);
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
