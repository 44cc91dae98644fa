// The two bench hosts: identical preparation before the clock starts, and checks that both tools reached the same state.
import { spawnSync } from "child_process";
import { stopAllHosts, TestHost } from "../tests/host/harness";
import { DATASETS, DB, servicePort } from "./site";

async function sh(h: TestHost, command: string): Promise<string> {
    const r = await h.exec(command);
    if (r.code !== 0) throw new Error(`${h.name}: ${command}\nexit ${r.code}\n${r.stdout}${r.stderr}`);
    return r.stdout;
}

/**
 * What the host's owner sets up once, outside either tool: a ZFS pool on a file (zfs-fuse), and PostgreSQL
 * listening on the host's LAN address (hearth and the playbook both leave cluster-wide settings alone).
 */
export async function prepareHost(h: TestHost): Promise<void> {
    await sh(h, [
        "set -e",
        "systemctl is-active -q zfs-fuse",
        "truncate -s 1G /var/lib/hearth-bench-tank.img",
        "zpool create tank /var/lib/hearth-bench-tank.img",
        "echo \"listen_addresses = '*'\" > /etc/postgresql/15/main/conf.d/listen.conf",
        "systemctl restart postgresql@15-main",
        "for i in $(seq 1 50); do runuser -u postgres -- psql -X -At -c 'SELECT 1' >/dev/null 2>&1 && exit 0; sleep 0.2; done; exit 1",
    ].join("\n"));
}

export interface HostState {
    /** Unit file contents after the first line (hearth's and Ansible's headers differ), hashed per unit. */
    readonly units: string;
    readonly datasets: string;
    /** Ports whose service did not answer HTTP. */
    readonly deadPorts: number[];
}

/** What both tools must agree on once converged: same units, services answering, same dataset properties. */
export async function hostState(h: TestHost, services: number): Promise<HostState> {
    const units = await sh(h, "cd /etc/systemd/system && for f in bench-app-*.service; do printf '%s %s\\n' \"$f\" \"$(grep -v '^#' \"$f\" | sha256sum | cut -c1-16)\"; done");
    const datasets = await sh(h, `zfs get -Hp -o name,property,value compression,recordsize,quota,mountpoint,atime,org.example:owner ${DATASETS.map((d) => d.dataset).join(" ")}`);
    const ports = Array.from({ length: services }, (_, k) => servicePort(k + 1));
    // Type=exec services are active as soon as python starts; give them a moment to bind before asking.
    const dead = await sh(h, `sleep 1; for p in ${ports.join(" ")}; do curl -fsS -m 5 -o /dev/null http://127.0.0.1:$p/ || echo $p; done`);
    return { units, datasets, deadPorts: dead.split("\n").filter(Boolean).map(Number) };
}

/** Logs in as the database's role over TCP from the build machine, as a client would. */
export function canLogIn(h: TestHost, password: string): string | undefined {
    const r = spawnSync("psql", ["-X", "-At", "-h", h.address, "-U", DB.user, "-d", DB.database, "-c", "SELECT current_user || '@' || current_database()"], {
        encoding: "utf8",
        env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: "5", PGSSLMODE: "disable" },
        timeout: 30_000,
    });
    return r.status === 0 && r.stdout.trim() === `${DB.user}@${DB.database}` ? undefined : `${h.name}: login as ${DB.user} failed (${r.status}): ${r.stderr.trim()}`;
}

/** Throws unless both hosts ended in the same state and every service runs. */
export async function checkEquivalent(a: TestHost, b: TestHost, services: number, password: string): Promise<void> {
    const [sa, sb] = await Promise.all([hostState(a, services), hostState(b, services)]);
    const problems: string[] = [];
    if (sa.units !== sb.units) problems.push(`unit files differ:\n${a.name}:\n${sa.units}\n${b.name}:\n${sb.units}`);
    if (sa.units.split("\n").filter(Boolean).length !== services) problems.push(`${a.name} has ${sa.units.split("\n").filter(Boolean).length} units, not ${services}`);
    if (sa.datasets !== sb.datasets) problems.push(`dataset properties differ:\n${sa.datasets}\n${sb.datasets}`);
    for (const [h, s] of [[a, sa], [b, sb]] as const) if (s.deadPorts.length) problems.push(`${h.name}: no answer on ports ${s.deadPorts.join(", ")}`);
    for (const h of [a, b]) {
        const why = canLogIn(h, password);
        if (why) problems.push(why);
    }
    if (problems.length) throw new Error(`the two hosts did not converge to the same state:\n${problems.join("\n")}`);
}

/** Runs a benchmark's main: exit 0 when done; on an error, says it, stops every test host still up, exit 1. */
export function runBench(main: () => Promise<void>): void {
    main().then(
        () => process.exit(0),
        (e) => {
            console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
            try { stopAllHosts(); } catch (err) { console.error(`cleanup: ${(err as Error).message}`); }
            process.exit(1);
        },
    );
}
