// The offline plan: the example site plans with no setup, writes exactly what lands on the host, and triggers move only with content.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import yaml = require("js-yaml");
import { Host } from "../../components/host";
import { TEST_HOST_KEY } from "../mocks";
import { renderService, resolveServiceArgs } from "../../components/systemd";
import { ownerId } from "../../components/core/owner";
import { SERVICE_TYPE } from "../../components/tokens";
import { serviceArgs } from "../../stacks/build/services";
import { parseSiteConfig } from "../../stacks/schema";
import { writePlan } from "../../stacks/plan-output";
import { checkScript, securityScore, verifyUnits } from "../tools";
import { exampleYaml, PlanRun, readPlan, ROOT, runPlan, siteDir, tmpDir, triggers, walk } from "./plan-run";

const UNIT_DIR = "web1/etc/systemd/system";

/** What the components render for the example config, computed in this process without the plan. */
function expectedExampleFiles(): Map<string, string> {
    const doc = yaml.load(exampleYaml()) as { config: Record<string, unknown> };
    const values = Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k.replace(/^hearth:/, ""), v]));
    const site = parseSiteConfig({ values, secretKeys: new Set(["sshPrivateKey"]) });
    const host = new Host({ name: "web1", address: "192.0.2.10", privateKey: pulumi.secret("k"), hostKey: TEST_HOST_KEY });
    const files = new Map<string, string>();
    for (const s of site.services ?? []) {
        // The mark the plan's program gives it: project (Pulumi.yaml), stack, type and name.
        const project = (yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { name: string }).name;
        const mark = { id: ownerId(project, "example", SERVICE_TYPE, s.name), aliases: [], adopt: false };
        for (const f of renderService(resolveServiceArgs(s.name, serviceArgs(s, host, () => pulumi.secret("x"), () => ({ dependency: { label: "packages", host, units: [], mounts: [], files: [], resources: [] } }))), mark).files) files.set(`web1${f.path}`, f.content);
    }
    return files;
}

