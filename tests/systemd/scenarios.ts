// Named SystemdService argument sets shared by the golden, tool and mock specs (and usable by host tests).
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { TEST_HOST_KEY } from "../mocks";
import type { SystemdServiceFields } from "../../components/systemd";

/** A host for specs: a documentation address (never contacted under mocks), a secret key and a pinned host key. */
export function testHost(name = "box"): Host {
    return new Host({ name, address: "192.0.2.10", privateKey: pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nk\n-----END OPENSSH PRIVATE KEY-----\n"), hostKey: TEST_HOST_KEY });
}

export type ScenarioArgs = SystemdServiceFields;

export interface Scenario {
    /** Resource name. */
    readonly name: string;
    readonly args: ScenarioArgs;
    /** Loosened on purpose: printed in the security table, not held to the default threshold. */
    readonly loosened?: boolean;
}

const NGINX_REASON = "the root master opens www-data owned logs and hands temp dirs and workers to www-data";

/** A stand-in for a component another service may reference (a ZfsDataset, PostgresDb or HostFile on `host`). */
export function dependable(host: Host, label: string, d: { units?: string[]; mounts?: string[]; files?: string[]; contentHash?: pulumi.Output<string> } = {}) {
    return { dependency: { label, host, units: d.units ?? [], mounts: d.mounts ?? [], files: d.files ?? [], contentHash: d.contentHash, resources: [] } };
}

/**
 * The scenarios; given the host they are placed on, also the ones that reference other components (a reference is
 * to a component on the service's own host).
 */
export function scenarios(host?: Host): Scenario[] {
    return [
        ...(host ? withReferences(host) : []),
        {
            name: "plain",
            args: {
                description: "Background worker",
                execStart: ["/usr/bin/python3", "-c", "import time; time.sleep(1e9)"],
                stateDirectory: "worker",
                memoryMaxMiB: 256,
                tasksMax: 64,
            },
        },
        {
            name: "web",
            args: {
                description: "Static web server on :80",
                execStart: ["/usr/bin/python3", "-m", "http.server", "--directory", "/usr/share/doc", "80"],
                network: "internet",
                listenPorts: [80],
                bindReadOnlyPaths: ["/usr/share/doc"],
                hostname: "www.example.org",
                cpuQuotaPercent: 50,
            },
        },
        {
            name: "scale0",
            args: {
                description: "App that idles to zero",
                execStart: ["/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1", "8080"],
                socket: { listenStream: 8081, idleStopSec: 30, targetPort: 8080 },
                memoryMaxMiB: 128,
            },
        },
        {
            name: "backup",
            args: {
                description: "Nightly backup job",
                execStart: ["/bin/sh", "-c", "tar -C /srv/data -cf \"$STATE_DIRECTORY/data.tar\" ."],
                stateDirectory: "backup",
                bindReadOnlyPaths: ["/srv/data"],
                timer: { onCalendar: "*-*-* 03:30:00", randomizedDelaySec: 600 },
                oomPolicy: "stop",
            },
        },
        {
            name: "nginx",
            loosened: true,
            args: {
                dropIn: { unit: "nginx.service" },
                description: "nginx from the distribution, read-only",
                network: "internet",
                // 443 only: the "web" scenario listens on 80 on the same host, and the host's listener registry refuses two.
                listenPorts: [443],
                readWritePaths: ["/var/lib/nginx", "/var/log/nginx"],
                loosen: {
                    writablePaths: { paths: ["/run"], reason: "nginx writes its pid file to /run/nginx.pid" },
                    capabilities: { caps: ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_SETGID", "CAP_SETUID"], reason: NGINX_REASON },
                    syscallGroups: { groups: ["@chown", "@setuid"], reason: NGINX_REASON },
                },
            },
        },
        {
            name: "api",
            args: {
                description: "API with a token",
                execStart: ["/usr/bin/python3", "-c", "import os; open(os.environ['CREDENTIALS_DIRECTORY'] + '/api-token').read()"],
                credentials: { "api-token": pulumi.secret("tok-3f9a1c-very-secret"), "db.password": pulumi.secret("pw-77e2-very-secret") },
                environment: { API_MODE: "production" },
            },
        },
        {
            name: "mailer",
            loosened: true,
            args: {
                description: "Mail relay as its own system user",
                execStart: ["/bin/sleep", "infinity"],
                user: { name: "mailer", reason: "the spool under /var/spool/mailer is owned by this user" },
                readWritePaths: ["/var/spool/mailer"],
            },
        },
        {
            name: "jit",
            loosened: true,
            args: {
                description: "JIT runtime with netlink and a GPU",
                execStart: ["/usr/bin/python3", "-c", "pass"],
                network: "local",
                loosen: {
                    memoryDenyWriteExecute: { reason: "the JavaScript engine compiles to native code" },
                    addressFamilies: { families: ["AF_NETLINK"], reason: "reads interface addresses over rtnetlink" },
                    privateDevices: { reason: "renders on /dev/dri/renderD128" },
                    privateUsers: { reason: "files it shares with the host render group" },
                    protectHome: { reason: "reads media from /home/media read-only" },
                    namespaces: { namespaces: ["user"], reason: "the engine sandboxes its renderer in a user namespace" },
                    writablePaths: { paths: ["/var/cache/fontconfig"], reason: "updates the shared font cache" },
                },
            },
        },
        {
            name: "lan",
            args: {
                description: "LAN-only metrics exporter",
                execStart: ["/usr/bin/python3", "-m", "http.server", "9100"],
                network: "local",
                listenPorts: [9100],
                environment: { PYTHONUNBUFFERED: "1", LABEL: "rack \"A\" 100% $HOME \\o/" },
                bindPaths: [{ source: "/srv/metrics", target: "/var/lib/metrics" }],
                runtimeDirectory: "lan",
                cacheDirectory: "lan",
                logsDirectory: "lan",
                restart: "always",
                restartSec: 2,
            },
        },
        {
            name: "argv",
            args: {
                description: "Arguments systemd must pass through unchanged: 100% $HOME",
                execStart: ["/usr/bin/python3", "-c", "import sys, json; print(json.dumps(sys.argv[1:]))", "100%", "$HOME", "${USER}", "a\"b", "back\\slash", ";", "x;y", "%n", "it's", "é ü", "", "  spaced  "],
            },
        },
        {
            name: "rootjob",
            loosened: true,
            args: {
                description: "Hourly maintenance as root",
                execStart: ["/bin/true"],
                runAsRoot: { reason: "reads root-only files under /var/lib/rootjob" },
                timer: { onCalendar: "hourly", persistent: false },
            },
        },
    ];
}

function withReferences(host: Host): Scenario[] {
    return [
        {
            name: "app",
            args: {
                description: "Calendar server with its config files, after its database and on its dataset",
                execStart: ["/usr/bin/python3", "-m", "http.server", "--directory", "/srv/app", "5232"],
                execReload: ["/bin/sh", "-c", "kill -HUP \"$MAINPID\""],
                type: "notify",
                workingDirectory: "/srv/app",
                environmentFile: "-/etc/default/app",
                network: "local",
                listenPorts: [5232],
                readWritePaths: ["/srv/app"],
                files: [
                    { target: "/etc/app/config", content: "[server]\nhosts = 127.0.0.1:5232\n" },
                    { target: "/etc/app/users", content: "alice:$apr1$x$y\n", mode: "0640" },
                ],
                requires: [dependable(host, "ZfsDataset 'appdata'", { mounts: ["/srv/app"] })],
                after: [dependable(host, "PostgresDb 'app'", { units: ["postgresql@15-main.service"] })],
                wants: [dependable(host, "HostFile 'motd'", { files: ["/etc/motd"], contentHash: pulumi.output("a".repeat(64)) })],
            },
        },
        {
            name: "oneshot",
            args: {
                description: "Prepares a directory once per boot",
                execStart: ["/bin/true"],
                type: "oneshot",
                files: [{ target: "/etc/oneshot/settings.ini", content: "[a]\nb = 1\n", mode: "0600" }],
            },
        },
    ];
}

/** The secret values the scenarios carry, to look for in recorded plain text. */
export const SCENARIO_SECRETS = ["tok-3f9a1c-very-secret", "pw-77e2-very-secret"];
