// ZfsDataset renderer: golden scripts, bash -n + shellcheck on every script, and what each script may and may not do.
import { strict as assert } from "assert";
import * as path from "path";
import { DatasetSpec, renderDataset } from "../../components/zfs/render";
import { parseTestSpec } from "./specs";
import { AUTOSNAP_SCRIPT } from "../../components/zfs/snapshots";
import { parseScriptFiles } from "../../components/shell";
import { checkScript } from "../tools";
import { golden } from "./golden";

const GOLDEN = path.join(__dirname, "golden");

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
                    assert.match(r.deleteScript, /zfs inherit hearth:managed "\$ds"/);
                }
            });
            it("snapshots before changing an existing dataset and before a rename", () => {
                const lines = r.script.split("\n");
                const snap = lines.findIndex((l) => l.includes('if [ "$hearth_created" = 0 ]; then hearth_snapshot "$ds"; fi'));
                const set = lines.findIndex((l) => l.includes('zfs set "$kv" "$ds"'));
                assert.ok(snap > 0 && set > snap, "the pre-change snapshot comes before zfs set");
                for (const prev of spec.previousNames) {
                    const at = lines.findIndex((l) => l === `elif hearth_exists ${prev}; then`);
                    const s = lines.findIndex((l, i) => i > at && l.includes('hearth_snapshot "$hearth_prev"'));
                    const mv = lines.findIndex((l, i) => i > at && l.includes('zfs rename -p "$hearth_prev" "$ds"'));
                    assert.ok(at > 0 && s > at && mv > s, `snapshot of ${prev} precedes its rename`);
                }
            });
        });
    }

    it("refuses, in the script, a pool without the feature a property needs, before anything changes", () => {
        const r = renderDataset(cases.full);
        const lines = r.script.split("\n");
        const lz4 = lines.findIndex((l) => l === "if ! hearth_has_feature lz4_compress; then");
        const enc = lines.findIndex((l) => l === "if ! hearth_has_feature encryption; then");
        // The helpers are defined above the pool check; the first command that changes anything comes after it.
        const pool = lines.indexOf('if ! zfs list -H -o name "$pool" >/dev/null; then');
        const firstChange = lines.findIndex((l, i) => i > pool && /^\s*(zfs (create|clone|rename|set|snapshot|inherit)|hearth_snapshot)\b/.test(l));
        assert.ok(pool > 0);
        assert.ok(lz4 > 0 && enc > 0 && firstChange > Math.max(lz4, enc), "feature checks come before the first zfs change");
        assert.match(lines[lz4 + 1], /property 'compression' = lz4 needs the pool feature lz4_compress.*it supports compression \$\(hearth_pool_compression\)/);
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
