// The one bash runtime: shellcheck-clean, the only place a hearth_* primitive is defined, and shipped as loaded.
import { strict as assert } from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { RUNTIME, RUNTIME_FUNCTIONS } from "../../components/core/runtime";

const ROOT = path.resolve(__dirname, "../..");
const FILE = path.join(ROOT, "components/core/runtime.sh");

function sources(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(dir, e.name);
        return e.isDirectory() ? sources(p) : e.name.endsWith(".ts") ? [p] : [];
    });
}

describe("bash runtime", () => {
    it("passes bash -n and shellcheck at style level", () => {
        execFileSync("bash", ["-n", FILE]);
        const r = spawnSync("shellcheck", ["-s", "bash", "-S", "style", FILE], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stdout + r.stderr);
    });

    it("is what every script carries: the file without its shebang", () => {
        assert.equal(RUNTIME, fs.readFileSync(FILE, "utf8").replace(/^#!.*\n/, "").trimEnd());
        for (const f of ["hearth_install", "hearth_install_secret", "hearth_remove", "hearth_assemble", "hearth_lock", "hearth_step", "hearth_claim", "hearth_mine", "hearth_put_below", "hearth_daemon_reload", "hearth_record", "hearth_applied", "hearth_digest"]) {
            assert.ok(RUNTIME_FUNCTIONS.includes(f), `${f} is defined`);
        }
    });

    it("is the only place a hearth_* function is defined: no component carries its own copy of a primitive", () => {
        const offenders: string[] = [];
        for (const f of sources(path.join(ROOT, "components"))) {
            const text = fs.readFileSync(f, "utf8");
            for (const m of text.matchAll(/\bhearth_[a-z_]+\(\) *\{/g)) offenders.push(`${path.relative(ROOT, f)}: ${m[0]}`);
        }
        assert.deepEqual(offenders, []);
    });

    it("kills a script right after its Nth state-changing step when HEARTH_CRASH_AT=N, and only then", () => {
        const script = `${RUNTIME}\nhearth_step\necho after-one\nhearth_step\necho after-two\n`;
        const killed = spawnSync("bash", ["-c", script], { encoding: "utf8", env: { ...process.env, HEARTH_CRASH_AT: "2" } });
        assert.equal(killed.signal, "SIGKILL");
        assert.equal(killed.stdout, "after-one\n");
        assert.match(killed.stderr, /^hearth-crash: step 2$/m);
        const whole = spawnSync("bash", ["-c", script], { encoding: "utf8" });
        assert.equal(whole.status, 0, whole.stderr);
        assert.equal(whole.stdout, "after-one\nafter-two\n");
    });

    it("refuses a step taken outside the main shell (it could not be killed there)", () => {
        const r = spawnSync("bash", ["-c", `${RUNTIME}\n( hearth_step )\n`], { encoding: "utf8" });
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /hearth_step called outside the main shell/);
    });
});
