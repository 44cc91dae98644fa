// Reads systemd unit files the way systemd's own parser does: sections, continuation lines, comments, later drop-ins on top.

/** One `Key=Value` assignment, in file order. */
export interface UnitAssignment {
    readonly section: string;
    readonly key: string;
    readonly value: string;
}

/**
 * Parses unit file text into assignments in order. Lines ending in a backslash continue on the next line (joined with
 * a space, as systemd does); `#` and `;` start comment lines, also inside a continuation.
 */
export function parseUnitFile(text: string): UnitAssignment[] {
    const out: UnitAssignment[] = [];
    let section = "";
    let pending: string | undefined;
    for (const raw of text.split(/\r?\n/)) {
        const line = raw.replace(/^\s+/, "");
        if (pending !== undefined) {
            if (line.startsWith("#") || line.startsWith(";")) continue;
            if (raw.endsWith("\\")) {
                pending += " " + raw.slice(0, -1).trim();
                continue;
            }
            pushAssignment(out, section, pending + " " + raw.trim());
            pending = undefined;
            continue;
        }
        if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
        const header = /^\[([^\]]+)\]\s*$/.exec(line);
        if (header) {
            section = header[1];
            continue;
        }
        if (raw.endsWith("\\")) {
            pending = line.slice(0, -1).trim();
            continue;
        }
        pushAssignment(out, section, line.trim());
    }
    if (pending !== undefined) pushAssignment(out, section, pending);
    return out;
}

function pushAssignment(out: UnitAssignment[], section: string, line: string): void {
    const eq = line.indexOf("=");
    if (eq <= 0) return;
    out.push({ section, key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim() });
}

/** A unit and its drop-ins, in the order systemd applies them. */
export interface UnitSource {
    /** Unit name, e.g. `web.service`. */
    readonly name: string;
    /** The main unit file text, or undefined when only drop-ins are known (a packaged unit underneath). */
    readonly main?: string;
    /** Drop-in file name → text; applied sorted by file name, after the main file. */
    readonly dropIns?: Readonly<Record<string, string>>;
}

/** All assignments of a unit and its drop-ins, main file first, drop-ins by file name. */
export function unitAssignments(unit: UnitSource): UnitAssignment[] {
    const texts = [unit.main ?? "", ...Object.keys(unit.dropIns ?? {}).sort().map((k) => unit.dropIns![k])];
    return texts.flatMap(parseUnitFile);
}

/** Splits a value into words the way systemd's extract_first_word does for simple lists (whitespace, quotes). */
export function words(value: string): string[] {
    const out: string[] = [];
    const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(value))) out.push(m[1] ?? m[2] ?? m[3]);
    return out;
}

/** systemd's parse_boolean: undefined when the value is not a boolean. */
export function parseBoolean(value: string): boolean | undefined {
    const v = value.toLowerCase();
    if (["1", "yes", "y", "true", "t", "on"].includes(v)) return true;
    if (["0", "no", "n", "false", "f", "off"].includes(v)) return false;
    return undefined;
}
