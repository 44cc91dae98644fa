// shq, the script builder and atomic installs, checked by running the scripts with the real bash.
import { strict as assert } from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { shq, Script, frameStdin, contentHash } from "../components/shell";

function bash(script: string, stdin = ""): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync("bash", ["--noprofile", "--norc", "-c", script], { input: stdin, encoding: "utf8" });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("shell", () => {
    describe("shq", () => {
        const hostile = ["", "a b", "'", "\"$(id)\"", "`id`", "$HOME", "a\nb", "-rf", "--", "x;y|z&", "* ?[]", "\\", "é ünï", "'\"'\"'", "\t", "~root", "!", "a'b'c"];
        for (const v of hostile) {
            it(`round-trips ${JSON.stringify(v)} through bash`, () => {
                const r = bash(`printf %s ${shq(v)}`);
                assert.equal(r.status, 0, r.stderr);
                assert.equal(r.stdout, v);
            });
        }
        it("refuses NUL", () => assert.throws(() => shq("a\0b"), /NUL/));
        it("leaves plain words unquoted and quotes a leading dash", () => {
            assert.equal(shq("nginx.service"), "nginx.service");
            assert.equal(shq("-x"), "'-x'");
        });
    });

    describe("Script", () => {
        let dir: string;
        // The runtime writes only below directories root alone can change: /tmp is not one, so specs work below /run.
        beforeEach(() => {
            fs.mkdirSync("/run/hearth-spec", { recursive: true, mode: 0o700 });
            dir = fs.mkdtempSync("/run/hearth-spec/shell-");
        });
        afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

        function installScript(files: { p: string; body: string; mode: number }[]): { script: string; stdin: string } {
            const s = new Script("test");
            for (const f of files) s.install({ path: f.p, content: f.body, mode: f.mode });
            s.raw(`echo "changed=$hearth_changed"`);
            return { script: s.render(), stdin: frameStdin(s.installedFiles.map((f) => f.content)) };
        }

        it("installs files atomically with mode, creates parents, and reports change only once", () => {
            const a = path.join(dir, "etc/x/a.conf");
            const b = path.join(dir, "b");
            const weird = "line1\n$(touch /tmp/should-not-exist)\n'\"\\\nEOF\n\u00e9\n";
            const { script, stdin } = installScript([{ p: a, body: weird, mode: 0o640 }, { p: b, body: "", mode: 0o600 }]);
            const first = bash(script, stdin);
            assert.equal(first.status, 0, first.stderr);
            assert.match(first.stdout, /changed=2/);
            assert.equal(fs.readFileSync(a, "utf8"), weird);
            assert.equal(fs.statSync(a).mode & 0o777, 0o640);
            assert.equal(fs.readFileSync(b, "utf8"), "");
            const mtime = fs.statSync(a).mtimeMs;
            const second = bash(script, stdin);
            assert.equal(second.status, 0, second.stderr);
            assert.match(second.stdout, /changed=0/);
            assert.equal(fs.statSync(a).mtimeMs, mtime);
            assert.deepEqual(fs.readdirSync(path.dirname(a)), ["a.conf"], "no temp file left behind");
        });

        it("rewrites a file whose mode drifted", () => {
            const a = path.join(dir, "a");
            const { script, stdin } = installScript([{ p: a, body: "x", mode: 0o644 }]);
            assert.equal(bash(script, stdin).status, 0);
            fs.chmodSync(a, 0o666);
            assert.match(bash(script, stdin).stdout, /changed=1/);
            assert.equal(fs.statSync(a).mode & 0o777, 0o644);
        });

        it("fails on truncated stdin and leaves the target untouched", () => {
            const a = path.join(dir, "a");
            fs.writeFileSync(a, "old");
            const { script, stdin } = installScript([{ p: a, body: "new content", mode: 0o644 }]);
            const r = bash(script, stdin.slice(0, stdin.length - 3));
            assert.notEqual(r.status, 0);
            assert.match(r.stderr, /short stdin frame/);
            assert.equal(fs.readFileSync(a, "utf8"), "old");
            assert.deepEqual(fs.readdirSync(dir), ["a"]);
        });

        it("refuses to write below a directory that someone other than root can change", () => {
            const open = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-shell-"));
            try {
                const { script, stdin } = installScript([{ p: path.join(open, "a"), body: "x", mode: 0o644 }]);
                const r = bash(script, stdin);
                assert.equal(r.status, 65, r.stderr);
                assert.match(r.stderr, /refusing to write below \/tmp: .*someone other than root/);
                assert.equal(fs.existsSync(path.join(open, "a")), false);
            } finally {
                fs.rmSync(open, { recursive: true, force: true });
            }
        });

        it("removes the temp files a killed script left, and only those", () => {
            const a = path.join(dir, "a");
            const dead = path.join(dir, ".hearth.999999.AAAAAAAAAA");
            const alive = path.join(dir, `.hearth.${process.pid}.BBBBBBBBBB`);
            fs.writeFileSync(dead, "left by a killed run");
            fs.writeFileSync(alive, "being written by a running script");
            const { script, stdin } = installScript([{ p: a, body: "x", mode: 0o644 }]);
            assert.equal(bash(script, stdin).status, 0);
            assert.deepEqual(fs.readdirSync(dir).sort(), [alive.slice(dir.length + 1), "a"].sort());
        });

        it("refuses relative or dotted paths", () => {
            for (const p of ["etc/x", "/etc/../x", "/etc/./x", "/etc//x", "/etc/x/", "/etc/x y", "/etc/\nx"]) {
                assert.throws(() => new Script("t").install({ path: p, content: "", mode: 0o644 }), /path must be/, p);
            }
        });

        it("passes bash -n and shellcheck", () => {
            const { script } = installScript([{ p: "/etc/hearth/x", body: "x", mode: 0o644 }]);
            const f = path.join(dir, "s.sh");
            fs.writeFileSync(f, "#!/bin/bash\n" + script);
            execFileSync("bash", ["-n", f]);
            execFileSync("shellcheck", ["-s", "bash", "-S", "warning", f]);
        });
    });

    it("contentHash separates parts", () => {
        assert.notEqual(contentHash("ab", "c"), contentHash("a", "bc"));
        assert.equal(contentHash("x"), contentHash("x"));
    });
});
