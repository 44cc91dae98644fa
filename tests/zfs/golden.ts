// Golden-file comparison for the zfs and postgres specs: UPDATE_GOLDEN=1 rewrites, a missing file is a failure.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";

export function golden(dir: string, name: string, actual: string): void {
    const file = path.join(dir, name);
    if (process.env.UPDATE_GOLDEN === "1") {
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(file, actual);
        return;
    }
    assert.ok(fs.existsSync(file), `golden file ${file} is missing (run with UPDATE_GOLDEN=1 to write it)`);
    assert.equal(actual, fs.readFileSync(file, "utf8"), `differs from golden ${file} (UPDATE_GOLDEN=1 rewrites it)`);
}
