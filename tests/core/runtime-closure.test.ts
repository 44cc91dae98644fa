// A command carries the runtime's top-level code and only the functions its own lines can reach (core/runtime.ts
// runtimeClosures, cut in by core/shell.ts wrapCommand). These specs check the cut against bash itself: the call graph
// comes from the function bodies as bash prints them, and what a command's runtime defines from sourcing it.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import fc from "fast-check";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RUNTIME, runtimeClosure, runtimeClosures, runtimeFor } from "../../components/core/runtime";
import { shq, splitRuntime, unwrapCommand, withReachableRuntime, wrapCommand } from "../../components/core/shell";
import { renderHostFile } from "../../components/files/render";
import { FILE_MARK, FILE_SCENARIOS } from "../files/scenarios";
import { siteScripts } from "./site-scripts";

function bash(script: string, input = ""): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync("bash", ["--noprofile", "--norc", "-c", script], { encoding: "utf8", input, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, maxBuffer: 256 * 1024 * 1024 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const WORDS = /hearth_[a-z0-9_]+/g;
const words = (text: string) => new Set(text.match(WORDS) ?? []);

/** Functions as bash prints them (`declare -f`), by name. */
function printedFunctions(out: string): Map<string, string> {
    const fns = new Map<string, string>();
    for (const block of out.split(/^(?=[A-Za-z_][A-Za-z0-9_]* \(\) $)/m)) {
        const m = /^([A-Za-z_][A-Za-z0-9_]*) \(\) $/m.exec(block);
        if (m) fns.set(m[1], block);
    }
    return fns;
}

/** What bash holds after sourcing a runtime text (in a subshell, its EXIT trap dropped): functions, traps, variables. */
interface Sourced {
    readonly functions: Map<string, string>;
    readonly traps: string;
    readonly vars: string;
}

const SEP = "=== hearth-closure-spec ===";

/** Sources each text in a subshell of one bash process. */
function sourceEach(texts: readonly string[]): Sourced[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-closure-"));
    try {
        const files = texts.map((t, i) => {
            const f = path.join(dir, `${i}.sh`);
            fs.writeFileSync(f, t);
            return f;
        });
        const body = files.map((f) => `( source ${shq(f)} && trap -p && echo ${shq(SEP)} && declare -p | grep -E '^declare -[^ ]* (hearth_|LC_ALL=|PATH=)' && echo ${shq(SEP)} && declare -f && echo ${shq(SEP)}; trap - EXIT )`).join("\n");
        const r = bash(body);
        assert.equal(r.status, 0, r.stderr);
        const parts = r.stdout.split(`${SEP}\n`);
        assert.equal(parts.length, texts.length * 3 + 1, "one report per text");
        return texts.map((_, i) => ({ traps: parts[3 * i], vars: parts[3 * i + 1], functions: printedFunctions(parts[3 * i + 2]) }));
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** The full runtime as bash sees it, and its call graph from bash's own printing (comments gone, bodies normalized). */
const FULL = sourceEach([RUNTIME])[0];
const NAMES = new Set(FULL.functions.keys());
const GRAPH = new Map([...FULL.functions].map(([n, body]) => [n, [...words(body.slice(body.indexOf("\n")))].filter((w) => NAMES.has(w))]));
const TRAP_ROOTS = [...words(FULL.traps)].filter((w) => NAMES.has(w));
const FULL_VARS = new Set(FULL.vars.split("\n").filter(Boolean));
const VAR_NAMES = new Set([...FULL_VARS].flatMap((l) => /^declare -\S* (hearth_[a-z0-9_]+)=/.exec(l)?.[1] ?? []));

/** The closure by bash's call graph: from the names in `own` and the runtime's traps. */
function bashClosure(own: string): Set<string> {
    const seen = new Set<string>();
    const todo = [...[...words(own)].filter((w) => NAMES.has(w)), ...TRAP_ROOTS];
    while (todo.length) {
        const n = todo.pop()!;
        if (!seen.has(n)) (seen.add(n), todo.push(...GRAPH.get(n)!));
    }
    return seen;
}

const sorted = (s: Iterable<string>) => [...s].sort();

describe("a command carries only the runtime it reaches", function () {
    this.timeout(300_000);

    it("cuts runtime.sh into its top-level code and every function bash defines from it, in order", () => {
        assert.ok(NAMES.size > 100, `bash defined ${NAMES.size} functions`);
        assert.deepEqual(sorted(runtimeClosures(RUNTIME).functions), sorted(NAMES));
        // Every function reached: the runtime itself, the same string.
        assert.equal(runtimeFor([...NAMES].join(" ")), RUNTIME);
        // Every runtime text starts with the runtime's first line (top-level code, carried always).
        assert.ok(runtimeFor("").startsWith(RUNTIME.slice(0, RUNTIME.indexOf("\n") + 1)));
        assert.ok(!/^hearth_[a-z0-9_]+\(\) \{/.test(RUNTIME.split("\n")[0]));
    });

    it("reaches from each function exactly what bash's printed bodies and the runtime's traps reach", () => {
        assert.ok(TRAP_ROOTS.includes("hearth_cleanup"), `traps: ${FULL.traps}`);
        const differ: string[] = [];
        for (const f of NAMES) {
            const want = sorted(bashClosure(f));
            const got = runtimeClosure(f);
            if (want.join(" ") !== got.join(" ")) differ.push(`${f}: bash ${want.length} [${want.filter((x) => !got.includes(x))}], cut ${got.length} [${got.filter((x) => !want.includes(x))}]`);
        }
        assert.deepEqual(differ, []);
    });

    it("every command of the three sites and every HostFile scenario: bash -n passes, its runtime defines exactly its closure, unchanged, with its traps and the variables it names", () => {
        const scripts = siteScripts().map((s) => [s.name, s.script] as const);
        for (const [name, spec] of Object.entries(FILE_SCENARIOS)) {
            const r = renderHostFile(spec, { ...FILE_MARK, adopt: spec.adopt });
            scripts.push([`HostFile ${name}`, unwrapCommand(wrapCommand(r.script, true))!.script], [`HostFile ${name} (delete)`, withReachableRuntime(r.deleteScript)]);
        }
        const parts = scripts.map(([name, s]) => {
            const p = splitRuntime(s);
            assert.ok(p, `${name} carries a runtime`);
            return p;
        });
        // Syntax of every whole script, in one bash.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-closure-n-"));
        try {
            const files = scripts.map(([, s], i) => {
                const f = path.join(dir, `${i}.sh`);
                fs.writeFileSync(f, s);
                return f;
            });
            const r = bash(files.map((f, i) => `bash -n ${shq(f)} || echo ${shq(`bash -n failed: ${scripts[i][0]}`)}`).join("\n"));
            assert.equal(r.stdout, "", r.stderr);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
        const distinct = [...new Set(parts.map((p) => p.runtime))];
        const reports = sourceEach(distinct);
        const sourced = new Map(distinct.map((t, i) => [t, reports[i]] as const));
        let cut = 0;
        scripts.forEach(([name, s], i) => {
            const { before, runtime, after } = parts[i];
            assert.equal(before + runtime + after, s);
            const own = `${before}\n${after}`;
            const got = sourced.get(runtime)!;
            const defined = sorted(got.functions.keys());
            // What bash defines is what the script can reach, by bash's own reading of the bodies; beyond that only what
            // a function reaches that reads a runtime variable the script's own lines set (so the assignment is read).
            const reachable = bashClosure(own);
            const readers = [...NAMES].filter((f) => [...words(FULL.functions.get(f)!)].some((w) => VAR_NAMES.has(w) && words(own).has(w)));
            const allowed = new Set([...reachable, ...readers.flatMap((f) => [...bashClosure(f)])]);
            assert.deepEqual([...reachable].filter((f) => !got.functions.has(f)), [], `${name}: reachable but not defined`);
            assert.deepEqual(defined.filter((f) => !allowed.has(f)), [], `${name}: defined, not reachable`);
            // Every runtime function the script's lines or its functions name is defined.
            const named = [...words(own), ...[...got.functions.values()].flatMap((b) => [...words(b)])].filter((w) => NAMES.has(w));
            assert.deepEqual(named.filter((w) => !got.functions.has(w)), [], `${name}: named but not defined`);
            // Each function as the whole runtime defines it; the traps and variables of the top-level code all there.
            for (const [f, body] of got.functions) assert.equal(body, FULL.functions.get(f), `${name}: ${f} differs`);
            assert.equal(got.traps, FULL.traps, `${name}: traps`);
            // The top-level variables: each as the whole runtime sets it; exactly those something carried names.
            const lines = got.vars.split("\n").filter(Boolean);
            assert.deepEqual(lines.filter((l) => !FULL_VARS.has(l)), [], `${name}: variables`);
            assert.ok(lines.some((l) => l.startsWith("declare -x PATH=")) && lines.some((l) => l.startsWith("declare -x LC_ALL=")), `${name}: exports`);
            const carried = new Set([...words(own), ...[...got.functions.values()].flatMap((b) => [...words(b)])]);
            assert.deepEqual(sorted(lines.flatMap((l) => /^declare -\S* (hearth_[a-z0-9_]+)=/.exec(l)?.[1] ?? [])), sorted([...VAR_NAMES].filter((v) => carried.has(v))), `${name}: variables named`);
            // No runtime definition among the script's own lines (the cut found the whole runtime part).
            assert.doesNotMatch(own, /^hearth_[a-z0-9_]+\(\) \{/m, `${name}: a runtime function outside the runtime part`);
            if (defined.length < NAMES.size) cut++;
        });
        assert.ok(cut === scripts.length, `${scripts.length - cut} scripts carry the whole runtime`);
    });

    it("keeps a function named only inside a string, only by a trap, only by declare -f; drops what nothing names", () => {
        const rt = [
            "# shellcheck shell=bash",
            "set -euo pipefail",
            "hearth_tmps=()",
            "hearth_cleanup() { echo cleanup >&2; }",
            "trap hearth_cleanup EXIT",
            "hearth_a() { echo a; }",
            "hearth_ab() { echo ab; }",
            "hearth_remote() {",
            '  bash --noprofile --norc -c "$(declare -f hearth_leaf); hearth_leaf"',
            "}",
            "hearth_leaf() { echo leaf; }",
            "hearth_trapped() {",
            "  ( trap 'hearth_on_exit' EXIT; : )",
            "}",
            "hearth_on_exit() {",
            "  echo on-exit",
            "}",
            "hearth_stringy() {",
            "  local run='hearth_in_string'",
            '  "$run"',
            "}",
            "# shellcheck disable=SC2034",
            "hearth_in_string() { echo in-string; }",
            "",
            "hearth_unused() {",
            "  hearth_a",
            "}",
        ].join("\n");
        const c = runtimeClosures(rt);
        assert.deepEqual(c.closure(""), ["hearth_cleanup"], "the trap's function is carried by every script");
        assert.deepEqual(c.closure("hearth_ab"), ["hearth_ab", "hearth_cleanup"], "hearth_a is not hearth_ab");
        assert.deepEqual(c.closure("hearth_remote"), ["hearth_cleanup", "hearth_leaf", "hearth_remote"]);
        assert.deepEqual(c.closure("hearth_trapped"), ["hearth_cleanup", "hearth_on_exit", "hearth_trapped"]);
        assert.deepEqual(c.closure("x=$(hearth_stringy)"), ["hearth_cleanup", "hearth_in_string", "hearth_stringy"]);
        const own = ["hearth_ab", "hearth_remote", "hearth_trapped", "hearth_stringy", "declare -F | grep -qE ' hearth_(unused|a)$' || echo gone"].join("\n");
        const text = c.runtimeFor(own);
        assert.match(text, /^# shellcheck disable=SC2034\nhearth_in_string\(\)/m, "a directive goes with its function");
        assert.doesNotMatch(text, /hearth_unused\(\)|hearth_a\(\)/);
        const r = bash(`${text}\n${own}\n`);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, "ab\nleaf\non-exit\nin-string\ngone\n");
        assert.equal(r.stderr, "cleanup\n");
        // The same closure gives the same string.
        assert.equal(c.runtimeFor("hearth_stringy\nhearth_ab\nhearth_trapped\nhearth_remote # hearth_nothing"), text);
    });

    it("random call graphs, called directly, captured, through a string, an exit trap or declare -f: the cut runtime runs what the whole one runs", () => {
        const FORMS = ["direct", "capture", "string", "trap", "declare"] as const;
        const graph = fc.integer({ min: 2, max: 8 }).chain((n) =>
            fc.record({
                n: fc.constant(n),
                // Edges only to later functions: no recursion.
                edges: fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.constantFrom(...FORMS)), { maxLength: 3 }), { minLength: n, maxLength: n }),
                calls: fc.array(fc.integer({ min: 0, max: n - 1 }), { maxLength: 3 }),
            }),
        );
        fc.assert(
            fc.property(graph, ({ n, edges, calls }) => {
                const out = edges.map((es, i) => es.filter(([j]) => j > i));
                // A function sent to another bash by declare -f runs there alone: only a leaf can go.
                const leaf = (j: number) => out[j].length === 0;
                const call = (j: number, form: (typeof FORMS)[number]) => {
                    const f = `hearth_p${j}`;
                    if (form === "capture") return `  x=$(${f}); echo "$x"`;
                    if (form === "string") return `  local c='${f}'; "$c"`;
                    if (form === "trap") return `  ( trap '${f}' EXIT; : )`;
                    if (form === "declare" && leaf(j)) return `  bash --noprofile --norc -c "$(declare -f ${f}); ${f}"`;
                    return `  ${f}`;
                };
                const rt = [
                    "# shellcheck shell=bash",
                    "set -euo pipefail",
                    "hearth_cleanup() { :; }",
                    "trap hearth_cleanup EXIT",
                    ...out.flatMap((es, i) => [`hearth_p${i}() {`, `  echo p${i}`, ...es.map(([j, form]) => call(j, form)), "}"]),
                ].join("\n");
                const own = calls.map((j) => `hearth_p${j}`).join("\n");
                // Reachable by the generated graph itself.
                const want = new Set(["hearth_cleanup"]);
                const todo = [...calls];
                while (todo.length) {
                    const j = todo.pop()!;
                    if (!want.has(`hearth_p${j}`)) (want.add(`hearth_p${j}`), todo.push(...out[j].map(([k]) => k)));
                }
                const c = runtimeClosures(rt);
                assert.deepEqual(c.closure(own), sorted(want));
                const whole = bash(`${rt}\n${own}\n`);
                const cut = bash(`${c.runtimeFor(own)}\n${own}\n`);
                assert.equal(whole.status, 0, whole.stderr);
                assert.deepEqual(cut, whole);
                for (let j = 0; j < n; j++) assert.equal(c.runtimeFor(own).includes(`hearth_p${j}() {`), want.has(`hearth_p${j}`));
            }),
            { numRuns: 60 },
        );
    });

    it("the command line carries the cut runtime; a script without the whole runtime is carried as it is", () => {
        const script = [`# hearth: t`, RUNTIME, "hearth_owner=x", "hearth_say hi", ""].join("\n");
        const w = unwrapCommand(wrapCommand(script, true))!;
        assert.equal(w.sudo, true);
        assert.equal(w.script, [`# hearth: t`, runtimeFor("hearth_owner=x\nhearth_say hi"), "hearth_owner=x", "hearth_say hi", ""].join("\n"));
        assert.ok(w.script.length < RUNTIME.length / 4, `${w.script.length}`);
        // Already cut: unchanged; no runtime, or not on lines of its own: unchanged.
        assert.equal(withReachableRuntime(w.script), w.script);
        for (const s of ["echo hi", `x${RUNTIME}\nhearth_say`, `${RUNTIME}y`]) assert.equal(withReachableRuntime(s), s);
        // Reaching every function: the whole runtime, the same text.
        const all = `${RUNTIME}\n${[...NAMES].join("\n")}`;
        assert.equal(withReachableRuntime(all), all);
    });
});
