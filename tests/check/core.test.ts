// The check a converge carries (core/check.ts): only read-only runtime calls ride along, the derived check names the
// right files with the right digests ("-" where the content is a secret or unknown offline), the host script parses
// in bash and reports one well-formed line per finding, and the report reader ignores whatever else a host prints.
import { strict as assert } from "assert";
import { execFileSync, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { HostFile } from "../../components/files";
import { CHECK_COMMENT, CHECK_LINE, checkOfConverge, convergeTail, parseCheckOutput, renderHostCheck, ResourceCheck } from "../../components/core/check";
import { RUNTIME } from "../../components/core/runtime";
import { shq, unwrapCommand } from "../../components/core/shell";
import { installMocks, recorded, resetRecorded, settle, TEST_HOST_KEY } from "../mocks";

const sha = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const KEY = "0123456789abcdef0123456789abcdef";
const HASH = "a".repeat(64);

/** The converge a HostFile registers under the mocks: its script (unwrapped) and stdin. */
async function hostFileConverge(name: string, content: pulumi.Input<string>, secret = false): Promise<{ script: string; sudo: boolean; stdin: string }> {
    resetRecorded();
    const host = new Host({ name: "nas", address: "10.0.0.5", user: "ops", privateKey: pulumi.secret("k"), hostKey: TEST_HOST_KEY });
    new HostFile(name, { host, path: `/etc/radicale/conf.d/${name}.conf`, content, ...(secret ? { secret: true } : {}) });
    await settle();
    const cmd = recorded.find((r) => r.type === "command:remote:Command" && r.inputs.create !== undefined);
    assert.ok(cmd, "the HostFile registers a converge");
    const w = unwrapCommand(cmd.inputs.create);
    assert.ok(w, "its create is a wrapped hearth script");
    return { ...w, stdin: cmd.inputs.stdin };
}

function bash(script: string): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync("bash", ["--noprofile", "--norc", "-s"], { input: script, encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("drift checks in the core (core/check.ts)", () => {
    before(() => installMocks());

    describe("convergeTail", () => {
        const hostile = [
            "rm -rf /",
            "hearth_install /etc/x 0644 root root",
            "hearth_record x y",
            "hearth_check_unit web.service\nrm -rf /",
            "hearth_check_unit web.service\r",
            "hearth_check_unit a\0b",
            "hearth_check_unit web.service; rm -rf /",
            "hearth_check_unit web.service && rm -rf /",
            "hearth_check_unit $(reboot)",
            "hearth_check_unit `reboot`",
            "hearth_check_unit x >/etc/passwd",
            "hearth_check_unit 'a' ; 'b'",
            "hearth_check_unit 'unterminated",
            "hearth_check_unit \"double quoted\"",
            " hearth_check_unit x",
            "hearth_check_unit  x",
            "hearth_check_Unit x",
            "hearth_drifty x y z",
            "",
            "# a comment",
        ];
        for (const line of hostile) {
            it(`refuses ${JSON.stringify(line)}`, () => {
                assert.throws(() => convergeTail(KEY, HASH, undefined, "true", [line]), /a check line must be one call of a hearth_check_\* runtime function/);
            });
        }

        it("accepts calls whose words are shq's (a hostile value quoted is one word), and records every installed file", () => {
            const evil = "x'; rm -rf / #\t$(id)";
            const lines = [["hearth_check_unit", "web.service", "enabled", "-"].map(shq).join(" "), `hearth_drift ${shq(evil)} ${shq("")} b`, "hearth_check_converged"];
            for (const l of lines) assert.match(l, CHECK_LINE, l);
            const script = "hearth_install /etc/a/x.conf 0644 root root\nhearth_install_secret /etc/a/key 0600\nhearth_install_in_place /etc/a/y 0640 root adm\nhearth_install /etc/a/x.conf 0644 root root\n";
            const tail = convergeTail(KEY, HASH, undefined, script, lines).split("\n");
            assert.equal(tail[0], `hearth_converged ${KEY} ${HASH} '-' /etc/a/x.conf /etc/a/key /etc/a/y`);
            assert.deepEqual(tail.slice(1), lines.map((l) => CHECK_COMMENT + l));
            // The quoted value is one word to bash, and nothing in it runs.
            const r = bash(`hearth_drift() { printf '%s|' "$@"; }\n${lines[1]}\n`);
            assert.equal(r.stdout, `${evil}||b|`);
        });
    });

    describe("checkOfConverge", () => {
        it("derives the converged record, each file with the sha256 of its known content, then the component's own lines", async () => {
            const c = await hostFileConverge("plain", "a = 1\n");
            const check = checkOfConverge("hearth:files:File plain", c.script, c.sudo, c.stdin);
            assert.ok(check);
            assert.equal(check.sudo, true, "a non-root host's converge runs under sudo, and so does its check");
            const record = c.script.split("\n").find((l) => l.startsWith("hearth_converged "))!;
            const [, key, content, uses] = record.split(" ");
            assert.equal(check.lines[0], `hearth_check_converged ${key} ${content} ${uses}`);
            assert.equal(check.lines[1], `hearth_check_file /etc/radicale/conf.d/plain.conf ${sha("a = 1\n")} 0644 root root ${key}`);
            const own = c.script.split("\n").filter((l) => l.startsWith(CHECK_COMMENT)).map((l) => l.slice(CHECK_COMMENT.length));
            assert.deepEqual(check.lines.slice(2), own);
            for (const l of check.lines) assert.match(l, CHECK_LINE);
        });

        it("compares a secret file with what was applied (\"-\"), never with a digest of the secret", async () => {
            const c = await hostFileConverge("token", pulumi.secret("password = hunter2\n"), true);
            const check = checkOfConverge("hearth:files:File token", c.script, c.sudo, c.stdin)!;
            const file = check.lines.find((l) => l.startsWith("hearth_check_file "))!;
            assert.match(file, /^hearth_check_file \/etc\/radicale\/conf\.d\/token\.conf '-' 0600 root root [0-9a-f]{32}$/);
            assert.ok(!check.lines.join("\n").includes(sha("password = hunter2\n")), "the secret's digest is nowhere");
            assert.ok(!check.lines.join("\n").includes("hunter2"));
        });

        it("with stdin unknown offline (null), compares every file with what was applied", async () => {
            const c = await hostFileConverge("plain", "a = 1\n");
            const check = checkOfConverge("x", c.script, c.sudo, null)!;
            const files = check.lines.filter((l) => l.startsWith("hearth_check_file "));
            assert.equal(files.length, 1);
            for (const f of files) assert.equal(f.split(" ")[2], "'-'");
        });

        it("with a stand-in stdin that does not parse as frames, compares every file with what was applied", async () => {
            const c = await hostFileConverge("plain", "a = 1\n");
            const check = checkOfConverge("x", c.script, c.sudo, "not frames")!;
            assert.deepEqual(check.lines.filter((l) => l.startsWith("hearth_check_file ")).map((l) => l.split(" ")[2]), ["'-'"]);
        });

        it("is undefined for a script that records no completion (a delete, another kind of command)", () => {
            assert.equal(checkOfConverge("x", "hearth_remove /etc/a/x\n# hearth-check: hearth_check_unit x", false, undefined), undefined);
            assert.equal(checkOfConverge("x", "echo hearth_converged a b c\n", false, undefined), undefined);
        });
    });

    describe("renderHostCheck", () => {
        const long = "v".repeat(400);
        const checks: ResourceCheck[] = [
            { resource: "hearth:x:Thing a\tb\nc", sudo: false, lines: [`hearth_drift ${shq(`what\twith\ttabs ${long}`)} ${shq("want\t")} ${shq("")}`, `hearth_check_info ${shq("handshake age")} 5s`] },
            // A check that fails half-way: the rest of its lines do not run, and the next resource still does.
            { resource: "broken", sudo: false, lines: ["hearth_check_no_such_function x", "hearth_drift never reached here"] },
            { resource: "never-converged", sudo: false, lines: [`hearth_check_converged ${KEY} ${HASH} -`] },
        ];

        it("parses in bash -n, and refuses a line that is not a check", () => {
            execFileSync("bash", ["-n"], { input: renderHostCheck("nas", checks) });
            assert.throws(() => renderHostCheck("nas", [{ resource: "r", sudo: false, lines: ["hearth_check_unit x; rm -rf /"] }]), /r: not a check line/);
            assert.throws(() => renderHostCheck("nas", [{ resource: "r", sudo: false, lines: ["rm -rf /"] }]), /not a check line/);
        });

        it("keeps a hostile host name on its comment line", () => {
            const s = renderHostCheck("nas\nrm -rf /", []);
            assert.equal(s.split("\n")[0], "# hearth: drift check of nas rm -rf /");
        });

        it("runs with the runtime: one well-formed line per finding, values cut to one line of at most 300 characters", function () {
            // hearth_check_converged only reads /var/lib/hearth/applied (absent or not, it writes nothing).
            const r = bash(renderHostCheck("nas", checks));
            assert.equal(r.status, 0, r.stderr);
            for (const line of r.stdout.trimEnd().split("\n")) {
                const f = line.split("\t");
                const n = { "hearth-check": 2, "hearth-drift": 4, "hearth-info": 3, "hearth-error": 2 }[f[0]];
                assert.ok(n !== undefined, `an unknown line: ${JSON.stringify(line)}`);
                assert.equal(f.length, n, JSON.stringify(line));
                for (const x of f) assert.ok(x.length <= 300, `a field of ${x.length} characters`);
            }
            // Resources are checked side by side: their reports arrive in any order, each whole, and are put back in order.
            const rep = parseCheckOutput(r.stdout, checks.map((c) => c.resource));
            assert.deepEqual(rep.map((x) => x.resource), ["hearth:x:Thing a b c", "broken", "never-converged"]);
            assert.equal(rep[0].drift.length, 1);
            assert.equal(rep[0].drift[0].what, `what with tabs ${long}`.slice(0, 300));
            assert.deepEqual([rep[0].drift[0].desired, rep[0].drift[0].found], ["want ", ""]);
            assert.deepEqual(rep[0].info, [{ what: "handshake age", value: "5s" }]);
            assert.equal(rep[0].error, undefined);
            assert.equal(rep[1].error, 127, "a check that failed is an error of its resource");
            assert.deepEqual(rep[1].drift, [], "the lines after the failure did not run");
            assert.equal(rep[2].error, undefined);
            // Unless this machine ran that converge, its record is absent: reported as a converge that never finished.
            assert.match(rep[2].drift[0]?.found ?? "", /none finished on this host/);
        });
    });

    it("hearth_drift and hearth_check_info print one line of tab-separated fields, whatever a host's value holds", () => {
        const values = ["a\tb\nc\rd\x1be[31m", "x".repeat(1000), "", "\n\n\n", "é ünïcödé \t\t", "$(id) `id` ' \""];
        const calls = values.flatMap((v, i) => [`hearth_drift "$v${i}" "$v${i}" "$v${i}"`, `hearth_check_info "$v${i}" "$v${i}"`]);
        const vars = values.map((v, i) => `v${i}=${shq(v)}`);
        const r = bash(`${RUNTIME}\n${vars.join("\n")}\nhearth_check_begin "$v0"\n${calls.join("\n")}\n`);
        assert.equal(r.status, 0, r.stderr);
        const lines = r.stdout.split("\n");
        assert.equal(lines.pop(), "", "ends with a newline");
        assert.equal(lines.length, 1 + 2 * values.length, "one line per call");
        for (const l of lines) {
            assert.ok(!/[\r\x1b]/.test(l), JSON.stringify(l));
            for (const f of l.split("\t").slice(1)) assert.ok(f.length <= 300, `a field of ${f.length} characters`);
        }
        const rep = parseCheckOutput(r.stdout);
        assert.equal(rep.length, 1);
        assert.equal(rep[0].drift.length, values.length);
        assert.equal(rep[0].info.length, values.length);
        assert.equal(rep[0].drift[0].what, "a b c d e[31m");
        assert.equal(rep[0].drift[1].found, "x".repeat(300));
        assert.equal(rep[0].drift[5].what, "$(id) `id` ' \"", "a value is printed, never run");
    });

    describe("parseCheckOutput", () => {
        it("reads only well-formed lines of a resource, ignoring banners, unknown prefixes and lines with extra fields", () => {
            const out = [
                "Welcome to nas! (motd)",
                "hearth-drift\torphan\tx\ty", // before any hearth-check: nobody's
                "hearth-check\tr1",
                "hearth-drift\ta\tb\tc",
                "hearth-drift\ta\tb\tc\textra", // extra tab: not a report line
                "hearth-drift\ttoo\tfew",
                "hearth-info\tage\t5s",
                "hearth-info\tage\t5s\tx",
                "hearth-drifted\ta\tb\tc",
                "HEARTH-DRIFT\ta\tb\tc",
                " hearth-drift\ta\tb\tc",
                "hearth-check\tr2\textra", // not a resource start: r1's lines go on
                "hearth-error\t3",
                "hearth-check\tr3",
                "hearth-error\t1\t2",
                "hearth-drift\t\t\t",
                "",
            ].join("\n");
            const rep = parseCheckOutput(out).map(({ resource, drift, info, error }) => ({ resource, drift, info, ...(error !== undefined ? { error } : {}) }));
            assert.deepEqual(rep, [
                { resource: "r1", drift: [{ what: "a", desired: "b", found: "c" }], info: [{ what: "age", value: "5s" }], error: 3 },
                { resource: "r3", drift: [{ what: "", desired: "", found: "" }], info: [] },
            ]);
        });

        it("reads nothing from empty or foreign output", () => {
            assert.deepEqual(parseCheckOutput(""), []);
            assert.deepEqual(parseCheckOutput("bash: hearth_check_begin: command not found\nhearth-error\t127\n"), []);
        });
    });
});