describe("offline plan", function () {
    this.timeout(120000);
    let outA: string;
    let outB: string;
    let outEdit: string;
    let first: PlanRun;
    let second: PlanRun;
    let edited: PlanRun;

    before(async () => {
        outA = tmpDir("plan-a");
        outB = tmpDir("plan-b");
        outEdit = tmpDir("plan-edit");
        const text = exampleYaml();
        const changed = text.replace("      memoryMaxMiB: 128\n      cpuQuotaPercent: 50\n", "      memoryMaxMiB: 256\n      cpuQuotaPercent: 50\n");
        assert.notEqual(changed, text, "the edit must hit the web service's memoryMaxMiB");
        [first, second, edited] = await Promise.all([
            runPlan(["--out", outA]),
            runPlan(["--stack", "example", "--out", outB]),
            runPlan(["--stack", "example", "--out", outEdit, "--dir", siteDir({ example: changed })]),
        ]);
        for (const r of [first, second, edited]) assert.equal(r.code, 0, r.stderr);
    });
    after(() => [outA, outB, outEdit].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    it("writes every file the example's services install, byte for byte as the component renders it", () => {
        const expected = expectedExampleFiles();
        const written = walk(path.join(outA, "example")).filter((f) => !f.includes("/_") && !f.startsWith(".") && f !== "plan.json");
        assert.deepEqual(written, [...expected.keys()].sort());
        for (const [f, content] of expected) assert.equal(fs.readFileSync(path.join(outA, "example", f), "utf8"), content, f);
        assert.ok(expected.has(`${UNIT_DIR}/web.service`) && expected.has(`${UNIT_DIR}/notes-proxy.socket`) && expected.has(`${UNIT_DIR}/web-probe.timer`));
        assert.ok(expected.has(`${UNIT_DIR}/pgbouncer.service.d/50-hearth.conf`));
    });

    it("writes each remote command's create and delete script, and they pass bash -n and shellcheck", function () {
        // shellcheck reads the whole runtime in each of the ten scripts: seconds each, more on a busy machine.
        this.timeout(600_000);
        const scripts = walk(path.join(outA, "example", "web1", "_scripts"));
        // One converge command per service, and a lifecycle command that holds its delete.
        assert.deepEqual(scripts, [...["notes", "pgbouncer-sandbox", "web", "web-probe"].flatMap((s) => [`${s}-converge-lifecycle.delete.sh`, `${s}-converge.create.sh`]), "pgbouncer-packages-lifecycle.delete.sh", "pgbouncer-packages.create.sh"].sort());
        for (const s of scripts) {
            const text = fs.readFileSync(path.join(outA, "example", "web1", "_scripts", s), "utf8");
            assert.match(text, s.endsWith(".create.sh") ? /^#!\/bin\/bash\n# hearth-content: [0-9a-f]{64}\n# hearth: / : /^#!\/bin\/bash\n# hearth: /);
            assert.match(text, /^set -euo pipefail$/m);
            assert.deepEqual(checkScript(text), [], s);
        }
    });

    it("lists modes, owners and hashes in the host manifest", () => {
        const manifest = fs.readFileSync(path.join(outA, "example", "web1", "_files.tsv"), "utf8").trim().split("\n");
        assert.equal(manifest.length, 1 + 7);
        assert.match(manifest.find((l) => l.startsWith("/etc/systemd/system/web.service\t"))!, /^\/etc\/systemd\/system\/web\.service\t0644\troot:root\t[0-9a-f]{64}\tweb-converge$/);
    });

    it("writes units that systemd-analyze verify accepts without a warning", () => {
        const dir = path.join(outA, "example", UNIT_DIR);
        const units = Object.fromEntries(fs.readdirSync(dir).filter((f) => /\.(service|socket|timer)$/.test(f)).map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]));
        assert.equal(Object.keys(units).length, 6);
        assert.deepEqual(verifyUnits(units), []);
    });

    it("prints an exposure table in which every written .service is within 1.5, and the scores are systemd's own", () => {
        const rows = [...first.stdout.matchAll(/^ {2}web1 +(\S+\.service) +(\d+\.\d) +within budget/gm)].map((m) => [m[1], Number(m[2])] as const);
        assert.deepEqual(rows.map(([u]) => u).sort(), ["notes-proxy.service", "notes.service", "pgbouncer.service", "web-probe.service", "web.service"]);
        for (const [unit, exposure] of rows) {
            assert.ok(exposure <= 1.5, `${unit}: ${exposure}`);
            const written = path.join(outA, "example", UNIT_DIR, unit);
            // A drop-in is scored as systemd loads it: the packaged unit (installed by .ci/run) with hearth's drop-in over it.
            const score = fs.existsSync(written)
                ? securityScore(unit, fs.readFileSync(written, "utf8"))
                : securityScore(unit, fs.readFileSync(`/lib/systemd/system/${unit}`, "utf8"), { [`${unit}.d/50-hearth.conf`]: fs.readFileSync(path.join(`${written}.d`, "50-hearth.conf"), "utf8") });
            assert.equal(score.exposure, exposure, unit);
        }
        assert.doesNotMatch(first.stdout, /OVER BUDGET/);
    });

    it("prints per host each command with its trigger, script sizes and files", () => {
        assert.match(first.stdout, /^Plan of stack 'example': 1 host\(s\), 5 component\(s\), 10 remote command\(s\), 0 other resource\(s\)$/m);
        assert.match(first.stdout, /^host web1 \(root@192\.0\.2\.10:22\)$/m);
        assert.match(first.stdout, /^ {4}~ web-converge {2}content [0-9a-f]{12}, create \d+\.\d KiB, no delete$/m);
        assert.match(first.stdout, /^ {4}~ web-converge-lifecycle {2}delete only \(runs when its component is removed\), delete \d+\.\d KiB$/m);
        assert.match(first.stdout, /^ {8}\/etc\/systemd\/system\/web\.service {2}0644 root:root {2}\d+\.\d KiB$/m);
    });

    it("gives identical triggers and identical files on a re-plan", () => {
        const a = triggers(readPlan(outA, "example"));
        assert.equal(Object.keys(a).length, 10);
        for (const t of Object.values(a)) assert.match(t ?? "", /^[0-9a-f]{64}$/);
        assert.deepEqual(triggers(readPlan(outB, "example")), a);
        const files = walk(path.join(outA, "example"));
        assert.deepEqual(walk(path.join(outB, "example")), files);
        for (const f of files) assert.ok(fs.readFileSync(path.join(outA, "example", f)).equals(fs.readFileSync(path.join(outB, "example", f))), f);
    });

    it("changes only the edited service's trigger when one argument changes", () => {
        const a = triggers(readPlan(outA, "example"));
        const b = triggers(readPlan(outEdit, "example"));
        const changed = Object.keys(a).filter((k) => a[k] !== b[k]);
        assert.deepEqual(changed, ["web1/web-converge"]);
        assert.match(fs.readFileSync(path.join(outEdit, "example", UNIT_DIR, "web.service"), "utf8"), /^MemoryMax=256M$/m);
    });

    it("refuses to clear an output directory it did not write", () => {
        const root = tmpDir("plan-foreign");
        try {
            fs.mkdirSync(path.join(root, "example"));
            fs.writeFileSync(path.join(root, "example", "notes.txt"), "mine");
            assert.throws(() => writePlan({ stack: "example", hosts: [], others: [], components: [] }, root), /was not written by the plan; refusing to clear it/);
            assert.equal(fs.readFileSync(path.join(root, "example", "notes.txt"), "utf8"), "mine");
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    it("plans the example site by default, from the repository root", () => {
        assert.equal(readPlan(outA, "example").stack, "example");
        assert.match(first.stdout, /^Wrote .*example\/ \(files per host/m);
        assert.ok(fs.existsSync(path.join(ROOT, "Pulumi.example.yaml")));
    });
});
