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

/** A piece of a runtime: top-level code (always carried) or one function with the blank and directive lines before it. */
interface Segment {
    readonly text: string;
    /** The function it defines; undefined for top-level code. */
    readonly name?: string;
    /** The runtime's functions its text names. */
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
     * their order without the functions `text` cannot reach. The same string for the same closure.
     */
    runtimeFor(text: string): string;
}

const FUNCTION_HEAD = /^(hearth_[a-z0-9_]+)\(\) \{/;
const WORD = /hearth_[a-z0-9_]+/g;

/**
 * Cuts `runtime` (comment lines already stripped) at its functions: a function starts with `hearth_NAME() {` in
 * column 0 and ends on that line when it ends with `}`, else at the first `}` in column 0. `made` hears of every
 * runtime text made for a closure the first time.
 */
export function runtimeClosures(runtime: string, made: (text: string) => void = () => {}): RuntimeClosures {
    const lines = runtime.split("\n");
    const cut: { lines: string[]; name?: string }[] = [];
    let top: string[] = [];
    for (let i = 0; i < lines.length; i++) {
        const head = FUNCTION_HEAD.exec(lines[i]);
        if (!head) {
            top.push(lines[i]);
            continue;
        }
        // Blank lines and shellcheck directives just above a function go with it (a directive applies to what follows).
        let lead = top.length;
        while (lead > 0 && (top[lead - 1].trim() === "" || /^# shellcheck /.test(top[lead - 1]))) lead--;
        if (lead > 0) cut.push({ lines: top.slice(0, lead) });
        const fn = top.slice(lead);
        top = [];
        let end = i;
        if (!/\}\s*$/.test(lines[i])) {
            while (end < lines.length && lines[end] !== "}") end++;
            if (end === lines.length) throw new Error(`runtime: function ${head[1]} has no closing brace in column 0`);
        }
        fn.push(...lines.slice(i, end + 1));
        if (cut.some((c) => c.name === head[1])) throw new Error(`runtime: function ${head[1]} is defined twice`);
        cut.push({ lines: fn, name: head[1] });
        i = end;
    }
    if (top.length > 0) cut.push({ lines: top });
    const byName = new Map<string, Segment>();
    const names = new Set(cut.flatMap((c) => (c.name ? [c.name] : [])));
    const segments: Segment[] = cut.map((c) => {
        const text = c.lines.join("\n");
        const seg = { text, name: c.name, refs: referencedIn(text, names) };
        if (c.name) byName.set(c.name, seg);
        return seg;
    });
    const roots = segments.filter((s) => !s.name).flatMap((s) => s.refs);
    const texts = new Map<string, string>([[[...names].sort().join(" "), runtime]]);
    const namesIn = (text: string) => referencedIn(text, names);
    const closure = (text: string) => {
        const seen = new Set<string>();
        const todo = [...namesIn(text), ...roots];
        while (todo.length > 0) {
            const n = todo.pop()!;
            if (seen.has(n)) continue;
            seen.add(n);
            todo.push(...byName.get(n)!.refs);
        }
        return [...seen].sort();
    };
    return {
        functions: [...names],
        namesIn,
        closure,
        runtimeFor(text: string): string {
            const reach = closure(text);
            const key = reach.join(" ");
            let out = texts.get(key);
            if (out === undefined) {
                const keep = new Set(reach);
                out = segments.filter((s) => !s.name || keep.has(s.name)).map((s) => s.text).join("\n");
                texts.set(key, out);
                made(out);
            }
            return out;
        },
    };
}

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
