// PostgresDb on a real booted Debian host: PostgreSQL 15 on a zfs-fuse tablespace, logins over TCP, pgbouncer, rotation, delete.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { PostgresDb, PostgresDbArgs, resolvePostgresDbArgs } from "../../components/postgres";
import { convergeStdin, renderScripts } from "../../components/postgres/render";
import { scramVerifier } from "../../components/postgres/scram";
import { describeHost, startHost, TestHost } from "./harness";
import { ProgramRunner } from "./runner";

interface Outputs { uri?: string; pooledUri?: string; password?: string; host?: string; port?: number }

/** psql from the build machine over TCP with a connection URI; the password goes in the environment, not argv. */
function psql(uri: string, sql: string): { code: number | null; out: string; err: string } {
    const u = new URL(uri);
    const r = spawnSync("psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", u.hostname, "-p", u.port, "-U", decodeURIComponent(u.username), "-d", u.pathname.slice(1)], {
        input: sql,
        encoding: "utf8",
        env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password), PGCONNECT_TIMEOUT: "5", PGSSLMODE: "disable" },
        timeout: 30_000,
    });
    return { code: r.status, out: r.stdout.trim(), err: r.stderr };
}

function withPassword(uri: string, password: string): string {
    const u = new URL(uri);
    u.password = encodeURIComponent(password);
    return u.toString();
}

