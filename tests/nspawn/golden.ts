// Golden files for the nspawn specs (`UPDATE_GOLDEN=1` rewrites them).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";

const DIR = path.join(__dirname, "golden");

export function golden(name: string, actual: string): void {
    const p = path.join(DIR, name);
    if (process.env.UPDATE_GOLDEN === "1" || (!fs.existsSync(p) && process.env.CI !== "true")) {
        fs.mkdirSync(DIR, { recursive: true });
        fs.writeFileSync(p, actual);
    }
    assert.ok(fs.existsSync(p), `golden file ${name} is missing`);
    assert.equal(actual, fs.readFileSync(p, "utf8"), `differs from golden ${name} (UPDATE_GOLDEN=1 rewrites)`);
}
