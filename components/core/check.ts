// Drift checks: what every converge records when it finishes, and the read-only check derived from it.
//
// A converge script (host.ts remoteScript) ends with `hearth_converged KEY CONTENT USES PATH...` and carries its
// component's own checks as `# hearth-check: <line>` comments, which the converge never runs. From that text and the
// script's stdin, `checkOfConverge` derives the resource's check: the converge finished and converged to this content,
// every file it installs is there with its mode, owner and content (compared with what was applied where the content
// is a secret or unknown offline), then the component's own lines. `renderHostCheck` joins a host's checks into one
// script over the shared runtime, so one SSH session checks a host; `parseCheckOutput` reads its report back.
//
// Part of the core: no Pulumi import.
import { createHash } from "crypto";
import { RUNTIME } from "./runtime";
import { linesToScan, parseScriptFiles, rootInstallLines, shq, TREE_OWNER, unquote } from "./shell";

/**
 * A check line: one call of a read-only runtime primitive (`hearth_check_*` or `hearth_drift`) whose arguments are
 * words as `shq` writes them (bare safe characters, or one single-quoted word), so nothing else can ride along
 * (`;`, `$(...)`, a redirection, a second command).
 */
export const CHECK_LINE = /^(?!hearth_check_(?:begin|end|emit|throttle|verdict|text|field)\b|hearth_apt_check_(?:install|remove)\b)(?:hearth_(?:[a-z]+_)?check_[a-z_]+|hearth_drift)(?: (?:[A-Za-z0-9_@%+=:,.\/-]+|'(?:[^'\n\r\0]|'"'"')*'))*$/;

/** The comment that carries a check line inside a converge script. */
export const CHECK_COMMENT = "# hearth-check: ";

/** The lines `checkOfConverge` reads: the completion record and the check comments. */
const TAIL_LINES = [/^hearth_converged /, /^# hearth-check: /] as const;

/** The applied-state key (below /var/lib/hearth/applied) a converge records its completion under. */
export function convergedKey(project: string, stack: string, resource: string): string {
    return createHash("sha256").update(`${project}\0${stack}\0${resource}`).digest("hex").slice(0, 32);
}

/** Every path a script installs as root with hearth_install, hearth_install_in_place or hearth_install_secret. */
export function installedPaths(script: string): string[] {
    const out = rootInstallLines(script).map((f) => f.path);
    return out.filter((p, i) => out.indexOf(p) === i);
}

/**
 * The lines a converge script ends with: the record of its completion, then the component's check lines as comments.
 * Throws on a check line that is not one read-only runtime call.
 */
export function convergeTail(key: string, content: string, uses: string | undefined, script: string, check: readonly string[]): string {
    for (const line of check) {
        if (!CHECK_LINE.test(line) || /[\r\0]/.test(line)) throw new Error(`a check line must be one call of a hearth_check_* runtime function, got ${JSON.stringify(line)}`);
    }
    const record = ["hearth_converged", key, content, uses ?? "-", ...installedPaths(script)].map(shq).join(" ");
    return [record, ...check.map((l) => CHECK_COMMENT + l)].join("\n");
}

/** A resource's check, derived from its converge. */
export interface ResourceCheck {
    /** Who it is for in the report (a component's type and name, or the command's name). */
    readonly resource: string;
    /** The converge runs under sudo: so must its check. */
    readonly sudo: boolean;
    readonly lines: readonly string[];
}

/**
 * The check of a converge whose script is `script` (unwrapped) and whose stdin is `stdin`: null when it is unknown
 * offline (it depends on a value only the engine knows), undefined when the command has none. Undefined for a script
 * that records no completion (not a hearth converge: a delete, or a command of another kind).
 */
export function checkOfConverge(resource: string, script: string, sudo: boolean, stdin: string | null | undefined): ResourceCheck | undefined {
    const lines = linesToScan(script, TAIL_LINES);
    // The record and the check comments are what remoteScript appended: the last record line and what follows it
    // (a line of the same words inside a quoted value further up is never taken for them).
    const at = lines.map((l) => l.startsWith("hearth_converged ")).lastIndexOf(true);
    if (at < 0) return undefined;
    const recordLine = lines[at];
    const [, key, content, uses] = recordLine.split(" ").map(unquote);
    const out = [["hearth_check_converged", key, content, uses].map(shq).join(" ")];
    const known = new Map<string, string>();
    if (stdin !== null) {
        try {
            for (const f of parseScriptFiles(script, stdin ?? "")) if (f.owner !== TREE_OWNER) known.set(f.path, sha256(f.content));
        } catch {
            // Frames that do not parse (a stand-in value offline): every file is compared with what was applied.
            known.clear();
        }
    }
    const installs = rootInstallLines(script);
    const secret = new Set(installs.filter((f) => f.secret).map((f) => f.path));
    for (const f of installs) {
        const want = secret.has(f.path) ? "-" : known.get(f.path) ?? "-";
        out.push(["hearth_check_file", f.path, want, f.mode.toString(8).padStart(4, "0"), f.owner, f.group, key].map(shq).join(" "));
    }
    for (const l of lines.slice(at + 1)) if (l.startsWith(CHECK_COMMENT)) out.push(l.slice(CHECK_COMMENT.length));
    return { resource, sudo, lines: out };
}

/**
 * One script that runs every check of a host in one session: each resource's lines in a subshell of their own (with
 * `set -e`: a failure stops that resource's checks only and is reported as its error), several resources side by side,
 * each report printed whole. Reports arrive in any order: `parseCheckOutput` puts them back in this one.
 */
export function renderHostCheck(host: string, checks: readonly ResourceCheck[]): string {
    const { head, body } = hostCheckParts(host, checks);
    return `${head}\n${body}\n`;
}

/** renderHostCheck in two parts: the title and the runtime, then the checks (which print the report). */
export function hostCheckParts(host: string, checks: readonly ResourceCheck[]): { head: string; body: string } {
    const body: string[] = ["hearth_check_start"];
    for (const c of checks) {
        for (const l of c.lines) if (!CHECK_LINE.test(l)) throw new Error(`${c.resource}: not a check line: ${JSON.stringify(l)}`);
        body.push(
            "(",
            "  hearth_check_out=$(",
            `    hearth_check_begin ${shq(c.resource)}`,
            "    (",
            "      set -e",
            ...c.lines.map((l) => "      " + l),
            "    )",
            "    hearth_check_end $?",
            "  )",
            '  hearth_check_emit "$hearth_check_out"',
            ") &",
            "hearth_check_throttle",
        );
    }
    body.push("wait");
    return { head: [`# hearth: drift check of ${host.replace(/[\r\n]/g, " ")}`, RUNTIME].join("\n"), body: body.join("\n") };
}

export interface Drift {
    readonly what: string;
    readonly desired: string;
    readonly found: string;
}

export interface ResourceReport {
    readonly resource: string;
    readonly drift: Drift[];
    readonly info: { what: string; value: string }[];
    /** The exit status of checks that stopped early. */
    error?: number;
    /** SSH host keys the host recorded for machines it runs (a container's), by the address they are reached at. */
    readonly hostKeys: { address: string; key: string }[];
}

/** A resource's name as its report carries it (hearth_check_text): control characters as spaces, at most 300 characters. */
export function reportName(name: string): string {
    return name.replace(/[\x00-\x1f\x7f]/g, " ").slice(0, 300);
}

/**
 * Reads a host check's stdout back: the report of each resource (other lines are ignored), in the order of `order`
 * (resource names) when given, else as printed.
 */
export function parseCheckOutput(stdout: string, order?: readonly string[]): ResourceReport[] {
    const out: ResourceReport[] = [];
    let cur: ResourceReport | undefined;
    for (const line of stdout.split("\n")) {
        const f = line.split("\t");
        if (f[0] === "hearth-check" && f.length === 2) {
            cur = { resource: f[1], drift: [], info: [], hostKeys: [] };
            out.push(cur);
        } else if (!cur) {
            continue;
        } else if (f[0] === "hearth-drift" && f.length === 4) {
            cur.drift.push({ what: f[1], desired: f[2], found: f[3] });
        } else if (f[0] === "hearth-info" && f.length === 3) {
            cur.info.push({ what: f[1], value: f[2] });
        } else if (f[0] === "hearth-hostkey" && f.length === 3 && /^ssh-ed25519 [A-Za-z0-9+/]+={0,2}$/.test(f[2])) {
            cur.hostKeys.push({ address: f[1], key: f[2] });
        } else if (f[0] === "hearth-error" && f.length === 2) {
            cur.error = Number(f[1]);
        }
    }
    if (order) {
        const names = order.map(reportName);
        const at = (r: ResourceReport) => (names.indexOf(r.resource) + names.length + 1) % (names.length + 1);
        out.sort((a, b) => at(a) - at(b));
    }
    return out;
}

function sha256(s: string): string {
    return createHash("sha256").update(s, "utf8").digest("hex");
}
