// ZfsDataset drift checks: the lines its converge carries (what they ask, word by word), the host check they make
// (bash -n, shellcheck), and the runtime's hearth_check_zfs_* run over a fake `zfs` that answers from a table.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import { checkOfConverge, convergeTail, parseCheckOutput, renderHostCheck } from "../../components/core/check";
import { OwnerMark } from "../../components/core/owner";
import { RUNTIME } from "../../components/core/runtime";
import { shq } from "../../components/shell";
import { renderCheck, renderDataset } from "../../components/zfs/render";
import { checkScript } from "../tools";
import { parseTestSpec } from "./specs";

const MARK: OwnerMark = { id: "home/prod/hearth:zfs:Dataset/data", aliases: [], adopt: false };

/** A check line's words, as bash reads them. */
function words(line: string): string[] {
    const r = spawnSync("bash", ["--noprofile", "--norc", "-c", `set -- ${line.replace(/^\S+/, "")}; printf '%s\\0' "$@"`], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return [line.split(" ")[0], ...r.stdout.split("\0").slice(0, -1)];
}

const full = parseTestSpec({
    dataset: "tank/srv/app",
    properties: { compression: "lz4", quota: "10737418240", mountpoint: "/srv/app", atime: "off" },
    userProperties: { "com.example:owner": "ops team; $(reboot)" },
    encryption: true,
    autosnap: true,
});
const clone = parseTestSpec({ dataset: "tank/machines/web", origin: "tank/base@bookworm", properties: { mountpoint: "/var/lib/machines/web" } });

/** Runs `lines` (check lines of one resource) after the runtime, with `zfs` answering from `table` ("ds|prop" -> "value\tsource"). */
function runCheck(lines: readonly string[], table: Record<string, string>): { drift: string[]; info: string[]; error?: number; stderr: string } {
    const decl = Object.entries(table).map(([k, v]) => `[${shq(k)}]=${shq(v)}`).join(" ");
    const fake = [
        `declare -A zfs_table=(${decl})`,
        // The forms the checks use: zfs list -H -o name DS; zfs get -H [-p] -o FIELDS [-s local] PROP DS.
        "zfs() {",
        '  local cmd=$1 fields= src= v',
        "  shift",
        '  if [ "$cmd" = list ]; then [ -n "${zfs_table[${*: -1}|name]:-}" ]; return; fi',
        '  [ "$cmd" = get ] || { echo "fake zfs: $cmd" >&2; return 2; }',
        '  while [ "$#" -gt 2 ]; do case $1 in -o) fields=$2; shift 2 ;; -s) src=$2; shift 2 ;; *) shift ;; esac; done',
        '  [ -n "${zfs_table[$2|name]:-}" ] || { echo "cannot open $2" >&2; return 1; }',
        '  v=${zfs_table[$2|$1]:-$\'-\\t-\'}',
        '  if [ -n "$src" ] && [ "${v#*$\'\\t\'}" != "$src" ]; then echo; return 0; fi',
        '  case $fields in value) echo "${v%%$\'\\t\'*}" ;; value,source) echo "$v" ;; *) echo "fake zfs: -o $fields" >&2; return 2 ;; esac',
        "}",
    ].join("\n");
    const script = renderHostCheck("h", [{ resource: "data", sudo: true, lines }]).replace(RUNTIME, () => `${RUNTIME}\n${fake}`);
    const r = spawnSync("bash", ["--noprofile", "--norc", "-s"], { input: script, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const [rep] = parseCheckOutput(r.stdout);
    return { drift: rep.drift.map((d) => `${d.what}: ${d.desired} -> ${d.found}`), info: rep.info.map((i) => `${i.what}: ${i.value}`), error: rep.error, stderr: r.stderr };
}

/** A table for `spec` as its converge leaves it. */
function converged(lines: readonly string[]): Record<string, string> {
    const [, ds, owner, ...sets] = words(lines[0]);
    const t: Record<string, string> = { [`${ds.split("/")[0]}|name`]: "x", [`${ds}|name`]: "x", [`${ds}|hearth:owner`]: `${owner}\tlocal`, [`${ds}|canmount`]: "on\tdefault", [`${ds}|mounted`]: "yes\t-" };
    for (const kv of sets) t[`${ds}|${kv.slice(0, kv.indexOf("="))}`] = `${kv.slice(kv.indexOf("=") + 1)}\tlocal`;
    return t;
}

describe("zfs drift checks", () => {
    it("asks for the dataset, its mark and every property its converge sets, hearth:props included; an encrypted one's key", () => {
        const lines = renderCheck(full, MARK);
        assert.equal(lines.length, 2);
        assert.deepEqual(words(lines[0]), [
            "hearth_check_zfs_dataset", "tank/srv/app", MARK.id,
            "atime=off", "compression=lz4", "mountpoint=/srv/app", "quota=10737418240", "com.example:owner=ops team; $(reboot)",
            "hearth:props=atime,compression,mountpoint,quota,com.example:owner",
        ]);
        assert.deepEqual(words(lines[1]), ["hearth_check_zfs_encrypted", "tank/srv/app"]);
        // The same list the converge sets: each of its zfs_want words is asked for.
        const want = /^zfs_want=\((.*)\)$/m.exec(renderDataset(full, MARK).script)![1];
        assert.deepEqual(words(`x ${want}`).slice(1), words(lines[0]).slice(3));
    });

    it("a clone's origin; a dataset with nothing declared still carries hearth:props=none", () => {
        assert.deepEqual(renderCheck(clone, MARK).map(words), [
            ["hearth_check_zfs_dataset", "tank/machines/web", MARK.id, "mountpoint=/var/lib/machines/web", "hearth:props=mountpoint"],
            ["hearth_check_zfs_origin", "tank/machines/web", "tank/base@bookworm"],
        ]);
        assert.deepEqual(renderCheck(parseTestSpec({ dataset: "tank/app" }), MARK).map(words), [["hearth_check_zfs_dataset", "tank/app", MARK.id, "hearth:props=none"]]);
    });

    it("rides in the converge and makes a host check that passes bash -n and shellcheck", () => {
        const r = renderDataset(full, MARK);
        const script = `${r.script}\n${convergeTail("k".repeat(32), r.hash, undefined, r.script, r.check)}\n`;
        const c = checkOfConverge("data", script, true, r.stdin)!;
        assert.deepEqual(c.lines.slice(-2), r.check);
        assert.match(c.lines.join("\n"), /^hearth_check_file \/usr\/local\/lib\/hearth\/zfs-autosnap [0-9a-f]{64} 0755 root root /m, "the snapshot tool is checked as a file");
        assert.deepEqual(checkScript(renderHostCheck("h", [c])), []);
    });

    it("reports nothing on a converged dataset", () => {
        const lines = renderCheck(full, MARK).slice(0, 1);
        assert.deepEqual(runCheck(lines, converged(lines)), { drift: [], info: [], error: undefined, stderr: "" });
    });

    it("reports a changed value, an inherited one, a lost mark and an unmounted dataset, each by name", () => {
        const lines = renderCheck(full, MARK).slice(0, 1);
        const t = converged(lines);
        t["tank/srv/app|compression"] = "gzip\tlocal";
        t["tank/srv/app|atime"] = "off\tinherited from tank";
        t["tank/srv/app|quota"] = "0\tdefault";
        t["tank/srv/app|com.example:owner"] = "-\t-";
        t["tank/srv/app|hearth:owner"] = "someone/else\tinherited from tank";
        t["tank/srv/app|mounted"] = "no\t-";
        assert.deepEqual(runCheck(lines, t).drift, [
            `dataset tank/srv/app owner mark: ${MARK.id} -> none`,
            "dataset tank/srv/app atime: off -> off (inherited from tank)",
            "dataset tank/srv/app compression: lz4 -> gzip",
            "dataset tank/srv/app quota: 10737418240 -> 0 (default)",
            "dataset tank/srv/app com.example:owner: ops team; $(reboot) -> - (not set)",
            "dataset tank/srv/app mounted: at /srv/app -> not mounted",
        ]);
    });

    it("a dataset that is gone is one difference; one that never mounts is not expected mounted", () => {
        const lines = renderCheck(full, MARK).slice(0, 1);
        const t = converged(lines);
        delete t["tank/srv/app|name"];
        assert.deepEqual(runCheck(lines, t).drift, ["dataset tank/srv/app: present -> absent"]);
        const t2 = converged(lines);
        t2["tank/srv/app|canmount"] = "noauto\tinherited from tank";
        t2["tank/srv/app|mounted"] = "no\t-";
        assert.deepEqual(runCheck(lines, t2).drift, []);
    });

    it("a pool that cannot be listed stops the dataset's checks (an error, not drift)", () => {
        const lines = renderCheck(full, MARK).slice(0, 1);
        const t = converged(lines);
        delete t["tank|name"];
        const r = runCheck(lines, t);
        assert.equal(r.error, 69);
        assert.deepEqual(r.drift, []);
        assert.match(r.stderr, /pool tank is not available/);
    });

    it("a promoted clone's origin is reported as information, not drift; a lost key and an unencrypted dataset are drift", () => {
        const lines = renderCheck(clone, MARK);
        const t = { ...converged(lines), "tank/machines/web|origin": "-\t-" };
        assert.deepEqual(runCheck(lines, t), { drift: [], info: ["dataset tank/machines/web origin: - (declared tank/base@bookworm, used only when it was created)"], error: undefined, stderr: "" });
        assert.deepEqual(runCheck(lines, { ...t, "tank/machines/web|origin": "tank/base@bookworm\t-" }).info, []);
        const enc = renderCheck(full, MARK);
        const te = { ...converged(enc), "tank/srv/app|encryption": "aes-256-gcm\t-", "tank/srv/app|keystatus": "unavailable\t-" };
        assert.deepEqual(runCheck(enc, te).drift, ["dataset tank/srv/app key: loaded -> unavailable"]);
        assert.deepEqual(runCheck(enc, { ...te, "tank/srv/app|encryption": "off\tdefault" }).drift, ["dataset tank/srv/app encryption: aes-256-gcm -> off"]);
    });
});
