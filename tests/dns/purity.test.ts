// The zone model and its whole-zone checks are pure: loading them loads no Pulumi SDK (the site config, the policies
// and a plain process can use them), and addresses go through the core's one IP parser.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..", "..");

/** The modules under node_modules/@pulumi that requiring `file` loads, in a fresh process. */
function pulumiLoadedBy(file: string): string[] {
    const probe = `require(${JSON.stringify(path.join(ROOT, file))}); process.stdout.write(JSON.stringify(Object.keys(require.cache).filter((k) => k.includes("@pulumi"))));`;
    const r = spawnSync(process.execPath, ["--import", "tsx", "-e", probe], { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as string[];
}

describe("dns: the zone model is pure", function () {
    this.timeout(60000);

    for (const file of ["components/dns/check.ts", "components/dns/model.ts", "components/dns/names.ts", "components/dns/render.ts"]) {
        it(`${file} loads no @pulumi package`, () => assert.deepEqual(pulumiLoadedBy(file), []));
    }

    it("the probe sees Pulumi where it is loaded (so it can fail)", () => assert.ok(pulumiLoadedBy("components/dns/schema.ts").length > 0));

    it("parses addresses with the core's parser only: no IP parser or range table of its own", () => {
        for (const f of fs.readdirSync(path.join(ROOT, "components/dns")).filter((n) => n.endsWith(".ts"))) {
            const text = fs.readFileSync(path.join(ROOT, "components/dns", f), "utf8");
            assert.doesNotMatch(text, /from "\.\.\/net\/ipv[46]"|from "net"|RFC 1918\)"/, f);
        }
    });
});
