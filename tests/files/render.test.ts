// HostFile renderer: bash -n + shellcheck on every script, and what each script may and may not do.
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import { FileSpec, fileKey, renderHostFile } from "../../components/files/render";
import { RUNTIME } from "../../components/core/runtime";
import { parseScriptFiles, frameStdin } from "../../components/shell";
import { checkScript } from "../tools";
import { apr1, htpasswdLine, htpasswdSalt } from "../../components/core/htpasswd";
import { ArgumentError } from "../../components/core/errors";
import { FILE_BASE as base, FILE_MARK as MARK, FILE_SCENARIOS as cases } from "./scenarios";

const own = (script: string) => script.slice(script.indexOf(RUNTIME) + RUNTIME.length);

describe("files render", () => {
    for (const [name, spec] of Object.entries(cases)) {
        describe(name, () => {
            const r = renderHostFile(spec, { ...MARK, adopt: spec.adopt });
            it("passes bash -n and shellcheck", () => {
                assert.deepEqual(checkScript(r.script), []);
                assert.deepEqual(checkScript(r.deleteScript), []);
            });
            it("names its owner and aliases, takes the files lock, and reads its state under its path's key", () => {
                for (const s of [r.script, r.deleteScript]) {
                    assert.match(own(s), new RegExp(`^hearth_owner=${MARK.id.replace(/[/:]/g, "\\$&")}$`, "m"));
                    assert.match(own(s), /^hearth_aliases=\(home\/prod\/hearth:files:File\/old\)$/m);
                    assert.match(own(s), new RegExp(`^hearth_adopt=${spec.adopt ? 1 : 0}$`, "m"));
                    assert.match(own(s), /^hearth_lock files$/m);
                }
                assert.match(r.script, new RegExp(`^k=${fileKey(spec.path)}$`, "m"));
                assert.match(fileKey(spec.path), /^files\/[0-9a-f]{32}$/);
            });
            it("writes through the runtime (a temp file in the directory, then a rename), never through its own temp name", () => {
                assert.doesNotMatch(own(r.script), /mktemp|\$\$|>\s*"\$path"|cp /);
                const verb = spec.secret ? "hearth_install_secret" : "hearth_install";
                assert.match(r.script, new RegExp(`^${verb} ${spec.path.replace(/[/.]/g, "\\$&")} ${spec.mode} ${spec.owner} ${spec.group}$`, "m"));
            });
            it("creates parent directories only with createParents, recording them before making them", () => {
                const own_ = own(r.script);
                if (spec.createParents) {
                    const record = own_.indexOf('hearth_record "$k/dirs"');
                    assert.ok(record >= 0 && record < own_.lastIndexOf('hearth_dir "$dir"'), "the directories are recorded, before they are made");
                    assert.ok(record < own_.indexOf("hearth_install"), "and before the file is written");
                } else {
                    assert.match(own_, /\[ -d "\$dir" \] \|\| hearth_die 65 .*createParents: true/);
                    assert.doesNotMatch(own_, /hearth_record "\$k\/dirs"/);
                }
            });
            it("checks a non-root owner and group exist before writing", () => {
                const s = own(r.script);
                if (spec.owner !== "root") assert.ok(s.indexOf(`getent passwd ${spec.owner}`) >= 0 && s.indexOf(`getent passwd ${spec.owner}`) < s.indexOf("hearth_install"));
                else assert.doesNotMatch(s, /getent passwd/);
            });
            it("releases a renamed path's old file only after every check on the new path and its write", () => {
                const s = own(r.script);
                const release = s.indexOf('hearth_file_release_mine "$k"');
                assert.ok(release > 0, "the converge releases the old paths");
                for (const before of ["hearth_die 65", "hearth_claim", 'hearth_file_inherit "$k" "$dir"', spec.secret ? "hearth_install_secret" : "hearth_install "]) {
                    const at = s.indexOf(before);
                    assert.ok(at >= 0 && at < release, `${before} comes before the release`);
                }
                assert.equal(s.indexOf("hearth_file_release_mine"), release, "released once, at the end");
            });
            it("the delete releases only what its own mark recorded", () => {
                assert.match(own(r.deleteScript), /^hearth_file_release_mine ""$/m);
                assert.doesNotMatch(own(r.deleteScript), /hearth_install|rm -rf/);
            });
        });
    }
    it("the offline plan reads a plain file back from the script and stdin, and skips a secret one", () => {
        const plain = renderHostFile(base, MARK);
        assert.deepEqual(parseScriptFiles(plain.script, frameStdin(["a = 1\n"])), [{ path: base.path, mode: 0o644, owner: "root", group: "root", content: "a = 1\n" }]);
        const secret = renderHostFile(cases.secret, MARK);
        assert.deepEqual(parseScriptFiles(secret.script, frameStdin(["hunter2"])), []);
    });
    it("a changed path, mode or owner changes the hash; the same spec gives the same scripts", () => {
        const h = (s: FileSpec) => renderHostFile(s, MARK).hash;
        assert.equal(h(base), h({ ...base }));
        assert.notEqual(h(base), h({ ...base, mode: "0640" }));
        assert.notEqual(h(base), h({ ...base, owner: "radicale" }));
        assert.notEqual(h(base), h({ ...base, path: "/etc/radicale/conf.d/b.conf" }));
    });
});