describeHost("PostgresDb on a PostgreSQL 15 + pgbouncer + zfs-fuse host", function () {
    this.timeout(600_000);
    let h: TestHost;
    let host: Host;
    let client: string;
    const sh = async (cmd: string): Promise<string> => {
        const r = await h.exec(cmd);
        assert.equal(r.code, 0, `${cmd}\n${r.stdout}${r.stderr}`);
        return r.stdout;
    };
    const asPostgres = (db: string, sql: string) => sh(`runuser -u postgres -- psql -X -q -A -t -d ${db} -c ${JSON.stringify(sql)}`);

    before(async () => {
        h = await startHost({ name: "pghost" });
        host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey, facts: { zfs: true } });
        client = `10.231.${h.index}.1/32`;
        // The host's owner lets the cluster listen on its LAN address; hearth leaves cluster-wide settings alone.
        await sh("truncate -s 512M /var/lib/hearth-tank.img && zpool create tank /var/lib/hearth-tank.img");
        await sh("echo \"listen_addresses = '*'\" > /etc/postgresql/15/main/conf.d/listen.conf && systemctl restart postgresql@15-main");
    });
    after(async () => { await h?.stop(); });

    describe("an application database through its life", () => {
        const runner = new ProgramRunner();
        const out: Outputs = {};
        let args: PostgresDbArgs;
        const program = () => {
            args = { host, database: "shop", extensions: ["pgcrypto"], clients: [client], tablespace: { dataset: "tank/pg/shop" }, pooler: { listenAddress: "*" } };
            const db = new PostgresDb("shop", args);
            pulumi.all([db.uri, db.pooledUri, db.password, db.host, db.port]).apply(([uri, pooledUri, password, hostName, port]) => {
                Object.assign(out, { uri, pooledUri, password, host: hostName, port });
            });
        };
        const pw2 = "RotatedPassword0123456789abcdefX";

        it("creates role, database on its own dataset and pgbouncer entry; the output URI logs in over TCP and writes rows", async () => {
            const r = await runner.up(program);
            assert.deepEqual(r.created, ["shop-tablespace-dataset", "shop-tablespace-dataset-lifecycle", "shop-database", "shop-database-lifecycle"]);
            assert.equal(out.uri, `postgresql://shop:${out.password}@${h.address}:5432/shop`);
            assert.equal(out.pooledUri, `postgresql://shop:${out.password}@${h.address}:6432/shop`);
            const w = psql(out.uri!, "CREATE TABLE orders(id int PRIMARY KEY, item text); INSERT INTO orders VALUES (1, 'tea'), (2, 'cake'); SELECT count(*) FROM orders;");
            assert.equal(w.code, 0, w.err);
            assert.equal(w.out, "2");
            assert.equal(await asPostgres("shop", "SELECT pg_tablespace_location(dattablespace) FROM pg_database WHERE datname = 'shop'"), "/tank/pg/shop/pg\n");
            assert.equal(await sh("zfs get -Hp -o value recordsize,hearth:managed tank/pg/shop"), "8192\nyes\n");
            assert.match(await sh("cat /etc/postgresql/15/main/pg_hba.conf"), new RegExp(`^host "shop" "shop" ${client.replace(/\./g, "\\.")} scram-sha-256$`, "m"));
            assert.equal(await sh("stat -c '%a %U' /etc/pgbouncer/hearth-userlist.txt"), "600 postgres\n");
            assert.doesNotMatch(await sh("cat /etc/pgbouncer/hearth-userlist.txt /etc/pgbouncer/pgbouncer.ini /etc/postgresql/15/main/pg_hba.conf"), new RegExp(out.password!));
        });

        it("works through pgbouncer with the pooled URI", async () => {
            const p = psql(out.pooledUri!, "INSERT INTO orders VALUES (3, 'scone'); SELECT string_agg(item, ',' ORDER BY id) FROM orders;");
            assert.equal(p.code, 0, p.err);
            assert.equal(p.out, "tea,cake,scone");
        });

        it("re-running changes nothing and keeps the rows", async () => {
            const r = await runner.up(program);
            assert.equal(r.runs.length, 0, "a no-op up runs no remote command");
            const cmd = runner.resources.find((c) => c.name === "shop-database")!.inputs;
            const again = await h.exec(cmd.create, { stdin: cmd.stdin });
            assert.equal(again.code, 0, again.stderr);
            assert.doesNotMatch(again.stdout, /hearth: (wrote|updated|restarted|reloaded)/);
            assert.equal(psql(out.uri!, "SELECT count(*) FROM orders").out, "3");
        });

        it("rotates the password in place: the old one is refused directly and through pgbouncer, the rows stay", async () => {
            const resolved = resolvePostgresDbArgs(args);
            const rendered = renderScripts(resolved.spec);
            const cmd = runner.resources.find((c) => c.name === "shop-database")!.inputs;
            const r = await h.exec(cmd.create, { stdin: convergeStdin(rendered, resolved.spec, scramVerifier(pw2, "shop")) });
            assert.equal(r.code, 0, r.stderr);
            assert.match(r.stdout, /hearth: reloaded pgbouncer/);
            assert.match(psql(out.uri!, "SELECT 1").err, /password authentication failed/);
            assert.equal(psql(withPassword(out.uri!, pw2), "SELECT count(*) FROM orders").out, "3");
            assert.equal(psql(withPassword(out.pooledUri!, pw2), "SELECT count(*) FROM orders").out, "3");
            assert.notEqual(psql(out.pooledUri!, "SELECT 1").code, 0);
        });

        it("by default a delete keeps the database, its rows, its role and its dataset", async () => {
            const gone = await runner.destroy();
            assert.deepEqual(gone.deleted.sort(), ["shop-database", "shop-database-lifecycle", "shop-tablespace-dataset", "shop-tablespace-dataset-lifecycle"]);
            assert.equal(await asPostgres("shop", "SELECT string_agg(item, ',' ORDER BY id) FROM orders"), "tea,cake,scone\n");
            assert.equal(await asPostgres("postgres", "SELECT count(*) FROM pg_roles WHERE rolname = 'shop'"), "1\n");
            assert.equal(await sh("zfs get -H -o value hearth:managed,mounted tank/pg/shop"), "-\nyes\n");
            assert.doesNotMatch(await sh("cat /etc/postgresql/15/main/pg_hba.conf"), /"shop"/);
            assert.doesNotMatch(await sh("cat /etc/pgbouncer/hearth-databases.ini"), /shop/);
        });
    });

    it("with destroyOnDelete takes a final dump, then drops the database, the role and its dataset", async () => {
        const runner = new ProgramRunner();
        const out: Outputs = {};
        await runner.up(() => {
            const db = new PostgresDb("scratch", { host, database: "scratch", clients: [client], tablespace: { dataset: "tank/pg/scratch" }, destroyOnDelete: true });
            db.uri.apply((uri) => { out.uri = uri; });
        });
        assert.equal(psql(out.uri!, "CREATE TABLE notes(n text); INSERT INTO notes VALUES ('last words');").code, 0);
        const gone = await runner.destroy();
        assert.match(gone.runs.map((r) => r.stdout).join(""), /final dump written to \/var\/backups\/hearth\/postgres\/scratch-\d{8}T\d{6}Z\.dump/);
        const dump = (await sh("ls /var/backups/hearth/postgres/")).trim();
        assert.match(await sh(`pg_restore -l /var/backups/hearth/postgres/${dump}`), /TABLE DATA public notes/);
        assert.equal(await asPostgres("postgres", "SELECT count(*) FROM pg_database WHERE datname = 'scratch'"), "0\n");
        assert.equal(await asPostgres("postgres", "SELECT count(*) FROM pg_roles WHERE rolname = 'scratch'"), "0\n");
        assert.equal((await h.exec("zfs list tank/pg/scratch")).code, 1, "the dataset went after the database left it");
    });
});
