// Reading hearth's remote commands back: the script inside the wrapped command line, and the files it installs.
import { parseScriptFiles, InstalledFile } from "../../components/core/shell";

/**
 * Undoes `Host.wrap`: `[sudo -n -- ]bash --noprofile --norc -c <one shell word>` back to the script. Returns the text
 * unchanged when it is not in that form (a command written by hand).
 */
export function unwrapCommand(command: string): string {
    const m = /^(?:sudo -n -- )?bash --noprofile --norc -c ([\s\S]*)$/.exec(command);
    if (!m) return command;
    const word = unquoteWord(m[1]);
    return word ?? command;
}

/** Unquotes one POSIX shell word made of bare characters, '…' runs and "…" runs; undefined if it is more than one word. */
export function unquoteWord(word: string): string | undefined {
    let out = "";
    let i = 0;
    while (i < word.length) {
        const c = word[i];
        if (c === "'") {
            const end = word.indexOf("'", i + 1);
            if (end < 0) return undefined;
            out += word.slice(i + 1, end);
            i = end + 1;
        } else if (c === '"') {
            let j = i + 1;
            while (j < word.length && word[j] !== '"') {
                if (word[j] === "\\" && j + 1 < word.length && '$`"\\\n'.includes(word[j + 1])) {
                    out += word[j + 1];
                    j += 2;
                } else {
                    out += word[j++];
                }
            }
            if (j >= word.length) return undefined;
            i = j + 1;
        } else if (/\s/.test(c)) {
            return undefined;
        } else if (c === "\\" && i + 1 < word.length) {
            out += word[i + 1];
            i += 2;
        } else {
            out += c;
            i++;
        }
    }
    return out;
}

/** The command texts a remote command stores in plain state: create, update and delete. */
export function commandTexts(props: Record<string, any>): { field: "create" | "update" | "delete"; text: string }[] {
    return (["create", "update", "delete"] as const)
        .filter((f) => typeof props[f] === "string")
        .map((f) => ({ field: f, text: props[f] as string }));
}

/**
 * The files a hearth remote command installs, recovered from its create script and stdin. Empty for commands that
 * install nothing or whose stdin does not frame the installs (not a hearth script).
 */
export function installedFiles(props: Record<string, any>): InstalledFile[] {
    if (typeof props.create !== "string") return [];
    const stdin = typeof props.stdin === "string" ? props.stdin : "";
    try {
        return parseScriptFiles(unwrapCommand(props.create), stdin);
    } catch {
        return [];
    }
}

/** Directories systemd reads system units from; files elsewhere are not units. */
const UNIT_DIRS = ["/etc/systemd/system/", "/run/systemd/system/", "/usr/lib/systemd/system/", "/lib/systemd/system/", "/usr/local/lib/systemd/system/"];

export interface InstalledUnit {
    readonly name: string;
    readonly main?: InstalledFile;
    readonly dropIns: InstalledFile[];
}

/** Service units (main files and drop-ins) among the files a command installs, grouped by unit name. */
export function installedServiceUnits(files: readonly InstalledFile[]): InstalledUnit[] {
    const units = new Map<string, InstalledUnit>();
    const get = (name: string) => {
        if (!units.has(name)) units.set(name, { name, dropIns: [] });
        return units.get(name)!;
    };
    for (const f of files) {
        const dir = UNIT_DIRS.find((d) => f.path.startsWith(d));
        if (!dir) continue;
        const rel = f.path.slice(dir.length);
        const main = /^([^/]+\.service)$/.exec(rel);
        const dropIn = /^([^/]+\.service)\.d\/[^/]+\.conf$/.exec(rel);
        if (main) units.set(main[1], { ...get(main[1]), main: f });
        else if (dropIn) get(dropIn[1]).dropIns.push(f);
    }
    return [...units.values()];
}

/** Splits framed stdin (`<length>\n<bytes>` repeated) into its payloads; undefined if it is not framed. */
export function splitFrames(stdin: string): string[] | undefined {
    const buf = Buffer.from(stdin, "utf8");
    const frames: string[] = [];
    let off = 0;
    while (off < buf.length) {
        const nl = buf.indexOf(0x0a, off);
        if (nl < 0) return undefined;
        const header = buf.subarray(off, nl).toString("ascii");
        if (!/^\d+$/.test(header)) return undefined;
        const end = nl + 1 + Number(header);
        if (end > buf.length) return undefined;
        frames.push(buf.subarray(nl + 1, end).toString("utf8"));
        off = end;
    }
    return frames;
}

/** For each file a script installs, the index of its stdin frame (secret frames count but are not listed). */
export function installFrameIndexes(script: string): { path: string; frame: number }[] {
    const out: { path: string; frame: number }[] = [];
    let frame = 0;
    for (const line of script.split("\n")) {
        const m = /^hearth_install (\S+) [0-7]{4} \S+ \S+$/.exec(line);
        if (m) out.push({ path: unquoteWord(m[1]) ?? m[1], frame: frame++ });
        else if (/^hearth_frame "\$[a-z_][a-z0-9_]*"$/.test(line)) frame++;
    }
    return out;
}