describe("htpasswdLine", () => {
    const openssl = (salt: string, pw: string) => execFileSync("openssl", ["passwd", "-apr1", "-salt", salt, "-stdin"], { input: `${pw}\n`, encoding: "utf8" }).trim();
    it("is Apache's $apr1$ MD5-crypt, byte for byte what openssl passwd -apr1 gives", () => {
        for (const [salt, pw] of [["abcdefgh", "secret"], ["./09AZaz", "a"], ["x", "a much longer password than sixteen bytes, to cover the loop"], ["Zz", "pässwörd ünïcode"]]) {
            assert.equal(apr1(pw, salt), openssl(salt, pw), `${salt} ${pw}`);
        }
    });
    it("derives its salt from the password, the user and the context: the same three give the same line, any other gives another", () => {
        const ctx = "home/prod/radicale";
        const a = htpasswdLine("alice", "correct horse", ctx);
        assert.equal(a, htpasswdLine("alice", "correct horse", ctx));
        assert.notEqual(a, htpasswdLine("alice", "correct horsf", ctx));
        assert.notEqual(htpasswdSalt("alice", "pw", ctx), htpasswdSalt("bob", "pw", ctx));
        assert.match(a, /^alice:\$apr1\$[./0-9A-Za-z]{8}\$[./0-9A-Za-z]{22}$/);
        const salt = a.split("$")[2];
        assert.equal(a, `alice:${openssl(salt, "correct horse")}`);
    });
    it("gives another line on another site or service for the same user and password (no reuse shows, no precomputation)", () => {
        const lines = ["home/prod/radicale", "home/prod/webdav", "lab/prod/radicale", "home/prod/radicale2"].map((c) => htpasswdLine("alice", "hunter2", c));
        assert.equal(new Set(lines).size, lines.length);
        assert.equal(new Set(lines.map((l) => l.split("$")[2])).size, lines.length, "the salts differ");
        assert.notEqual(htpasswdLine("alice", "hunter2", "home/prod/radicale"), htpasswdLine("alice", "hunter2"));
        // The context is a separate HMAC field: moving text between the user and the context changes the salt.
        assert.notEqual(htpasswdSalt("alice", "pw", "b"), htpasswdSalt("alic", "pw", "eb"));
        for (const l of lines) assert.equal(l, `alice:${openssl(l.split("$")[2], "hunter2")}`);
    });
    it("without a context keeps the line of earlier releases (byte for byte)", () => {
        assert.equal(htpasswdSalt("alice", "correct horse"), "B0jlvWey");
        assert.equal(htpasswdLine("alice", "correct horse"), `alice:${openssl("B0jlvWey", "correct horse")}`);
    });
    it("refuses a context it cannot carry, naming it", () => {
        for (const c of ["", "a\nb", "a\0b", "x".repeat(257), 5 as unknown as string, null as unknown as string]) {
            assert.throws(() => htpasswdLine("alice", "pw", c), (e: unknown) => e instanceof ArgumentError && e.arg === "context" && /1 to 256 characters/.test(e.allowed));
        }
    });
    it("refuses a user an htpasswd file would misread, and a password it cannot carry, never showing the password", () => {
        for (const user of ["", "a:b", "#alice", "al ice", "a\nb", "x".repeat(65)]) {
            assert.throws(() => htpasswdLine(user, "pw"), (e: unknown) => e instanceof ArgumentError && e.arg === "user");
        }
        for (const pw of ["", "a\nb", "a\rb", "a\0b", "x".repeat(4097)]) {
            assert.throws(() => htpasswdLine("alice", pw), (e: unknown) => e instanceof ArgumentError && e.arg === "password" && !String(e.value).includes("a\nb") && !e.message.includes("xxxx"));
        }
    });
});
