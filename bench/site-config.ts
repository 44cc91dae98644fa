// The benchmark site as a site config (`hearth:` keys), so the plan benchmark can also go through the stacks layer.
import { BASE_MEMORY_MIB, BASE_QUOTA_MIB, DATASETS, DB, serviceName, servicePort } from "./site";

/** Secret config keys the generated config names; their values come from the program's `secret` function. */
export const SECRET_KEYS = ["sshPrivateKey", "benchToken"] as const;

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEMQeiOWssDexNK5MS0vq9mNh4pb4fRm9x7f56yl0rCY bench-placeholder";

/** The same services, datasets and database as `declareSite` with `variety`, as the values of `Pulumi.<site>.yaml`. */
export function siteConfigValues(services: number): Record<string, unknown> {
    const hosts = [1, 2, 3].map((n) => ({ name: `node${n}`, address: `10.231.200.${n + 1}`, user: "root", hostKey: HOST_KEY, facts: { zfs: true } }));
    const svc = Array.from({ length: services }, (_, k) => {
        const i = k + 1;
        const name = serviceName(i);
        const base: Record<string, unknown> = {
            name,
            host: hosts[(i - 1) % hosts.length].name,
            description: `hearth bench app ${i}: a static file server on 127.0.0.1:${servicePort(i)}`,
            execStart: ["/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", `/var/lib/${name}`, String(servicePort(i))],
            stateDirectory: name,
            network: "local",
            listenPorts: [servicePort(i)],
            memoryMaxMiB: BASE_MEMORY_MIB,
            tasksMax: 16,
        };
        if (i % 10 === 0) return { ...base, credentials: { token: "benchToken" } };
        if (i % 7 === 0) return { ...base, listenPorts: undefined, network: "none", execStart: ["/usr/bin/true"], timer: { onCalendar: "daily" } };
        if (i % 11 === 0) return { ...base, listenPorts: undefined, network: "none", socket: { listenStream: 9000 + i, idleStopSec: 60, targetPort: servicePort(i) } };
        return base;
    }).map((s) => Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)));
    const datasets = DATASETS.map((d) => ({
        name: d.dataset.replace(/^tank\//, ""), host: hosts[0].name, ...d, atime: false, quotaMiB: BASE_QUOTA_MIB, userProperties: { "org.example:owner": "bench" },
    }));
    const databases = [{ name: DB.database, host: hosts[0].name, database: DB.database, user: DB.user, clients: ["10.231.0.0/16"] }];
    return { hosts, services: svc, datasets, databases, sshPrivateKey: "(secret)", benchToken: "(secret)" };
}
