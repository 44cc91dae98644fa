// Loads the one bash runtime (runtime.sh, beside this file) that every hearth script starts with. No @pulumi import.
import { readFileSync } from "fs";
import { join } from "path";

/** runtime.sh as it is written: without its shebang, with its comments. */
export const RUNTIME_SOURCE: string = readFileSync(join(__dirname, "runtime.sh"), "utf8").replace(/^#!.*\n/, "").trimEnd();

/**
 * The runtime every script carries: runtime.sh without its comment lines (a host's sshd hands a command to the shell
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
