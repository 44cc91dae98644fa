// The one golden-file helper: compares a rendered text with `<dir>/<name>`; `UPDATE_GOLDEN=1` rewrites it, and a
// missing file is a failure. The shared bash runtime is replaced by one placeholder line, so a golden shows only
// what its component wrote (the runtime has its own specs) and a runtime change rewrites no golden.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { RUNTIME } from "../components/core/runtime";

export const RUNTIME_PLACEHOLDER = "# <components/core/runtime.sh>";

/** The text with the runtime replaced by its placeholder line. */
export function withoutRuntime(text: string): string {
    return text.split(RUNTIME).join(RUNTIME_PLACEHOLDER);
}

export function golden(dir: string, name: string, actual: string): void {
    const file = path.join(dir, name);
    const text = withoutRuntime(actual);
    if (process.env.UPDATE_GOLDEN === "1") {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, text);
    }
    assert.ok(fs.existsSync(file), `golden file ${file} is missing (run with UPDATE_GOLDEN=1 to write it)`);
    assert.equal(text, fs.readFileSync(file, "utf8"), `differs from golden ${file} (UPDATE_GOLDEN=1 rewrites it)`);
}
