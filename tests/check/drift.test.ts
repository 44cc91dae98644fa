// The drift check's SSH side (stacks/drift.ts): converge checks grouped by host, what cannot be checked offline said
// so, one pinned session per host (a fake ssh on PATH records what it was given; nothing connects anywhere), the
// report and its exit code.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { convergeTail } from "../../components/core/check";
import { wrapCommand } from "../../components/core/shell";
import { checkAuth, checksByHost, ConvergeCommand, exitCode, formatReports, HostChecks, HostReport, runHostChecks, UNKNOWN } from "../../stacks/drift";
import { TEST_BASTION_KEY, TEST_HOST_KEY } from "../mocks";
import { FakeSsh } from "./fake-ssh";

const OTHER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINiAQcPMiq/LgCVEIcZ+Y24tZdfjllyIFwQES3gfZQrT other";
const HASH = "c".repeat(64);

/** A converge script as remoteScript writes it: installs, its completion record, its own check lines. */
function converge(name: string, opts: { files?: string[]; check?: string[]; sudo?: boolean } = {}): string {
    const body = (opts.files ?? []).map((f) => `hearth_install ${f} 0644 root root`).join("\n");
    const key = name.replace(/[^a-z0-9]/g, "").padEnd(32, "0").slice(0, 32);
    return wrapCommand(`# hearth-content: ${HASH}\n${body}\n${convergeTail(key, HASH, undefined, body, opts.check ?? [])}\n`, opts.sudo ?? false);
}

const conn = (host: string, hostKey = TEST_HOST_KEY, extra: Record<string, unknown> = {}) => ({ host, port: 22, user: "root", hostKey, privateKey: "k", ...extra });
const cmd = (resource: string, connection: unknown, ...rest: [create?: unknown, stdin?: unknown]): ConvergeCommand => ({ resource, create: rest.length ? rest[0] : converge(resource), stdin: rest[1], connection });

