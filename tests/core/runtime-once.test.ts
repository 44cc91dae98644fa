// A script carries a runtime (the whole one, or on a command line the part it reaches), so shell.ts quotes, unquotes and
// line-scans each runtime text once per process and reuses it. These specs compare every such fast path with the plain
// computation over the whole text, on scripts with a runtime at the start, in the middle, at the end, twice, damaged,
// beside hostile lines, and in a process that has not made that runtime itself.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fc from "fast-check";
import * as path from "path";
import { RUNTIME, runtimeFor } from "../../components/core/runtime";
import { countSecretFrames, linesToScan, parseScriptFiles, rootInstallLines, shq, splitRuntime, unquote, frameStdin } from "../../components/core/shell";

/** Runtimes as commands carry them: cut to what two scripts reach. */
const SMALL = runtimeFor("hearth_install\nhearth_say");
const LARGER = runtimeFor("hearth_install\nhearth_say\nhearth_check_file\nhearth_pg_converge");

/** What `shq` gives without any reuse: the plain POSIX single-quoting. */
function plainShq(value: string): string {
    if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value) && !value.startsWith("-")) return value;
    return "'" + value.replace(/'/g, `'"'"'`) + "'";
}

function plainUnquote(word: string): string {
    return word.startsWith("'") && word.endsWith("'") ? word.slice(1, -1).replace(/'"'"'/g, "'") : word;
}

const INSTALL = "hearth_install /etc/x'y 0644 root root";
const SECRET = "hearth_install_secret /etc/hearth/secret 0600 root root";

/** Lines around the runtime: quotes, install lines, secret frames, lines that look like the runtime's first line. */
const line = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.constantFrom(INSTALL, SECRET, "hearth_frame \"$hearth_secret\"", "'", `'"'"'`, RUNTIME.split("\n")[0], "", "\n"),
);

const script = fc
    .record({
        before: fc.array(line, { maxLength: 5 }),
        after: fc.array(line, { maxLength: 5 }),
        runtime: fc.constantFrom("whole", "twice", "none", "cut", "glued", "small", "larger", "small+whole", "small-cut"),
    })
    .map(({ before, after, runtime }) => {
        const body =
            runtime === "whole" ? [RUNTIME]
            : runtime === "twice" ? [RUNTIME, RUNTIME]
            : runtime === "cut" ? [RUNTIME.slice(0, RUNTIME.length - 7)]
            : runtime === "glued" ? [`x${RUNTIME}`]
            : runtime === "small" ? [SMALL]
            : runtime === "larger" ? [LARGER]
            : runtime === "small+whole" ? [SMALL, RUNTIME]
            : runtime === "small-cut" ? [SMALL.slice(0, SMALL.length - 3)]
            : [];
        return [...before, ...body, ...after].join("\n");
    });

describe("the runtime inside a script is handled once, with the plain result", function () {
    this.timeout(120_000);

    it("shq and unquote give what plain quoting gives, and unquote inverts shq", () => {
        fc.assert(
            fc.property(script, (s) => {
                const q = shq(s);
                assert.strictEqual(q, plainShq(s));
                assert.strictEqual(unquote(q), s);
                assert.strictEqual(unquote(q), plainUnquote(q));
            }),
            { numRuns: 300 },
        );
    });

    it("a line scan that skips the runtime finds exactly what a scan of every line finds", () => {
        const patterns = [/^hearth_install(?:_in_place)? /, /^hearth_install_secret /] as const;
        fc.assert(
            fc.property(script, (s) => {
                const all = s.split("\n").filter((l) => patterns.some((p) => p.test(l)));
                const fast = linesToScan(s, patterns).filter((l) => patterns.some((p) => p.test(l)));
                assert.deepStrictEqual(fast, all);
            }),
            { numRuns: 150 },
        );
    });

    it("a pattern that matches a runtime line makes the scan read every line", () => {
        const first = RUNTIME.split("\n").find((l) => l.trim() !== "")!;
        const pattern = [new RegExp("^" + first.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "$")] as const;
        const s = ["a", RUNTIME, "b"].join("\n");
        assert.ok(linesToScan(s, pattern).includes(first), "the runtime's own matching line was skipped");
    });

    it("finds the runtime a command carries, the whole one or a cut one, and no other", () => {
        assert.ok(SMALL.length < LARGER.length && LARGER.length < RUNTIME.length);
        for (const rt of [RUNTIME, SMALL, LARGER]) {
            const p = splitRuntime(["# hearth: x", rt, INSTALL].join("\n"));
            assert.deepEqual(p, { before: "# hearth: x\n", runtime: rt, after: `\n${INSTALL}` });
        }
        assert.equal(splitRuntime(`${INSTALL}\nx${SMALL}`), undefined);
        assert.equal(splitRuntime(SMALL.slice(0, -3)), undefined);
    });

    it("a process that has not made a command's runtime reads it back the same (quoting, line scans)", () => {
        const own = "hearth_install_secret /etc/s 0600 root root\nhearth_zfs_check_dataset x";
        const rt = runtimeFor(own);
        const script = ["# hearth: t", rt, INSTALL, own, ""].join("\n");
        const child = `
            const { unquote, shq, splitRuntime, rootInstallLines } = require("./components/core/shell");
            const { KNOWN_RUNTIMES } = require("./components/core/runtime");
            const { quoted, script } = JSON.parse(require("fs").readFileSync(0, "utf8"));
            const known = KNOWN_RUNTIMES.length;
            const back = unquote(quoted);
            process.stdout.write(JSON.stringify({ known, back: back === script, shq: shq(script) === quoted, made: KNOWN_RUNTIMES.length - known, split: splitRuntime(script)?.runtime.length, installs: rootInstallLines(script) }));`;
        const r = spawnSync(process.execPath, ["--require", "tsx/cjs", "-e", child], { cwd: path.resolve(__dirname, "../.."), input: JSON.stringify({ quoted: shq(script), script }), encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        const got = JSON.parse(r.stdout);
        assert.deepEqual(got, { known: 1, back: true, shq: true, made: 1, split: rt.length, installs: rootInstallLines(script) });
        assert.equal(rootInstallLines(script).length, 2);
    });

    it("install lines, secret frames and stdin frames are read the same around the runtime", () => {
        const s = [INSTALL, RUNTIME, SECRET, "hearth_install /etc/b 0600 root root"].join("\n");
        const installs = rootInstallLines(s);
        assert.deepStrictEqual(
            installs.map((f) => [f.path, f.secret]),
            [["/etc/x'y", false], ["/etc/hearth/secret", true], ["/etc/b", false]],
        );
        assert.strictEqual(countSecretFrames(s), countSecretFrames(s.split("\n").filter((l) => l !== "").join("\n")));
        const files = parseScriptFiles([INSTALL, RUNTIME, "hearth_install /etc/b 0600 root root"].join("\n"), frameStdin(["one", "two"]));
        assert.deepStrictEqual(files.map((f) => [f.path, f.content]), [["/etc/x'y", "one"], ["/etc/b", "two"]]);
    });
});
