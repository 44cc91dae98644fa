// Reading hearth's remote commands back: the script inside the wrapped command line, and the files it installs.
import type { RemoteCommandProps } from "../../components/core/props";
import { countSecretFrames, frameStdin, InstalledFile, parseScriptFiles, unwrapCommand as unwrapHostCommand } from "../../components/core/shell";

/**
 * Undoes `Host.wrap`: `[sudo -n -- ]bash --noprofile --norc -c <shq(script)>` back to the script. Returns the text
 * unchanged when it is not in that form (a command written by hand).
 */
export function unwrapCommand(command: string): string {
    return unwrapHostCommand(command)?.script ?? command;
}

/** The command texts a remote command stores in plain state: create, update and delete. */
export function commandTexts(props: RemoteCommandProps): { field: "create" | "update" | "delete"; text: string }[] {
    return (["create", "update", "delete"] as const).flatMap((field) => (typeof props[field] === "string" ? [{ field, text: props[field] }] : []));
}

/**
 * The files a hearth remote command installs, recovered from its create script and stdin. Empty for commands that
 * install nothing or whose stdin does not frame the installs (not a hearth script).
 */
export function installedFiles(props: RemoteCommandProps): InstalledFile[] {
    if (typeof props.create !== "string") return [];
    try {
        return parseScriptFiles(unwrapCommand(props.create), props.stdin ?? "");
    } catch {
        return [];
    }
}

/**
 * Rewrites files a hearth command installs: stdin framed again with `edit`'s new bodies, secret frames carried over as
 * they are. Undefined when the command's stdin does not frame what its script reads.
 */
export function rewriteInstalledFiles(props: RemoteCommandProps, edit: (file: InstalledFile) => string): string | undefined {
    if (typeof props.create !== "string") return undefined;
    const lines = unwrapCommand(props.create).split("\n");
    // Every frame in reading order, a secret frame read as a file no real path can name.
    const SECRET = "(secret)";
    const all = lines.map((l) => (countSecretFrames(l) > 0 ? `hearth_install ${SECRET} 0600 root root` : l)).join("\n");
    try {
        const frames = parseScriptFiles(all, props.stdin ?? "");
        return frameStdin(frames.map((f) => (f.path === SECRET ? f.content : edit(f))));
    } catch {
        return undefined;
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