describe("drift checks over SSH (stacks/drift.ts)", () => {
    describe("checksByHost", () => {
        it("groups by endpoint, host key and bastion, in registration order, naming hosts from the names map", () => {
            const proxy = { host: "bastion.example.org", port: 22, user: "jump", hostKey: TEST_BASTION_KEY };
            const hosts = checksByHost(
                [
                    cmd("web", conn("10.0.0.5")),
                    cmd("db", conn("10.0.0.6")),
                    cmd("web-lifecycle", conn("10.0.0.5"), undefined), // a delete-only command: nothing to check
                    cmd("app", conn("10.0.0.5")),
                    cmd("impostor", conn("10.0.0.5", OTHER_KEY)), // same address, another pinned key: another host
                    cmd("far", conn("10.0.0.5", TEST_HOST_KEY, { proxy })), // same address behind a bastion: another host
                    cmd("port", conn("10.0.0.5", TEST_HOST_KEY, { port: 2222 })),
                    cmd("other-command", conn("10.0.0.5"), "echo not a hearth converge"),
                ],
                new Map([["root@10.0.0.5:22", "nas"]]),
            );
            assert.deepEqual(
                hosts.map((h) => [h.name, h.checks.map((c) => c.resource)]),
                [
                    ["nas", ["web", "app"]],
                    ["root@10.0.0.6:22", ["db"]],
                    ["nas", ["impostor"]],
                    ["nas", ["far"]],
                    ["root@10.0.0.5:2222", ["port"]],
                ],
            );
            assert.equal(hosts[2].target?.hostKey, OTHER_KEY);
            assert.equal(hosts[3].target?.proxy?.address, "bastion.example.org");
            for (const h of hosts) assert.deepEqual(h.problems, [], h.name);
        });

        it("runs a host's check under sudo when any of its converges does", () => {
            const [h] = checksByHost([cmd("a", conn("10.0.0.5")), cmd("b", conn("10.0.0.5"), converge("b", { sudo: true }))]);
            assert.equal(h.sudo, true);
            assert.deepEqual(h.checks.map((c) => c.sudo), [false, true]);
            assert.equal(checksByHost([cmd("a", conn("10.0.0.5"))])[0].sudo, false);
        });

        it("says what cannot be checked offline: an unknown connection, an unknown script; an unknown stdin compares with what was applied", async () => {
            const hosts = checksByHost([
                cmd("lost", UNKNOWN),
                cmd("lost-too", { host: UNKNOWN, hostKey: TEST_HOST_KEY }),
                cmd("later", conn("10.0.0.5"), UNKNOWN),
                cmd("files", conn("10.0.0.5"), converge("files", { files: ["/etc/a/x.conf"] }), UNKNOWN),
            ]);
            const lost = hosts.find((h) => !h.target)!;
            assert.deepEqual(lost.problems, ["lost: its connection (address or host key) is not known offline", "lost-too: its connection (address or host key) is not known offline"]);
            const nas = hosts.find((h) => h.target)!;
            assert.deepEqual(nas.problems, ["later: its script is not known offline (it waits on a value only the engine knows)"]);
            assert.deepEqual(nas.checks.map((c) => c.resource), ["files"]);
            assert.match(nas.checks[0].lines.find((l) => l.startsWith("hearth_check_file"))!, /^hearth_check_file \/etc\/a\/x\.conf '-' /);
            const r = await runHostChecks(lost, {});
            assert.equal(r.status, "error");
            assert.match(r.error!, /lost: its connection .* not known offline; lost-too/);
        });

        it("is empty for a program with no converge", () => {
            assert.deepEqual(checksByHost([]), []);
            assert.deepEqual(checksByHost([cmd("x-lifecycle", conn("10.0.0.5"), undefined)]), []);
        });
    });

    describe("checkAuth", () => {
        let saved: string | undefined;
        before(() => (saved = process.env.SSH_AUTH_SOCK));
        after(() => (saved === undefined ? delete process.env.SSH_AUTH_SOCK : (process.env.SSH_AUTH_SOCK = saved)));

        it("needs an identity file that exists and is a file, or an agent", () => {
            delete process.env.SSH_AUTH_SOCK;
            assert.throws(() => checkAuth({}), /no SSH key: pass --identity FILE .* or run an SSH agent \(SSH_AUTH_SOCK\)/);
            assert.throws(() => checkAuth({ identity: "/nonexistent/id_ed25519" }), /--identity "\/nonexistent\/id_ed25519": no such file/);
            assert.throws(() => checkAuth({ identity: os.tmpdir() }), /not a regular file/);
            process.env.SSH_AUTH_SOCK = "/run/agent.sock";
            assert.doesNotThrow(() => checkAuth({}));
        });
    });

    describe("runHostChecks with a fake ssh", () => {
        const ssh = new FakeSsh();
        const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-key-"));
        const identity = path.join(keyDir, "id_ed25519");
        const SECRET = "PRIVATEKEYMATERIAL-never-printed";
        fs.writeFileSync(identity, `-----BEGIN OPENSSH PRIVATE KEY-----\n${SECRET}\n-----END OPENSSH PRIVATE KEY-----\n`, { mode: 0o600 });
        after(() => {
            ssh.uninstall();
            fs.rmSync(keyDir, { recursive: true, force: true });
        });
        const nas = (sudo = false): HostChecks => checksByHost([cmd("web", conn("10.0.0.5")), cmd("db", conn("10.0.0.5"), converge("db", { sudo }))], new Map([["root@10.0.0.5:22", "nas"]]))[0];

        it("runs one session with -F and a config that pins the host key and trusts nothing else; the key file is named, never read out", async () => {
            ssh.install("clean");
            const r = await runHostChecks(nas(), { identity });
            assert.equal(r.status, "clean", r.error);
            const argv = ssh.read("argv")!.trimEnd().split("\n");
            assert.equal(argv[0], "-F");
            assert.deepEqual(argv.slice(2), ["hearth-target", "timeout --kill-after=5 120 bash --noprofile --norc -s"]);
            const config = ssh.read("config")!;
            const lines = config.split("\n").map((l) => l.trim());
            for (const want of ["Host hearth-target", "HostName 10.0.0.5", "Port 22", "User root", "BatchMode yes", "StrictHostKeyChecking yes", "GlobalKnownHostsFile /dev/null", "UpdateHostKeys no", "ForwardAgent no", "IdentitiesOnly yes", `IdentityFile ${identity}`]) {
                assert.ok(lines.includes(want), `${want} in\n${config}`);
            }
            assert.ok(!lines.some((l) => /^(ProxyCommand|LocalCommand|PermitLocalCommand yes|Include|Match)/.test(l)), config);
            const known = lines.find((l) => l.startsWith("UserKnownHostsFile "))!.split(" ")[1];
            assert.ok(known.startsWith(os.tmpdir()) && !known.includes(".ssh"), `a private known_hosts: ${known}`);
            assert.equal(ssh.read("known_hosts"), `10.0.0.5 ${TEST_HOST_KEY.split(" ").slice(0, 2).join(" ")}\n`);
            assert.equal(ssh.read("config.mode")!.trim(), "600");
            assert.equal(ssh.read("identity"), identity);
            assert.ok(!fs.existsSync(path.dirname(known)), "the temp directory is gone after the run");
            for (const f of ["argv", "stdin", "config", "known_hosts"] as const) assert.ok(!ssh.read(f)!.includes(SECRET), `the private key is not in ${f}`);
            assert.ok(!JSON.stringify(r).includes(SECRET) && !formatReports([r]).includes(SECRET));
            // The session's input is the host's check script: both resources, in one run.
            const stdin = ssh.read("stdin")!;
            assert.match(stdin, /^# hearth: drift check of nas\n/);
            assert.deepEqual(stdin.split("\n").map((l) => l.trim()).filter((l) => l.startsWith("hearth_check_begin ")), ["hearth_check_begin web", "hearth_check_begin db"]);
        });

        it("pins a bastion too, and a non-standard port as [address]:port", async () => {
            ssh.install("clean");
            const proxy = { host: "bastion.example.org", port: 2200, user: "jump", hostKey: TEST_BASTION_KEY };
            const [h] = checksByHost([cmd("web", conn("10.0.0.5", TEST_HOST_KEY, { proxy, port: 2222, user: "ops" }))]);
            const r = await runHostChecks(h, { identity });
            assert.equal(r.status, "clean", r.error);
            const config = ssh.read("config")!;
            assert.match(config, /ProxyJump hearth-proxy/);
            assert.match(config, /Host hearth-proxy\n  HostName bastion\.example\.org\n  Port 2200\n  User jump\n/);
            assert.equal(ssh.read("known_hosts"), `[10.0.0.5]:2222 ${TEST_HOST_KEY.split(" ").slice(0, 2).join(" ")}\n[bastion.example.org]:2200 ${TEST_BASTION_KEY.split(" ").slice(0, 2).join(" ")}\n`);
        });

        it("uses the agent when no identity is given (no IdentityFile line), and sudo when a converge does", async () => {
            ssh.install("clean");
            const r = await runHostChecks(nas(true), {});
            assert.equal(r.status, "clean", r.error);
            assert.doesNotMatch(ssh.read("config")!, /IdentityFile|IdentitiesOnly/);
            assert.equal(ssh.read("argv")!.trimEnd().split("\n").pop(), "sudo -n -- timeout --kill-after=5 120 bash --noprofile --norc -s");
        });

        it("reports drift (exit 0 with drift lines), ignoring what else the host prints", async () => {
            ssh.install("drift");
            const r = await runHostChecks(nas(), { identity });
            assert.equal(r.status, "drift", r.error);
            assert.deepEqual(r.resources.map((x) => [x.resource, x.drift]), [
                ["web", [{ what: "unit web.service active", desired: "active", found: "inactive" }]],
                ["db", []],
            ]);
            assert.equal(exitCode([r]), 1);
            const text = formatReports([r]);
            assert.match(text, /^nas \(root@10\.0\.0\.5:22\): 1 difference\(s\) in 2 resource\(s\) \[\d+\.\d\d s\]\n/);
            assert.match(text, /\n  RESOURCE +WHAT +DESIRED +FOUND\n  web +unit web\.service active +active +inactive$/);
        });

        it("is an error when ssh cannot connect (exit 255), saying so with ssh's last words", async () => {
            ssh.install("unreachable");
            const r = await runHostChecks(nas(), { identity });
            assert.equal(r.status, "error");
            assert.match(r.error!, /^cannot reach root@10\.0\.0\.5:22 over SSH: ssh: connect to host 10\.0\.0\.5 port 22: Connection refused$/);
            assert.equal(exitCode([r]), 2);
            assert.match(formatReports([r]), /^nas \(root@10\.0\.0\.5:22\): cannot be checked: cannot reach/);
        });

        it("is an error when the script fails, when a resource has no report, or when a resource's checks stopped", async () => {
            ssh.install("fail");
            let r = await runHostChecks(nas(), { identity });
            assert.equal(r.status, "error");
            assert.match(r.error!, /the check script exited 3 on root@10\.0\.0\.5:22: bash: line 1/);
            ssh.install("silent");
            r = await runHostChecks(nas(), { identity });
            assert.equal(r.status, "error");
            assert.match(r.error!, /^no report for web, db/);
            ssh.install("leak");
            r = await runHostChecks(nas(), { identity });
            assert.equal(r.status, "error");
            assert.match(r.error!, /web: its checks stopped with status 1/);
        });

        it("kills a session that outlives its timeout", async function () {
            this.timeout(20000);
            ssh.install("hang");
            const t0 = Date.now();
            const r = await runHostChecks(nas(), { identity, timeoutSeconds: 1 });
            // The host ends its check at the timeout; this side gives the session 10 s more, then kills it.
            assert.ok(Date.now() - t0 < 15000, `took ${Date.now() - t0} ms`);
            assert.equal(r.status, "error");
            assert.match(r.error!, /no answer within 11 s/);
        });

        const hostile: [string, Record<string, unknown>][] = [
            ["an address with a newline", { host: "10.0.0.5\nProxyCommand touch /tmp/pwned" }],
            ["an address with a space", { host: "10.0.0.5 ProxyCommand=sh" }],
            ["an address that is an option", { host: "-oProxyCommand=sh" }],
            ["a user with a newline", { user: "root\n  ProxyCommand sh -c id" }],
            ["a user with a space", { user: "root ProxyCommand" }],
            ["a user with a quote", { user: 'root"' }],
            ["an address with a tab", { host: "10.0.0.5\tProxyCommand" }],
            ["a bastion address with a newline", { proxy: { host: "b\nLocalCommand id", port: 22, user: "j", hostKey: TEST_BASTION_KEY } }],
        ];
        for (const [what, change] of hostile) {
            it(`refuses ${what} before ssh runs or any config line is written`, async () => {
                ssh.install("clean");
                const [h] = checksByHost([cmd("web", conn("10.0.0.5", TEST_HOST_KEY, change))]);
                assert.ok(h.target, "a connection that is known");
                const r = await runHostChecks(h, { identity });
                assert.equal(r.status, "error");
                assert.match(r.error!, /refusing .* in an ssh config line/);
                assert.equal(ssh.ran(), false, "ssh never ran");
            });
        }
    });

    describe("exitCode and formatReports", () => {
        const report = (host: string, status: HostReport["status"], extra: Partial<HostReport> = {}): HostReport => ({ host, status, seconds: 0.5, resources: [], ...extra });

        it("0 when every host matches (and for no host), 1 on drift, 2 when any host cannot be checked", () => {
            assert.equal(exitCode([]), 0);
            assert.equal(exitCode([report("a", "clean"), report("b", "clean")]), 0);
            assert.equal(exitCode([report("a", "clean"), report("b", "drift")]), 1);
            assert.equal(exitCode([report("a", "drift"), report("b", "error")]), 2);
            assert.equal(exitCode([report("a", "error")]), 2);
        });

        it("prints one heading per host, a table of differences, and facts that are not drift", () => {
            const r = report("nas", "drift", {
                target: "root@10.0.0.5:22",
                resources: [
                    { resource: "hearth:systemd:Service web", drift: [{ what: "unit web.service active", desired: "active", found: "failed" }], info: [], hostKeys: [] } as any,
                    { resource: "hearth:wireguard:Link wg0", drift: [{ what: "peer vps endpoint", desired: "203.0.113.7:51820", found: "(none)" }], info: [{ what: "latest handshake", value: "3 min ago" }], hostKeys: [] } as any,
                ],
            });
            const lines = formatReports([r, report("vps", "clean", { target: "root@203.0.113.7:22", resources: [{ resource: "x", drift: [], info: [], hostKeys: [] } as any] }), report("lost", "error", { error: "its connection is not known offline" })]).split("\n");
            assert.deepEqual(lines, [
                "nas (root@10.0.0.5:22): 2 difference(s) in 2 resource(s) [0.50 s]",
                "  RESOURCE                    WHAT                     DESIRED            FOUND",
                "  hearth:systemd:Service web  unit web.service active  active             failed",
                "  hearth:wireguard:Link wg0   peer vps endpoint        203.0.113.7:51820  (none)",
                "  info:",
                "    hearth:wireguard:Link wg0: latest handshake: 3 min ago",
                "vps (root@203.0.113.7:22): matches (1 resource(s)) [0.50 s]",
                "lost: cannot be checked: its connection is not known offline [0.50 s]",
            ]);
        });
    });
});
