// The CI workflow never hands secrets or the in-LAN runner to unapproved pull-request code: its jobs are evaluated
// (conditions, matrix, environment, runner) for a push to main, a pull request from this repository and one from a fork.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import yaml = require("js-yaml");

const WORKFLOW = path.join(__dirname, "../.github/workflows/hearth.yml");
const REPO = "home-lab/site";

type Ctx = Record<string, any>;

/** A GitHub Actions expression (the subset workflows use here): literals, context paths, ! == != && || ( ), format, fromJSON, contains. */
export function evaluate(expr: string, ctx: Ctx): any {
    const tokens = expr.match(/'(?:[^']|'')*'|==|!=|&&|\|\||[!(),]|[A-Za-z_][\w-]*(?:\.[\w-]+|\[\*\])*|\d+(?:\.\d+)?|\S/g) ?? [];
    let i = 0;
    const peek = () => tokens[i];
    const take = (want?: string) => {
        const t = tokens[i++];
        if (want !== undefined && t !== want) throw new Error(`expression ${JSON.stringify(expr)}: expected ${want}, got ${t}`);
        return t;
    };
    const or = (): any => { let v = and(); while (peek() === "||") { take(); const r = and(); v = v || r; } return v; };
    const and = (): any => { let v = cmp(); while (peek() === "&&") { take(); const r = cmp(); v = v && r; } return v; };
    const cmp = (): any => {
        const l = unary();
        if (peek() === "==" || peek() === "!=") {
            const op = take();
            const r = unary();
            const eq = typeof l === "string" && typeof r === "string" ? l.toLowerCase() === r.toLowerCase() : l === r;
            return op === "==" ? eq : !eq;
        }
        return l;
    };
    const unary = (): any => (peek() === "!" ? (take(), !unary()) : primary());
    const primary = (): any => {
        const t = take();
        if (t === undefined) throw new Error(`expression ${JSON.stringify(expr)} ends early`);
        if (t === "(") { const v = or(); take(")"); return v; }
        if (t.startsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
        if (/^\d/.test(t)) return Number(t);
        if (t === "true" || t === "false") return t === "true";
        if (t === "null") return null;
        if (peek() === "(") {
            take("(");
            const args: any[] = [];
            while (peek() !== ")") { args.push(or()); if (peek() === ",") take(","); }
            take(")");
            switch (t.toLowerCase()) {
                case "format": return String(args[0]).replace(/\{(\d+)\}/g, (_, n) => String(args[Number(n) + 1]));
                case "fromjson": return JSON.parse(args[0]);
                case "contains": return Array.isArray(args[0]) ? args[0].includes(args[1]) : String(args[0]).toLowerCase().includes(String(args[1]).toLowerCase());
                default: throw new Error(`expression ${JSON.stringify(expr)}: function ${t} is not supported here`);
            }
        }
        return t.split(".").reduce((o: any, k) => (o == null ? undefined : o[k]), ctx);
    };
    const v = or();
    if (i !== tokens.length) throw new Error(`expression ${JSON.stringify(expr)}: unexpected ${tokens[i]}`);
    return v;
}

/** A workflow value: a whole `${{ … }}` gives its value, text with `${{ … }}` inside gives a string. */
function value(v: unknown, ctx: Ctx): any {
    if (typeof v !== "string") return v;
    const whole = /^\s*\$\{\{([\s\S]*)\}\}\s*$/.exec(v);
    if (whole && !whole[1].includes("}}")) return evaluate(whole[1], ctx);
    return v.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, e) => String(evaluate(e, ctx) ?? ""));
}

/** A job-level `if`: an expression with or without `${{ }}`; none means it runs. */
function condition(v: unknown, ctx: Ctx): boolean {
    if (v === undefined) return true;
    const s = String(v).trim();
    return Boolean(s.startsWith("${{") ? value(s, ctx) : evaluate(s, ctx));
}

interface Event { readonly name: string; readonly ctx: Ctx }

const EVENTS: Event[] = [
    { name: "push to main", ctx: { github: { event_name: "push", ref: "refs/heads/main", repository: REPO, event: {} } } },
    {
        name: "pull request from a branch of this repository",
        ctx: { github: { event_name: "pull_request", ref: "refs/pull/7/merge", repository: REPO, event: { pull_request: { head: { repo: { full_name: REPO } } } } } },
    },
    {
        name: "pull request from a fork",
        ctx: { github: { event_name: "pull_request", ref: "refs/pull/8/merge", repository: REPO, event: { pull_request: { head: { repo: { full_name: "mallory/site" } } } } } },
    },
];

