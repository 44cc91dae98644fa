// The Pulumi CLI runs the site program transpile-only: hearth's Pulumi.yaml and the site template point the Node.js
// language host at a tsconfig of the program's own with noCheck, while `npm run typecheck` still type-checks the program.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import yaml = require("js-yaml");
import * as ts from "typescript";

const root = path.resolve(__dirname, "../..");

interface Project {
    readonly dir: string;
    readonly main: string;
    readonly options: Record<string, unknown>;
}

function readProject(dir: string): Project {
    const doc = yaml.load(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) as { main?: string; runtime?: { name?: string; options?: Record<string, unknown> } };
    assert.equal(doc.runtime?.name, "nodejs", `${dir}/Pulumi.yaml: runtime.name`);
    assert.equal(typeof doc.main, "string", `${dir}/Pulumi.yaml: main`);
    return { dir, main: path.join(dir, doc.main!), options: doc.runtime?.options ?? {} };
}

/** The directory the CLI runs the program in (pkg/engine getPwdMain): main's directory when main is a file. */
function programDir(p: Project): string {
    return fs.statSync(p.main).isDirectory() ? p.main : path.dirname(p.main);
}

/** The compilerOptions the language host's loader reads (tsutils.loadTypeScriptCompilerOptions): the file's own, raw. */
function ownCompilerOptions(file: string): Record<string, unknown> {
    const parsed = ts.parseConfigFileTextToJson(file, fs.readFileSync(file, "utf8"));
    assert.equal(parsed.error, undefined, `${file} must parse`);
    return parsed.config.compilerOptions ?? {};
}

/** The config as ts-node reads it (extends resolved), failing on any diagnostic, as ts-node does. */
function parsedConfig(file: string): ts.ParsedCommandLine {
    const read = ts.readConfigFile(file, ts.sys.readFile);
    assert.equal(read.error, undefined, `${file} must be readable`);
    const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, path.dirname(file), undefined, file);
    assert.deepEqual(parsed.errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, "\n")), [], `${file}: diagnostics`);
    return parsed;
}

describe("program start under the Pulumi CLI", () => {
    it("the installed SDK's loader honours runtime.options.tsconfig and a tsconfig's noCheck", () => {
        // If a new SDK drops either, the site program silently goes back to type-checking on every `pulumi up`.
        const run = fs.readFileSync(require.resolve("@pulumi/pulumi/cmd/run/run.js"), "utf8");
        assert.match(run, /process\.env\["PULUMI_NODEJS_TSCONFIG_PATH"\]/);
        assert.match(run, /transpileOnly = compilerOptions\.noCheck/);
        assert.match(run, /loadTypeScriptCompilerOptions\(tsConfigPath\)/);
    });

    for (const [name, dir] of [["hearth's own stacks", root], ["the site template", path.join(root, "templates/site")]] as const) {
        describe(name, () => {
            const project = readProject(dir);
            const tsconfig = typeof project.options.tsconfig === "string" ? path.resolve(programDir(project), project.options.tsconfig) : undefined;

            it("runs through ts-node with a tsconfig of the program's own that exists", () => {
                assert.equal(project.options.typescript, true);
                assert.ok(tsconfig, `${dir}/Pulumi.yaml: runtime.options.tsconfig must be set`);
                assert.ok(fs.existsSync(tsconfig), `${tsconfig} (runtime.options.tsconfig, relative to ${programDir(project)}) must exist`);
                assert.notEqual(path.basename(tsconfig), "tsconfig.json", "the program's tsconfig must not be the one `npm run typecheck` uses");
            });

            it("that tsconfig turns type checking off in its own compilerOptions, and ts-node can read it", () => {
                assert.equal(ownCompilerOptions(tsconfig!).noCheck, true, `${tsconfig}: compilerOptions.noCheck`);
                const parsed = parsedConfig(tsconfig!);
                assert.deepEqual(parsed.fileNames.map((f) => path.resolve(f)), [project.main]);
                assert.equal(parsed.options.module, ts.ModuleKind[project.dir === root ? "CommonJS" : "Node16"], "emits what the project's tsconfig.json checks");
            });

            it("the program transpiles under that tsconfig to CommonJS", () => {
                const out = ts.transpileModule(fs.readFileSync(project.main, "utf8"), { fileName: project.main, compilerOptions: parsedConfig(tsconfig!).options });
                assert.deepEqual(out.diagnostics ?? [], []);
                assert.match(out.outputText, /require\("/);
                assert.doesNotMatch(out.outputText, /^import /m);
            });
        });
    }

    it("`npm run typecheck` (tsconfig.json) type-checks hearth's program and the template's, without noCheck", () => {
        const parsed = parsedConfig(path.join(root, "tsconfig.json"));
        assert.notEqual(parsed.options.noCheck, true);
        const files = new Set(parsed.fileNames.map((f) => path.resolve(f)));
        for (const f of ["stacks/index.ts", "stacks/site.ts", "templates/site/index.ts"]) assert.ok(files.has(path.join(root, f)), `tsconfig.json must include ${f}`);
    });

    it("the template's own `npm run typecheck` (its tsconfig.json) checks its program", () => {
        const parsed = parsedConfig(path.join(root, "templates/site/tsconfig.json"));
        assert.notEqual(parsed.options.noCheck, true);
        assert.ok(parsed.fileNames.map((f) => path.resolve(f)).includes(path.join(root, "templates/site/index.ts")));
        assert.equal(parsed.options.strict, true);
    });
});
