// PostgresDb scripts run for real against a throwaway local PostgreSQL 15: logins, re-runs, rotation, grants, adoption, delete.
import { strict as assert } from "assert";
import { RUNTIME } from "../../components/core/runtime";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { PostgresSpec, convergeStdin, renderScripts } from "../../components/postgres/render";
import { scramVerifier } from "../../components/postgres/scram";
import { DbSpec } from "../../components/postgres/sql";
import { OwnerMark } from "../../components/core/owner";
import { LocalCluster, startCluster } from "./cluster";
import { pgSpec } from "./specs";

function bash(script: string, stdin = ""): { code: number | null; out: string; err: string } {
    const r = spawnSync("bash", ["--noprofile", "--norc", "-c", script], { input: stdin, encoding: "utf8" });
    return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("postgres scripts on a real PostgreSQL 15", function () {
    this.timeout(120_000);
    let c: LocalCluster;
    let tmp: string;

    before(async () => {
        c = await startCluster();
        // Every statement is logged, so the spec can prove the cleartext password never reached the server.
        c.sql("ALTER SYSTEM SET log_statement = 'all'; SELECT pg_reload_conf();");
        // Root-only, as on a host: hearth writes its fragments only below directories nobody else can change.
        tmp = fs.mkdtempSync(path.join("/var/lib", "hearth-pgscripts-"));
    });
    after(() => {
        c?.stop();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    function spec(db: Partial<DbSpec> & { database: string }, over: Partial<PostgresSpec> = {}): PostgresSpec {
        return pgSpec({
            port: c.port,
            socketDir: c.socketDir,
            clients: [{ cidr: "127.0.0.1/32", ssl: false }],
            dumpDir: path.join(tmp, "dumps"),
            paths: { hearthDir: path.join(tmp, "etc"), pgbouncerDir: path.join(tmp, "pgbouncer"), stateDir: path.join(tmp, "state") },
            ...over,
            db: { user: db.database, ...db },
        });
    }
    const markOf = (name: string, more: Partial<OwnerMark> = {}): OwnerMark => ({ id: `spec/local/hearth:postgres:Database/${name}`, aliases: [], adopt: false, ...more });
    const outputs: string[] = [];
    function converge(s: PostgresSpec, password: string, mark = markOf(s.db.database)) {
        const r = renderScripts(s, mark);
        const res = bash(r.script, convergeStdin(r, s, scramVerifier(password, s.db.user)));
        outputs.push(res.out, res.err);
        return res;
    }
    function remove(s: PostgresSpec, mark = markOf(s.db.database)) {
        return bash(renderScripts(s, mark).deleteScript);
    }
    const hba = () => fs.readFileSync(c.sql("SHOW hba_file"), "utf8");
    const log = () => fs.readFileSync(path.join(c.dir, "log"), "utf8");

    const pw1 = "FirstPassword0123456789abcdefABC";
    const pw2 = "SecondPassword0123456789abcdefAB";

    it("creates the role and database; the role logs in over TCP with scram and writes rows", () => {
        const s = spec({ database: "shop", extensions: ["pgcrypto"], schemas: ["sales"] });
        const r = converge(s, pw1);
        assert.equal(r.code, 0, r.err);
        assert.match(r.out, /database shop and role shop converged/);
        assert.match(hba(), /^host "shop" "shop" 127\.0\.0\.1\/32 scram-sha-256$/m);
        c.tcp("shop", pw1, "shop", "CREATE TABLE sales.orders(id int PRIMARY KEY, item text); INSERT INTO sales.orders VALUES (1, 'tea'), (2, 'cake');");
        assert.equal(c.tcp("shop", pw1, "shop", "SELECT count(*) FROM sales.orders"), "2");
        assert.equal(c.sql("SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = 'shop'"), "f|f|f");
        assert.equal(c.sql("SELECT extname FROM pg_extension WHERE extname = 'pgcrypto'", "shop"), "pgcrypto");
        assert.match(c.sql("SELECT rolpassword FROM pg_authid WHERE rolname = 'shop'"), /^SCRAM-SHA-256\$4096:/);
    });

    it("never lets the cleartext password reach the server, its log or the script output", () => {
        assert.doesNotMatch(log(), new RegExp(pw1));
        assert.ok(outputs.length > 0 && outputs.every((o) => !o.includes(pw1) && !o.includes("SCRAM-SHA-256$")), "no password or verifier in what the script printed");
        assert.match(log(), /ALTER ROLE "shop" WITH LOGIN .* PASSWORD 'SCRAM-SHA-256\$4096:/, "the log shows only the verifier");
    });

    it("re-running changes nothing and keeps the rows", () => {
        const before = hba();
        const r = converge(spec({ database: "shop", extensions: ["pgcrypto"], schemas: ["sales"] }), pw1);
        assert.equal(r.code, 0, r.err);
        assert.doesNotMatch(r.out, /hearth: (wrote|updated)/);
        assert.equal(hba(), before);
        assert.equal(c.tcp("shop", pw1, "shop", "SELECT string_agg(item, ',' ORDER BY id) FROM sales.orders"), "tea,cake");
    });

    it("rotates the password in place: the old one stops working, the rows stay", () => {
        const r = converge(spec({ database: "shop", extensions: ["pgcrypto"], schemas: ["sales"] }), pw2);
        assert.equal(r.code, 0, r.err);
        assert.throws(() => c.tcp("shop", pw1, "shop", "SELECT 1"), /password authentication failed/);
        assert.equal(c.tcp("shop", pw2, "shop", "SELECT count(*) FROM sales.orders"), "2");
    });

    it("grants exactly what is declared on managed schemas, and takes back what is no longer declared", () => {
        c.sql("CREATE ROLE auditor LOGIN PASSWORD 'AuditorPass123'");
        const granted = spec({ database: "shop", schemas: ["sales"], grants: [{ role: "auditor", schema: "sales", privileges: ["USAGE"], tables: ["SELECT"] }] });
        assert.equal(converge(granted, pw2).code, 0);
        assert.equal(c.tcp("auditor", "AuditorPass123", "shop", "SELECT count(*) FROM sales.orders"), "2");
        assert.throws(() => c.tcp("auditor", "AuditorPass123", "shop", "INSERT INTO sales.orders VALUES (3, 'x')"), /permission denied/);
        // Tables created later are covered by default privileges.
        c.tcp("shop", pw2, "shop", "CREATE TABLE sales.refunds(id int); INSERT INTO sales.refunds VALUES (1);");
        assert.equal(c.tcp("auditor", "AuditorPass123", "shop", "SELECT count(*) FROM sales.refunds"), "1");
        assert.equal(converge(spec({ database: "shop", schemas: ["sales"] }), pw2).code, 0);
        assert.throws(() => c.tcp("auditor", "AuditorPass123", "shop", "SELECT count(*) FROM sales.orders"), /permission denied/);
        assert.equal(c.tcp("shop", pw2, "shop", "SELECT count(*) FROM sales.orders"), "2", "the owner's rows are untouched");
    });

    it("refuses a database hearth does not own, changing nothing, and adopts it only when told to", () => {
        c.sql("CREATE ROLE legacy LOGIN; CREATE DATABASE legacy OWNER legacy;");
        c.sql("SET ROLE legacy; CREATE TABLE keep(v text); INSERT INTO keep VALUES ('precious');", "legacy");
        const s = spec({ database: "legacy" });
        const refused = converge(s, pw1);
        assert.notEqual(refused.code, 0);
        assert.match(refused.err, /role "legacy" exists and is not managed by hearth; set adopt: true/);
        assert.equal(c.sql("SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = 'legacy'"), "t", "nothing was changed");
        assert.doesNotMatch(hba(), /"legacy"/);
        const adopted = converge(spec({ database: "legacy", adopt: true }), pw1, markOf("legacy", { adopt: true }));
        assert.equal(adopted.code, 0, adopted.err);
        assert.equal(c.tcp("legacy", pw1, "legacy", "SELECT v FROM keep"), "precious");
    });

    it("by default a delete keeps the database, its rows and the role, and removes only hearth's marks and access entry", () => {
        const r = remove(spec({ database: "shop" }));
        assert.equal(r.code, 0, r.err);
        assert.match(r.out, /kept database shop and role shop/);
        assert.equal(c.sql("SELECT count(*) FROM sales.orders", "shop"), "2");
        assert.equal(c.sql("SELECT count(*) FROM pg_roles WHERE rolname = 'shop'"), "1");
        assert.equal(c.sql("SELECT shobj_description(oid, 'pg_database') IS NULL FROM pg_database WHERE datname = 'shop'"), "t");
        assert.doesNotMatch(hba(), /"shop"/);
        // Unmarked now: a new hearth resource must adopt it explicitly.
        assert.match(converge(spec({ database: "shop" }), pw2).err, /not managed by hearth/);
    });

    it("with destroyOnDelete takes a complete final dump, then drops the database and the role", () => {
        const s = spec({ database: "scratch" }, { destroyOnDelete: true });
        assert.equal(converge(s, pw1).code, 0);
        c.tcp("scratch", pw1, "scratch", "CREATE TABLE notes(n text); INSERT INTO notes VALUES ('last words');");
        const r = remove(s);
        assert.equal(r.code, 0, r.err);
        const dumps = fs.readdirSync(path.join(tmp, "dumps")).filter((f) => f.startsWith("scratch-"));
        assert.equal(dumps.length, 1);
        assert.match(dumps[0], /^scratch-\d{8}T\d{6}Z\.dump$/);
        const listing = spawnSync("pg_restore", ["-l", path.join(tmp, "dumps", dumps[0])], { encoding: "utf8" });
        assert.match(listing.stdout, /TABLE DATA public notes/);
        assert.equal(c.sql("SELECT count(*) FROM pg_database WHERE datname = 'scratch'"), "0");
        assert.equal(c.sql("SELECT count(*) FROM pg_roles WHERE rolname = 'scratch'"), "0");
        // And the dump restores the rows.
        c.sql("CREATE DATABASE restored");
        const restore = spawnSync("runuser", ["-u", "postgres", "--", "pg_restore", "-h", c.socketDir, "-p", String(c.port), "-d", "restored", "--no-owner"], { input: fs.readFileSync(path.join(tmp, "dumps", dumps[0])) });
        assert.equal(restore.status, 0, restore.stderr?.toString());
        assert.equal(c.sql("SELECT n FROM notes", "restored"), "last words");
    });

    it("a destroy never drops a database hearth does not own", () => {
        c.sql("CREATE DATABASE foreign_db");
        const r = remove(spec({ database: "foreign_db" }, { destroyOnDelete: true }));
        assert.equal(r.code, 0, r.err);
        assert.equal(c.sql("SELECT count(*) FROM pg_database WHERE datname = 'foreign_db'"), "1");
    });

    const comment = (kind: "database" | "role", name: string) =>
        kind === "database"
            ? c.sql(`SELECT coalesce(shobj_description(oid, 'pg_database'), '-') FROM pg_database WHERE datname = '${name}'`)
            : c.sql(`SELECT coalesce(shobj_description(oid, 'pg_authid'), '-') FROM pg_roles WHERE rolname = '${name}'`);
    const hbaFragments = () => fs.readdirSync(path.join(tmp, "etc", "postgres", String(c.port), "hba.d")).sort();

    it("marks the role and database with the owner's id, and adopts (and rewrites) the mark of an earlier release, saying so", () => {
        c.sql("CREATE ROLE older LOGIN; COMMENT ON ROLE older IS 'hearth:managed'; CREATE DATABASE older OWNER older; COMMENT ON DATABASE older IS 'hearth:managed';");
        const r = converge(spec({ database: "older" }), pw1);
        assert.equal(r.code, 0, r.err);
        assert.match(r.out, /taking over role "older" from an earlier release of hearth \(the mark is rewritten to spec\/local\/hearth:postgres:Database\/older\)/);
        assert.match(r.out, /taking over database "older" from an earlier release of hearth/);
        assert.equal(comment("role", "older"), "hearth-owner: spec/local/hearth:postgres:Database/older");
        assert.equal(comment("database", "older"), "hearth-owner: spec/local/hearth:postgres:Database/older");
        assert.equal(c.tcp("older", pw1, "older", "SELECT current_user"), "older");
    });

    it("takes over the fragments an earlier release wrote under the old names, so that release's stored delete cannot remove this one's", () => {
        const dir = path.join(tmp, "etc", "postgres", String(c.port), "hba.d");
        fs.mkdirSync(dir, { recursive: true });
        // An earlier release's fragment: no owner line, named <database>.conf (its delete removes exactly that name).
        fs.writeFileSync(path.join(dir, "oldfrag.conf"), '# hearth: database oldfrag, role oldfrag\nhost "oldfrag" "oldfrag" 10.9.9.0/24 scram-sha-256\n');
        const r = converge(spec({ database: "oldfrag" }), pw1);
        assert.equal(r.code, 0, r.err);
        assert.ok(hbaFragments().includes("oldfrag.db.conf"));
        assert.ok(!hbaFragments().includes("oldfrag.conf"), "the old name is gone");
        assert.doesNotMatch(hba(), /10\.9\.9\.0\/24/, "its old entry is no longer served");
        // What the earlier release's delete does first: remove <database>.conf. This release's access stays.
        fs.rmSync(path.join(dir, "oldfrag.conf"), { force: true });
        assert.equal(c.tcp("oldfrag", pw1, "oldfrag", "SELECT current_user"), "oldfrag");
        assert.ok(hbaFragments().includes("oldfrag.db.conf"));
    });

    it("refuses a database another resource owns, takes it over under an alias, and another owner's delete touches nothing", () => {
        const s = spec({ database: "owned" });
        assert.equal(converge(s, pw1, markOf("first")).code, 0);
        const refused = converge(s, pw1, markOf("second"));
        assert.notEqual(refused.code, 0);
        assert.match(refused.err, /role "owned" is owned by another resource \(spec\/local\/hearth:postgres:Database\/first\), not by spec\/local\/hearth:postgres:Database\/second.*aliases/);
        assert.equal(comment("role", "owned"), "hearth-owner: spec/local/hearth:postgres:Database/first", "nothing was rewritten");
        const other = remove(s, markOf("second"));
        assert.equal(other.code, 0, other.err);
        assert.match(other.out, /database owned is not this resource's \(mark: spec\/local\/hearth:postgres:Database\/first\); the delete leaves it alone/);
        assert.match(other.out, /leaving .*hba\.d\/owned\.db\.conf: it is owned by spec\/local\/hearth:postgres:Database\/first/);
        assert.equal(comment("database", "owned"), "hearth-owner: spec/local/hearth:postgres:Database/first");
        assert.match(hba(), /^host "owned" "owned" 127\.0\.0\.1\/32 scram-sha-256$/m, "its access entry stays");
        const renamed = converge(s, pw1, markOf("second", { aliases: [markOf("first").id] }));
        assert.equal(renamed.code, 0, renamed.err);
        assert.equal(comment("database", "owned"), "hearth-owner: spec/local/hearth:postgres:Database/second");
        assert.match(fs.readFileSync(path.join(tmp, "etc", "postgres", String(c.port), "hba.d", "owned.db.conf"), "utf8"), /^# hearth-owner: spec\/local\/hearth:postgres:Database\/second$/m);
    });

    it("finishes a create killed after any step (after CREATE ROLE, after CREATE DATABASE, ...) when the same script runs again", () => {
        const s = spec({ database: "crashy", schemas: ["app"] });
        const r = renderScripts(s, markOf("crashy"));
        const stdin = convergeStdin(r, s, scramVerifier(pw1, "crashy"));
        const reset = () => {
            c.sql("DROP DATABASE IF EXISTS crashy WITH (FORCE)");
            for (const d of c.sql("SELECT datname FROM pg_database WHERE datname LIKE 'hearth_new_%'").split("\n").filter(Boolean)) c.sql(`DROP DATABASE "${d}" WITH (FORCE)`);
            c.sql("DROP ROLE IF EXISTS crashy");
            fs.rmSync(path.join(tmp, "etc", "postgres", String(c.port), "hba.d", "crashy.db.conf"), { force: true });
        };
        const state = () => [
            comment("role", "crashy"), comment("database", "crashy"),
            c.sql("SELECT count(*) FROM pg_database WHERE datname LIKE 'hearth_new_%'"),
            c.sql("SELECT nspname FROM pg_namespace WHERE nspname = 'app'", "crashy"),
            c.tcp("crashy", pw1, "crashy", "SELECT current_user"),
            hba().includes('host "crashy" "crashy" 127.0.0.1/32 scram-sha-256'),
        ];
        reset();
        assert.equal(bash(r.script, stdin).code, 0);
        const reference = state();
        let points = 0;
        const seen: string[] = [];
        for (let k = 1; k < 100; k++) {
            reset();
            const killed = spawnSync("bash", ["--noprofile", "--norc", "-c", r.script], { input: stdin, encoding: "utf8", env: { ...process.env, HEARTH_CRASH_AT: String(k) } });
            if (!/hearth-crash: step \d+/.test(killed.stderr)) {
                assert.equal(killed.status, 0, killed.stderr);
                break;
            }
            seen.push(c.sql("SELECT (SELECT count(*) FROM pg_roles WHERE rolname = 'crashy') || '/' || (SELECT count(*) FROM pg_database WHERE datname = 'crashy' OR datname LIKE 'hearth_new_%')"));
            const again = bash(r.script, stdin);
            assert.equal(again.code, 0, `re-run after a kill at step ${k}: ${again.err}`);
            assert.deepEqual(state(), reference, `after a kill at step ${k} and a re-run`);
            points = k;
        }
        // The psql session (role, database, converge SQL) and the pg_hba fragment; the reset keeps the rest converged.
        assert.ok(points >= 2, `killed at ${points} points`);

        // The role, the database under its temp name, its mark and its rename are statements of one psql session: the
        // session is cut after each of them (as a dropped connection would), the script killed, and the re-run finishes.
        const cut = [
            'hearth_pg_converge() {',
            '  hearth_private_tmp',
            "  awk -v n=\"$HEARTH_TEST_STOP\" '/^-- hearth: converge database /{ print \"\\\\q\"; print \"end\" >\"/dev/stderr\"; exit } { print } /;$/ && !/^SET / && ++k == n { print \"\\\\q\"; exit }' \"$4\" >\"$hearth_tmp\"",
            '  hearth_pg_psql "$1" "$2" "${@:5}" <"$hearth_tmp"',
            "  printf 'hearth-stop: statement %s\\n' \"$HEARTH_TEST_STOP\" >&2",
            '  kill -KILL "$$"',
            '}',
        ].join("\n");
        assert.ok(r.script.includes(RUNTIME));
        const stopping = r.script.replace(RUNTIME, () => `${RUNTIME}\n${cut}`);
        let stops = 0;
        for (let k = 1; k < 20; k++) {
            reset();
            const killed = spawnSync("bash", ["--noprofile", "--norc", "-c", stopping], { input: stdin, encoding: "utf8", env: { ...process.env, HEARTH_TEST_STOP: String(k) } });
            assert.match(killed.stderr, /hearth-stop: statement \d+/, killed.stderr);
            if (/^end$/m.test(killed.stderr)) break;
            seen.push(c.sql("SELECT (SELECT count(*) FROM pg_roles WHERE rolname = 'crashy') || '/' || (SELECT count(*) FROM pg_database WHERE datname = 'crashy' OR datname LIKE 'hearth_new_%')"));
            const again = bash(r.script, stdin);
            assert.equal(again.code, 0, `re-run after the session was cut after statement ${k}: ${again.err}`);
            assert.deepEqual(state(), reference, `after the session was cut after statement ${k} and a re-run`);
            stops = k;
        }
        assert.equal(stops, 5, "cut after CREATE ROLE, the leftover's drop, CREATE DATABASE, its mark and the rename");
        assert.ok(seen.includes("1/0"), "one cut came right after CREATE ROLE (role, no database)");
        assert.ok(seen.includes("1/1"), "cuts came right after CREATE DATABASE (under its temp name) and after the rename");
    });

    it("moves a database whose tablespace is no longer declared back to pg_default, then drops the empty tablespace", () => {
        const s = spec({ database: "tsdb" });
        assert.equal(converge(s, pw1).code, 0);
        c.tcp("tsdb", pw1, "tsdb", "CREATE TABLE t(v text); INSERT INTO t VALUES ('kept');");
        const loc = path.join(c.dir, "ts");
        fs.mkdirSync(loc);
        spawnSync("chown", ["postgres:postgres", loc]);
        c.sql(`CREATE TABLESPACE hearth_tsdb LOCATION '${loc}'`);
        c.sql("ALTER DATABASE tsdb SET TABLESPACE hearth_tsdb");
        const r = converge(s, pw1);
        assert.equal(r.code, 0, r.err);
        assert.equal(c.sql("SELECT t.spcname FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = 'tsdb'"), "pg_default");
        assert.equal(c.sql("SELECT count(*) FROM pg_tablespace WHERE spcname = 'hearth_tsdb'"), "0");
        assert.equal(c.tcp("tsdb", pw1, "tsdb", "SELECT v FROM t"), "kept");
        // A tablespace that still holds something stops the converge (and so the dataset's release after it).
        c.sql(`CREATE TABLESPACE hearth_tsdb LOCATION '${loc}'`);
        c.sql("CREATE TABLE elsewhere(v int) TABLESPACE hearth_tsdb", "postgres");
        const stopped = converge(s, pw1);
        assert.notEqual(stopped.code, 0);
        assert.match(stopped.err, /tablespace "hearth_tsdb" is not empty/);
        c.sql("DROP TABLE elsewhere; DROP TABLESPACE hearth_tsdb;");
    });

    it("a renamed database leaves no access behind: the old fragment goes, the old role may no longer log in, its data stays", () => {
        const mark = markOf("renaming");
        assert.equal(converge(spec({ database: "before_rename" }), pw1, mark).code, 0);
        c.tcp("before_rename", pw1, "before_rename", "CREATE TABLE t(v text); INSERT INTO t VALUES ('old data');");
        assert.ok(hbaFragments().includes("before_rename.db.conf"));
        const r = converge(spec({ database: "after_rename" }), pw1, mark);
        assert.equal(r.code, 0, r.err);
        assert.ok(!hbaFragments().includes("before_rename.db.conf"), "the old name's fragment is removed");
        assert.doesNotMatch(hba(), /"before_rename"/);
        assert.throws(() => c.tcp("before_rename", pw1, "before_rename", "SELECT 1"));
        assert.equal(c.sql("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'before_rename'"), "f");
        assert.equal(comment("database", "before_rename"), "-", "released");
        assert.equal(c.sql("SELECT v FROM t", "before_rename"), "old data", "kept");
        assert.equal(c.tcp("after_rename", pw1, "after_rename", "SELECT current_user"), "after_rename");
    });

    it("after every step above, the server log holds neither cleartext password", () => {
        const text = log();
        assert.ok(text.includes("ALTER ROLE"), "statements were logged");
        for (const pw of [pw1, pw2]) assert.ok(!text.includes(pw), "a cleartext password reached the server log");
    });
});