interface JobRun {
    readonly job: string;
    readonly event: Event;
    readonly matrix: Record<string, any>;
    readonly runsOn: string[];
    /** The environment the job deploys to (its reviewers and its secrets), or undefined. */
    readonly environment: string | undefined;
    readonly usesSecrets: boolean;
}

function matrixEntries(job: any): Record<string, any>[] {
    const m = job.strategy?.matrix;
    if (!m) return [{}];
    if (m.include && Object.keys(m).length === 1) return m.include;
    const axes = Object.entries(m).filter(([k]) => k !== "include" && k !== "exclude") as [string, any[]][];
    let out: Record<string, any>[] = [{}];
    for (const [k, vs] of axes) out = out.flatMap((o) => vs.map((v) => ({ ...o, [k]: v })));
    return out;
}

/** Every job (per matrix entry) that runs for an event, with what it gets. */
function jobRuns(wf: any, event: Event): JobRun[] {
    const out: JobRun[] = [];
    const workflowSecrets = /\bsecrets\./.test(JSON.stringify(wf.env ?? {}));
    for (const [name, job] of Object.entries<any>(wf.jobs)) {
        for (const matrix of matrixEntries(job)) {
            const ctx = { ...event.ctx, matrix, vars: {}, secrets: {} };
            if (!condition(job.if, ctx)) continue;
            const runsOn = value(job["runs-on"], ctx);
            const env = job.environment === undefined ? undefined : value(typeof job.environment === "object" ? job.environment.name : job.environment, ctx);
            out.push({
                job: name, event, matrix,
                runsOn: (Array.isArray(runsOn) ? runsOn : [runsOn]).map(String),
                environment: env || undefined,
                usesSecrets: workflowSecrets || /\bsecrets\./.test(JSON.stringify(job)),
            });
        }
    }
    return out;
}

const label = (r: JobRun) => `${r.job}${Object.keys(r.matrix).length ? ` (${r.matrix.site ?? JSON.stringify(r.matrix)})` : ""} on a ${r.event.name}`;

/** Everything in a workflow that hands secrets or the in-LAN runner to pull-request code without approval. */
export function violations(wf: any): string[] {
    const out: string[] = [];
    if (wf.on?.pull_request_target !== undefined) out.push("the workflow runs on pull_request_target (base-repository secrets for fork code)");
    for (const event of EVENTS) {
        const pr = event.ctx.github.event_name === "pull_request";
        const fork = pr && event.ctx.github.event.pull_request.head.repo.full_name !== REPO;
        for (const r of jobRuns(wf, event)) {
            const selfHosted = r.runsOn.includes("self-hosted");
            if (pr && r.usesSecrets && !r.environment) out.push(`${label(r)} references secrets.* without an environment`);
            if (pr && r.usesSecrets && r.environment && !/^preview-/.test(r.environment)) out.push(`${label(r)} uses the environment ${r.environment}, not a preview-<site> one with reviewers`);
            if (pr && selfHosted && !r.environment) out.push(`${label(r)} runs on the self-hosted runner without an environment`);
            if (fork && selfHosted) out.push(`${label(r)} runs fork code on the self-hosted runner`);
            if (fork && r.usesSecrets) out.push(`${label(r)} runs fork code with secrets`);
        }
    }
    return out;
}

