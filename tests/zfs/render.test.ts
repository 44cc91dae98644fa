// ZfsDataset renderer: golden scripts, bash -n + shellcheck on every script, and what each script may and may not do.
import { strict as assert } from "assert";
import * as path from "path";
import { DatasetSpec, renderDataset as render } from "../../components/zfs/render";
import { RUNTIME } from "../../components/core/runtime";
import { OwnerMark } from "../../components/core/owner";
import { parseTestSpec } from "./specs";
import { AUTOSNAP_SCRIPT } from "../../components/zfs/snapshots";
import { parseScriptFiles } from "../../components/shell";
import { checkScript } from "../tools";
import { golden } from "./golden";

const GOLDEN = path.join(__dirname, "golden");
const MARK: OwnerMark = { id: "home/prod/hearth:zfs:Dataset/data", aliases: [], adopt: false };
const renderDataset = (spec: DatasetSpec, mark: OwnerMark = { ...MARK, adopt: spec.adopt }) => render(spec, mark);
/** The component's own part of a script: what follows the runtime and the owner lines. */
const own = (script: string) => script.slice(script.indexOf(RUNTIME) + RUNTIME.length);

const cases: Record<string, DatasetSpec> = {
    minimal: parseTestSpec({ dataset: "tank/app" }),
    full: parseTestSpec({
        dataset: "tank/srv/app",
        properties: { compression: "lz4", recordsize: "16384", quota: "10737418240", mountpoint: "/srv/app", atime: "off", xattr: "sa" },
        userProperties: { "com.example:owner": "ops team" },
        encryption: true,
        previousNames: ["tank/old-app", "tank/legacy/app"],
        autosnap: true,
    }),
    clone: parseTestSpec({ dataset: "tank/machines/web", origin: "tank/images/debian@v1", properties: { readonly: "off" } }),
    adopt: parseTestSpec({ dataset: "tank/media", adopt: true, properties: { canmount: "noauto" } }),
    destroy: parseTestSpec({ dataset: "tank/scratch", destroyOnDelete: true }),
    "destroy-recursive": parseTestSpec({ dataset: "tank/scratch", destroyOnDelete: true, recursive: true }),
};

