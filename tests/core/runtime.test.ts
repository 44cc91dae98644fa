// The one bash runtime: shellcheck-clean, the only place a shell function is defined, and shipped as loaded.
import { strict as assert } from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ts from "typescript";
import { RUNTIME, RUNTIME_FUNCTIONS, withoutComments } from "../../components/core/runtime";
import { renderHostFile } from "../../components/files/render";
import { PackagesSpec, renderPackages } from "../../components/packages/render";
import { FILE_MARK as MARK, FILE_SCENARIOS } from "../files/scenarios";
import { splitRuntime } from "../../components/core/shell";

const ROOT = path.resolve(__dirname, "../..");
const FILE = path.join(ROOT, "components/core/runtime.sh");

function sources(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(dir, e.name);
        return e.isDirectory() ? sources(p) : e.name.endsWith(".ts") ? [p] : [];
    });
}

function files(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/**
 * The names of the shell functions TEXT defines, in every form bash accepts: `name() BODY` (any spacing, newlines
 * before the body, a `{`, `(`, `[[`, `((`, if/for/while/until/case/select body) and `function name [()] BODY`,
 * where a command may start (not right after a quote; an awk function has parameters, so it is none).
 */
export function functionDefinitions(text: string): string[] {
    const body = String.raw`\s*(?:\{|\(|\[\[|(?:if|for|while|until|case|select)\b)`;
    const re = new RegExp(String.raw`(?:^|[\s;&|(){}])(?:function\s+([^\s;&|()<>'"\`$]+)(?:\s*\(\s*\))?|([A-Za-z_][^\s;&|()<>'"\`$=]*)\s*\(\s*\))` + body, "g");
    return [...new Set([...text.matchAll(re)].map((m) => m[1] ?? m[2]))];
}

/**
 * Every text a TypeScript file could put into a script: each string expression (a literal, a template with each
 * interpolation as "x", a `+` chain with each non-literal operand as "x"), and all of them joined by newlines in
 * source order (a definition split across the lines of one s.raw call or array).
 */
export function literalTexts(file: string): string[] {
    const src = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
    const texts: string[] = [];
    const flat = (n: ts.Node): string | undefined => {
        if (ts.isStringLiteralLike(n)) return n.text;
        if (ts.isTemplateExpression(n)) return n.head.text + n.templateSpans.map((sp) => "x" + sp.literal.text).join("");
        if (ts.isTaggedTemplateExpression(n)) return flat(n.template);
        if (ts.isParenthesizedExpression(n)) return flat(n.expression);
        if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.PlusToken) {
            const l = flat(n.left);
            const r = flat(n.right);
            return l === undefined && r === undefined ? undefined : (l ?? "x") + (r ?? "x");
        }
        return undefined;
    };
    const visit = (n: ts.Node): void => {
        if (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) return;
        const t = flat(n);
        if (t !== undefined) {
            texts.push(t);
            return;
        }
        ts.forEachChild(n, visit);
    };
    visit(src);
    return [...texts, texts.join("\n")];
}

/**
 * The functions a component may define outside the runtime, each with its reason (the spec fails on an entry that is
 * gone). The rule is for scripts hearth runs to converge a host; none is pending.
 */
const PENDING = new Set([
    // zfs-autosnap is a standalone program installed on the host and run by a timer (no runtime, owner, steps or frames).
    ...["class_snaps", "take"].map((f) => `components/zfs/snapshots.ts: ${f}`),
]);

const PACKAGES: PackagesSpec = { packages: [{ name: "radicale", hold: false }, { name: "curl", version: "7.88.1-10+deb12u5", hold: true }], keepUnits: ["radicale.service"] };
const PACKAGE_SCENARIOS: Record<string, PackagesSpec> = {
    plain: PACKAGES,
    remove: { ...PACKAGES, removeOnDelete: { reason: "a scratch host" } },
    nokeep: { ...PACKAGES, keepUnits: [] },
};

