// `npm run check --list` on every program in this repository (the three sites and the by-hand example): evaluated
// offline, each converge of each host yields its check, and each host's check script parses. Connects to nothing.
import { strict as assert } from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as path from "path";
import { CHECK_LINE, renderHostCheck, ResourceCheck } from "../../components/core/check";

const ROOT = path.resolve(__dirname, "../..");

interface Listed {
    host: string;
    target: { address: string; port: number; user: string; hostKey?: string } | null;
    sudo: boolean;
    problems: string[];
    checks: ResourceCheck[];
}

function list(stack: string, dir = ROOT): Listed[] {
    const r = spawnSync(process.execPath, ["--require", "tsx/cjs", path.join(ROOT, "stacks/check.ts"), "--stack", stack, "--dir", dir, "--list", "--json"], {
        encoding: "utf8",
        env: { ...process.env, NODE_PATH: path.join(ROOT, "node_modules"), SSH_AUTH_SOCK: "" },
        timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout).hosts;
}

describe("npm run check --list on the repository's programs", function () {
    this.timeout(300_000);
    const programs: [string, string, string[]][] = [
        ["the example site", "example", []],
        ["the home site", "home", ["rack1", "gw", "build"]],
        ["the vps site", "vps", []],
        ["the by-hand example", "dev", ["nas"]],
    ];
    for (const [what, stack, names] of programs) {
        it(`${what}: every host gets a check of each converge on it, and its script parses`, () => {
            const hosts = list(stack, stack === "dev" ? path.join(ROOT, "examples/by-hand") : ROOT);
            assert.ok(hosts.length > 0);
            if (names.length) assert.deepEqual(hosts.map((h) => h.host).sort(), [...names].sort());
            for (const h of hosts) {
                assert.deepEqual(h.problems, [], `${h.host}: nothing unknown offline`);
                assert.ok(h.target, `${h.host}: its connection is known offline`);
                assert.ok(h.checks.length > 0, `${h.host}: some converge reaches it`);
                for (const c of h.checks) {
                    assert.match(c.lines[0], /^hearth_check_converged [0-9a-f]{32} [0-9a-f]{64} /, `${c.resource}: first, that its last converge finished`);
                    for (const l of c.lines) assert.match(l, CHECK_LINE, `${c.resource}: ${l}`);
                }
                execFileSync("bash", ["-n"], { input: renderHostCheck(h.host, h.checks) });
            }
        });
    }

    it("the home site's build container is checked with the host key its parent rack1 reports", () => {
        const hosts = list("home");
        const build = hosts.find((h) => h.host === "build")!;
        assert.equal(build.target!.address, "192.168.10.50");
        assert.equal(build.target!.hostKey, undefined, "born on rack1: not known offline");
        const rack1 = hosts.find((h) => h.host === "rack1")!;
        const container = rack1.checks.find((c) => c.resource === "build-container")!;
        assert.ok(container.lines.includes("hearth_check_hostkey 192.168.10.50 nspawn-hostkey/build"));
    });
});
