// Canaries: no argument value ever reaches a script except as one quoted word.
//
// Every string argument of every component (found by walking a full set of valid arguments) is set in turn to
// hostile values: command substitutions, backticks, quotes, newlines, separators, globs. A value the component
// refuses is fine (it fails before anything runs). A value it accepts is rendered, and every script it registered
// (create, update, delete) runs on a real test host with the host's tools replaced by stubs that log their argv and
// succeed, and with `set -e` and `exit` disabled, so that every line of the script runs. No canary may execute: the
// file a canary would create never appears, and a glob value never grows into more words than it is.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { NspawnContainer, PostgresDb, SystemdService, WireguardLink, ZfsDataset, DnsZone } from "../../components";
import { shq } from "../../components/shell";
import { describeHost, startHost, TestHost } from "./harness";
import { registeredCommands } from "./runner";
import { runSsh } from "./ssh";

const AUTH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA+qnnike2m5POlPYFnbDLTNtnYYVDkPmTOStlmpVbyN ops@example";
const WG_KEY = "x7q6eN2Yv1nq1dE0g1I0TQ0tzqyP3Qf0eI3aGgW8mHk=";

/** Tools a script may call that must not really act on the test host during a canary run. */
const STUBBED = [
    "systemctl", "journalctl", "systemd-nspawn", "machinectl", "systemd-analyze", "zfs", "zpool", "psql", "pg_dump", "pg_restore",
    "runuser", "setpriv", "wg", "wg-quick", "ip", "ssh-keygen", "knotc", "kzonecheck", "keymgr", "pgbouncer", "sudo", "flock", "sync",
];

type Maker = (host: Host, args: any) => unknown;

interface Subject {
    readonly name: string;
    readonly base: (host: Host) => Record<string, unknown>;
    readonly make: Maker;
}

const secret = (s: string) => pulumi.secret(s);

const SUBJECTS: Subject[] = [
    {
        name: "SystemdService",
        base: () => ({
            description: "Canary web app",
            execStart: ["/usr/bin/python3", "-m", "http.server", "8080"],
            environment: { GREETING: "hello world", MODE: "prod" },
            credentials: { token: secret("s3cret-token-value") },
            workingDirectory: "/srv/app",
            readWritePaths: ["/srv/app/data"],
        }),
        make: (host, args) => new SystemdService("canary", { host, ...args }),
    },
    {
        name: "ZfsDataset",
        base: () => ({ dataset: "tank/app/data", mountpoint: "/srv/appdata", userProperties: { "com.example:note": "kept" }, previousNames: ["tank/app/old"] }),
        make: (host, args) => new ZfsDataset("canary", { host, ...args }),
    },
    {
        name: "PostgresDb",
        base: () => ({ database: "shop", user: "shop", clients: ["10.0.0.0/24"], pooler: {}, dumpDir: "/var/backups/shop", extensions: ["pgcrypto"], schemas: ["app"] }),
        make: (host, args) => new PostgresDb("canary", { host, ...args }),
    },
    {
        name: "NspawnContainer",
        base: () => ({
            rootfs: { copyFrom: "/var/lib/machines/.base" },
            network: { bridge: "br-ct" },
            addresses: ["10.231.40.2/24"],
            hostname: "ct1",
            bindMounts: [{ source: "/srv/share", target: "/share" }],
            ssh: { authorizedKey: AUTH_KEY, privateKey: secret("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n") },
        }),
        make: (host, args) => new NspawnContainer("canary", { host, ...args }),
    },
    {
        name: "WireguardLink",
        base: (host) => ({
            interfaceName: "wg-canary",
            hub: { host, endpoint: "10.231.1.2:51820", subnets: ["10.10.0.0/16"] },
            peers: [{ name: "far", publicKey: WG_KEY, endpoint: "192.0.2.10:51820", subnets: ["10.20.0.0/24"] }],
        }),
        make: (_host, args) => new WireguardLink("canary", args),
    },
    {
        name: "DnsZone",
        base: (host) => ({
            zone: "home.example.org",
            backend: { kind: "host", host, nameservers: [{ name: "ns1", addresses: ["10.0.0.2"] }] },
            records: [{ name: "www", type: "A", value: "10.0.0.10" }, { name: "@", type: "TXT", value: "v=spf1 mx -all" }],
        }),
        make: (_host, args) => new DnsZone("canary", args),
    },
];

/** Hostile values; `N` is replaced by a number unique to the run, so each canary's witness file is its own. */
const CANARIES = [
    "$(echo x >/tmp/CANARY-N)",
    "`echo x >/tmp/CANARY-N`",
    "'; echo x >/tmp/CANARY-N; '",
    "\"; echo x >/tmp/CANARY-N; \"",
    "a\necho x >/tmp/CANARY-N\n",
    "a; echo x >/tmp/CANARY-N",
    "a && echo x >/tmp/CANARY-N",
    "a | tee /tmp/CANARY-N",
    "$(IFS=_;cmd=echo_x;$cmd>/tmp/CANARY-N)",
];
/** Globs: if one were expanded by the shell, it would turn into the names of the witness files. */
const GLOBS = ["/tmp/GLOB-WITNESS-*", "/tmp/GLOB-WITNESS-?"];

