// The shared argument rules: hostile values of every kind are refused with an ArgumentError naming the argument.
import { strict as assert } from "assert";
import { readFileSync } from "fs";
import { join } from "path";
import { ArgumentError } from "../../components/core/errors";
import { freeText, hostPath, isSystemTree, name, RESERVED_SERVICE_DIRECTORIES, SERVICE_DIRECTORY_ROOTS, serviceDirectory, ServiceDirectoryKind } from "../../components/core/rules";

function refuses(fn: () => unknown, arg: string, what: string): void {
    assert.throws(fn, (e: unknown) => {
        assert.ok(e instanceof ArgumentError, `${what}: not an ArgumentError: ${e}`);
        assert.equal(e.arg, arg, what);
        assert.ok(e.message.startsWith(`The '${arg}' argument `), `${what}: ${e.message}`);
        assert.match(e.message, /is not allowed: expected .+\.$/);
        return true;
    }, `${what} was accepted`);
}

describe("core rules", () => {
    it("import nothing but other core files and Node built-ins (no Pulumi)", () => {
        const src = readFileSync(join(__dirname, "../../components/core/rules.ts"), "utf8");
        const imports = [...src.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
        assert.ok(imports.length > 0);
        for (const i of imports) assert.match(i, /^(\.\/[a-z-]+|net)$/, `rules.ts imports ${i}`);
        assert.doesNotMatch(src, /require\(|@pulumi/);
    });

    describe("hostPath", () => {
        const good = ["/srv/data", "/var/backups/hearth/postgres", "/tank/pg-shop", "/srv/a.b_c+d@e=f,g-h", "/var/lib/machines/web", "/home/alice", "/x"];
        for (const p of good) it(`accepts ${p}`, () => assert.equal(hostPath("p", p), p));

        const hostile: [string, unknown][] = [
            ["command substitution", "/srv/$(touch /tmp/CANARY)"],
            ["backticks", "/srv/`id`"],
            ["a variable", "/srv/$HOME"],
            ["a brace variable", "/srv/${X}"],
            ["a glob star", "/srv/*"],
            ["a glob question mark", "/srv/dat?"],
            ["a glob class", "/srv/[ab]"],
            ["brace expansion", "/srv/{a,b}"],
            ["a tilde", "~/data"],
            ["a tilde inside", "/srv/~root"],
            ["a systemd specifier", "/srv/%n"],
            ["a semicolon", "/srv/a;reboot"],
            ["an ampersand", "/srv/a&b"],
            ["a pipe", "/srv/a|b"],
            ["a redirection", "/srv/a>b"],
            ["an input redirection", "/srv/a<b"],
            ["parentheses", "/srv/(a)"],
            ["a bang", "/srv/a!b"],
            ["a hash", "/srv/#a"],
            ["a double quote", '/srv/a"b'],
            ["a single quote", "/srv/a'b"],
            ["a backslash", "/srv/a\\b"],
            ["a colon (bind separator)", "/srv/a:/etc"],
            ["a space", "/srv/a b"],
            ["a tab", "/srv/a\tb"],
            ["a newline", "/srv/a\nb"],
            ["NUL", "/srv/a\0b"],
            ["DEL", "/srv/a\x7fb"],
            ["a non-breaking space", "/srv/a\u00a0b"],
            ["a Cyrillic lookalike", "/srv/d\u0430ta"],
            ["a right-to-left override", "/srv/\u202eatad"],
            ["a zero-width space", "/srv/da\u200bta"],
            ["'..'", "/srv/../etc"],
            ["'.'", "/srv/./x"],
            ["'//'", "/srv//x"],
            ["a trailing slash", "/srv/x/"],
            ["a relative path", "srv/x"],
            ["an empty string", ""],
            ["'/' itself", "/"],
            ["a segment that is an option", "/srv/-rf"],
            ["a path that is an option", "--help"],
            ["an overlong segment", `/${"a".repeat(256)}`],
            ["an overlong path", `/a${"/b".repeat(600)}`],
            ["a number", 42],
            ["an array", ["/srv"]],
            ["undefined", undefined],
        ];
        for (const [what, v] of hostile) it(`refuses ${what}`, () => refuses(() => hostPath("mountpoint", v), "mountpoint", what));

        it("has many hostile cases", () => assert.ok(hostile.length >= 40));

        const system = [
            "/", "/etc", "/etc/ssh", "/etc/credstore/x", "/usr", "/usr/local", "/bin", "/sbin", "/lib", "/lib64", "/lib/modules",
            "/boot", "/boot/efi", "/dev", "/dev/shm", "/proc", "/sys", "/sys/fs", "/run", "/run/sshd", "/var", "/var/lib",
            "/var/lib/postgresql", "/var/lib/postgresql/15/main", "/var/lib/machines", "/root", "/home", "/var/lib/systemd/linger",
        ];
        for (const p of system) {
            it(`refuses ${p} as a mountpoint (notSystemTree)`, () => {
                assert.ok(p === "/" || isSystemTree(p), p);
                refuses(() => hostPath("mountpoint", p, { notSystemTree: true }), "mountpoint", p);
            });
        }
        for (const p of ["/srv/data", "/var/lib/machines/web", "/home/alice", "/var/lib/app", "/tank/pg", "/var/log/app", "/mnt/backup"]) {
            it(`accepts ${p} as a mountpoint`, () => assert.equal(hostPath("mountpoint", p, { notSystemTree: true }), p));
        }
        it("names system trees in its error", () => {
            assert.throws(() => hostPath("mountpoint", "/etc", { notSystemTree: true }), /does not shadow the system/);
        });
    });

    describe("name", () => {
        const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
        it("accepts a matching name", () => assert.equal(name("machine", "web-1", LABEL, "a label"), "web-1"));
        for (const v of ["web;reboot", "Web", "web\n", "-web", "w\u0435b", "", "a".repeat(64), 1, null]) {
            it(`refuses ${JSON.stringify(v)}`, () => refuses(() => name("machine", v, LABEL, "a label"), "machine", String(v)));
        }
        it("refuses an unanchored pattern (a programming error, not an argument error)", () => {
            assert.throws(() => name("x", "a", /[a-z]+/, "letters"), (e: unknown) => e instanceof Error && !(e instanceof ArgumentError));
            assert.throws(() => name("x", "a", /^[a-z]+$/g, "letters"), (e: unknown) => e instanceof Error && !(e instanceof ArgumentError));
        });
    });

    describe("freeText", () => {
        const opts = { maxLength: 100 };
        for (const v of ["a web shop", "", "Ünïcödé ✓ 日本語", "emoji \u{1f600} pair", "en \u2013 dash and \u00e9"]) {
            it(`accepts ${JSON.stringify(v)}`, () => assert.equal(freeText("description", v, opts), v));
        }
        const hostile: [string, unknown][] = [
            ["NUL", "a\0b"],
            ["a newline", "a\nExecStart=/bin/sh"],
            ["a carriage return", "a\rb"],
            ["a tab on one line", "a\tb"],
            ["an escape sequence", "a\x1b[2Jb"],
            ["DEL", "a\x7fb"],
            ["a C1 control (CSI)", "a\x9bb"],
            ["a C1 control (NEL)", "a\x85b"],
            ["LRE", "a\u202ab"],
            ["RLE", "a\u202bb"],
            ["PDF", "a\u202cb"],
            ["LRO", "a\u202db"],
            ["RLO", "safe \u202eexe.sh"],
            ["LRI", "a\u2066b"],
            ["RLI", "a\u2067b"],
            ["FSI", "a\u2068b"],
            ["PDI", "a\u2069b"],
            ["LRM", "a\u200eb"],
            ["RLM", "a\u200fb"],
            ["ALM", "a\u061cb"],
            ["ZWSP", "a\u200bb"],
            ["ZWNJ", "a\u200cb"],
            ["ZWJ", "a\u200db"],
            ["WORD JOINER", "a\u2060b"],
            ["BOM", "\ufeffa"],
            ["LINE SEPARATOR", "a\u2028b"],
            ["PARAGRAPH SEPARATOR", "a\u2029b"],
            ["a lone high surrogate", "a\ud83db"],
            ["a lone low surrogate", "a\ude00b"],
            ["a reversed surrogate pair", "a\ude00\ud83db"],
            ["too long", "a".repeat(101)],
            ["a number", 7],
            ["an object", { toString: () => "x" }],
        ];
        for (const [what, v] of hostile) it(`refuses ${what}`, () => refuses(() => freeText("environment.A", v, opts), "environment.A", what));

        it("allows tab and newline only in multi-line text, never other controls", () => {
            assert.equal(freeText("body", "a\n\tb", { maxLength: 10, oneLine: false }), "a\n\tb");
            refuses(() => freeText("body", "a\rb", { maxLength: 10, oneLine: false }), "body", "CR");
            refuses(() => freeText("body", "a\u202eb", { maxLength: 10, oneLine: false }), "body", "RLO");
        });
        it("honours minLength", () => refuses(() => freeText("description", "", { maxLength: 10, minLength: 1 }), "description", "empty"));
        it("shows invisible characters escaped in its message", () => {
            assert.throws(() => freeText("description", "a\u202eb", opts), (e: unknown) => e instanceof ArgumentError && e.message.includes("\\u202e"));
        });
    });

    describe("serviceDirectory", () => {
        const kinds = Object.keys(SERVICE_DIRECTORY_ROOTS) as ServiceDirectoryKind[];
        it("reserves hearth under every root", () => {
            for (const k of kinds) refuses(() => serviceDirectory("d", k, "hearth"), "d", `hearth under ${SERVICE_DIRECTORY_ROOTS[k]}`);
        });
        for (const k of kinds) {
            for (const n of RESERVED_SERVICE_DIRECTORIES[k]) {
                it(`refuses ${n} (and below it) under ${SERVICE_DIRECTORY_ROOTS[k]}, saying it is reserved there`, () => {
                    for (const v of [n, `${n}/x`, `${n}/x/y/z`]) {
                        refuses(() => serviceDirectory("d", k, v), "d", v);
                        assert.throws(() => serviceDirectory("d", k, v), new RegExp(`reserved under ${SERVICE_DIRECTORY_ROOTS[k]}`));
                    }
                });
            }
        }
        const hostile: [string, unknown][] = [
            ["a traversal", "../hearth"],
            ["a traversal inside", "app/../../hearth"],
            ["an absolute path", "/var/lib/hearth"],
            ["a dot segment", "./hearth"],
            ["a trailing slash", "app/"],
            ["five segments", "a/b/c/d/e"],
            ["a newline", "app\nExecStart=/bin/sh"],
            ["a specifier", "%n"],
            ["a number", 7],
        ];
        for (const [what, v] of hostile) it(`refuses ${what}`, () => refuses(() => serviceDirectory("stateDirectory", "state", v), "stateDirectory", what));
        it("accepts ordinary names, and names that only start like a reserved one", () => {
            for (const v of ["app", "radicale/collections", "hearth-dns-example", "hearthy", "app/hearth", "a.b_c-d"]) assert.equal(serviceDirectory("stateDirectory", "state", v), v);
        });
    });
});
