// DebianPackages' drift check: its lines (each package with its pin and hold, then the masks it set), a host check
// script bash and shellcheck accept, and the hearth_check_apt_* functions run in bash with dpkg-query, apt-mark and
// the applied state replaced by shell functions: a missing package, another version, a lost hold, a lifted mask.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CHECK_LINE, parseCheckOutput, renderHostCheck } from "../../components/core/check";
import { OwnerMark } from "../../components/core/owner";
import { RUNTIME } from "../../components/core/runtime";
import { unquote } from "../../components/core/shell";
import { renderPackages } from "../../components/packages";
import { checkScript } from "../tools";

const MARK: OwnerMark = { id: "hearth/test/hearth:apt:Packages/apps", aliases: [], adopt: false };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-apt-check-"));
const rt = path.join(dir, "runtime.sh");
fs.writeFileSync(rt, RUNTIME);

/** The drift (and info) of BODY with INSTALLED (package -> version), HELD packages and STATE (key -> value) as the host's. */
function check(body: string, installed: Record<string, string>, held: string[], state: Record<string, string> = {}): { drift: string[]; info: string[] } {
    const S = fs.mkdtempSync(path.join(dir, "state-"));
    for (const [k, v] of Object.entries(state)) {
        fs.mkdirSync(path.dirname(path.join(S, k)), { recursive: true });
        fs.writeFileSync(path.join(S, k), `${v}\n`);
    }
    const stubs = [
        `dpkg-query() { case "\${@: -1}" in ${Object.entries(installed).map(([n, v]) => `${n}) echo "ii ${v}" ;;`).join(" ")} *) return 1 ;; esac; }`,
        `apt-mark() { case " ${held.join(" ")} " in *" \${@: -1} "*) echo "\${@: -1}" ;; esac; }`,
        `hearth_applied() { hearth_key "$1"; if [ -f "${S}/$1" ]; then cat -- "${S}/$1"; fi; }`,
        `hearth_applied_keys() { local f; for f in "${S}/$1"/*; do if [ -f "$f" ]; then printf '%s\\n' "$1/\${f##*/}"; fi; done; }`,
        // No unit is masked on this machine: a mask is a link in /etc/systemd/system, stubbed by name.
        'hearth_apt_masked() { case $1 in masked.service) return 0 ;; *) return 1 ;; esac; }',
        'systemctl() { echo disabled; return 1; }',
    ].join("\n");
    const r = spawnSync("bash", ["--noprofile", "--norc", "-c", `source ${rt}\n${stubs}\nhearth_check_begin r\n${body}\n`], { encoding: "utf8" });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    const rep = parseCheckOutput(r.stdout)[0];
    return { drift: rep.drift.map((d) => `${d.what}: ${d.desired} -> ${d.found}`), info: rep.info.map((i) => `${i.what}: ${i.value}`) };
}

describe("DebianPackages drift check", () => {
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("renders each package with its pin ('-' for any) and hold, then the masks of its owner mark; bash -n and shellcheck pass", () => {
        const r = renderPackages({ packages: [{ name: "radicale", hold: false }, { name: "hello", version: "2.10-3", hold: true }], keepUnits: ["radicale.service"] }, MARK);
        assert.deepEqual(r.check.map((l) => l.split(" ").map(unquote)), [
            ["hearth_check_apt_package", "radicale", "-", "0"],
            ["hearth_check_apt_package", "hello", "2.10-3", "1"],
            ["hearth_check_apt_masks", MARK.id],
        ]);
        for (const l of r.check) assert.match(l, CHECK_LINE);
        assert.deepEqual(checkScript(renderHostCheck("box", [{ resource: "hearth:apt:Packages apps", sudo: true, lines: r.check }])), []);
    });

    it("hearth_check_apt_package: nothing as converged; a missing package, another version and a lost hold reported; a foreign hold is info", () => {
        assert.deepEqual(check("hearth_check_apt_package hello 2.10-3 1", { hello: "2.10-3" }, ["hello"]), { drift: [], info: [] });
        assert.deepEqual(check("hearth_check_apt_package hello 2.10-3 1", { hello: "2.10-2" }, []).drift, ["package hello version: 2.10-3 -> 2.10-2", "package hello hold: held -> not held"]);
        assert.deepEqual(check("hearth_check_apt_package hello - 0", {}, []).drift, ["package hello: installed -> not installed"]);
        assert.deepEqual(check("hearth_check_apt_package hello 2.10-3 0", {}, []).drift, ["package hello: installed at 2.10-3 -> not installed"]);
        assert.deepEqual(check("hearth_check_apt_package hello - 0", { hello: "2.10-3" }, ["hello"]), { drift: [], info: ["package hello hold: held (not by this resource)"] });
    });

    it("hearth_check_apt_masks: each mask this resource set or adopted is still set; other resources' masks are theirs", () => {
        const state = { "apt/mask/masked.service": MARK.id, "apt/mask/lifted.service": MARK.id, "apt/mask-adopted/gone.socket": MARK.id, "apt/mask/other.service": "x/y/hearth:apt:Packages/other" };
        assert.deepEqual(check(`hearth_check_apt_masks '${MARK.id}'`, {}, [], state).drift, ["unit lifted.service: masked -> disabled", "unit gone.socket: masked -> disabled"]);
        assert.deepEqual(check(`hearth_check_apt_masks '${MARK.id}'`, {}, [], { "apt/mask/masked.service": MARK.id }).drift, []);
    });
});
