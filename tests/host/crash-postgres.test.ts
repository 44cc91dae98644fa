// Crash points for PostgresDb on a real PostgreSQL 15 + pgbouncer host: its converge (a new database with a pooler,
// and an update that rotates the password and adds a client network) and its delete, killed after every runtime step
// (after CREATE ROLE, after CREATE DATABASE, between pg_hba.conf and the reload, ...), re-run unchanged, and compared
// with a clean run: files, marks, the server's and pgbouncer's loaded state (logins work with the new password only).
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { PostgresDb, PostgresDbArgs } from "../../components/postgres";
import { mockPassword } from "../mocks";
import { describeHost, startHost, TestHost } from "./harness";
import { CrashRun, crashPoints, fileFacts, unitFacts, mustExec, startState } from "./crash";
import { registeredCommands } from "./runner";

describeHost("PostgresDb crash points", function () {
    this.timeout(3_600_000);
    let h: TestHost;
    const sh = (cmd: string): Promise<string> => mustExec(h, cmd);
    const q = (s: string) => `'${s.replace(/'/g, `'"'"'`)}'`;
    const asPostgres = (sql: string) => sh(`runuser -u postgres -- psql -X -q -A -t -d postgres -c ${q(sql)}`);

    type Args = Omit<PostgresDbArgs, "host">;
    async function commands(args: Args): Promise<{ converge: CrashRun; del: CrashRun }> {
        const cmds = await registeredCommands(() => {
            const host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey });
            new PostgresDb("shop", { host, ...args });
        });
        const converge = cmds.find((c) => c.name === "shop-database")!.inputs;
        const life = cmds.find((c) => c.name === "shop-database-lifecycle")!.inputs;
        return { converge: { command: converge.create as string, stdin: converge.stdin as string }, del: { command: life.delete as string } };
    }

    const v1: Args = { database: "shop", clients: ["10.9.0.0/16"], schemas: ["sales"], pooler: {} };
    const v2: Args = { ...v1, clients: ["10.9.0.0/16", "10.8.0.0/24"], passwordVersion: 2 };
    const pw = (version: number) => mockPassword("shop-password", { version: String(version) });

    // The package's files as the image ships them, restored by every reset.
    const ORIG = "/root/crash-orig";
    before(async () => {
        h = await startHost({ name: "pgcrash" });
        await sh(`for i in $(seq 1 30); do runuser -u postgres -- psql -X -q -c 'SELECT 1' >/dev/null 2>&1 && break; sleep 1; done
            mkdir -p ${ORIG} && cp -p /etc/postgresql/15/main/pg_hba.conf /etc/pgbouncer/pgbouncer.ini /etc/pgbouncer/userlist.txt ${ORIG}/`);
    });
    after(async () => { await h?.stop(); });

    const wipe = () => sh([
        "set -e", "cd /",
        "runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -d postgres <<'SQL'",
        "SET client_min_messages = warning;",
        "DROP DATABASE IF EXISTS shop WITH (FORCE);",
        "SELECT format('DROP DATABASE %I WITH (FORCE)', datname) FROM pg_database WHERE datname LIKE 'hearth_new_%' \\gexec",
        "DROP ROLE IF EXISTS shop;",
        "SQL",
        "rm -rf /etc/hearth /var/lib/hearth/applied/postgres /var/lib/hearth/applied/pgbouncer /var/lib/hearth/postgres",
        "rm -f /etc/pgbouncer/hearth-databases.ini /etc/pgbouncer/hearth-userlist.txt /etc/pgbouncer/pgbouncer.ini.hearth-orig /etc/pgbouncer/.hearth.*",
        `cp -p ${ORIG}/pg_hba.conf /etc/postgresql/15/main/pg_hba.conf`,
        `cp -p ${ORIG}/pgbouncer.ini ${ORIG}/userlist.txt /etc/pgbouncer/`,
        "runuser -u postgres -- psql -X -q -d postgres -c 'SELECT pg_reload_conf()' >/dev/null",
        "systemctl reset-failed pgbouncer && systemctl restart pgbouncer",
    ].join("\n"));
    const start = (from?: CrashRun) => startState(h, wipe, from);

    /** Can `password` log in as shop over TCP, directly and through pgbouncer? (what the server and pgbouncer loaded) */
    const logins = async (password: string) => {
        const r = await h.exec([5432, 6432].map((p) =>
            `PGPASSWORD=${q(password)} PGCONNECT_TIMEOUT=5 psql -X -q -A -t -h 127.0.0.1 -p ${p} -U shop -d shop -c 'SELECT current_user' >/dev/null 2>&1 && echo ${p}:yes || echo ${p}:no`).join("; "));
        return r.stdout.trim();
    };
    const fingerprint = (passwords: string[]) => async () => [
        await asPostgres([
            "SELECT 'role ' || rolname || ' ' || rolcanlogin || ' ' || coalesce(shobj_description(oid, 'pg_authid'), '-') || ' ' || coalesce(rolpassword, '-') FROM pg_authid WHERE rolname = 'shop'",
            "UNION ALL SELECT 'db ' || datname || ' ' || coalesce(shobj_description(oid, 'pg_database'), '-') FROM pg_database WHERE datname = 'shop' OR datname LIKE 'hearth_new_%'",
            "UNION ALL SELECT 'hba ' || line_number || ' ' || type || ' ' || array_to_string(database, ',') || ' ' || coalesce(address, '') || ' ' || coalesce(error, '') FROM pg_hba_file_rules",
            "ORDER BY 1",
        ].join(" ")),
        await sh("runuser -u postgres -- psql -X -q -A -t -d shop -c \"SELECT nspname FROM pg_namespace WHERE nspname = 'sales'\" 2>&1 || true"),
        ...(await fileFacts(h, ["/etc/postgresql/15/main/pg_hba.conf", "/etc/pgbouncer/pgbouncer.ini"], {
            trees: ["/etc/hearth", "/etc/pgbouncer", "/var/lib/hearth/applied/postgres", "/var/lib/hearth/applied/pgbouncer", "/var/lib/hearth/postgres"],
        })),
        await unitFacts(h, ["pgbouncer.service"]),
        ...(await Promise.all(passwords.map(logins))),
    ];

    const cases: [string, () => Promise<{ from?: CrashRun; run: CrashRun; passwords: string[]; min: number }>][] = [
        ["converge of a new database with a pooler", async () => ({ run: (await commands(v1)).converge, passwords: [pw(1)], min: 12 })],
        ["converge of an update: password rotation and a new client network", async () => ({
            from: (await commands(v1)).converge, run: (await commands(v2)).converge, passwords: [pw(1), pw(2)], min: 5,
        })],
        ["delete (the database and role are kept, access and marks go)", async () => {
            const c = await commands(v1);
            return { from: c.converge, run: c.del, passwords: [pw(1)], min: 4 };
        }],
    ];
    for (const [name, make] of cases) {
        it(`${name}: every kill point finishes on the re-run`, async () => {
            const c = await make();
            const report = await crashPoints(h, { name, reset: () => start(c.from), run: c.run, fingerprint: fingerprint(c.passwords) });
            assert.ok(report.points >= c.min, `${name}: only ${report.points} kill points`);
            process.stderr.write(`crash-postgres: ${name}: ${report.points} points in ${report.seconds.toFixed(0)} s\n`);
        });
    }
});