describe("the CI workflow (.github/workflows/hearth.yml)", () => {
    const wf = yaml.load(fs.readFileSync(WORKFLOW, "utf8")) as any;
    const runs = (name: string) => jobRuns(wf, EVENTS.find((e) => e.name.startsWith(name))!);

    it("hands no secret and no self-hosted runner to pull-request code without an approved environment; forks never", () => {
        assert.deepEqual(violations(wf), []);
    });

    it("gives every pull request (forks too) the offline plan on a GitHub-hosted runner, with no secret", () => {
        const plan = wf.jobs.plan;
        assert.doesNotMatch(JSON.stringify(plan), /\bsecrets\./);
        assert.doesNotMatch(JSON.stringify(wf.env ?? {}), /\bsecrets\./);
        assert.equal(plan.environment, undefined);
        assert.deepEqual(plan.permissions, { contents: "read" });
        assert.ok(plan.steps.some((s: any) => s.run === "npm run plan -- --stack ${{ matrix.site }}"));
        for (const event of ["pull request from a fork", "pull request from a branch"]) {
            const p = runs(event).filter((r) => r.job === "plan");
            assert.deepEqual(p.map((r) => r.matrix.site).sort(), ["home", "vps"], event);
            for (const r of p) assert.deepEqual(r.runsOn, ["ubuntu-latest"], label(r));
        }
        const sites = wf.jobs.site.strategy.matrix.include.map((i: any) => i.site).sort();
        assert.deepEqual([...plan.strategy.matrix.site].sort(), sites, "the plan covers every site the preview does");
    });

    it("runs the home preview (job `site`) on the self-hosted runner only for this repository's branches, behind preview-home", () => {
        assert.match(wf.jobs.site.if, /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/);
        assert.deepEqual(runs("pull request from a fork").filter((r) => r.job !== "plan"), []);
        const same = runs("pull request from a branch").filter((r) => r.job !== "plan");
        assert.deepEqual(same.map((r) => [r.job, r.matrix.site, r.environment, r.runsOn.includes("self-hosted")]).sort(), [
            ["site", "home", "preview-home", true],
            ["site", "vps", "preview-vps", false],
        ]);
    });

    it("keeps pull_request and push on main, and runs `pulumi up` on main in each site's environment, home -> vps -> home", () => {
        assert.deepEqual(Object.keys(wf.on).sort(), ["pull_request", "push"]);
        assert.deepEqual(wf.on.push.branches, ["main"]);
        const up = runs("push to main").filter((r) => r.job !== "plan");
        assert.deepEqual(up.map((r) => [r.job, r.matrix.site, r.environment]), [["up-home", "home", "home"], ["up-vps", "vps", "vps"], ["up-home-again", "home", "home"]]);
        // The order is the `needs` chain: each up waits for the one before it.
        const chain: string[] = [];
        for (let job: string | undefined = "up-home-again"; job; job = [wf.jobs[job].needs].flat().find((n: string) => n.startsWith("up-"))) chain.unshift(job);
        assert.deepEqual(chain, ["up-home", "up-vps", "up-home-again"]);
        for (const r of up) {
            assert.ok(wf.jobs[r.job].steps.some((s: any) => s.with?.command === "up"), r.job);
            assert.equal(value(wf.jobs[r.job].concurrency["cancel-in-progress"], { github: {}, matrix: r.matrix }), false, `${r.job} is never cancelled half-way`);
        }
    });

    it("passes every site's waiver file to the policy pack in every preview and up, and the plan finds the same file", () => {
        const jobs = ["site", "up-home", "up-vps", "up-home-again"];
        for (const job of jobs) {
            const pulumiSteps = wf.jobs[job].steps.filter((s: any) => String(s.uses ?? "").startsWith("pulumi/actions@"));
            assert.deepEqual(pulumiSteps.map((s: any) => s.with.command).sort(), ["preview", "up"], job);
            for (const event of EVENTS) {
                for (const r of jobRuns(wf, event).filter((x) => x.job === job)) {
                    const ctx = { ...event.ctx, matrix: r.matrix, vars: {} };
                    for (const step of pulumiSteps) {
                        assert.equal(value(step.with.policyPacks, ctx), "policies", job);
                        const file = value(step.with.policyPackConfigs, ctx);
                        assert.equal(file, `policies/examples/${r.matrix.site}.json`, job);
                        assert.ok(fs.existsSync(path.join(__dirname, "..", file)), `${file} exists`);
                    }
                }
            }
            assert.ok(wf.jobs[job].steps.some((s: any) => s.run === "npm run build"), `${job} builds the pack that --policy-pack loads`);
        }
    });

    it("names stacks and cross-site references with PULUMI_ORG, and hands the S3 backend its AWS credentials", () => {
        for (const job of ["site", "up-home", "up-vps", "up-home-again"]) {
            const env = wf.jobs[job].env;
            for (const [vars, want] of [[{ PULUMI_ORG: "acme" }, "acme/home"], [{}, "home"]] as const) {
                assert.equal(value(env.STACK, { vars, matrix: { site: "home" } }), want, job);
            }
            assert.equal(value(env.PULUMI_ORG, { vars: { PULUMI_ORG: "acme" } }), "acme", `${job}: the program sees the org for its StackReferences`);
            for (const k of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) assert.equal(env[k], `\${{ secrets.${k} }}`, `${job}: ${k}`);
            assert.equal(env.AWS_REGION, "${{ vars.AWS_REGION }}");
            assert.equal(env.PULUMI_BACKEND_URL, "${{ vars.PULUMI_BACKEND_URL }}");
        }
    });

    it("catches each way of getting this wrong (the checks are not vacuous)", () => {
        const broken = (change: (w: any) => void) => { const w = structuredClone(wf); change(w); return violations(w); };
        // The workflow as it was: secrets and the home runner for every pull request, forks included.
        assert.ok(broken((w) => { delete w.jobs.site.environment; delete w.jobs.site.if; }).some((v) => /site \(home\) on a pull request from a fork runs fork code on the self-hosted runner/.test(v)));
        assert.ok(broken((w) => { delete w.jobs.site.environment; }).some((v) => /site \(vps\) on a pull request from a branch of this repository references secrets\.\* without an environment/.test(v)));
        assert.ok(broken((w) => { w.jobs.site.environment = { name: "${{ matrix.site }}" }; }).some((v) => /uses the environment home, not a preview-<site> one/.test(v)));
        assert.ok(broken((w) => { w.jobs["up-vps"].if = "true"; }).some((v) => /up-vps \(vps\) on a pull request from a fork runs fork code with secrets/.test(v)));
        assert.ok(broken((w) => { w.jobs.plan.env = { T: "${{ secrets.PULUMI_ACCESS_TOKEN }}" }; }).some((v) => /plan \(vps\) on a pull request from a fork runs fork code with secrets/.test(v)));
        assert.ok(broken((w) => { w.env = { P: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}" }; }).some((v) => /plan \(home\) on a pull request from a branch of this repository references secrets/.test(v)));
        assert.ok(broken((w) => { w.jobs.plan["runs-on"] = ["self-hosted", "hearth-home"]; }).some((v) => /plan \(home\) on a pull request from a branch of this repository runs on the self-hosted runner without an environment/.test(v)));
        assert.ok(broken((w) => { w.on.pull_request_target = null; }).some((v) => /pull_request_target/.test(v)));
    });

    it("evaluates the expressions it relies on", () => {
        const ctx = { github: { event_name: "pull_request" }, matrix: { site: "home", runner: '["self-hosted", "x"]' } };
        assert.equal(evaluate("github.event_name == 'push' && matrix.site || format('preview-{0}', matrix.site)", ctx), "preview-home");
        assert.deepEqual(evaluate("fromJSON(matrix.runner)", ctx), ["self-hosted", "x"]);
        assert.equal(evaluate("!(github.event_name != 'PULL_REQUEST')", ctx), true);
        assert.throws(() => evaluate("toJSON(github)", ctx), /not supported/);
    });
});

describe("the drift workflow (.github/workflows/drift.yml)", () => {
    const wf = yaml.load(fs.readFileSync(path.join(__dirname, "../.github/workflows/drift.yml"), "utf8")) as any;
    const ci = yaml.load(fs.readFileSync(WORKFLOW, "utf8")) as any;
    const on = (event_name: string, ref = "refs/heads/main"): Event => ({ name: `${event_name} on ${ref}`, ctx: { github: { event_name, ref, repository: REPO, event: {} } } });
    const step = () => wf.jobs.check.steps.find((s: any) => /npm run -s check/.test(s.run ?? ""));

    it("runs daily and on demand, never for a pull request or a push", () => {
        assert.deepEqual(Object.keys(wf.on).sort(), ["schedule", "workflow_dispatch"]);
        assert.equal(wf.on.schedule.length, 1);
        assert.match(wf.on.schedule[0].cron, /^\d{1,2} \d{1,2} \* \* \*$/, "once a day");
        assert.deepEqual(violations(wf), []);
        for (const event of EVENTS.filter((e) => e.ctx.github.event_name === "pull_request")) assert.deepEqual(jobRuns(wf, event), [], event.name);
        // Even if someone added a trigger: a pull request, a push, or a dispatch of another branch runs nothing.
        for (const event of [on("pull_request", "refs/pull/8/merge"), on("pull_request_target"), on("push"), on("workflow_dispatch", "refs/heads/feature")]) {
            assert.deepEqual(jobRuns(wf, event), [], event.name);
        }
    });

    it("checks every site the CI deploys, each from its runner in its check-<site> environment", () => {
        for (const event of [on("schedule"), on("workflow_dispatch")]) {
            const runs = jobRuns(wf, event);
            assert.deepEqual(runs.map((r) => [r.matrix.site, r.environment, r.runsOn]), [
                ["home", "check-home", ["self-hosted", "hearth-home"]],
                ["vps", "check-vps", ["ubuntu-latest"]],
            ], event.name);
        }
        const sites = ci.jobs.site.strategy.matrix.include.map((i: any) => [i.site, i.runner]);
        assert.deepEqual(wf.jobs.check.strategy.matrix.include.map((i: any) => [i.site, i.runner]), sites, "the same sites on the same runners as hearth.yml");
        assert.equal(wf.jobs.check.strategy["fail-fast"], false, "one site's drift does not hide another's");
        assert.deepEqual(wf.permissions, { contents: "read" });
        assert.deepEqual(wf.jobs.check.permissions, { contents: "read" });
    });

    it("hands the key only to the check step, fails visibly, and runs npm ci before the check", () => {
        const steps = wf.jobs.check.steps;
        assert.ok(steps.findIndex((s: any) => s.run === "npm ci") < steps.indexOf(step()), "npm ci first");
        for (const s of steps) if (s !== step()) assert.doesNotMatch(JSON.stringify(s), /secrets\./, JSON.stringify(s));
        assert.doesNotMatch(JSON.stringify({ env: wf.env, jobEnv: wf.jobs.check.env }), /secrets\./);
        assert.deepEqual(step().env, { HEARTH_CHECK_SSH_KEY: "${{ secrets.HEARTH_CHECK_SSH_KEY }}", SITE: "${{ matrix.site }}" });
        assert.doesNotMatch(JSON.stringify(wf), /continue-on-error|\|\| true/, "nothing swallows the check's exit status");
        assert.equal(step().shell, undefined, "GitHub's default bash -e: the check's status is the step's");
        assert.equal(steps.find((s: any) => s.uses?.startsWith("actions/checkout@")).with["persist-credentials"], false);
    });

    /** Runs the check step's script as GitHub's default shell would, with a fake npm that exits `code`. */
    function runStep(code: number, key: string): { status: number | null; stdout: string; stderr: string; temp: string; seen: string } {
        const temp = fs.mkdtempSync(path.join(require("os").tmpdir(), "hearth-runner-"));
        const bin = path.join(temp, "bin");
        fs.mkdirSync(bin);
        const seen = path.join(temp, "seen");
        // The fake npm records its argv and the key file's mode and content, then exits as the check would.
        fs.writeFileSync(path.join(bin, "npm"), `#!/bin/bash\nprintf '%s\\n' "$@" >${seen}\nfor a in "$@"; do k=$a; done\nstat -c %a -- "$k" >>${seen}\ncat -- "$k" >>${seen}\nenv | grep -c HEARTH_CHECK_SSH_KEY >>${seen} || true\nexit ${code}\n`, { mode: 0o755 });
        const r = require("child_process").spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step().run], {
            encoding: "utf8",
            env: { PATH: `${bin}:${process.env.PATH}`, RUNNER_TEMP: temp, HEARTH_CHECK_SSH_KEY: key, SITE: "home" },
        });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr, temp, seen: fs.existsSync(seen) ? fs.readFileSync(seen, "utf8") : "" };
    }

    for (const code of [0, 1, 2]) {
        it(`writes the key to a 0600 file in RUNNER_TEMP, passes it with --identity, removes it, and exits ${code} when the check does`, () => {
            const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----";
            const r = runStep(code, key);
            try {
                assert.equal(r.status, code, r.stderr);
                const file = path.join(r.temp, "hearth-check-key");
                assert.equal(r.seen, ["run", "-s", "check", "--", "--stack", "home", "--identity", file, "600", key, "0", ""].join("\n"));
                assert.ok(!fs.existsSync(file), "the key file is removed");
                assert.ok(!r.stdout.includes("AAAA") && !r.stderr.includes("AAAA"), "the key is never printed");
            } finally {
                fs.rmSync(r.temp, { recursive: true, force: true });
            }
        });
    }

    it("fails with exit 2 and says so when the key secret is missing", () => {
        const r = runStep(0, "");
        try {
            assert.equal(r.status, 2);
            assert.match(r.stdout, /::error::secret HEARTH_CHECK_SSH_KEY is not set in the check-home environment/);
            assert.equal(r.seen, "", "the check did not run");
        } finally {
            fs.rmSync(r.temp, { recursive: true, force: true });
        }
    });
});
