// PostgresDb drift checks: the rendered check lines (what each one asks of the host), a host check script that parses,
// and the checks run for real against a throwaway local PostgreSQL 15: silent on a converged database, exactly the
// drift made by hand, no WAL written, and silent again after a converge.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { checkOfConverge, parseCheckOutput, renderHostCheck, CHECK_LINE } from "../../components/core/check";
import { OwnerMark } from "../../components/core/owner";
import { RUNTIME } from "../../components/core/runtime";
import { shq } from "../../components/core/shell";
import { PostgresSpec, convergeStdin, renderScripts, verifierKey } from "../../components/postgres/render";
import { scramVerifier } from "../../components/postgres/scram";
import { DbSpec } from "../../components/postgres/sql";
import { LocalCluster, startCluster } from "./cluster";
import { pgSpec } from "./specs";

const MARK: OwnerMark = { id: "site/prod/hearth:postgres:Database/app", aliases: [], adopt: false };

/** A check line's words as bash reads them (the function replaced by a printer of its arguments). */
function words(line: string): string[] {
    const fn = line.split(" ")[0];
    const r = spawnSync("bash", ["--noprofile", "--norc", "-c", `${fn}() { printf '%s\\0' ${JSON.stringify(fn)} "$@"; }\n${line}`], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split("\0").slice(0, -1);
}
const byFn = (lines: readonly string[], fn: string) => lines.filter((l) => l.split(" ")[0] === fn).map(words);

describe("postgres drift checks: rendered lines", () => {
    const full = pgSpec({
        db: { extensions: ["pgcrypto"], schemas: ["app", "audit"], grants: [{ role: "reporting", schema: "app", privileges: ["USAGE"], tables: ["SELECT"] }, { role: "etl", schema: "audit", privileges: ["USAGE", "CREATE"], tables: [] }], tablespace: "hearth_app", connectionLimit: 50 },
        clients: [{ cidr: "10.1.0.0/16", ssl: false }, { cidr: "fd00:1::/64", ssl: true }],
        pooler: { port: 6432, listenAddress: "127.0.0.1", poolMode: "transaction" },
        tablespaceDataset: "tank/pg/app",
    });
    const r = renderScripts(full, MARK);

    it("every line is one call of a read-only runtime check", () => {
        assert.ok(r.check.length > 0);
        for (const l of r.check) assert.match(l, CHECK_LINE);
        for (const l of r.check) assert.match(l, /^hearth_pg_check_[a-z]+ /);
    });
    it("the server unit comes first, on the cluster's socket and port", () => {
        assert.deepEqual(words(r.check[0]), ["hearth_pg_check_server", "postgresql@15-main.service", "/var/run/postgresql", "5432"]);
    });
    it("the database: owner, connection limit, tablespace and owner mark as declared", () => {
        assert.deepEqual(byFn(r.check, "hearth_pg_check_database"), [["hearth_pg_check_database", "/var/run/postgresql", "5432", "app", "app", "50", "hearth_app", MARK.id]]);
        const plain = renderScripts(pgSpec({}), MARK).check;
        assert.deepEqual(byFn(plain, "hearth_pg_check_database")[0].slice(5), ["-1", "-", MARK.id], "no limit, tablespace not checked");
    });
    it("who may connect besides the owner: exactly the declared grantees, sorted", () => {
        assert.deepEqual(byFn(r.check, "hearth_pg_check_connect"), [["hearth_pg_check_connect", "/var/run/postgresql", "5432", "app", "etl,reporting"]]);
        assert.deepEqual(byFn(renderScripts(pgSpec({}), MARK).check, "hearth_pg_check_connect")[0].slice(4), [""]);
    });
    it("the role with its mark and the key its verifier's digest is recorded under", () => {
        assert.equal(verifierKey(full), "postgres/5432/role/app/verifier");
        assert.deepEqual(byFn(r.check, "hearth_pg_check_role"), [["hearth_pg_check_role", "/var/run/postgresql", "5432", "app", MARK.id, "postgres/5432/role/app/verifier"]]);
        assert.match(r.script, /^hearth_pg_converge "\$pg_socket" "\$pg_port" app "\$hearth_session"( -v "hearth_ts_location=\$hearth_loc")?$/m, "the converge records what the check compares with");
        const fn = RUNTIME.slice(RUNTIME.indexOf("\nhearth_pg_converge() {"));
        const body = fn.slice(0, fn.indexOf("\n}\n"));
        assert.match(body, /\| hearth_pg_q "\$1" "\$2" -v "name=\$3" "\$\{@:5\}"\)\n  hearth_step\n[^]*hearth_record "postgres\/\$2\/role\/\$3\/verifier" "\$d"$/,
            "the record comes right after the session that set the verifier, read in that same session");
    });
    it("extensions, and each managed schema with the declared schema privileges", () => {
        assert.deepEqual(byFn(r.check, "hearth_pg_check_extension").map((w) => w.slice(3)), [["app", "pgcrypto"]]);
        assert.deepEqual(byFn(r.check, "hearth_pg_check_schema").map((w) => w.slice(3)), [
            ["app", "app", "app", "reporting=USAGE"],
            ["app", "audit", "app", "etl=CREATE etl=USAGE"],
        ]);
    });
    it("the hba rules of the fragment, loopback added for the pooler", () => {
        const rules = r.hbaFragment.split("\n").filter((l) => l && !l.startsWith("#"));
        assert.deepEqual(byFn(r.check, "hearth_pg_check_hba"), [["hearth_pg_check_hba", "/var/run/postgresql", "5432", ...rules]]);
        assert.ok(rules.includes('host "app" "app" 127.0.0.1/32 scram-sha-256'));
    });
    it("the pgbouncer entry and user only with a pooler", () => {
        assert.deepEqual(byFn(r.check, "hearth_pg_check_bouncer"), [[
            "hearth_pg_check_bouncer", "/etc/pgbouncer", "app", "app = host=127.0.0.1 port=5432 dbname=app pool_mode=transaction", "app", "postgres/5432/role/app/verifier",
        ]]);
        assert.ok(r.pgbouncerDatabase!.includes("app = host=127.0.0.1 port=5432 dbname=app pool_mode=transaction\n"), "the same entry the converge installs");
        assert.deepEqual(byFn(renderScripts(pgSpec({}), MARK).check, "hearth_pg_check_bouncer"), []);
    });
    it("a hostile-looking value stays one word", () => {
        const odd: OwnerMark = { id: "p/s/hearth:postgres:Database/a'b $(x)", aliases: [], adopt: false };
        const role = byFn(renderScripts(pgSpec({}), odd).check, "hearth_pg_check_role")[0];
        assert.equal(role[4], odd.id);
    });
    it("the converge starts a stopped server before it waits for it", () => {
        const start = r.script.indexOf('hearth_pg_start "$pg_socket" "$pg_port" postgresql@15-main.service');
        assert.ok(start > 0 && start < r.script.indexOf('hearth_pg_probe "$pg_socket" "$pg_port"'));
        const fn = RUNTIME.slice(RUNTIME.indexOf("\nhearth_pg_start() {"));
        assert.match(fn.slice(0, fn.indexOf("\n}\n")), /systemctl start -- "\$3"[^]*\n  hearth_pg_wait "\$1" "\$2"$/, "a server it had to start is waited for");
        assert.doesNotMatch(r.deleteScript, /^hearth_pg_start /m);
        assert.match(r.deleteScript, /^hearth_pg_wait "\$pg_socket" "\$pg_port"$/m);
    });
    it("a host check script of the converge parses (bash -n) and carries every line", () => {
        const script = r.script + "\n" + ["hearth_converged k " + "0".repeat(64) + " -", ...r.check.map((l) => "# hearth-check: " + l)].join("\n");
        const c = checkOfConverge("app-database", script, true, null)!;
        for (const l of r.check) assert.ok(c.lines.includes(l));
        const host = renderHostCheck("pghost", [c]);
        const n = spawnSync("bash", ["-n"], { input: host, encoding: "utf8" });
        assert.equal(n.status, 0, n.stderr);
    });
});

