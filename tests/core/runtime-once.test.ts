// A script carries the whole runtime, so shell.ts quotes, unquotes and line-scans the runtime's text once per process
// and reuses it. These specs compare every such fast path with the plain computation over the whole text, on scripts
// with the runtime at the start, in the middle, at the end, twice, damaged, and beside hostile lines.
import * as assert from "assert";
import * as fc from "fast-check";
import { RUNTIME } from "../../components/core/runtime";
import { countSecretFrames, linesToScan, parseScriptFiles, rootInstallLines, shq, unquote, frameStdin } from "../../components/core/shell";

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
        runtime: fc.constantFrom("whole", "twice", "none", "cut", "glued"),
    })
    .map(({ before, after, runtime }) => {
        const body =
            runtime === "whole" ? [RUNTIME]
            : runtime === "twice" ? [RUNTIME, RUNTIME]
            : runtime === "cut" ? [RUNTIME.slice(0, RUNTIME.length - 7)]
            : runtime === "glued" ? [`x${RUNTIME}`]
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
            { numRuns: 150 },
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