describe("bash runtime", () => {
    it("passes bash -n and shellcheck at style level", () => {
        execFileSync("bash", ["-n", FILE]);
        const r = spawnSync("shellcheck", ["-s", "bash", "-S", "style", FILE], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stdout + r.stderr);
    });

    it("is what every script carries: the file without its shebang and comment lines (runtime-size.test.ts proves bash defines the same)", () => {
        assert.equal(RUNTIME, withoutComments(fs.readFileSync(FILE, "utf8").replace(/^#!.*\n/, "").trimEnd()));
        for (const f of ["hearth_install", "hearth_install_secret", "hearth_remove", "hearth_assemble", "hearth_lock", "hearth_step", "hearth_claim", "hearth_mine", "hearth_put_below", "hearth_daemon_reload", "hearth_record", "hearth_applied", "hearth_digest"]) {
            assert.ok(RUNTIME_FUNCTIONS.includes(f), `${f} is defined`);
        }
    });

    it("is the only place a shell function is defined: no string in a component defines one (any name, any form)", () => {
        const found: string[] = [];
        for (const f of sources(path.join(ROOT, "components"))) {
            for (const name of new Set(literalTexts(f).flatMap(functionDefinitions))) found.push(`${path.relative(ROOT, f)}: ${name}`);
        }
        assert.deepEqual(found.filter((x) => !PENDING.has(x)), []);
        assert.deepEqual([...PENDING].filter((x) => !found.includes(x)), [], "a pending exception is gone: drop it from PENDING");
    });

    it("finds every form of a definition the static scan relies on, and no call", () => {
        for (const def of ["f() { :; }", "a_b () {\n :\n}", "x-y() ( : )", "g()\n{ :; }", "function h { :; }", "function h2() { :; }", "k() [[ -n $1 ]]", "if true; then m() { :; }; fi", "o(){ :;}"]) {
            assert.equal(functionDefinitions(def).length, 1, def);
        }
        for (const call of ["hearth_apt_mask \"$u\"", "a=()", "x=$(f)", "echo \"f() {\" is text", "awk 'function f(a) { return a }'", "$(( 1 + 2 ))", "arr=(a b)"]) {
            assert.deepEqual(functionDefinitions(call), [], call);
        }
        // Split across literals, or around an interpolation, a definition is still one.
        const split = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hearth-fn-")), "x.ts");
        fs.writeFileSync(split, 'const n = "x";\nexport const a = ["apt_" + n + "()", "{", `${n}_y() {`, String.raw`z() (`];\n');
        assert.deepEqual([...new Set(literalTexts(split).flatMap(functionDefinitions))].sort(), ["apt_x", "x_y", "z"]);
    });

    it("every script the components render (every site's plan, every HostFile and DebianPackages scenario) defines no function of its own", async function () {
        this.timeout(120_000);
        const scripts: [string, string][] = [];
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-plan-"));
        try {
            for (const stack of ["example", "home", "vps"]) {
                const r = spawnSync(process.execPath, ["--require", "tsx/cjs", path.join(ROOT, "stacks/plan.ts"), "--stack", stack, "--out", out, "--no-policies"], { cwd: ROOT, encoding: "utf8" });
                assert.equal(r.status, 0, `plan of ${stack}: ${r.stderr}`);
            }
            for (const f of files(out).filter((f) => f.includes(`${path.sep}_scripts${path.sep}`))) scripts.push([path.relative(out, f), fs.readFileSync(f, "utf8")]);
        } finally {
            fs.rmSync(out, { recursive: true, force: true });
        }
        const kinds = new Set(scripts.map(([, s]) => /^(?:#!.*\n)?# hearth: (\S+)/.exec(s)?.[1]));
        for (const kind of ["apt", "zfs"]) assert.ok(kinds.has(kind), `the sites render a ${kind} script (got ${[...kinds].join(" ")})`);
        for (const [name, spec] of Object.entries(FILE_SCENARIOS)) {
            const r = renderHostFile(spec, { ...MARK, adopt: spec.adopt });
            scripts.push([`HostFile ${name}`, r.script], [`HostFile ${name} (delete)`, r.deleteScript]);
        }
        for (const [name, spec] of Object.entries(PACKAGE_SCENARIOS)) {
            const r = renderPackages(spec, MARK);
            scripts.push([`DebianPackages ${name}`, r.script], [`DebianPackages ${name} (delete)`, r.deleteScript]);
        }
        assert.ok(scripts.length > 40, `${scripts.length} scripts`);
        const found: string[] = [];
        for (const [name, text] of scripts) {
            // A command carries of the runtime what it reaches (core/shell.ts withReachableRuntime).
            const parts = splitRuntime(text);
            assert.ok(parts, `${name} carries the runtime`);
            for (const fn of functionDefinitions(`${parts.before}\n${parts.after}`)) {
                const where = [...PENDING].find((p) => p.endsWith(`: ${fn}`));
                if (!where) found.push(`${name}: ${fn}`);
            }
        }
        assert.deepEqual(found, []);
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
