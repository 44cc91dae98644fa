// The dependency rule checker (tests/layering.ts): the real tree passes, and a temp copy with one planted forbidden
// import fails, naming the file and the import.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkLayering, formatViolation, STACKS_EXCEPTIONS, Violation } from "./layering";

const ROOT = path.join(__dirname, "..");

/** Copies the checked trees (sources only) into a fresh temp directory. */
function copyTree(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-layering-"));
    for (const top of ["components", "stacks", "policies"]) {
        fs.cpSync(path.join(ROOT, top), path.join(dir, top), {
            recursive: true,
            filter: (src) => !/[\\/](node_modules|dist)([\\/]|$)/.test(path.relative(ROOT, src)),
        });
    }
    return dir;
}

/** Prepends an import line to a file of the copy (creating the file when it does not exist). */
function plant(dir: string, file: string, line: string): void {
    const abs = path.join(dir, file);
    const old = fs.existsSync(abs) ? fs.readFileSync(abs, "utf8") : "";
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, `${line}\n${old}`);
}

describe("layering: the dependency rule", function () {
    this.timeout(120000);
    let dir: string;

    beforeEach(() => {
        dir = copyTree();
    });
    afterEach(() => {
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("holds on the repository", () => {
        const violations = checkLayering(ROOT);
        assert.deepEqual(violations.map(formatViolation), []);
    });

    it("holds on an untouched copy (the planted cases below start from a passing tree)", () => {
        assert.deepEqual(checkLayering(dir).map(formatViolation), []);
    });

    const only = (vs: Violation[]): Violation => {
        assert.equal(vs.length, 1, `expected one violation, got:\n${vs.map(formatViolation).join("\n")}`);
        return vs[0];
    };

    const cases: { what: string; file: string; line: string; imports: string; rule: RegExp; via?: string[] }[] = [
        { what: "a renderer importing @pulumi/pulumi", file: "components/zfs/render.ts", line: `import * as pulumi from "@pulumi/pulumi"; void pulumi;`, imports: "@pulumi/pulumi", rule: /no @pulumi/ },
        { what: "a renderer importing Pulumi types only", file: "components/wireguard/render.ts", line: `import type { Input } from "@pulumi/pulumi";`, imports: "@pulumi/pulumi", rule: /no @pulumi/ },
        { what: "the core importing wiring (validate.ts)", file: "components/core/rules.ts", line: `import { fail } from "../validate"; void fail;`, imports: "components/validate.ts", rule: /no wiring/ },
        { what: "net/ importing a component's wiring", file: "components/net/ipv6.ts", line: `import { ZfsDataset } from "../zfs"; void ZfsDataset;`, imports: "components/zfs/index.ts", rule: /no wiring/ },
        { what: "a component importing stacks/", file: "components/zfs/args.ts", line: `import { buildSite } from "../../stacks/site"; void buildSite;`, imports: "stacks/site.ts", rule: /never import stacks/ },
        { what: "a component importing tests/", file: "components/dns/names.ts", line: `import "../../tests/mocks";`, imports: "tests/mocks", rule: /never import stacks\/, policies\/, tests\// },
        { what: "stacks importing a component internal", file: "stacks/build/hosts.ts", line: `import { resolveZfsDatasetArgs } from "../../components/zfs/args"; void resolveZfsDatasetArgs;`, imports: "components/zfs/args.ts", rule: /only through components\/index\.ts/ },
        { what: "a policy importing wiring", file: "policies/lib/props.ts", line: `import { Host } from "../../components/host"; void Host;`, imports: "components/host.ts", rule: /only components\/core\/ and components\/tokens\.ts/ },
    ];
    for (const c of cases) {
        it(`fails for ${c.what}, naming ${c.file} and ${c.imports}`, () => {
            plant(dir, c.file, c.line);
            const v = only(checkLayering(dir));
            assert.equal(v.file, c.file);
            assert.equal(v.imports, c.imports);
            assert.match(v.rule, c.rule);
            assert.equal(v.via, undefined);
        });
    }

    it("follows run-time imports: a renderer reaching Pulumi through a helper names the chain", () => {
        plant(dir, "components/postgres/helper.ts", `import * as pulumi from "@pulumi/pulumi";\nexport const x = pulumi;`);
        plant(dir, "components/postgres/render.ts", `import { x } from "./helper"; void x;`);
        const v = only(checkLayering(dir));
        assert.equal(v.file, "components/postgres/render.ts");
        assert.equal(v.imports, "@pulumi/pulumi");
        assert.deepEqual(v.via, ["components/postgres/helper.ts"]);
        assert.match(formatViolation(v), /^components\/postgres\/render\.ts: imports @pulumi\/pulumi \(via components\/postgres\/helper\.ts\)/);
    });

    it("follows the core from a policy: core reaching a component file fails the policy that imports it", () => {
        plant(dir, "components/core/errors.ts", `import { shq } from "../shell"; void shq;`);
        const vs = checkLayering(dir).filter((v) => v.file.startsWith("policies/"));
        assert.ok(vs.length > 0, "a policy importing core/errors.ts reaches components/shell.ts");
        for (const v of vs) {
            assert.equal(v.imports, "components/shell.ts");
            assert.equal(v.via?.[v.via.length - 1], "components/core/errors.ts", formatViolation(v));
        }
    });

    it("reports a listed stacks exception that no longer matches an import", () => {
        // The first listed exception, whichever it is: its import is removed from the copy.
        const [importer, imported] = Object.keys(STACKS_EXCEPTIONS)[0].split(" -> ");
        const f = path.join(dir, importer);
        const names = (spec: string) => path.posix.join(path.posix.dirname(importer), spec).replace(/(\.ts)?$/, ".ts") === imported;
        fs.writeFileSync(f, fs.readFileSync(f, "utf8").replace(/^import [^;]* from "([^"]+)";$/gm, (line, spec: string) => (names(spec) ? "" : line)));
        const v = only(checkLayering(dir));
        assert.equal(v.file, importer);
        assert.equal(v.imports, imported);
        assert.match(v.rule, /stale entry/);
    });

    it("the command fails with exit status 1 and names the file and the import", () => {
        plant(dir, "components/dns/render.ts", `import { Host } from "../host"; void Host;`);
        const r = spawnSync(process.execPath, ["--import", "tsx", path.join(__dirname, "layering.ts"), dir], { cwd: ROOT, encoding: "utf8" });
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stderr, /^components\/dns\/render\.ts: imports components\/host\.ts: /m);
        const ok = spawnSync(process.execPath, ["--import", "tsx", path.join(__dirname, "layering.ts"), ROOT], { cwd: ROOT, encoding: "utf8" });
        assert.equal(ok.status, 0, ok.stderr);
        assert.match(ok.stdout, /dependency rule holds/);
    });
});
