// A throwaway PostgreSQL cluster for specs: initdb in a temp dir, listening on a unix socket there and on 127.0.0.1 only.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

const BIN = "/usr/lib/postgresql/15/bin";

export interface LocalCluster {
    readonly dir: string;
    readonly socketDir: string;
    readonly port: number;
    /** Runs SQL as the postgres superuser over the socket; returns unaligned, tuples-only output. */
    sql(sql: string, db?: string): string;
    /** Runs psql over TCP on 127.0.0.1 as `user` with `password`; returns the result or throws with psql's stderr. */
    tcp(user: string, password: string, db: string, sql: string, port?: number): string;
    stop(): void;
}

export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

export async function startCluster(): Promise<LocalCluster> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-pg-"));
    fs.chmodSync(dir, 0o755);
    execFileSync("chown", ["postgres:postgres", dir]);
    const data = path.join(dir, "data");
    const port = await freePort();
    const asPg = (cmd: string, args: string[]) => execFileSync("runuser", ["-u", "postgres", "--", cmd, ...args], { encoding: "utf8", cwd: dir });
    asPg(`${BIN}/initdb`, ["-D", data, "-U", "postgres", "--auth-local=peer", "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C"]);
    fs.appendFileSync(path.join(data, "postgresql.conf"), `\nfsync = off\nlisten_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = '${dir}'\n`);
    asPg(`${BIN}/pg_ctl`, ["-D", data, "-l", path.join(dir, "log"), "-w", "-t", "30", "start"]);
    const psqlArgs = ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", dir, "-p", String(port)];
    return {
        dir,
        socketDir: dir,
        port,
        sql(sql: string, db = "postgres"): string {
            return execFileSync("runuser", ["-u", "postgres", "--", "psql", ...psqlArgs, "-d", db], { input: sql, encoding: "utf8", cwd: dir }).trim();
        },
        tcp(user: string, password: string, db: string, sql: string, p = port): string {
            const r = spawnSync("psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(p), "-U", user, "-d", db], {
                input: sql,
                encoding: "utf8",
                env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: "5", PGSSLMODE: "disable" },
            });
            if (r.status !== 0) throw new Error(`psql as ${user} failed (${r.status}): ${r.stderr}`);
            return r.stdout.trim();
        },
        stop(): void {
            spawnSync("runuser", ["-u", "postgres", "--", `${BIN}/pg_ctl`, "-D", data, "-m", "immediate", "-w", "stop"], { cwd: dir });
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
