// Loads the one bash runtime (runtime.sh, beside this file) that every hearth script starts with. No @pulumi import.
import { readFileSync } from "fs";
import { join } from "path";

/** runtime.sh as it is written: without its shebang, with its comments. */
export const RUNTIME_SOURCE: string = readFileSync(join(__dirname, "runtime.sh"), "utf8").replace(/^#!.*\n/, "").trimEnd();

/**
 * The runtime every rendered script carries (a command line carries only the part of it the script reaches: runtimeFor
 * below, cut in by core/shell.ts wrapCommand): runtime.sh without its comment lines (a host's sshd hands a command to the shell
 * as one argument, which Linux caps at 128 KiB, and the comments are a third of the file). A line whose first
 * non-blank character is `#` goes, unless it is a shellcheck directive or inside a here-document; what bash defines
 * from it is the same as from runtime.sh (tests/core/runtime-size.test.ts compares `declare -f` and `declare -p`).
 */
export const RUNTIME: string = withoutComments(RUNTIME_SOURCE);

export function withoutComments(text: string): string {
    const out: string[] = [];
    let heredoc: RegExp | undefined;
    for (const line of text.split("\n")) {
        if (heredoc) {
            out.push(line);
            if (heredoc.test(line)) heredoc = undefined;
            continue;
        }
        if (/^\s*#/.test(line) && !/^\s*# shellcheck /.test(line)) continue;
        out.push(line);
        const m = /(?<!<)<<(-?)\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\2/.exec(line);
        if (m) heredoc = new RegExp(`^${m[1] ? "\\t*" : ""}${m[3]}$`);
    }
    return out.join("\n");
}

/** The names of the runtime's functions, for specs that check scripts call them and define none of their own. */
export const RUNTIME_FUNCTIONS: readonly string[] = [...RUNTIME.matchAll(/^(hearth_[a-z_]+)\(\) \{/gm)].map((m) => m[1]);

// ---- the runtime a script reaches ------------------------------------------------------------------------------
// A host's sshd hands a command to the shell as ONE argument (at most 128 KiB), and the runtime grows with every
// component. So a command carries the runtime's top-level code (options, umask, exports, variables, traps) and only the
// functions its own lines can reach: the transitive closure over the `hearth_*` words of its lines and of every
// function it includes. A word counts wherever it stands (a call, `declare -f NAME`, a trap, a quoted string, a
// comment): the closure may hold a function that never runs, never lack one that does. runtime.sh builds no function
// name from a string (no `"hearth_$x"` call, no eval): tests/core/runtime-closure.test.ts checks what bash defines.

/**
 * A piece of a runtime: top-level code (always carried), one function with the blank and directive lines before it,
 * or one top-level variable assignment (carried when something carried names the variable: an assignment nothing
 * reads is what shellcheck calls unused, SC2034).
 */
interface Segment {
    readonly text: string;
    /** The function or variable it defines; undefined for top-level code. */
    readonly name?: string;
    readonly variable?: boolean;
    /** The runtime's functions and top-level variables its text names. */
    readonly refs: readonly string[];
}

/** A runtime text cut into its top-level code and its functions, and the closure over them. */
export interface RuntimeClosures {
    /** The runtime's function names, in order. */
    readonly functions: readonly string[];
    /** The functions of the runtime a text names (each `hearth_*` word that is one), in first-seen order. */
    namesIn(text: string): string[];
    /**
     * The functions a script whose own lines are `text` can reach: what its lines name, what the runtime's top-level
     * code names (its traps), and, transitively, what each of those names. Sorted.
     */
    closure(text: string): string[];
    /**
     * The runtime a script whose own lines (everything but the runtime) are `text` carries: the runtime's lines in
     * their order without the functions `text` cannot reach and the variable assignments nothing carried names. The
     * same string for the same closure.
     */
    runtimeFor(text: string): string;
}

const FUNCTION_HEAD = /^(hearth_[a-z0-9_]+)\(\) \{/;
/** A top-level assignment of one plain value on one line (anything else stays top-level code, always carried). */
const VARIABLE_LINE = /^(?:declare -[aA] )?(hearth_[a-z0-9_]+)=(?:\(\)|'[^']*'|"[^"$`\\]*"|[^\s'"`$();&|<>\\]*)$/;
const WORD = /hearth_[a-z0-9_]+/g;

/**
 * Cuts `runtime` (comment lines already stripped) at its functions and top-level variables: a function starts with
 * `hearth_NAME() {` in column 0 and ends on that line when it ends with `}`, else at the first `}` in column 0.
 * `made` hears of every runtime text made for a closure the first time.
 */
export function runtimeClosures(runtime: string, made: (text: string) => void = () => {}): RuntimeClosures {
    const lines = runtime.split("\n");
    const cut: { lines: string[]; name?: string; variable?: boolean }[] = [];
    let top: string[] = [];
    const flush = (upTo: number) => {
        if (upTo > 0) cut.push({ lines: top.slice(0, upTo) });
        const rest = top.slice(upTo);
        top = [];
        return rest;
    };
    for (let i = 0; i < lines.length; i++) {
        const variable = VARIABLE_LINE.exec(lines[i]);
        if (variable) {
            flush(top.length);
            cut.push({ lines: [lines[i]], name: variable[1], variable: true });
            continue;
        }
        const head = FUNCTION_HEAD.exec(lines[i]);
        if (!head) {
            top.push(lines[i]);
            continue;
        }
        // Blank lines and shellcheck directives just above a function go with it (a directive applies to what follows).
        let lead = top.length;
        while (lead > 0 && (top[lead - 1].trim() === "" || /^# shellcheck /.test(top[lead - 1]))) lead--;
        const fn = flush(lead);
        let end = i;
        if (!/\}\s*$/.test(lines[i])) {
            while (end < lines.length && lines[end] !== "}") end++;
            if (end === lines.length) throw new Error(`runtime: function ${head[1]} has no closing brace in column 0`);
        }
        fn.push(...lines.slice(i, end + 1));
        if (cut.some((c) => c.name === head[1] && !c.variable)) throw new Error(`runtime: function ${head[1]} is defined twice`);
        cut.push({ lines: fn, name: head[1] });
        i = end;
    }
    flush(top.length);
    const functions = cut.flatMap((c) => (c.name && !c.variable ? [c.name] : []));
    const fnNames = new Set(functions);
    const allNames = new Set(cut.flatMap((c) => (c.name ? [c.name] : [])));
    const byName = new Map<string, Segment[]>();
    const segments: Segment[] = cut.map((c) => {
        const text = c.lines.join("\n");
        const seg: Segment = { text, name: c.name, variable: c.variable, refs: referencedIn(text, allNames) };
        if (c.name) byName.set(c.name, [...(byName.get(c.name) ?? []), seg]);
        return seg;
    });
    const roots = segments.filter((s) => !s.name).flatMap((s) => s.refs);
    const texts = new Map<string, string>([[[...allNames].sort().join(" "), runtime]]);
    const close = (seen: Set<string>, todo: string[]) => {
        while (todo.length > 0) {
            const n = todo.pop()!;
            if (seen.has(n)) continue;
            seen.add(n);
            for (const seg of byName.get(n)!) todo.push(...seg.refs);
        }
        return seen;
    };
    const readers = new Map([...allNames].filter((n) => !fnNames.has(n)).map((v) => [v, segments.filter((s) => s.name && !s.variable && s.refs.includes(v))] as const));
    const alone = new Map<string, number>();
    const size = (f: string) => alone.get(f) ?? alone.set(f, [...close(new Set(), [f])].reduce((n, g) => n + byName.get(g)!.reduce((m, s) => m + s.text.length, 0), 0)).get(f)!;
    const reach = (text: string) => {
        const seen = close(new Set(), [...referencedIn(text, allNames), ...roots]);
        // A runtime variable the script's own lines set (the owner variables of a delete) that no function carried
        // reads: the smallest function that reads it goes too, so shellcheck sees the assignment read (SC2034), as in
        // the whole runtime. It never runs; a cut may carry more than runs, never less.
        for (let again = true; again; ) {
            again = false;
            const named = new Set([...seen].filter((n) => fnNames.has(n)).flatMap((n) => byName.get(n)!.flatMap((s) => s.refs)).concat(roots));
            for (const v of [...seen].filter((n) => !fnNames.has(n) && !named.has(n))) {
                const by = readers.get(v)!.map((s) => s.name!).sort((a, b) => size(a) - size(b) || (a < b ? -1 : 1))[0];
                if (by !== undefined) (close(seen, [by]), (again = true));
            }
        }
        return seen;
    };
    return {
        functions,
        namesIn: (text: string) => referencedIn(text, fnNames),
        closure: (text: string) => [...reach(text)].filter((n) => fnNames.has(n)).sort(),
        runtimeFor(text: string): string {
            const keep = reach(text);
            const key = [...keep].sort().join(" ");
            let out = texts.get(key);
            if (out === undefined) {
                // Top-level code that is only blank lines (between dropped pieces) goes too.
                const kept = segments.filter((s) => (s.name ? keep.has(s.name) : s.text.trim() !== ""));
                const text = kept.map((s) => s.text);
                // What shellcheck would say of the runtime's own functions in a cut is said of the whole runtime
                // (shellchecked as a file): a function whose callers with arguments were cut away (SC2120). Before the
                // first command, the directive holds for the whole script, whose own lines define no function.
                const first = text[0].indexOf("\n");
                text[0] = first < 0 ? `${text[0]}\n${CUT_LINES[0]}` : `${text[0].slice(0, first)}\n${CUT_LINES[0]}${text[0].slice(first)}`;
                out = text.join("\n");
                texts.set(key, out);
                made(out);
            }
            return out;
        },
    };
}

/** The lines a cut runtime has that the runtime has not (shellcheck directives: core/shell.ts line scans know them). */
export const CUT_LINES = ["# shellcheck disable=SC2120 # a cut runtime: callers with arguments may be cut away"] as const;

function referencedIn(text: string, names: ReadonlySet<string>): string[] {
    const out = new Set<string>();
    for (const m of text.matchAll(WORD)) if (names.has(m[0])) out.add(m[0]);
    return [...out];
}

/** Every runtime text scripts carry in this process, RUNTIME first: the shell fast paths (core/shell.ts) look for these. */
export const KNOWN_RUNTIMES: readonly string[] = [RUNTIME];

const CLOSURES = runtimeClosures(RUNTIME, (text) => (KNOWN_RUNTIMES as string[]).push(text));

/** The runtime a script whose own lines are `text` carries (RuntimeClosures.runtimeFor over RUNTIME). */
export function runtimeFor(text: string): string {
    return CLOSURES.runtimeFor(text);
}

/** The runtime functions a script whose own lines are `text` can reach (RuntimeClosures.closure over RUNTIME). */
export function runtimeClosure(text: string): string[] {
    return CLOSURES.closure(text);
}
