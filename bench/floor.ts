// The converge floor: the least this machine can do to reach the benchmark site's state, measured on a fresh host in the same run.
//
// One SSH session (with the provider's algorithms) that writes every service's files, runs one daemon-reload and one
// `systemctl enable --no-reload --now` of all of them, and alongside that creates the two datasets and the role, database and
// pg_hba line (one psql session that also reloads the configuration). No markers, no records, no checks: what any tool
// has to make the host do. The files are the bytes hearth wrote on its own host, so both do the same work; afterwards the
// floor host must be in the same state as hearth's (checkEquivalent), or the floor is refused.
import type { TestHost } from "../tests/host/harness";
import type { SshTarget } from "../tests/host/ssh";
import { liveAddresses } from "../tests/host/harness";
import { BASE_QUOTA_MIB, DATASETS, DB, serviceName } from "./site";
import { runProviderSsh } from "./ssh-client";

const DIAL_FAILURE = /kex_exchange_identification|Connection (closed|reset) by|Connection refused|Connection timed out|banner exchange/;
const PG_HBA = "/etc/postgresql/15/main/pg_hba.conf";
const EOF_MARK = "HEARTH_FLOOR_FILES";

export interface FloorRun {
    /** Epoch ms when the session was dialled. */
    readonly startedAt: number;
    readonly wallMs: number;
    readonly dialRetries: number;
}

/** The unit files hearth wrote for the site's services, as a base64 gzipped tar (paths relative to /). */
export async function serviceFilesTar(source: TestHost, services: number): Promise<string> {
    const units = Array.from({ length: services }, (_, k) => `etc/systemd/system/${serviceName(k + 1)}.service`);
    const r = await source.exec(`set -euo pipefail; cd /; ls -d etc/systemd/system/bench-app-*.service.d 2>/dev/null && exit 3; tar -cf - ${units.join(" ")} | gzip -1 | base64 -w0`);
    if (r.code === 3) throw new Error(`${source.name}: hearth wrote drop-in directories the floor does not copy:\n${r.stdout}`);
    if (r.code !== 0 || !/^[A-Za-z0-9+/=]+$/.test(r.stdout.trim())) throw new Error(`${source.name}: reading the unit files exited ${r.code}: ${r.stderr}`);
    return r.stdout.trim();
}

/** The single-session script of the fully batched fresh converge. The role's password comes on stdin. */
export function batchedScript(tarBase64: string, services: number, dbClient: string): string {
    if (!/^[0-9.]+\/\d+$/.test(dbClient)) throw new Error(`floor: dbClient must be an IPv4 CIDR, got ${JSON.stringify(dbClient)}`);
    const units = Array.from({ length: services }, (_, k) => `${serviceName(k + 1)}.service`);
    const datasets = DATASETS.map((d) => [
        "zfs create",
        `-o mountpoint=${d.mountpoint}`, `-o compression=${d.compression}`, `-o recordsize=${d.recordsizeKiB}K`,
        `-o quota=${BASE_QUOTA_MIB}M`, "-o atime=off", "-o org.example:owner=bench", d.dataset,
    ].join(" "));
    return [
        "set -euo pipefail",
        `base64 -d <<'${EOF_MARK}' | tar -C / -xzf -`,
        tarBase64.replace(/(.{76})/g, "$1\n"),
        EOF_MARK,
        // The datasets and the database do not wait for systemd: they run beside it, in the same session.
        `( ${datasets.join(" && ")} ) &`,
        "zfs_pid=$!",
        `sed -i '1i host "${DB.database}" "${DB.user}" ${dbClient} scram-sha-256' ${PG_HBA}`,
        // stdin holds `\set pw '…'`; a job put in the background reads /dev/null, so the line is read here first.
        // CREATE DATABASE cannot run in a transaction block.
        "IFS= read -r pw_line",
        "{ printf '%s\\n' \"$pw_line\" " + [
            `CREATE ROLE "${DB.user}" LOGIN PASSWORD :'pw';`,
            `CREATE DATABASE "${DB.database}" OWNER "${DB.user}";`,
            "SELECT pg_reload_conf();",
        ].map((l) => `'${l.replace(/'/g, "'\\''")}'`).join(" ") + "; } | runuser -u postgres -- psql -X -q -At -v ON_ERROR_STOP=1 -d postgres >/dev/null &",
        "pg_pid=$!",
        "systemctl daemon-reload",
        // As hearth's scripts do: the reload above loaded the units; enable's own reload would be a second one.
        `systemctl enable --no-reload --now ${units.join(" ")}`,
        "wait $zfs_pid",
        "wait $pg_pid",
    ].join("\n");
}

/** The single-session script of one service changed (MemoryMax `from` → `to` MiB): its unit file, one daemon-reload, one restart. */
export function oneChangeScript(service: string, fromMiB: number, toMiB: number): string {
    if (!/^[a-z0-9-]+$/.test(service)) throw new Error(`floor: service must be a unit name stem, got ${JSON.stringify(service)}`);
    for (const [name, v] of [["fromMiB", fromMiB], ["toMiB", toMiB]] as const) {
        if (!Number.isInteger(v) || v < 1) throw new Error(`floor: ${name} must be a positive integer, got ${JSON.stringify(v)}`);
    }
    const unit = `/etc/systemd/system/${service}.service`;
    return [
        "set -euo pipefail",
        `grep -q '^MemoryMax=${fromMiB}M$' ${unit}`,
        `sed 's/^MemoryMax=${fromMiB}M$/MemoryMax=${toMiB}M/' ${unit} > ${unit}.new`,
        `mv ${unit}.new ${unit}`,
        "systemctl daemon-reload",
        `systemctl restart ${service}.service`,
    ].join("\n");
}

/** Runs one script in one session, retrying only dials sshd refused (as the provider's dialErrorLimit does). */
export async function timedSession(t: SshTarget, script: string, stdin = ""): Promise<FloorRun> {
    if (!liveAddresses().includes(t.address)) throw new Error(`refusing to connect to ${t.address}: not a test host this process started`);
    const started = Date.now();
    for (let dialRetries = 0; ; dialRetries++) {
        const r = await runProviderSsh(t, script, { stdin });
        if (r.code === 255 && r.stdout === "" && DIAL_FAILURE.test(r.stderr) && dialRetries < 10) {
            await new Promise((res) => setTimeout(res, 100 * (dialRetries + 1)));
            continue;
        }
        if (r.code !== 0) throw new Error(`floor session on ${t.address} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
        return { startedAt: started, wallMs: Date.now() - started, dialRetries };
    }
}

/** The fully batched fresh converge on `floor` (a fresh host prepared as hearth's was), with hearth's unit files. */
export async function batchedFloor(floor: TestHost, tarBase64: string, services: number, dbClient: string, password: string): Promise<FloorRun> {
    if (/['\\\n]/.test(password)) throw new Error("floor: the database password holds a quote, backslash or newline, which the floor's psql line does not escape");
    return timedSession(floor.ssh, batchedScript(tarBase64, services, dbClient), `\\set pw '${password}'\n`);
}