describe("zfs render", () => {
    for (const [name, spec] of Object.entries(cases)) {
        describe(name, () => {
            const r = renderDataset(spec);
            it("matches the golden converge and delete scripts", () => {
                golden(GOLDEN, `${name}.converge.sh`, r.script);
                golden(GOLDEN, `${name}.delete.sh`, r.deleteScript);
            });
            it("passes bash -n and shellcheck", () => {
                assert.deepEqual(checkScript(r.script), []);
                assert.deepEqual(checkScript(r.deleteScript), []);
            });
            it("never destroys anything unless destroyOnDelete, and the converge script never does", () => {
                assert.doesNotMatch(r.script, /\bzfs (destroy|rollback)\b/);
                if (spec.destroyOnDelete) assert.match(r.deleteScript, /zfs destroy/);
                else {
                    assert.doesNotMatch(r.deleteScript, /zfs destroy/);
                    assert.match(r.deleteScript, /^hearth_zfs_disown "\$ds"$/m);
                }
            });
            it("is a call sequence over the runtime: the mark, the zfs lock first, no functions of its own", () => {
                for (const script of [r.script, r.deleteScript]) {
                    const body = own(script).split("\n").filter((l) => l !== "");
                    assert.deepEqual(body.slice(0, 4), [`hearth_owner=${MARK.id}`, "hearth_aliases=()", `hearth_adopt=${spec.adopt ? 1 : 0}`, "hearth_lock zfs"]);
                    assert.doesNotMatch(own(script), /^\s*[A-Za-z_][A-Za-z0-9_]*\(\)\s*\{/m, "defines no function");
                    assert.doesNotMatch(own(script), /\.hearth-new|\$\$|mktemp/, "no temp name of its own");
                    // Every zfs command that changes something is followed by a crash point.
                    const lines = own(script).split("\n");
                    lines.forEach((l, i) => {
                        if (/^\s*zfs (create|clone|rename|destroy|set|inherit|snapshot|mount|unmount)\b/.test(l)) {
                            assert.match(lines[i + 1], /^\s*(hearth_step|if \[ "\$zfs_gone" = 0 \])/, `${l} is followed by hearth_step`);
                        }
                    });
                }
            });
            it("claims an existing dataset before it changes it, and a delete touches only a dataset that is its own", () => {
                const lines = own(r.script).split("\n");
                const claim = lines.indexOf('  hearth_claim "dataset $ds" "$zfs_found"');
                const mark = lines.indexOf('  hearth_zfs_own "$ds"');
                const firstChange = lines.findIndex((l) => /^\s*(zfs (create|clone|rename|set|inherit)|hearth_zfs_(set|inherit|snapshot_before|unmount))\b/.test(l));
                assert.ok(claim > 0 && mark === claim + 1 && firstChange > mark, "claim, then the mark, then any change");
                const del = own(r.deleteScript).split("\n");
                const mine = del.indexOf('if ! hearth_mine "$zfs_found"; then');
                const change = del.findIndex((l) => /^\s*(zfs (destroy|inherit|set)|hearth_zfs_(disown|unmount|forget))\b/.test(l));
                assert.ok(mine > 0 && change > mine, "hearth_mine decides before anything changes");
                assert.match(del[mine + 1], /left untouched/);
                assert.equal(del[mine + 2], "  exit 0");
            });
            it("snapshots before changing an existing dataset and before a rename", () => {
                const lines = r.script.split("\n");
                const snap = lines.findIndex((l) => /^ {2}if \[ "\$zfs_created" = 0 \]; then hearth_zfs_snapshot_before "\$ds" [0-9a-f]{32}; fi$/.test(l));
                const set = lines.findIndex((l) => l.includes('hearth_zfs_set "$ds" "$zfs_kv"'));
                assert.ok(snap > 0 && set > snap, "the pre-change snapshot comes before zfs set");
                for (const prev of spec.previousNames) {
                    const at = lines.findIndex((l) => l === `elif hearth_zfs_exists ${prev}; then`);
                    const s = lines.findIndex((l, i) => i > at && l.includes('hearth_zfs_snapshot_before "$zfs_prev" "rename:$ds"'));
                    const mv = lines.findIndex((l, i) => i > at && l.includes('zfs rename -p "$zfs_prev" "$ds"'));
                    assert.ok(at > 0 && s > at && mv > s, `snapshot of ${prev} precedes its rename`);
                }
            });
        });
    }

    it("refuses, in the script, a pool without the feature a property needs, before anything changes", () => {
        const r = renderDataset(cases.full);
        const lines = r.script.split("\n");
        const lz4 = lines.findIndex((l) => l === 'if ! hearth_zfs_feature "$pool" lz4_compress; then');
        const enc = lines.findIndex((l) => l === 'if ! hearth_zfs_feature "$pool" encryption; then');
        const pool = lines.findIndex((l) => l.startsWith('if ! zfs list -H -o name "$pool" >/dev/null; then hearth_die 69 "pool $pool is not available'));
        const firstChange = lines.findIndex((l, i) => i > pool && /^\s*(zfs (create|clone|rename|set|snapshot|inherit)|hearth_(zfs_(own|set|inherit|snapshot_before|unmount)|dir|put))\b/.test(l));
        assert.ok(pool > 0);
        assert.ok(lz4 > pool && enc > lz4 && firstChange > enc, "feature checks come before the first change");
        const die = lines.findIndex((l, i) => i > lz4 && l.startsWith("  hearth_die 65"));
        assert.equal(lines[die], `  hearth_die 65 'property '"'"'compression'"'"' = lz4 needs the pool feature lz4_compress, which pool '"$pool"' does not have; it supports compression '"$zfs_supported"`);
    });

    it("installs the snapshot tool only when the dataset has a schedule, and the tool passes shellcheck", () => {
        const files = parseScriptFiles(renderDataset(cases.full).script, renderDataset(cases.full).stdin);
        assert.deepEqual(files.map((f) => [f.path, f.mode]), [["/usr/local/lib/hearth/zfs-autosnap", 0o755]]);
        assert.equal(files[0].content, AUTOSNAP_SCRIPT);
        assert.equal(renderDataset(cases.minimal).stdin, "");
        assert.deepEqual(checkScript(AUTOSNAP_SCRIPT), []);
        golden(GOLDEN, "zfs-autosnap.sh", AUTOSNAP_SCRIPT);
    });

    it("changes the hash with any change to what is converged", () => {
        const base = renderDataset(cases.minimal).hash;
        assert.equal(renderDataset(parseTestSpec({ dataset: "tank/app" })).hash, base);
        assert.notEqual(renderDataset(parseTestSpec({ dataset: "tank/app", properties: { atime: "off" } })).hash, base);
        assert.notEqual(renderDataset(parseTestSpec({ dataset: "tank/app", destroyOnDelete: true })).hash, base);
    });
});
