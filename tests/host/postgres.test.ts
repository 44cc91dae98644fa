// PostgresDb on a real booted Debian host: PostgreSQL 15 on a zfs-fuse tablespace, logins over TCP, pgbouncer, rotation, delete.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { PostgresDb, PostgresDbArgs } from "../../components/postgres";
import { scramVerifier } from "../../components/postgres/scram";
import { mustExec } from "./crash";
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
    const sh = (cmd: string): Promise<string> => mustExec(h, cmd);
    const q = (v: string) => `'${v.replace(/'/g, `'"'"'`)}'`;
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
            assert.match(await sh("zfs get -Hp -o value recordsize,hearth:owner tank/pg/shop"), /^8192\n.*\/shop-tablespace\n$/);
            assert.match(await asPostgres("postgres", "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = 'shop'"), /^hearth-owner: .*\/hearth:postgres:Database\/shop\n$/);
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
            const cmd = runner.resources.find((c) => c.name === "shop-database")!.inputs;
            // The same command with the rotated verifier in its secret frames (a verifier's length is fixed).
            const stdin = (cmd.stdin as string).split(scramVerifier(out.password!, "shop")).join(scramVerifier(pw2, "shop"));
            assert.notEqual(stdin, cmd.stdin);
            const r = await h.exec(cmd.create, { stdin });
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
            assert.equal(await sh("zfs get -H -o value hearth:owner,mounted tank/pg/shop"), "-\nyes\n");
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
    describe("the postgres user cannot make a converge write as root (finding 2)", () => {
        const CANARY = "/root/hearth-canary";
        const canary = () => sh(`stat -c '%a %U %G' ${CANARY} && sha256sum < ${CANARY}`);
        const runner = new ProgramRunner();
        let cmd: { create: string; stdin: string };
        let canaryBefore: string;

        before(async () => {
            await sh(`head -c 4096 /dev/urandom > ${CANARY} && chmod 0600 ${CANARY}`);
            canaryBefore = await canary();
            await runner.up(() => { new PostgresDb("guarded", { host, database: "guarded", clients: [client] }); });
            cmd = runner.resources.find((c) => c.name === "guarded-database")!.inputs as { create: string; stdin: string };
        });
        after(async () => {
            await sh(`rm -f ${CANARY}`);
            await runner.destroy();
        });

        it("links planted in the config dir (at the old temp names and as pg_hba.conf itself) reach nothing of root's", async () => {
            await sh([
                "cd /etc/postgresql/15/main",
                `runuser -u postgres -- ln -sfn ${CANARY} pg_hba.conf.hearth-new`,
                `runuser -u postgres -- ln -sfn ${CANARY} pg_hba.conf.hearth-prev`,
                "echo 'host all all 10.231.250.0/24 scram-sha-256' >> pg_hba.conf",
            ].join(" && "));
            const r = await h.exec(cmd.create, { stdin: cmd.stdin });
            assert.equal(r.code, 0, r.stderr);
            assert.equal(await canary(), canaryBefore);
            assert.equal(await sh("stat -c '%a %U %G' /etc/postgresql/15/main/pg_hba.conf"), "640 postgres postgres\n");
            assert.match(await sh("cat /etc/postgresql/15/main/pg_hba.conf"), /^host all all 10\.231\.250\.0\/24 scram-sha-256$/m, "other lines stay");
            // pg_hba.conf itself a link to a root file: refused (postgres cannot read it), nothing of root's touched.
            await sh(`cd /etc/postgresql/15/main && cp -p pg_hba.conf /root/hba.saved && runuser -u postgres -- ln -sfn ${CANARY} pg_hba.conf`);
            const refused = await h.exec(cmd.create, { stdin: cmd.stdin });
            assert.notEqual(refused.code, 0);
            assert.equal(await canary(), canaryBefore);
            assert.equal(await sh("stat -c '%U' /var/lib/hearth/postgres/5432/pg_hba.conf.prev"), "root\n", "the rollback copy lives in root-only state");
            await sh("cd /etc/postgresql/15/main && rm -f pg_hba.conf pg_hba.conf.hearth-new pg_hba.conf.hearth-prev && cp -p /root/hba.saved pg_hba.conf");
        });

        it("a postgres-user loop swapping links in and out of the config dir during converges changes no root file", async () => {
            // The attacker swaps pg_hba.conf for a link to the canary and back, and the cluster's config dir for a link
            // to /root and back, as fast as it can, while converges run.
            const attacker = [
                "cd /etc/postgresql/15",
                "while :; do",
                "  cp -p main/pg_hba.conf main/.real 2>/dev/null",
                `  ln -sfn ${CANARY} main/.lnk && mv -fT main/.lnk main/pg_hba.conf 2>/dev/null`,
                "  mv -fT main/.real main/pg_hba.conf 2>/dev/null",
                "  mv -T main main.x 2>/dev/null && ln -sfn /root main && rm -f main && mv -T main.x main",
                "done",
            ].join("\n");
            await sh(`setsid runuser -u postgres -- bash -c ${q(attacker)} </dev/null >/dev/null 2>&1 & echo $! > /root/attacker.pid`);
            const codes: (number | null)[] = [];
            try {
                for (let i = 0; i < 6; i++) {
                    // hearth's block is taken out before each run (as postgres), so each run rebuilds pg_hba.conf.
                    await h.exec("runuser -u postgres -- sed -i '/^# BEGIN hearth/,/^# END hearth$/d' /etc/postgresql/15/main/pg_hba.conf");
                    const r = await h.exec(cmd.create, { stdin: cmd.stdin });
                    codes.push(r.code);
                }
            } finally {
                await sh("kill -- -$(cat /root/attacker.pid); sleep 0.5; cd /etc/postgresql/15 && { [ -d main.x ] && rm -f main && mv -T main.x main || true; } && rm -f main/.real main/.lnk && if [ -L main/pg_hba.conf ]; then cp -p /root/hba.saved main/pg_hba.conf.r && mv -fT main/pg_hba.conf.r main/pg_hba.conf; fi; chown postgres:postgres main/pg_hba.conf");
            }
            assert.equal(codes.length, 6);
            process.stderr.write(`postgres: converges under a racing attacker exited ${codes.join(", ")}\n`);
            assert.equal(await canary(), canaryBefore, "the root-owned canary kept its bytes, owner and mode");
            assert.equal(await sh("ls -A /root | grep -v -e '^hearth-canary$' -e '^hba.saved$' -e '^attacker.pid$' -e '^\\.' || true"), "", "nothing new in /root");
            const again = await h.exec(cmd.create, { stdin: cmd.stdin });
            assert.equal(again.code, 0, again.stderr);
            assert.match(await sh("cat /etc/postgresql/15/main/pg_hba.conf"), /^host "guarded" "guarded" /m);
        });
    });

    it("dropping tablespace (with destroyOnDelete) moves the database back to pg_default before its dataset goes (finding 8)", async () => {
        const runner = new ProgramRunner();
        const out: Outputs = {};
        const program = (ts: boolean) => () => {
            const db = new PostgresDb("moving", { host, database: "moving", clients: [client], destroyOnDelete: true, ...(ts ? { tablespace: { dataset: "tank/pg/moving" } } : {}) });
            db.uri.apply((uri) => { out.uri = uri; });
        };
        await runner.up(program(true));
        assert.equal(psql(out.uri!, "CREATE TABLE t(v text); INSERT INTO t VALUES ('still here');").code, 0);
        assert.equal(await asPostgres("postgres", "SELECT spcname FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE datname = 'moving'"), "hearth_moving\n");
        const r = await runner.up(program(false));
        const order = r.runs.map((x) => `${x.op} ${x.resource}`);
        assert.ok(order.indexOf("update moving-database") >= 0 && order.indexOf("update moving-database") < order.findIndex((o) => o.startsWith("delete moving-tablespace")), `the database moved before the dataset went: ${order}`);
        assert.equal(await asPostgres("postgres", "SELECT spcname FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE datname = 'moving'"), "pg_default\n");
        assert.equal(await asPostgres("postgres", "SELECT count(*) FROM pg_tablespace WHERE spcname = 'hearth_moving'"), "0\n");
        assert.equal(psql(out.uri!, "SELECT v FROM t").out, "still here", "the rows survived the dataset");
        await runner.destroy();
    });

    it("renaming the database within one resource removes the old name's hba and pgbouncer entries (finding 9)", async () => {
        const runner = new ProgramRunner();
        const out: Outputs = {};
        const program = (database: string) => () => {
            const db = new PostgresDb("renamed", { host, database, clients: [client], pooler: { listenAddress: "*" } });
            pulumi.all([db.uri, db.pooledUri]).apply(([uri, pooledUri]) => { Object.assign(out, { uri, pooledUri }); });
        };
        await runner.up(program("shopold"));
        const oldUri = out.uri!;
        const oldPooled = out.pooledUri!;
        assert.equal(psql(oldPooled, "SELECT 1").out, "1");
        await runner.up(program("shopnew"));
        assert.equal(psql(out.uri!, "SELECT current_database()").out, "shopnew");
        assert.equal(psql(out.pooledUri!, "SELECT current_database()").out, "shopnew");
        assert.equal((await h.exec("ls /etc/hearth/postgres/5432/hba.d/shopold.db.conf /etc/hearth/pgbouncer/databases.d/shopold.db.ini /etc/hearth/pgbouncer/users.d/shopold.role.txt")).code, 2, "the old name's fragments are gone");
        assert.doesNotMatch(await sh("cat /etc/postgresql/15/main/pg_hba.conf /etc/pgbouncer/hearth-userlist.txt /etc/pgbouncer/hearth-databases.ini"), /shopold/);
        assert.notEqual(psql(oldUri, "SELECT 1").code, 0, "the old role cannot log in directly");
        assert.notEqual(psql(oldPooled, "SELECT 1").code, 0, "nor through pgbouncer");
        await runner.destroy();
    });
});
