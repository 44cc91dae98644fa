// `npm run plan` runs the policy pack as `pulumi preview --policy-pack` would: levels, waivers, and a mandatory violation fails it.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { exampleYaml, PlanRun, runPlan, siteDir, tmpDir } from "../stacks/plan-run";

/** The example site with a secret-looking value in the first service's plain environment. */
function leakySite(): string {
    const text = exampleYaml();
    const at = text.indexOf("  hearth:services:");
    assert.ok(at >= 0, "the example site has services");
    const first = /\n {4}- name: ([a-z0-9-]+)\n/.exec(text.slice(at))!;
    const insert = at + first.index + first[0].length;
    return text.slice(0, insert) + '      environment: { DB_PASSWORD: "correct-horse-battery" }\n' + text.slice(insert);
}

describe("npm run plan runs the policy pack", function () {
    this.timeout(180000);
    const out = tmpDir("plan-policies");
    let home: PlanRun, leaky: PlanRun, waived: PlanRun, advisory: PlanRun, badConfig: PlanRun, skipped: PlanRun;
    let service: string;

    before(async () => {
        const text = leakySite();
        service = /\n {4}- name: ([a-z0-9-]+)\n {6}environment: \{ DB_PASSWORD/.exec(text)![1];
        const dir = siteDir({ example: text });
        const config = (name: string, c: unknown) => {
            const f = path.join(out, name);
            fs.writeFileSync(f, JSON.stringify(c));
            return f;
        };
        const waiverFile = config("waived.json", { "hearth-command-no-secrets": { waivers: [{ resource: `${service}-converge`, reason: "test fixture: the value is a published demo password" }] } });
        const advisoryFile = config("advisory.json", { "hearth-command-no-secrets": "advisory" });
        const badFile = config("bad.json", { "hearth-no-such-policy": "mandatory" });
        // Each run writes its own plan directory: they run at once.
        const site = (run: string) => ["--dir", dir, "--stack", "example", "--out", path.join(out, run)];
        [home, leaky, waived, advisory, badConfig, skipped] = await Promise.all([
            runPlan(["--stack", "home", "--out", path.join(out, "home")]),
            runPlan(site("leaky")),
            runPlan([...site("waived"), "--policy-config", waiverFile]),
            runPlan([...site("advisory"), "--policy-config", advisoryFile]),
            runPlan([...site("bad"), "--policy-config", badFile]),
            runPlan([...site("skipped"), "--no-policies"]),
        ]);
    });
    after(() => fs.rmSync(out, { recursive: true, force: true }));

    it("`--stack home` prints the pack's results with home's waiver file, and passes", () => {
        assert.equal(home.code, 0, home.stderr);
        assert.match(home.stdout, /^Policies \(policies; config: policies\/examples\/home\.json\):$/m);
        assert.match(home.stdout, /^ {2}0 mandatory, 0 advisory, 0 remediate violation\(s\); 0 waiver\(s\) applied; 16 policies\.$/m);
    });

    it("a secret-looking value in a service's environment fails the plan, naming the policy, its level and the resource", () => {
        assert.equal(leaky.code, 1, leaky.stdout);
        assert.match(leaky.stdout, new RegExp(`^ {2}mandatory hearth-command-no-secrets {2}${service}-converge: .*'DB_PASSWORD=' assignment`, "m"));
        assert.match(leaky.stderr, /^error: 1 mandatory policy violation\(s\) \(hearth-command-no-secrets\): the preview would fail the same way$/m);
        assert.doesNotMatch(leaky.stdout + leaky.stderr, /correct-horse-battery/, "the finding is redacted");
        // The plan itself was still written, for the reviewer to see what would have landed.
        assert.ok(fs.existsSync(path.join(out, "leaky/example/plan.json")));
    });

    it("a waiver with a reason silences it, and the plan says which waiver applied to what", () => {
        assert.equal(waived.code, 0, waived.stderr);
        assert.match(waived.stdout, new RegExp(`^ {2}waived {4}hearth-command-no-secrets {2}${service}-converge: waiver for '${service}-converge' \\(test fixture: the value is a published demo password\\) covers 1 finding\\(s\\): .*DB_PASSWORD`, "m"));
        assert.match(waived.stdout, /0 mandatory, 0 advisory, 0 remediate violation\(s\); 1 waiver\(s\) applied/);
    });

    it("the config's enforcement level wins: advisory is printed and does not fail", () => {
        assert.equal(advisory.code, 0, advisory.stderr);
        assert.match(advisory.stdout, new RegExp(`^ {2}advisory {2}hearth-command-no-secrets {2}${service}-converge: `, "m"));
        assert.match(advisory.stdout, /0 mandatory, 1 advisory, 0 remediate violation\(s\)/);
    });

    it("a config naming a policy the pack does not have is refused before anything is planned; --no-policies skips the pack", () => {
        assert.equal(badConfig.code, 1);
        assert.ok(!fs.existsSync(path.join(out, "bad")), "nothing was written");
        assert.match(badConfig.stderr, /the policy config .*bad\.json is not valid:\n {2}'hearth-no-such-policy' is not a policy of this pack \(policies: all, hearth-systemd-root-needs-reason/);
        assert.equal(skipped.code, 0, skipped.stderr);
        assert.match(skipped.stdout, /^Policies: skipped \(--no-policies\)\.$/m);
    });
});
