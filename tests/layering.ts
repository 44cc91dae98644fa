// The dependency rule (DESIGN.md, "Layout"), checked over the source tree by reading every import with the TypeScript
// parser:
//  - the core (components/core/), the net planners (components/net/) and every renderer (components/**/render.ts)
//    import no @pulumi/* package and no wiring (host.ts, ownership.ts, validate.ts, components/index.ts, a
//    component's index.ts), directly or through any file they import;
//  - components/ never imports stacks/, policies/, tests/ or bench/;
//  - stacks/ imports components/ only through components/index.ts (the public API), save the exceptions listed below;
//  - policies/ import from outside policies/ only the core and components/tokens.ts, directly or transitively.
// A pure file may not name @pulumi/* or wiring even in a type-only import; beyond its own imports, the check follows
// what loads at run time (value imports), since a type-only import of a type-only import loads nothing.
//
// Run: `tsx tests/layering.ts [root]` (exit status 1 and one line per violation when the rule is broken).
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

/** One forbidden import: the importing file, what it imports, and (for a transitive one) the chain that leads there. */
export interface Violation {
    file: string;
    imports: string;
    rule: string;
    via?: string[];
}

/**
 * stacks/ files that import a component internal, each with why (the site config imports only the public API: its
 * sections derive from the component schemas). Each entry is `importer -> imported file`; an entry that no longer matches an import is itself reported, so the list
 * only shrinks.
 */
export const STACKS_EXCEPTIONS: Record<string, string> = {
    // The offline planner simulates what converge scripts print (the stdout protocols) without a host.
    "stacks/plan-runtime.ts -> components/core/protocols.ts": "the stdout protocols are not public API",
    // The offline planner reads installed files and secret frames with the same parser the policies use.
    "stacks/plan-report.ts -> components/shell.ts": "parseScriptFiles/countSecretFrames (core/shell.ts) are not public API",
};

const ROOTS = ["components", "stacks", "policies"];
const SKIP_DIRS = new Set(["node_modules", "dist"]);

function walk(root: string, dir: string, out: string[]): void {
    const abs = path.join(root, dir);
    if (!fs.existsSync(abs)) return;
    for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
        const rel = `${dir}/${entry.name}`;
        if (entry.isDirectory()) {
            if (!SKIP_DIRS.has(entry.name)) walk(root, rel, out);
        } else if (/\.ts$/.test(entry.name) && !/\.d\.ts$/.test(entry.name)) {
            out.push(rel);
        }
    }
}

/** A module specifier a file names, and whether only types come through it (erased from the compiled code). */
export interface Specifier {
    spec: string;
    typeOnly: boolean;
}

/** True when an import/export declaration carries types only: `import type`, `export type`, or every binding `type`. */
function declarationIsTypeOnly(node: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
    if (ts.isExportDeclaration(node)) {
        if (node.isTypeOnly) return true;
        return !!node.exportClause && ts.isNamedExports(node.exportClause) && node.exportClause.elements.length > 0 && node.exportClause.elements.every((e) => e.isTypeOnly);
    }
    const clause = node.importClause;
    if (!clause) return false; // a side-effect import
    if (clause.isTypeOnly) return true;
    if (clause.name || !clause.namedBindings || !ts.isNamedImports(clause.namedBindings)) return false;
    return clause.namedBindings.elements.length > 0 && clause.namedBindings.elements.every((e) => e.isTypeOnly);
}

/** Every module specifier a file names: import/export ... from, import x = require(), require(), import(), import("x").T. */
export function specifiers(fileName: string, text: string): Specifier[] {
    const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    const out: Specifier[] = [];
    const visit = (node: ts.Node): void => {
        if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
            out.push({ spec: node.moduleSpecifier.text, typeOnly: declarationIsTypeOnly(node) });
        } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
            out.push({ spec: node.moduleReference.expression.text, typeOnly: node.isTypeOnly });
        } else if (ts.isCallExpression(node) && node.arguments.length >= 1 && ts.isStringLiteralLike(node.arguments[0])) {
            const callee = node.expression;
            if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === "require")) {
                out.push({ spec: node.arguments[0].text, typeOnly: false });
            }
        } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
            out.push({ spec: node.argument.literal.text, typeOnly: true });
        }
        ts.forEachChild(node, visit);
    };
    visit(sf);
    return out;
}

/** A relative specifier resolved to a repository-relative .ts file, or undefined when it names no source file. */
function resolveRelative(root: string, from: string, spec: string): string | undefined {
    const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec.replace(/\.js$/, "")));
    for (const candidate of [base, `${base}.ts`, `${base}/index.ts`]) {
        const abs = path.join(root, candidate);
        if (candidate.endsWith(".ts") && fs.existsSync(abs) && fs.statSync(abs).isFile()) return candidate;
    }
    return undefined;
}

/** An import edge: a source file in the tree, or a package. */
type Target = ({ kind: "file"; file: string } | { kind: "package"; name: string }) & { typeOnly?: boolean };

function resolve(root: string, from: string, spec: string): Target {
    if (spec.startsWith(".")) {
        const file = resolveRelative(root, from, spec);
        // An unresolvable relative import (a .json, a missing file) is named as written, relative to the root.
        return file ? { kind: "file", file } : { kind: "file", file: path.posix.normalize(path.posix.join(path.posix.dirname(from), spec)) };
    }
    // The package's own name (tsconfig paths) is the public API.
    if (spec === "pulumi-hearth") return { kind: "file", file: "components/index.ts" };
    return { kind: "package", name: spec };
}

