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
import * as command from "@pulumi/command";
import { Host } from "../../components/host";
import { NspawnContainer, PostgresDb, SystemdService, WireguardLink, ZfsDataset, DnsZone } from "../../components";
import { shq } from "../../components/shell";
import { describeHost, startHost, TestHost } from "./harness";
import { registeredCommands } from "./runner";
import { setCommandStdout } from "../mocks";
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
            unitName: "canary-web",
            stateDirectory: "canary",
            bindReadOnlyPaths: ["/srv/app/static", { source: "/srv/app/conf", target: "/etc/app" }],
            readWritePaths: ["/srv/app/data"],
            hostname: "web.home.example.org",
            timer: { onCalendar: "daily" },
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
        // What a key command prints when it has run (a WireGuard side waits for its public key).
        setCommandStdout((name) => (name.endsWith("-key") ? `hearth-wg-public-key: ${WG_KEY}\n` : ""));
    });
    after(async () => {
        setCommandStdout();
        await h?.stop();
    });

    /** Registers every value's commands (refused values register none), runs them all, and returns what executed. */
    async function attack(subject: Subject): Promise<{ leaves: number; values: number; accepted: number; refused: number; witnesses: string[] }> {
        let n = 0;
        let refused = 0;
        // The test host, declared with every fact a component may ask for.
        const host = new Host({ name: "canary", address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey, facts: { zfs: true } });
        const base = subject.base(host);
        const leaves = stringLeaves(base);
        // The base itself must be accepted, or the walk proves nothing.
        await registeredCommands(() => subject.make(host, base));
        const runs: Array<{ label: string; command: string; stdin: string }> = [];
        const labels = new Map<number, string>();
        for (const leaf of leaves) {
            for (const raw of [...CANARIES.flatMap((c) => [c, `${leaf.value}${c}`]), ...GLOBS]) {
                n++;
                const value = raw.replace(/CANARY-N/g, `CANARY-${n}`);
                const label = `${leaf.path.join(".")} = ${JSON.stringify(value)}`;
                labels.set(n, label);
                let cmds;
                try {
                    cmds = await registeredCommands(() => subject.make(host, withValue(base, leaf.path, value)));
                } catch {
                    refused++;
                    continue;
                }
                for (const c of cmds) {
                    for (const op of ["create", "update", "delete"] as const) {
                        const text = c.inputs[op];
                        if (typeof text !== "string" || text === "" || (op === "update" && text === c.inputs.create)) continue;
                        runs.push({ label: `${label} (${c.name} ${op})`, command: unstoppable(text), stdin: c.inputs.stdin ?? "" });
                    }
                }
            }
        }
        // Six at a time: each value's witness file is its own, so runs need no isolation from each other.
        const queue = [...runs];
        await Promise.all(Array.from({ length: 6 }, async () => {
            for (let r = queue.shift(); r; r = queue.shift()) await runSsh(h.ssh, r.command, { stdin: r.stdin, timeoutMs: 120_000 });
        }));
        const found = await h.exec("ls /tmp/ | grep '^CANARY-' ; grep -h 'GLOB-WITNESS-[12]' /tmp/stub.log; rm -f /tmp/CANARY-*; : > /tmp/stub.log");
        const witnesses = found.stdout.split("\n").filter((l) => l !== "").map((l) => {
            const m = /^CANARY-(\d+)$/.exec(l);
            return m ? `executed: ${labels.get(Number(m[1]))}` : `glob expanded: ${l}`;
        });
        return { leaves: leaves.length, values: n, accepted: n - refused, refused, witnesses };
    }

    it("catches a value that reaches a script unquoted (control: a command that interpolates raw)", async () => {
        const control: Subject = {
            name: "control",
            base: () => ({ word: "hello", path: "/srv/x" }),
            make: (host, args) => new command.remote.Command("control", { connection: host.connection, create: host.wrap(`echo ${args.word}; systemctl status ${args.path}`) }),
        };
        const r = await attack(control);
        assert.ok(r.witnesses.some((w) => w.startsWith("executed: word")), `the control's canaries did not fire: ${JSON.stringify(r)}`);
        assert.ok(r.witnesses.some((w) => w.startsWith("glob expanded")), `the control's globs did not expand: ${JSON.stringify(r)}`);
    });

    for (const subject of SUBJECTS) {
        it(`${subject.name}: every string argument, every canary`, async () => {
            const r = await attack(subject);
            assert.ok(r.leaves >= 3, `${subject.name}: found only ${r.leaves} string arguments`);
            assert.deepEqual(r.witnesses, [], `${subject.name}: a canary executed or a glob expanded`);
            // The split, so that a run that refuses everything is visible.
            console.log(`      ${subject.name}: ${r.leaves} string arguments, ${r.values} values, ${r.accepted} accepted and run, ${r.refused} refused`);
        });
    }
});
