// HostFile's drift check: its one line beyond the file itself (whose content, mode and owner the check derives from
// the converge), and hearth_check_hostfile run in bash over a scratch applied state: the records name this resource and
// this path, and an adopted original is still kept.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CHECK_LINE, parseCheckOutput, renderHostCheck } from "../../components/core/check";
import { RUNTIME } from "../../components/core/runtime";
import { unquote } from "../../components/core/shell";
import { fileKey, renderHostFile } from "../../components/files";
import { checkScript } from "../tools";
import { FILE_BASE, FILE_MARK } from "./scenarios";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-hf-check-"));
const rt = path.join(dir, "runtime.sh");
fs.writeFileSync(rt, RUNTIME);

/** The drift hearth_check_hostfile reports with STATE (key below the file's key -> value) as the applied state. */
function check(p: string, state: Record<string, string>): string[] {
    const stubs = Object.entries(state).map(([k, v]) => `hearth_state_${k}=${JSON.stringify(v)}`);
    const body = [`source ${rt}`, ...stubs, 'hearth_applied() { local n=hearth_state_${1##*/}; printf "%s" "${!n:-}"; }', "hearth_check_begin r", ["hearth_check_hostfile", fileKey(p), p, FILE_MARK.id].map((w) => `'${w}'`).join(" ")].join("\n");
    const r = spawnSync("bash", ["--noprofile", "--norc", "-c", body], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return parseCheckOutput(r.stdout)[0].drift.map((d) => `${d.what}: ${d.desired} -> ${d.found}`);
}

describe("HostFile drift check", () => {
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("renders one hearth_check_hostfile line naming the file's state key, its path and its owner mark; bash -n and shellcheck pass", () => {
        const r = renderHostFile(FILE_BASE, FILE_MARK);
        assert.deepEqual(r.check.map((l) => l.split(" ").map(unquote)), [["hearth_check_hostfile", fileKey(FILE_BASE.path), FILE_BASE.path, FILE_MARK.id]]);
        for (const l of r.check) assert.match(l, CHECK_LINE);
        assert.deepEqual(checkScript(renderHostCheck("box", [{ resource: "hearth:files:File conf", sudo: true, lines: r.check }])), []);
    });

    it("reports records of another path or owner, and an adopted original that is gone; nothing when they hold", () => {
        const p = path.join(dir, "a.conf");
        assert.deepEqual(check(p, { path: p, owner: FILE_MARK.id }), []);
        assert.deepEqual(check(p, { path: "/etc/other", owner: "x/y/hearth:files:File/other" }), [`${p} record: path ${p} -> /etc/other`, `${p} owner mark: ${FILE_MARK.id} -> x/y/hearth:files:File/other`]);
        assert.deepEqual(check(p, { path: p, owner: FILE_MARK.id, orig: "kept" }), [`${p}.hearth-orig: the adopted original, kept -> absent`]);
        fs.writeFileSync(`${p}.hearth-orig`, "original\n");
        assert.deepEqual(check(p, { path: p, owner: FILE_MARK.id, orig: "kept" }), []);
        assert.deepEqual(check(p, {}), [`${p} record: path ${p} -> none`, `${p} owner mark: ${FILE_MARK.id} -> none`]);
    });
});
