// hearth_install_in_place: a reloadable service's config file keeps its inode through every change (content, mode,
// owner), so the running service's bind mount sees it; a missing file or a link at the path is installed by a rename.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { RUNTIME } from "../../components/core/runtime";
import { frameStdin } from "../../components/core/shell";

const canRun = process.getuid?.() === 0;

function install(file: string, mode: string, body: string): string {
    const r = spawnSync("bash", ["-c", `${RUNTIME}\nhearth_owner=test\nhearth_install_in_place "$1" "$2" root root\n`, "x", file, mode], { input: frameStdin([body]), encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
}

(canRun ? describe : describe.skip)("hearth_install_in_place (root: the runtime writes only below root-only directories)", () => {
    let dir: string;
    beforeEach(() => {
        // Below a root-only tree (/tmp is writable by everyone, so the runtime refuses it).
        dir = fs.mkdtempSync("/var/lib/hearth-inplace-");
        fs.chmodSync(dir, 0o755);
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("keeps the inode through a content change and a mode change, and changes nothing when all is as declared", () => {
        const f = path.join(dir, "app.conf");
        install(f, "0644", "v1\n");
        const ino = fs.statSync(f).ino;
        assert.match(install(f, "0644", "v2 longer\n"), /rewrote .* in place/);
        assert.equal(fs.readFileSync(f, "utf8"), "v2 longer\n");
        assert.equal(fs.statSync(f).ino, ino, "content change kept the inode");
        install(f, "0640", "v2 longer\n");
        assert.equal(fs.statSync(f).mode & 0o7777, 0o640);
        assert.equal(fs.statSync(f).ino, ino, "mode change kept the inode");
        install(f, "0640", "v3\n");
        assert.equal(fs.readFileSync(f, "utf8"), "v3\n", "a shorter content is truncated");
        assert.equal(fs.statSync(f).ino, ino);
        const before = fs.statSync(f).mtimeMs;
        assert.doesNotMatch(install(f, "0640", "v3\n"), /rewrote/);
        assert.equal(fs.statSync(f).mtimeMs, before, "nothing written when content, mode and owner are as declared");
        assert.deepEqual(fs.readdirSync(dir), ["app.conf"], "no temp file left behind");
    });

    it("replaces a link at the path by a file (never writing through it), and installs a missing file", () => {
        const outside = path.join(dir, "outside");
        fs.writeFileSync(outside, "keep\n");
        const f = path.join(dir, "app.conf");
        fs.symlinkSync(outside, f);
        install(f, "0644", "mine\n");
        assert.equal(fs.readFileSync(outside, "utf8"), "keep\n");
        assert.ok(!fs.lstatSync(f).isSymbolicLink());
        assert.equal(fs.readFileSync(f, "utf8"), "mine\n");
    });
});
