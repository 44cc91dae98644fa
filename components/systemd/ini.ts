// The one serializer for systemd unit files (INI with repeated keys and comments) and the escapes systemd values need.
//
// Pure: no @pulumi import. Values arrive already escaped for their key (systemdExecArg, systemdQuote); the
// serializer only refuses what would change the file's structure (newlines, NUL, a continuation backslash).

/** One line in a section: an assignment (keys may repeat, order is kept) or a comment. */
export type IniLine = readonly [key: string, value: string] | { readonly comment: string };

export interface IniSection {
    readonly name: string;
    readonly lines: readonly IniLine[];
}

const KEY = /^[A-Za-z][A-Za-z0-9]*$/;
const SECTION = /^[A-Za-z][A-Za-z0-9-]*$/;
// Any C0 control character or DEL would end the line, hide text on a terminal or be dropped by systemd.
const CONTROL = /[\x00-\x1f\x7f]/;

function checkValue(key: string, value: string): void {
    if (CONTROL.test(value)) throw new Error(`unit value for ${key} contains a control character: ${JSON.stringify(value)}`);
    // systemd joins a line ending in a backslash with the next one, and strips surrounding whitespace.
    if (value.endsWith("\\")) throw new Error(`unit value for ${key} ends with a backslash: ${JSON.stringify(value)}`);
    if (value !== value.trim()) throw new Error(`unit value for ${key} has surrounding whitespace: ${JSON.stringify(value)}`);
}

function checkComment(text: string): void {
    if (CONTROL.test(text)) throw new Error(`unit comment contains a control character: ${JSON.stringify(text)}`);
}

/**
 * Renders sections in order, each `[Name]` followed by its lines, separated by a blank line. `header` lines become
 * `# ` comments at the top of the file. Empty sections are left out.
 */
export function renderIni(sections: readonly IniSection[], header: readonly string[] = []): string {
    const out: string[] = [];
    for (const h of header) {
        checkComment(h);
        out.push(h === "" ? "#" : `# ${h}`);
    }
    for (const s of sections) {
        if (!SECTION.test(s.name)) throw new Error(`bad unit section name ${JSON.stringify(s.name)}`);
        if (s.lines.length === 0) continue;
        if (out.length > 0) out.push("");
        out.push(`[${s.name}]`);
        for (const line of s.lines) {
            if ("comment" in line) {
                checkComment(line.comment);
                out.push(`# ${line.comment}`);
                continue;
            }
            const [key, value] = line as readonly [string, string];
            if (!KEY.test(key)) throw new Error(`bad unit key ${JSON.stringify(key)}`);
            checkValue(key, value);
            out.push(`${key}=${value}`);
        }
    }
    return out.join("\n") + "\n";
}

/** Words that need no quoting on an Exec line: no quote, backslash, specifier (%), variable ($), `;` or space. */
const PLAIN_EXEC_WORD = /^[A-Za-z0-9_@+=:,./-]+$/;

/**
 * Escapes one argv word for `ExecStart=` and friends: `%` → `%%` (specifiers), `$` → `$$` (variable expansion), and
 * the word is double-quoted with `\` and `"` backslash-escaped unless it is plainly safe. systemd unquotes and
 * C-unescapes each word, so the program receives exactly `arg`. Control characters are refused: systemd would
 * accept some only as C escapes, and a program argument has no business containing them.
 */
export function systemdExecArg(arg: string): string {
    if (CONTROL.test(arg)) throw new Error(`an Exec argument contains a control character: ${JSON.stringify(arg)}`);
    if (PLAIN_EXEC_WORD.test(arg)) return arg;
    return `"${arg.replace(/[\\"]/g, (c) => `\\${c}`).replace(/%/g, "%%").replace(/\$/g, "$$$$")}"`;
}

/** An Exec line from argv: argv[0] must already be a validated absolute path. */
export function systemdExecLine(argv: readonly string[]): string {
    return argv.map(systemdExecArg).join(" ");
}

/**
 * Double-quotes a value for settings that unquote and C-unescape it and expand specifiers but not variables
 * (`Environment=`): `\` and `"` are backslash-escaped, `%` doubled.
 */
export function systemdQuote(value: string): string {
    if (CONTROL.test(value)) throw new Error(`a unit value contains a control character: ${JSON.stringify(value)}`);
    return `"${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/%/g, "%%")}"`;
}

/** Doubles `%` for free-text settings that expand specifiers but do not unquote (`Description=`). */
export function systemdSpecifierEscape(value: string): string {
    return value.replace(/%/g, "%%");
}
