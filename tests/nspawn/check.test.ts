// NspawnContainer drift checks: the lines its converge carries (what they ask, word by word), the host check they
// make (bash -n, shellcheck), and a real run over the stub namespace: a converged tree is clean, hand edits inside
// it are reported by name, a planted link is reported and never followed, and the check changes nothing.
import { strict as assert } from "assert";
import { createHash } from "crypto";
import { spawnSync } from "child_process";
import { checkOfConverge, convergeTail, parseCheckOutput, renderHostCheck } from "../../components/core/check";
import { OwnerMark } from "../../components/core/owner";
import { innerFiles, renderCheck, renderConverge } from "../../components/nspawn/render";
import { frameStdin } from "../../components/shell";
import { checkScript } from "../tools";
import { webSpec } from "./render.test";
import { canStub, StubRun, stubRuns } from "./stub";

const MARK: OwnerMark = { id: "hearth/home/hearth:nspawn:Container/web", aliases: [], adopt: false };
const sha = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

/** A check line's words, as bash reads them. */
function words(line: string): string[] {
    const r = spawnSync("bash", ["--noprofile", "--norc", "-c", `set -- ${line.replace(/^\S+/, "")}; printf '%s\\0' "$@"`], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return [line.split(" ")[0], ...r.stdout.split("\0").slice(0, -1)];
}

describe("nspawn drift checks", () => {
    const spec = webSpec({ rootfs: { kind: "copy", from: "/srv/base" } });

    it("asks for the unit, then each file hearth puts inside the tree with its content's SHA-256 and mode", () => {
        const lines = renderCheck(spec);
        assert.deepEqual(words(lines[0]), ["hearth_check_nspawn_unit", "web"]);
        const inner = innerFiles(spec);
        assert.deepEqual(words(lines[1]), ["hearth_check_nspawn_files", "web",
            "etc/systemd/network/10-hearth.network", sha(inner[0].content), "0644",
            "etc/hostname", sha("web\n"), "0644",
            "root/.ssh/authorized_keys", sha(`${spec.authorizedKey}\n`), "0600",
        ]);
        // The machine's host key, recorded by its converge, for each address it is reached at: the checks of what runs
        // inside it are pinned to that key.
        assert.deepEqual(lines.slice(2).map(words), spec.addresses.map((a) => ["hearth_check_hostkey", a.split("/")[0], "nspawn-hostkey/web"]));
        // The converge puts exactly these files, with these modes.
        const script = renderConverge(spec, MARK).script;
        for (const f of inner) assert.match(script, new RegExp(`hearth_put_below \\. ${f.rel.replace(/\./g, "\\.")} 0${f.mode.toString(8)} `));
    });

    it("rides in the converge beside the generic file checks, and makes a host check that passes bash -n and shellcheck", () => {
        const r = renderConverge(spec, MARK);
        const script = `${r.script}\n${convergeTail("k".repeat(32), "0".repeat(64), undefined, r.script, renderCheck(spec))}\n`;
        const c = checkOfConverge("web-container", script, true, frameStdin(r.files.map((f) => f.content)))!;
        assert.deepEqual(c.lines.slice(-renderCheck(spec).length), renderCheck(spec));
        // The .nspawn file and the staged copies are root's files, checked generically; nothing inside the tree is.
        assert.ok(c.lines.some((l) => l.startsWith("hearth_check_file /etc/systemd/nspawn/web.nspawn ")));
        assert.ok(!c.lines.some((l) => l.startsWith("hearth_check_file /var/lib/machines/")));
        assert.deepEqual(checkScript(renderHostCheck("h", [c])), []);
    });

    describe("against stub tools", function () {
        this.timeout(120_000);
        before(function () {
            if (!canStub()) {
                if (process.env.CI === "true") throw new Error("the stub runs need root and unshare");
                this.skip();
            }
        });
        const r = renderConverge(spec, MARK);
        const converge = { script: r.script, stdin: frameStdin(r.files.map((f) => f.content)) };
        const check = renderHostCheck("h", [{ resource: "web", sudo: true, lines: renderCheck(spec).slice(1) }]);
        const base = [
            "mkdir -p /srv/base/usr /srv/base/etc/ssh /srv/base/root",
            "printf 'TOPSECRET\\n' > /run/root-secret && chmod 0600 /run/root-secret",
            `cat > /run/check.sh <<'HEARTH_CHECK_EOF'\n${check}HEARTH_CHECK_EOF`,
        ].join("\n");
        // The check between two listings of every path's mode, owner, size and mtime below the tree and hearth's state.
        const checked = {
            script: [
                "list() { find /var/lib/machines /var/lib/hearth /etc/systemd -printf '%p %y %m %u %s %T@\\n' | LC_ALL=C sort; }",
                "list > /run/before",
                "bash --noprofile --norc /run/check.sh",
                "list > /run/after",
                "cmp -s /run/before /run/after || { echo 'the check changed something:' >&2; diff /run/before /run/after >&2; exit 1; }",
            ].join("\n"),
        };
        const report = (s: StubRun) => {
            assert.equal(s.code, 0, `${s.stdout}\n${s.stderr}`);
            const [rep] = parseCheckOutput(s.stdout);
            assert.equal(rep.error, undefined, s.stderr);
            return { drift: rep.drift.map((d) => `${d.what}: ${d.desired} -> ${d.found}`), info: rep.info.map((i) => `${i.what}: ${i.value}`), stdout: s.stdout };
        };

        it("a converged tree owned by the container's range is clean; hand edits, a replaced host key and a planted link are reported (the link never followed) and the converge repairs them", () => {
            const tamper = {
                script: [
                    "set -e",
                    "cd /var/lib/machines/web",
                    "echo edited >> etc/hostname",
                    "chmod 0666 etc/systemd/network/10-hearth.network",
                    "rm root/.ssh/authorized_keys && ln -s /run/root-secret root/.ssh/authorized_keys",
                    "echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKeyOtherKeyOtherKeyOtherKeyOtherKey1 x' > etc/ssh/ssh_host_ed25519_key.pub",
                    "echo 'web 0000' > etc/.hearth-container",
                ].join("\n"),
            };
            const [conv, clean, , drifted, repaired, cleanAgain, moved] = stubRuns(`${base}\nchown -R 10485760:10485760 /srv/base`, [converge, checked, tamper, checked, converge, checked, {
                script: "set -e\ncd /var/lib/machines/web\nrm -rf root/.ssh && ln -s /run root/.ssh\nbash --noprofile --norc /run/check.sh",
            }]);
            assert.equal(conv.code, 0, conv.stderr);
            assert.deepEqual(report(clean), { drift: [], info: [], stdout: clean.stdout });
            const d = report(drifted);
            const hash = (t: string) => t.slice(0, 12);
            assert.deepEqual(d.drift, [
                "/var/lib/machines/web/etc/systemd/network/10-hearth.network mode: 0644 -> 0666",
                `/var/lib/machines/web/etc/hostname content: sha256 ${hash(sha("web\n"))} -> sha256 ${hash(sha("web\nedited\n"))}`,
                "/var/lib/machines/web/root/.ssh/authorized_keys: a file -> a link to /run/root-secret",
                "/var/lib/machines/web/etc/.hearth-container content: as hearth applied it -> changed since",
                d.drift[4],
            ]);
            assert.match(d.drift[4], /^container web SSH host key: as hearth recorded it \(\.\.\.[A-Za-z0-9+/=]{12}\) -> changed since \(\.\.\.KeyOtherKey1\)$/);
            assert.doesNotMatch(drifted.stdout + drifted.stderr, /TOPSECRET/);
            // The converge sees the files inside no longer hold what it put there and brings the tree up to date.
            assert.equal(repaired.code, 0, repaired.stderr);
            assert.match(repaired.stdout, /^hearth: wrote \.\/etc\/hostname$/m);
            assert.deepEqual(report(cleanAgain), { drift: [], info: [], stdout: cleanAgain.stdout });
            assert.equal((cleanAgain.tree.match(/^\/var\/lib\/machines\/web\/root\/\.ssh\/authorized_keys f 600 10485760$/m) ?? []).length, 1, "the link was replaced by the file");
            // A link above the file: reported where it is, never read through.
            assert.deepEqual(report(moved).drift, ["/var/lib/machines/web/root/.ssh/authorized_keys: a file -> /var/lib/machines/web/root/.ssh is a link to /run"]);
        });

        it("a tree owned by root is not read while the container runs (information, not drift); once idle it is", () => {
            const [conv, running, idle] = stubRuns(base, [converge, { script: "touch /run/stub-active\nbash --noprofile --norc /run/check.sh" }, { script: `rm -f /run/stub-active\n${checked.script}` }]);
            assert.equal(conv.code, 0, conv.stderr);
            assert.deepEqual(report(running), { drift: [], info: ["/var/lib/machines/web: files inside not checked: the tree is owned by root while the container runs"], stdout: running.stdout });
            assert.deepEqual(report(idle), { drift: [], info: [], stdout: idle.stdout });
        });
    });
});
