// Shell safety: the one quoting helper, the script builder, and the stdin framing that carries file bodies and secrets.
//
// Part of the core: nothing here imports @pulumi/*; renderers build scripts with it and the policy pack reads them back.
import { createHash } from "crypto";
import { CUT_LINES, KNOWN_RUNTIMES, RUNTIME, runtimeFor } from "./runtime";
import { OwnerMark } from "./owner";

/** POSIX single-quote a value for the shell. NUL cannot be carried by any shell word, so it is refused. */
export function shq(value: string): string {
    if (value.includes("\0")) {
        throw new Error(`cannot quote a value containing NUL for the shell: ${JSON.stringify(value)}`);
    }
    if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value) && !value.startsWith("-")) {
        return value;
    }
    return "'" + quoteBody(value) + "'";
}

/** The inside of a single-quoted word: each `'` closes the quote, adds a double-quoted one and reopens it. */
function quoteBody(value: string): string {
    // A script carries a runtime (RUNTIME, or the part of it a command reaches): its quoted text is made once per
    // runtime, only the lines around it are quoted here.
    const found = runtimeIn(value, false);
    if (found === undefined) return value.replace(/'/g, `'"'"'`);
    const [at, i] = found;
    return detached(value.slice(0, at).replace(/'/g, `'"'"'`)) + quotedRuntime(i) + detached(value.slice(at + KNOWN_RUNTIMES[i].length).replace(/'/g, `'"'"'`));
}

/**
 * `part` (a slice of a larger string) as a string of its own. V8 keeps a slice as a view of the string it was cut from,
 * so a command line made of the shared quoted runtime and two slices of its script would keep the whole script alive
 * as long as the command: a plan's heap would hold every script twice. Prefixing makes a rope, slicing that copies it
 * into a string of its own; the value is the same in any case.
 */
function detached(part: string): string {
    return (" " + part).slice(1);
}

// ---- the runtime inside a script ---------------------------------------------------------------------------------
// Every hearth script carries a runtime: a rendered one the whole RUNTIME, a command line only what its lines reach
// (core/runtime.ts runtimeFor; wrapCommand cuts it). A plan of many components would quote, unquote and scan the same
// runtime texts once per script. The functions below find a known runtime text in a script (verbatim, on lines of its
// own) and reuse what was computed for it once; every result is the one the plain computation over the whole text gives.

/** KNOWN_RUNTIMES[i] as `shq` quotes it inside a word (without the outer quotes), made when first needed. */
const quotedRuntimes: string[] = [];

function quotedRuntime(i: number): string {
    return (quotedRuntimes[i] ??= KNOWN_RUNTIMES[i].replace(/'/g, `'"'"'`));
}

/** Every runtime text starts with the runtime's first line (top-level code, always carried). */
const RUNTIME_HEAD = RUNTIME.slice(0, RUNTIME.indexOf("\n") + 1);

/**
 * Where `text` carries a known runtime text (quoted as `shq` quotes it inside a word when `quoted`) verbatim on lines of
 * its own: its offset and its index in KNOWN_RUNTIMES (the longest there), or undefined. A text that carries the
 * runtime's first line but no runtime this process has made is asked about once: a command carries the closure of its
 * whole text (the runtime part names nothing outside itself), so `runtimeFor(text)` is the candidate.
 */
function runtimeIn(text: string, quoted: boolean): [number, number] | undefined {
    if (!text.includes(RUNTIME_HEAD)) return undefined;
    const found = knownAt(text, quoted);
    if (found !== undefined) return found;
    const known = KNOWN_RUNTIMES.length;
    runtimeFor(text);
    return KNOWN_RUNTIMES.length > known ? knownAt(text, quoted) : undefined;
}

function knownAt(text: string, quoted: boolean): [number, number] | undefined {
    let best: [number, number] | undefined;
    for (let i = text.indexOf(RUNTIME_HEAD); i >= 0; i = text.indexOf(RUNTIME_HEAD, i + 1)) {
        if (i !== 0 && text.charCodeAt(i - 1) !== 10) continue;
        for (let k = 0; k < KNOWN_RUNTIMES.length; k++) {
            const block = quoted ? quotedRuntime(k) : KNOWN_RUNTIMES[k];
            const end = i + block.length;
            if (best !== undefined && block.length <= (quoted ? quotedRuntime(best[1]) : KNOWN_RUNTIMES[best[1]]).length) continue;
            // A slice compared with === is compared as memory (startsWith goes character by character: ~8x slower here).
            if (end <= text.length && (end === text.length || text.charCodeAt(end) === 10) && text.slice(i, end) === block) best = [i, k];
        }
        if (best !== undefined) return best;
    }
    return undefined;
}

/**
 * The lines of `script` (split at line breaks) for a scan that looks only at lines matching one of `patterns`, without
 * the runtime's own lines when the script carries a runtime and none of RUNTIME's lines matches: the scan finds exactly
 * what it would over every line. `patterns` is a constant of the caller (what the runtime's lines gave is kept per list).
 */
export function linesToScan(script: string, patterns: readonly RegExp[]): string[] {
    const found = runtimeIn(script, false);
    if (found === undefined || runtimeMatches(patterns)) return script.split("\n");
    const [at, i] = found;
    const before = at === 0 ? [] : script.slice(0, at - 1).split("\n");
    const end = at + KNOWN_RUNTIMES[i].length;
    const after = end === script.length ? [] : script.slice(end + 1).split("\n");
    return before.concat(after);
}

const runtimeMatchCache = new WeakMap<readonly RegExp[], boolean>();

/** Whether a line of RUNTIME or CUT_LINES (every runtime text is made of these) matches one of `patterns`. */
function runtimeMatches(patterns: readonly RegExp[]): boolean {
    let m = runtimeMatchCache.get(patterns);
    if (m === undefined) {
        const lines = [...RUNTIME.split("\n"), ...CUT_LINES];
        m = patterns.some((p) => lines.some((l) => new RegExp(p.source, p.flags.replace(/[gy]/g, "")).test(l)));
        runtimeMatchCache.set(patterns, m);
    }
    return m;
}

/**
 * A script cut at the runtime it carries (RUNTIME, or the part of it a command reaches, verbatim on lines of its own):
 * the text before it, the runtime, the text after it. Undefined when it carries none.
 */
export function splitRuntime(script: string): { before: string; runtime: string; after: string } | undefined {
    const found = runtimeIn(script, false);
    if (found === undefined) return undefined;
    const [at, i] = found;
    const runtime = KNOWN_RUNTIMES[i];
    return { before: script.slice(0, at), runtime, after: script.slice(at + runtime.length) };
}

/**
 * `script` with the whole RUNTIME it carries (verbatim, on lines of its own) cut to the runtime its other lines reach
 * (core/runtime.ts runtimeFor): what a command line carries. Unchanged when it carries no RUNTIME or reaches it all.
 */
export function withReachableRuntime(script: string): string {
    const at = indexOfBlock(script, RUNTIME);
    if (at === undefined) return script;
    const before = script.slice(0, at);
    const after = script.slice(at + RUNTIME.length);
    const runtime = runtimeFor(before + after);
    return runtime === RUNTIME ? script : before + runtime + after;
}

/** Where `text` carries `block` verbatim on lines of its own: its first offset, or undefined. */
function indexOfBlock(text: string, block: string): number | undefined {
    for (let i = text.indexOf(block); i >= 0; i = text.indexOf(block, i + 1)) {
        const end = i + block.length;
        if ((i === 0 || text.charCodeAt(i - 1) === 10) && (end === text.length || text.charCodeAt(end) === 10)) return i;
    }
    return undefined;
}

/** A file a component wants on a host. Its body travels over stdin, never inside the script. */
export interface RenderedFile {
    /** Absolute path on the host. */
    readonly path: string;
    readonly content: string;
    /** Octal mode, e.g. 0o644. */
    readonly mode: number;
    /** @default "root" */
    readonly owner?: string;
    /** @default "root" */
    readonly group?: string;
}

/**
 * Frames a sequence of stdin payloads: each is `<byte length>\n<bytes>`. The script side reads a frame with
 * `hearth_frame FILE`, which reads exactly that many bytes, so bodies may contain anything (other than NUL).
 */
export function frameStdin(payloads: readonly string[]): string {
    return payloads.map((p) => `${Buffer.byteLength(p, "utf8")}\n${p}`).join("");
}

/** SHA-256 hex of the given parts, length-prefixed so that part boundaries matter. */
export function contentHash(...parts: readonly string[]): string {
    const h = createHash("sha256");
    for (const p of parts) {
        h.update(`${Buffer.byteLength(p, "utf8")}:`);
        h.update(p, "utf8");
    }
    return h.digest("hex");
}

/** Builds one idempotent bash script. Every interpolated value goes through `shq`. */
export class Script {
    private readonly lines: string[] = [];
    private readonly files: RenderedFile[] = [];
    private ownerLines: string[] = [];

    constructor(private readonly title: string) {
        if (/[\r\n]/.test(title)) throw new Error("script title must be one line");
    }

    /** Appends raw script text written by hearth itself (never user input without `shq`). */
    raw(...lines: string[]): this {
        this.lines.push(...lines);
        return this;
    }

    /** Appends a command from argv words, each quoted. */
    cmd(...argv: string[]): this {
        this.lines.push(argv.map(shq).join(" "));
        return this;
    }

    /** Installs a file atomically; its body is the next stdin frame. */
    install(file: RenderedFile, opts: { inPlace?: boolean } = {}): this {
        assertAbsolutePath(file.path, "path");
        this.files.push(file);
        const mode = file.mode.toString(8).padStart(4, "0");
        const fn = opts.inPlace ? "hearth_install_in_place" : "hearth_install";
        this.lines.push(`${fn} ${shq(file.path)} ${mode} ${shq(file.owner ?? "root")} ${shq(file.group ?? "root")}`);
        return this;
    }

    /** Reads the next stdin frame into a file that only this script sees (for secrets); removed on exit. */
    secretToFile(variable: string, into: string): this {
        if (!/^[a-z_][a-z0-9_]*$/.test(variable)) throw new Error(`bad variable name ${variable}`);
        this.lines.push(`${variable}=${shq(into)}`, `hearth_frame "$${variable}"`);
        return this;
    }

    /** Files in the order the script reads them from stdin. */
    get installedFiles(): readonly RenderedFile[] {
        return this.files;
    }

    /**
     * Names the resource that owns what this script manages (see core/owner.ts): `hearth_claim` and `hearth_mine`
     * compare host marks against it.
     */
    owner(mark: OwnerMark): this {
        this.ownerLines = [
            `hearth_owner=${shq(mark.id)}`,
            `hearth_aliases=(${mark.aliases.map(shq).join(" ")})`,
            `hearth_adopt=${mark.adopt ? 1 : 0}`,
        ];
        return this;
    }

    /** The script with the whole runtime; the command line that runs it carries only what it reaches (wrapCommand). */
    render(): string {
        return [`# hearth: ${this.title}`, RUNTIME, ...this.ownerLines, ...this.lines, ""].join("\n");
    }
}

/** Throws unless `p` is a normalized absolute path with no `..`, `.`, empty segments or control characters. */
export function assertAbsolutePath(p: string, what: string): void {
    if (!isSafeAbsolutePath(p)) {
        throw new Error(`${what} must be a normalized absolute path without '..', '.', '//', control characters or whitespace, got ${JSON.stringify(p)}`);
    }
}

export function isSafeAbsolutePath(p: string): boolean {
    if (!p.startsWith("/") || p.length > 4096) return false;
    if (/[\x00-\x20\x7f\\]/.test(p) || /[^\x21-\x7e]/.test(p)) return false;
    if (p !== "/" && p.endsWith("/")) return false;
    return p.split("/").slice(1).every((seg) => seg !== "" && seg !== "." && seg !== "..") || p === "/";
}

/** A file as a script installs it, recovered from the script text and its framed stdin. */
export interface InstalledFile extends Required<RenderedFile> {}

/**
 * Recovers the files a hearth script installs from its text and stdin, in the order it reads them. Used by the
 * offline plan (to write what lands on each host) and by tests; secret frames (`hearth_frame` into a variable,
 * `hearth_install_secret`) are skipped, never returned.
 */
export function parseScriptFiles(script: string, stdin: string): InstalledFile[] {
    const buf = Buffer.from(stdin, "utf8");
    let off = 0;
    const nextFrame = (): string => {
        const nl = buf.indexOf(0x0a, off);
        if (nl < 0) throw new Error("stdin ended before a frame header");
        const len = Number(buf.subarray(off, nl).toString("ascii"));
        if (!Number.isInteger(len) || len < 0) throw new Error("bad stdin frame header");
        const body = buf.subarray(nl + 1, nl + 1 + len);
        if (body.length !== len) throw new Error("short stdin frame");
        off = nl + 1 + len;
        return body.toString("utf8");
    };
    const files: InstalledFile[] = [];
    for (const line of linesToScan(script, FRAME_LINES)) {
        const m = INSTALL_LINE.exec(line);
        const below = BELOW_LINE.exec(line);
        if (m) {
            files.push({ path: unquote(m[1]), mode: parseInt(m[2], 8), owner: unquote(m[3]), group: unquote(m[4]), content: nextFrame() });
        } else if (below) {
            // Written as the owner of the tree it lands in, whoever that is on the host.
            files.push({ path: `${unquote(below[1])}/${unquote(below[2])}`, mode: parseInt(below[3], 8), owner: TREE_OWNER, group: TREE_OWNER, content: nextFrame() });
        } else if (SECRET_FRAME_LINE.test(line)) {
            nextFrame();
        }
    }
    return files;
}

/** A script line that installs a file below a less privileged tree from the next stdin frame. */
const BELOW_LINE = /^hearth_install_below (\S+) (\S+) ([0-7]{4})(?: [0-7]{4})?$/;

/** The owner shown for a file written below a less privileged tree (it is whoever owns that tree). */
export const TREE_OWNER = "(tree owner)";

/** A script line that reads a secret stdin frame: into a variable's file, or straight into a secret file. */
const SECRET_FRAME_LINE = /^(?:hearth_frame "\$[a-z_][a-z0-9_]*"|hearth_install_secret \S+(?: \S+){0,3})$/;

/**
 * The files a hearth script installs straight from a secret stdin frame (`hearth_install_secret PATH [MODE [OWNER
 * [GROUP]]]`): where they land and with what mode and owner, never what they hold.
 */
export function secretFileLines(script: string): Omit<InstalledFile, "content">[] {
    return rootInstallLines(script)
        .filter((f) => f.secret)
        .map(({ secret: _, ...f }) => f);
}

/** A script line that installs a file as root from the next stdin frame (hearth_install, hearth_install_in_place). */
const INSTALL_LINE = /^hearth_install(?:_in_place)? (\S+) ([0-7]{4}) (\S+) (\S+)$/;
/** A script line that installs a file as root from a secret stdin frame: `hearth_install_secret PATH [MODE [OWNER [GROUP]]]`. */
const SECRET_INSTALL_LINE = /^hearth_install_secret (\S+)(?: ([0-7]{4}))?(?: (\S+))?(?: (\S+))?$/;

/** The lines `rootInstallLines` reads. */
const ROOT_INSTALL_LINES = [INSTALL_LINE, SECRET_INSTALL_LINE] as const;

/** The lines `parseScriptFiles` reads (a file from the next frame, or a secret frame it skips). */
const FRAME_LINES = [INSTALL_LINE, BELOW_LINE, SECRET_FRAME_LINE] as const;

/** The lines `countSecretFrames` counts. */
const SECRET_FRAME_LINES = [SECRET_FRAME_LINE] as const;

/**
 * Every file a script installs as root (hearth_install, hearth_install_in_place, hearth_install_secret), in the order
 * it installs them: where, with what mode and owner, and whether its body is a secret; never what it holds.
 */
export function rootInstallLines(script: string): (Omit<InstalledFile, "content"> & { readonly secret: boolean })[] {
    const out: (Omit<InstalledFile, "content"> & { readonly secret: boolean })[] = [];
    for (const line of linesToScan(script, ROOT_INSTALL_LINES)) {
        const m = INSTALL_LINE.exec(line) ?? SECRET_INSTALL_LINE.exec(line);
        if (m) out.push({ path: unquote(m[1]), mode: parseInt(m[2] ?? "0600", 8), owner: unquote(m[3] ?? "root"), group: unquote(m[4] ?? "root"), secret: line.startsWith("hearth_install_secret ") });
    }
    return out;
}

/** How many secret stdin frames a hearth script reads (their bodies are never parsed or shown). */
export function countSecretFrames(script: string): number {
    return linesToScan(script, SECRET_FRAME_LINES).filter((l) => SECRET_FRAME_LINE.test(l)).length;
}

/** A word as `shq` wrote it, unquoted. */
export function unquote(word: string): string {
    if (!(word.startsWith("'") && word.endsWith("'"))) return word;
    const inner = word.slice(1, -1);
    // A quoted script: the runtime's quoted lines are the runtime (no `'"'"'` spans a line break, and unquoting undoes
    // quoting exactly: every `'` of a quoted text starts a `'"'"'`).
    const found = runtimeIn(inner, true);
    if (found === undefined) return inner.replace(/'"'"'/g, "'");
    const [at, i] = found;
    return detached(inner.slice(0, at).replace(/'"'"'/g, "'")) + KNOWN_RUNTIMES[i] + detached(inner.slice(at + quotedRuntime(i).length).replace(/'"'"'/g, "'"));
}

// ---- the command line a host runs: one wrap/unwrap pair ---------------------------------------------------------

/**
 * The command line that runs a hearth script: bash (never the login shell, which may be sh), under `sudo -n` when
 * `sudo`. The script is one quoted word, carrying of the runtime only what it reaches (withReachableRuntime); stdin
 * stays free for file bodies.
 */
export function wrapCommand(script: string, sudo: boolean): string {
    const bash = `bash --noprofile --norc -c ${shq(withReachableRuntime(script))}`;
    return sudo ? `sudo -n -- ${bash}` : bash;
}

/**
 * `wrapCommand` undone: the script as the host runs it (its runtime cut to what it reaches) and whether it runs under
 * sudo; undefined for a line not in that form.
 */
export function unwrapCommand(line: string): { script: string; sudo: boolean } | undefined {
    const m = /^(sudo -n -- )?bash --noprofile --norc -c ([\s\S]*)$/.exec(line);
    if (!m) return undefined;
    const script = unquote(m[2]);
    // Only what wrapCommand wrote: shq must give the same word back.
    return shq(script) === m[2] ? { script, sudo: m[1] !== undefined } : undefined;
}