describe("postgres drift checks on a real PostgreSQL 15", function () {
    this.timeout(120_000);
    let c: LocalCluster;
    let tmp: string;
    const pw = "CheckPassword0123456789abcdefABC";

    before(async () => {
        c = await startCluster();
        tmp = fs.mkdtempSync(path.join("/var/lib", "hearth-pgcheck-"));
        c.sql("CREATE ROLE reporting NOLOGIN; CREATE ROLE intruder NOLOGIN;");
    });
    after(() => {
        c?.stop();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
        if (c) fs.rmSync(`/var/lib/hearth/applied/postgres/${c.port}`, { recursive: true, force: true });
    });

    const spec = (db: Partial<DbSpec> = {}): PostgresSpec => pgSpec({
        port: c.port,
        socketDir: c.socketDir,
        clients: [{ cidr: "127.0.0.1/32", ssl: false }, { cidr: "10.7.0.0/16", ssl: false }],
        paths: { hearthDir: path.join(tmp, "etc"), pgbouncerDir: path.join(tmp, "pgbouncer"), stateDir: path.join(tmp, "state") },
        db: { database: "shop", user: "shop", extensions: ["pgcrypto"], schemas: ["sales"], grants: [{ role: "reporting", schema: "sales", privileges: ["USAGE"], tables: ["SELECT"] }], ...db },
    });
    const converge = () => {
        const s = spec();
        const r = renderScripts(s, MARK);
        const res = spawnSync("bash", ["--noprofile", "--norc", "-c", r.script], { input: convergeStdin(r, s, scramVerifier(pw, "shop")), encoding: "utf8" });
        assert.equal(res.status, 0, res.stderr);
    };
    /** Runs the database's checks (all but the server unit's: no systemd here) and returns its drift lines. */
    const check = () => {
        const lines = renderScripts(spec(), MARK).check.filter((l) => !l.startsWith("hearth_pg_check_server "));
        const res = spawnSync("bash", ["--noprofile", "--norc", "-s"], { input: renderHostCheck("local", [{ resource: "shop", sudo: true, lines }]), encoding: "utf8" });
        assert.equal(res.status, 0, res.stderr);
        const [rep] = parseCheckOutput(res.stdout);
        assert.equal(rep.error, undefined, res.stderr);
        assert.doesNotMatch(res.stdout + res.stderr, /SCRAM-SHA-256\$/, "no verifier in the report");
        assert.ok(!(res.stdout + res.stderr).includes(pw));
        return rep.drift.map((d) => `${d.what}: ${d.desired} -> ${d.found}`);
    };
    const lsn = () => c.sql("SELECT pg_current_wal_lsn()");
    /** A check with the WAL position read around it: retried when a background record (not the check) moved it. */
    const readOnlyCheck = () => {
        let last = "";
        for (let i = 0; i < 3; i++) {
            const before = lsn();
            const drift = check();
            const after = lsn();
            if (before === after) return drift;
            last = `${before} -> ${after}`;
        }
        assert.fail(`the WAL position moved over every check: ${last}`);
    };

    it("runs psql in read-only transactions only: a write through it is refused", () => {
        const run = (sql: string) => spawnSync("bash", ["--noprofile", "--norc", "-s"], {
            input: `${RUNTIME}\nprintf '%s' ${shq(sql)} | hearth_pg_check_q ${shq(c.socketDir)} ${c.port} postgres\n`, encoding: "utf8",
        });
        const show = run("SHOW default_transaction_read_only");
        assert.equal(show.status, 0, show.stderr);
        assert.equal(show.stdout, "on\n");
        const write = run("CREATE TABLE hearth_check_write(x int)");
        assert.notEqual(write.status, 0);
        assert.match(write.stderr, /read-only transaction/);
    });

    it("finds nothing on a converged database, and writes no WAL", () => {
        converge();
        assert.match(fs.readFileSync(`/var/lib/hearth/applied/${verifierKey(spec())}`, "utf8"), /^[0-9a-f]{64}\n$/, "the converge recorded the verifier's digest");
        assert.deepEqual(readOnlyCheck(), []);
    });

    it("reports exactly the drift made by hand, names no secret, and writes no WAL", () => {
        const hbaFile = c.sql("SHOW hba_file");
        c.sql([
            "ALTER ROLE shop PASSWORD 'ChangedByHand0123456789'",
            "ALTER ROLE shop CREATEDB",
            "ALTER DATABASE shop OWNER TO intruder",
            "ALTER DATABASE shop CONNECTION LIMIT 3",
            "GRANT CONNECT ON DATABASE shop TO PUBLIC",
        ].join(";\n") + ";");
        c.sql("REVOKE USAGE ON SCHEMA sales FROM reporting; DROP EXTENSION pgcrypto;", "shop");
        const text = fs.readFileSync(hbaFile, "utf8");
        const line = 'host "shop" "shop" 10.7.0.0/16 scram-sha-256';
        assert.ok(text.includes(line + "\n"));
        fs.writeFileSync(hbaFile, text.replace(line + "\n", ""));
        c.sql("SELECT pg_reload_conf()");
        spawnSync("sleep", ["1"]);
        assert.deepEqual(readOnlyCheck(), [
            "database shop owner: shop -> intruder",
            "database shop connection limit: -1 -> 3",
            "database shop access: reporting -> PUBLIC,reporting",
            "role shop createdb: no -> yes",
            "role shop verifier: as hearth applied it -> changed since hearth applied it",
            "database shop extension pgcrypto: installed -> absent",
            "database shop schema sales grants: reporting=USAGE -> none",
            `${hbaFile} line ${line}: present -> absent`,
        ]);
    });

    it("a converge clears it; the next check is clean", () => {
        converge();
        assert.deepEqual(readOnlyCheck(), []);
    });

    it("an hba file edited but not reloaded, and a role gone, are reported", () => {
        const hbaFile = c.sql("SHOW hba_file");
        const text = fs.readFileSync(hbaFile, "utf8");
        spawnSync("sleep", ["1.1"]);
        fs.writeFileSync(hbaFile, text + "# a note\n");
        c.sql("ALTER DATABASE shop OWNER TO intruder; REASSIGN OWNED BY shop TO intruder;", "shop");
        c.sql("DROP OWNED BY shop; DROP ROLE shop;", "shop");
        assert.deepEqual(check(), [
            "database shop owner: shop -> intruder",
            "role shop: present -> absent",
            `${hbaFile} loaded: as on disk -> changed on disk since the server loaded it`,
        ]);
    });
});
