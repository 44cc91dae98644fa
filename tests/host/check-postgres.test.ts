// The drift check of PostgresDb on a real host (PostgreSQL 15 + pgbouncer): converged, the check reports nothing;
// drifted by hand (the role's password set, the database given to another role, a client's hba line dropped and the
// server reloaded, pgbouncer stopped; then the server stopped) it reports exactly those; a reapply and `up` clear
// them. No check changes anything: the WAL position, every file's mtime and content in the trees involved, hearth's
// applied state and the units' InvocationIDs are the same after it as before.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { PostgresDb } from "../../components/postgres";
import { checkHost, driftLines } from "./drift";
import { describeHost, startHost, TestHost } from "./harness";
import { ProgramRunner } from "./runner";

const UNITS = ["postgresql@15-main.service", "pgbouncer.service"];

describeHost("drift check of a PostgresDb on a real host", function () {
    this.timeout(900_000);
    let h: TestHost;
    let client: string;
    const runner = new ProgramRunner();

    async function sh(command: string): Promise<string> {
        const r = await h.exec(command);
        assert.equal(r.code, 0, `${command}\n${r.stdout}${r.stderr}`);
        return r.stdout;
    }
    const asPostgres = (sql: string) => sh(`runuser -u postgres -- psql -X -q -A -t -v ON_ERROR_STOP=1 -d postgres <<'SQL'\n${sql}\nSQL`);

    function program(reapply = 0): () => void {
        return () => {
            const host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey, ...(reapply ? { reapply: { all: reapply } } : {}) });
            new PostgresDb("shop", { host, database: "shop", clients: [client], schemas: ["sales"], grants: [{ role: "reporting", schema: "sales" }], pooler: {} });
        };
    }

    /** The WAL position, every file below the trees a check could touch (mtime, mode, size, content), the units' InvocationIDs. */
    async function fingerprint(): Promise<string> {
        const files = await sh(
            "find /etc/postgresql /etc/pgbouncer /etc/hearth /var/lib/hearth /run/hearth -xdev " +
                "-printf '%p %y %m %s %T@\\n' -type f -exec sha256sum {} + 2>/dev/null | sort",
        );
        const ids = await sh(`systemctl show -p Id -p InvocationID ${UNITS.join(" ")}`);
        const up = (await h.exec("systemctl is-active -q postgresql@15-main")).code === 0;
        return `${files}\n${ids}\n${up ? await asPostgres("SELECT pg_current_wal_lsn()") : "server stopped"}`;
    }

    /** The WAL settles first (a checkpoint, then no record for 2 s), so only a write by the check could move it. */
    async function quietWal(): Promise<void> {
        if ((await h.exec("systemctl is-active -q postgresql@15-main")).code !== 0) return;
        await asPostgres("CHECKPOINT");
        let last = "";
        for (let i = 0; i < 40; i++) {
            const now = await asPostgres("SELECT pg_current_wal_lsn()");
            if (now === last) return;
            last = now;
            await new Promise((r) => setTimeout(r, 2_000));
        }
    }

    /** The drift the host's checks report, asserting the check changed nothing (retried once if a background WAL record moved the position). */
    async function drift(): Promise<string[]> {
        for (let attempt = 0; ; attempt++) {
            await quietWal();
            const before = await fingerprint();
            const reports = await checkHost(h, runner.resources);
            const after = await fingerprint();
            const lines = driftLines(reports);
            assert.doesNotMatch(lines.join("\n"), /SCRAM-SHA-256/, "no verifier in the report");
            if (after === before) return lines;
            const wal = /[0-9A-F]+\/[0-9A-F]+\n?$/;
            const walOnly = before.replace(wal, "") === after.replace(wal, "");
            assert.ok(walOnly && attempt < 2, `the check changed nothing:\n${before}\n---\n${after}`);
        }
    }

    before(async () => {
        h = await startHost({ name: "pgcheck" });
        client = `10.231.${h.index}.1/32`;
        await sh("for i in $(seq 1 30); do runuser -u postgres -- psql -X -q -c 'SELECT 1' >/dev/null 2>&1 && break; sleep 1; done");
        await asPostgres("CREATE ROLE reporting NOLOGIN; CREATE ROLE intruder NOLOGIN;");
    });
    after(async () => { await h?.stop(); });

    it("finds nothing on a converged host", async () => {
        await runner.up(program());
        assert.match(await sh("cat /var/lib/hearth/applied/postgres/5432/role/shop/verifier"), /^[0-9a-f]{64}\n$/, "the converge recorded the verifier's digest");
        assert.deepEqual(await drift(), []);
    });

    it("reports exactly what was changed by hand, and a reapply clears it", async () => {
        const hba = "/etc/postgresql/15/main/pg_hba.conf";
        const line = `host "shop" "shop" ${client} scram-sha-256`;
        await asPostgres("ALTER ROLE shop PASSWORD 'SetByHand0123456789'; ALTER DATABASE shop OWNER TO intruder;");
        assert.match(await sh(`cat ${hba}`), new RegExp(`^${line.replace(/[./]/g, "\\$&")}$`, "m"));
        await sh(`runuser -u postgres -- sed -i '/^host "shop" "shop" 10\\.231\\./d' ${hba} && runuser -u postgres -- psql -X -q -c 'SELECT pg_reload_conf()' >/dev/null`);
        await sh("systemctl stop pgbouncer");
        assert.deepEqual(await drift(), [
            "shop-database: database shop owner: shop -> intruder",
            "shop-database: role shop verifier: as hearth applied it -> changed since hearth applied it",
            `shop-database: ${hba} line ${line}: present -> absent`,
            "shop-database: unit pgbouncer.service active: active -> inactive",
        ]);
        const r = await runner.up(program(1));
        assert.deepEqual(r.updated, ["shop-database"]);
        assert.deepEqual(await drift(), []);
    });

    it("reports a stopped server alone (nothing it cannot ask), and a reapply starts it", async () => {
        await sh("systemctl stop postgresql@15-main");
        assert.deepEqual(await drift(), ["shop-database: unit postgresql@15-main.service active: active -> inactive"]);
        const r = await runner.up(program(2));
        assert.match(r.runs.map((x) => x.stdout).join(""), /hearth: started postgresql@15-main\.service/);
        assert.deepEqual(await drift(), []);
    });
});