/** Every string leaf of an args object (not Pulumi outputs or the host), as a path and its value. */
function stringLeaves(v: unknown, path: (string | number)[] = []): Array<{ path: (string | number)[]; value: string }> {
    if (typeof v === "string") return [{ path, value: v }];
    if (v instanceof Host || pulumi.Output.isInstance(v)) return [];
    if (Array.isArray(v)) return v.flatMap((x, i) => stringLeaves(x, [...path, i]));
    if (v && typeof v === "object") {
        return Object.entries(v).flatMap(([k, x]) => [
            ...stringLeaves(x, [...path, k]),
            // Record keys are arguments too (environment names, user property names).
            ...(path.length > 0 && !Array.isArray(v) && ["environment", "userProperties"].includes(String(path[path.length - 1])) ? [{ path: [...path, `#key:${k}`], value: k }] : []),
        ]);
    }
    return [];
}

function withValue(base: any, path: (string | number)[], value: string): any {
    const copy = Array.isArray(base) ? [...base] : { ...base };
    const [head, ...rest] = path;
    if (typeof head === "string" && head.startsWith("#key:")) {
        const key = head.slice(5);
        const out: any = {};
        for (const [k, x] of Object.entries(base)) out[k === key ? value : k] = x;
        return out;
    }
    if (rest.length === 0) {
        copy[head as any] = value;
        return copy;
    }
    if (typeof rest[0] === "string" && rest[0].startsWith("#key:")) {
        copy[head as any] = withValue(base[head as any], rest, value);
        return copy;
    }
    copy[head as any] = withValue(base[head as any], rest, value);
    return copy;
}

/** Runs a script with every line executed: `set -e` and `exit` disabled (the tools are stubs on the host). */
function unstoppable(command: string): string {
    const prefix = "bash --noprofile --norc -c ";
    if (!command.startsWith(prefix)) throw new Error(`unexpected command shape: ${command.slice(0, 60)}`);
    // The registered command is `bash --noprofile --norc -c '<script>'`: the same quoted script becomes $1 of a shell
    // in which `exit` does nothing and `set` never turns on -e.
    return `${prefix}${shq('exit() { :; }; set() { builtin set "$@"; builtin set +e; }; eval "$1"')} canary ${command.slice(prefix.length)}`;
}

describeHost("canaries: argument values stay one quoted word", function () {
    this.timeout(1_800_000);
    let h: TestHost;
    before(async () => {
        h = await startHost({ name: "canary" });
        const stub = "#!/bin/sh\nprintf '%s\\n' \"$(basename \"$0\") $*\" >> /tmp/stub.log\nexit 0\n";
        const setup = [
            "set -e",
            "mkdir -p /usr/local/sbin",
            ...STUBBED.map((t) => `printf %s ${shq(stub)} > /usr/local/sbin/${t} && chmod 0755 /usr/local/sbin/${t}`),
            "touch /tmp/GLOB-WITNESS-1 /tmp/GLOB-WITNESS-2",
        ].join("\n");
        const r = await h.exec(setup);
        assert.equal(r.code, 0, r.stderr);
    });
    after(async () => {
        await h?.stop();
    });

    for (const subject of SUBJECTS) {
        it(`${subject.name}: every string argument, every canary`, async () => {
            let n = 0;
            let accepted = 0;
            let refused = 0;
            // The test host, declared with every fact a component may ask for.
            const host = new Host({ name: "canary", address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey, facts: { zfs: true } });
            const base = subject.base(host);
            const leaves = stringLeaves(base);
            assert.ok(leaves.length >= 3, `${subject.name}: found only ${leaves.length} string arguments`);
            // The base itself must be accepted, or the walk proves nothing.
            await registeredCommands(() => subject.make(host, base));
            for (const leaf of leaves) {
                const values = [...CANARIES.flatMap((c) => [c, `${leaf.value}${c}`]), ...GLOBS];
                for (const raw of values) {
                    n++;
                    const value = raw.replace(/N/g, String(n));
                    const args = withValue(base, leaf.path, value);
                    let cmds;
                    try {
                        cmds = await registeredCommands(() => subject.make(host, args));
                    } catch {
                        refused++;
                        continue;
                    }
                    accepted++;
                    for (const c of cmds) {
                        for (const op of ["create", "update", "delete"] as const) {
                            const text = c.inputs[op];
                            if (typeof text !== "string" || text === "" || (op === "update" && text === c.inputs.create)) continue;
                            await runSsh(h.ssh, unstoppable(text), { stdin: c.inputs.stdin ?? "", timeoutMs: 60_000 });
                        }
                    }
                    const witness = await h.exec(`ls /tmp/CANARY-* 2>/dev/null; grep -h 'GLOB-WITNESS-[12]' /tmp/stub.log 2>/dev/null; : > /tmp/stub.log`);
                    assert.equal(witness.stdout, "", `${subject.name} ${leaf.path.join(".")} = ${JSON.stringify(value)}: a canary executed or a glob expanded:\n${witness.stdout}`);
                }
            }
            // Report the split so a run that refuses everything is visible.
            console.log(`      ${subject.name}: ${leaves.length} string arguments, ${n} values, ${accepted} accepted and run, ${refused} refused`);
        });
    }
});
