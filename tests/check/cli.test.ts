// `npm run check` (stacks/check.ts) end to end on a throw-away site whose one host is 127.0.0.1 at a port nobody
// listens on: bad arguments refused before any connection, an unreachable host is exit 2, and with a fake ssh on PATH
// a drifted host is exit 1 with its table. No traffic leaves this machine.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { TEST_HOST_KEY } from "../mocks";
import { FakeSsh } from "./fake-ssh";

const REPO = path.join(__dirname, "../..");
const TSX = path.join(REPO, "node_modules/.bin/tsx");

/** A loopback port that was free a moment ago (nothing listens on it). */
function closedPort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.on("error", reject);
        s.listen(0, "127.0.0.1", () => {
            const port = (s.address() as net.AddressInfo).port;
            s.close(() => resolve(port));
        });
    });
}

function writeSite(dir: string, port: number): void {
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: hearth\nruntime:\n  name: nodejs\n  options:\n    typescript: true\nmain: ${path.join(REPO, "stacks/index.ts")}\n`);
    fs.writeFileSync(
        path.join(dir, "Pulumi.t.yaml"),
        [
            "config:",
            "  hearth:sshPrivateKey:",
            "    secure: v1:PLACEHOLDER:replace-with-pulumi-config-set--secret",
            "  hearth:hosts:",
            "    - name: box",
            "      address: 127.0.0.1",
            `      port: ${port}`,
            "      user: root",
            `      hostKey: ${TEST_HOST_KEY}`,
            "  hearth:services:",
            "    - name: web",
            "      host: box",
            "      description: Static web site",
            "      execStart: [/usr/bin/python3, -m, http.server, \"8080\"]",
            "      network: local",
            "      listenPorts: [8080]",
            "",
        ].join("\n"),
    );
}

describe("npm run check (stacks/check.ts)", function () {
    this.timeout(120000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-site-"));
    const identity = path.join(dir, "id_ed25519");
    let port = 0;
    const ssh = new FakeSsh();
    before(async () => {
        port = await closedPort();
        writeSite(dir, port);
        fs.writeFileSync(identity, "-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n-----END OPENSSH PRIVATE KEY-----\n", { mode: 0o600 });
    });
    after(() => {
        ssh.uninstall();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    function check(args: string[], env: Record<string, string | undefined> = {}): { status: number | null; stdout: string; stderr: string } {
        const e: Record<string, string> = {};
        for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) e[k] = v;
        const r = spawnSync(TSX, [path.join(REPO, "stacks/check.ts"), ...args], { cwd: dir, env: e, encoding: "utf8", timeout: 100000 });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    }

    const refused: [string, string[], Record<string, string | undefined>, RegExp][] = [
        ["an unknown flag", ["--stack", "t", "--yes"], {}, /^error: unknown argument "--yes"\nusage: npm run check/],
        ["a flag without its value", ["--stack"], {}, /^error: --stack needs a value/],
        ["a stack name that is not one", ["--stack", "../etc/passwd"], {}, /^error: --stack must be a stack name .*got "\.\.\/etc\/passwd"/],
        ["a stack that does not exist", ["--stack", "nosuch"], {}, /^error: no stack 'nosuch': .* \(stacks here: t\)/],
        ["a timeout that is not a number", ["--stack", "t", "--timeout", "soon"], {}, /^error: --timeout must be a whole number of seconds from 1 to 3600, got "soon"/],
        ["a timeout in hex", ["--stack", "t", "--timeout", "0x10"], {}, /^error: --timeout must be a whole number of seconds from 1 to 3600, got "0x10"/],
        ["a timeout of 0", ["--stack", "t", "--timeout", "0"], {}, /^error: --timeout must be a whole number/],
        ["a fractional timeout", ["--stack", "t", "--timeout", "1.5"], {}, /^error: --timeout must be a whole number/],
        ["a missing identity file", ["--stack", "t", "--identity", "/nonexistent/key"], {}, /^error: --identity "\/nonexistent\/key": no such file/],
        ["an identity that is a directory", ["--stack", "t", "--identity", os.tmpdir()], {}, /^error: --identity ".*": not a regular file/],
        ["no identity and no agent", ["--stack", "t"], { SSH_AUTH_SOCK: undefined }, /^error: no SSH key: pass --identity FILE/],
    ];
    for (const [what, args, env, message] of refused) {
        it(`refuses ${what} with exit 2 before any connection`, () => {
            ssh.install("clean");
            const r = check(args, env);
            assert.equal(r.status, 2, r.stderr);
            assert.match(r.stderr, message);
            assert.equal(r.stdout, "");
            assert.equal(ssh.ran(), false, "ssh never ran");
        });
    }

    it("refuses --host naming no host of the site, listing the hosts, before any connection", () => {
        ssh.install("clean");
        const r = check(["--stack", "t", "--identity", identity, "--host", "nas"]);
        assert.equal(r.status, 2);
        assert.match(r.stderr, /^error: --host "nas": not a host of stack 't' \(hosts: box\)/);
        assert.equal(ssh.ran(), false);
    });

    it("reports a host it cannot reach (real ssh, a closed loopback port) with exit 2", () => {
        ssh.uninstall();
        const r = check(["--stack", "t", "--identity", identity]);
        assert.equal(r.status, 2, r.stderr);
        assert.match(r.stdout, new RegExp(`^box \\(root@127\\.0\\.0\\.1:${port}\\): cannot be checked: cannot reach root@127\\.0\\.0\\.1:${port} over SSH: `));
        assert.match(r.stdout, /\nsome host could not be checked: 1 host\(s\)/);
        assert.ok(!r.stdout.includes("not a key"), "the key file's content is never printed");
    });

    it("prints the table and exits 1 on drift; --json gives the same report for machines", () => {
        ssh.install("drift");
        const r = check(["--stack", "t", "--identity", identity, "--host", "box"]);
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stdout, /^box \(root@127\.0\.0\.1:\d+\): 1 difference\(s\) in \d+ resource\(s\)/);
        assert.match(r.stdout, /\n  RESOURCE +WHAT +DESIRED +FOUND\n  \S+ +unit web\.service active +active +inactive\n/);
        assert.match(r.stdout, /\ndrift found: 1 host\(s\)/);
        assert.match(r.stdout, /raise the host's reapply counter/);
        const argv = ssh.read("argv")!.split("\n");
        assert.equal(argv[0], "-F");
        assert.match(ssh.read("config")!, new RegExp(`HostName 127\\.0\\.0\\.1\\n  Port ${port}\\n`));
        assert.match(ssh.read("stdin")!, /hearth_check_unit /, "the service's own check lines reach the host script");

        const j = check(["--stack", "t", "--identity", identity, "--json"]);
        assert.equal(j.status, 1, j.stderr);
        const report = JSON.parse(j.stdout);
        assert.equal(report.stack, "t");
        assert.equal(report.exitCode, 1);
        assert.deepEqual(report.hosts.map((h: any) => [h.host, h.status]), [["box", "drift"]]);
        assert.deepEqual(report.hosts[0].resources[0].drift, [{ what: "unit web.service active", desired: "active", found: "inactive" }]);
    });

    it("exits 0 when every host matches", () => {
        ssh.install("clean");
        const r = check(["--stack", "t", "--identity", identity]);
        assert.equal(r.status, 0, r.stderr + r.stdout);
        assert.match(r.stdout, /^box \(root@127\.0\.0\.1:\d+\): matches \(\d+ resource\(s\)\)/);
        assert.match(r.stdout, /\nevery host matches: 1 host\(s\)/);
    });
});
