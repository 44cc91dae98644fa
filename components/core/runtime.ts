// Loads the one bash runtime (runtime.sh, beside this file) that every hearth script starts with. No @pulumi import.
import { readFileSync } from "fs";
import { join } from "path";

/** The runtime's text, without its shebang. */
export const RUNTIME: string = readFileSync(join(__dirname, "runtime.sh"), "utf8").replace(/^#!.*\n/, "").trimEnd();

/** The names of the runtime's functions, for specs that check scripts call them and define none of their own. */
export const RUNTIME_FUNCTIONS: readonly string[] = [...RUNTIME.matchAll(/^(hearth_[a-z_]+)\(\) \{/gm)].map((m) => m[1]);