const isPure = (f: string): boolean => /^components\/(core|net)\//.test(f) || /^components\/.*\/?render\.ts$/.test(f);

/** Wiring: Pulumi resources and the ResourceError conversion. components/net/index.ts and core/ are not wiring. */
const isWiring = (f: string): boolean =>
    ["components/host.ts", "components/ownership.ts", "components/validate.ts", "components/index.ts"].includes(f) ||
    (/^components\/[^/]+\/index\.ts$/.test(f) && !/^components\/(core|net)\//.test(f));

const isPolicyAllowed = (f: string): boolean => /^components\/core\//.test(f) || f === "components/tokens.ts";

/** Checks the dependency rule over the tree at `root`; returns the violations (empty when the rule holds). */
export function checkLayering(root: string): Violation[] {
    const files: string[] = [];
    for (const r of ROOTS) walk(root, r, files);
    const edges = new Map<string, Target[]>();
    const edgesOf = (file: string): Target[] => {
        let e = edges.get(file);
        if (!e) {
            const abs = path.join(root, file);
            const text = fs.existsSync(abs) ? fs.readFileSync(abs, "utf8") : "";
            e = specifiers(file, text).map((s) => ({ ...resolve(root, file, s.spec), typeOnly: s.typeOnly }));
            edges.set(file, e);
        }
        return e;
    };
    const label = (t: Target): string => (t.kind === "file" ? t.file : t.name);
    const violations: Violation[] = [];

    /**
     * Follows imports from `start` through files that `follow` accepts; reports the first path to each edge that `bad`
     * rejects. `via` is the chain of files from `start` to the importer.
     */
    const closure = (start: string, follow: (f: string) => boolean, bad: (t: Target) => boolean, rule: string): void => {
        const seen = new Set<string>([start]);
        const queue: { file: string; via: string[] }[] = [{ file: start, via: [] }];
        const reported = new Set<string>();
        while (queue.length) {
            const { file, via } = queue.shift()!;
            for (const t of edgesOf(file)) {
                // Beyond the start file's own imports, only what loads at run time.
                if (t.typeOnly && file !== start) continue;
                if (bad(t)) {
                    const key = label(t);
                    if (!reported.has(key)) {
                        reported.add(key);
                        const chain = [...via, file].slice(1);
                        violations.push(chain.length ? { file: start, imports: key, rule, via: chain } : { file: start, imports: key, rule });
                    }
                    continue;
                }
                if (t.kind === "file" && !t.typeOnly && follow(t.file) && !seen.has(t.file)) {
                    seen.add(t.file);
                    queue.push({ file: t.file, via: [...via, file] });
                }
            }
        }
    };

    for (const file of files) {
        if (isPure(file)) {
            closure(
                file,
                // Pure files are checked on their own; follow the others they import.
                (f) => f.startsWith("components/") && !isPure(f),
                (t) => (t.kind === "package" && t.name.startsWith("@pulumi/")) || (t.kind === "file" && isWiring(t.file)),
                "core, net and renderers import no @pulumi/* and no wiring",
            );
        }
        if (file.startsWith("components/")) {
            for (const t of edgesOf(file)) {
                if (t.kind === "file" && /^(stacks|policies|tests|bench)\//.test(t.file)) {
                    violations.push({ file, imports: t.file, rule: "components never import stacks/, policies/, tests/ or bench/" });
                }
            }
        }
        if (file.startsWith("stacks/")) {
            for (const t of edgesOf(file)) {
                if (t.kind !== "file" || !t.file.startsWith("components/") || t.file === "components/index.ts") continue;
                if (`${file} -> ${t.file}` in STACKS_EXCEPTIONS) continue;
                violations.push({ file, imports: t.file, rule: "stacks import components only through components/index.ts" });
            }
        }
        if (file.startsWith("policies/")) {
            closure(
                file,
                // Each policy file is checked on its own; follow what it reaches through the core.
                (f) => isPolicyAllowed(f),
                (t) => t.kind === "file" && !t.file.startsWith("policies/") && !isPolicyAllowed(t.file),
                "policies import only components/core/ and components/tokens.ts",
            );
        }
    }

    // An exception that matches no import any more is stale: remove it.
    for (const key of Object.keys(STACKS_EXCEPTIONS)) {
        const [from, to] = key.split(" -> ");
        if (!files.includes(from) || !edgesOf(from).some((t) => t.kind === "file" && t.file === to)) {
            violations.push({ file: from, imports: to, rule: "stale entry in STACKS_EXCEPTIONS (tests/layering.ts): remove it" });
        }
    }
    return violations;
}

export function formatViolation(v: Violation): string {
    return `${v.file}: imports ${v.imports}${v.via && v.via.length ? ` (via ${v.via.join(" -> ")})` : ""}: ${v.rule}`;
}

if (require.main === module) {
    const root = path.resolve(process.argv[2] ?? path.join(__dirname, ".."));
    const violations = checkLayering(root);
    for (const v of violations) console.error(formatViolation(v));
    if (violations.length) {
        console.error(`layering: ${violations.length} violation(s) of the dependency rule (DESIGN.md, "Layout")`);
        process.exit(1);
    }
    console.log("layering: the dependency rule holds");
}
