// The bash runtime on a real host: crash points on a small script, writes below a tree a less privileged user owns
// (planted and raced links), refusals below directories root does not own alone, and the per-host lock.
import * as assert from "assert";
import { Script, frameStdin, shq } from "../../components/shell";
import { describeHost, startHost, TestHost } from "./harness";
import { crashPoints, fileFacts } from "./crash";
import { runSsh } from "./ssh";

function bashCommand(script: string): string {
    return `bash --noprofile --norc -c ${shq(script)}`;
}

describeHost("runtime on a real host", function () {
    this.timeout(600_000);
    let h: TestHost;
    before(async () => {
        h = await startHost({ name: "runtime" });
    });
    after(async () => {
        await h?.stop();
    });

    it("a script killed after any step finishes on the re-run (crash points, stdout closed)", async () => {
        const s = new Script("runtime crash probe");
        s.owner({ id: "p/s/hearth:test:Probe/probe", aliases: [], adopt: false });
        s.install({ path: "/etc/hearth-probe/a.conf", content: "a = 1\n", mode: 0o644 });
        s.install({ path: "/etc/hearth-probe/sub/b.conf", content: "b = 2\n", mode: 0o600 });
        s.raw(
            'hearth_d=$(hearth_digest /etc/hearth-probe/a.conf /etc/hearth-probe/sub/b.conf)',
            'if [ "$(hearth_applied probe/x)" != "$hearth_d" ]; then',
            '  date +%s%N > /etc/hearth-probe/applied-at; hearth_step',
            '  hearth_record probe/x "$hearth_d"',
            "fi",
            "hearth_remove /etc/hearth-probe/old.conf",
        );
        const run = { command: bashCommand(s.render()), stdin: frameStdin(["a = 1\n", "b = 2\n"]) };
        const report = await crashPoints(h, {
            name: "probe",
            reset: async () => {
                const r = await h.exec("rm -rf /etc/hearth-probe /var/lib/hearth/applied/probe && mkdir -p /etc/hearth-probe && echo old > /etc/hearth-probe/old.conf");
                assert.equal(r.code, 0, r.stderr);
            },
            run,
            fingerprint: async () => [
                ...(await fileFacts(h, [], { trees: ["/etc/hearth-probe"], random: ["/etc/hearth-probe/applied-at"] })),
                ...(await fileFacts(h, ["/var/lib/hearth/applied/probe/x"])),
            ],
        });
        // dirs (sub), two files, the applied-at write, the record (its dir + file), the removal.
        assert.ok(report.points >= 6, `only ${report.points} kill points`);
        const leftovers = await h.exec("find /etc/hearth-probe /var/lib/hearth/applied -name '.hearth.*'");
        assert.equal(leftovers.stdout, "", "temp files left behind");
    });

    it("writes below a tree a less privileged user owns as that user: planted and raced links reach nothing", async () => {
        // A tree owned by an unprivileged uid, a root-only canary outside it, and a racing attacker as that uid.
        const setup = await h.exec([
            "set -e",
            "rm -rf /srv/tree && mkdir -p /srv/tree/etc && chown -R 4242:4242 /srv/tree",
            "printf 'secret\\n' > /root/canary && chmod 0600 /root/canary",
            "ln -s /root/canary /srv/tree/etc/target && chown -h 4242:4242 /srv/tree/etc/target",
        ].join("\n"));
        assert.equal(setup.code, 0, setup.stderr);
        const before = await fileFacts(h, ["/root/canary"]);
        const attacker = runSsh(h.ssh, bashCommand([
            "end=$((SECONDS + 8))",
            "while [ $SECONDS -lt $end ]; do",
            "  setpriv --reuid=4242 --regid=4242 --clear-groups sh -c 'ln -sfn /root/canary /srv/tree/etc/target.new && mv -fT /srv/tree/etc/target.new /srv/tree/etc/target; ln -sfn /root /srv/tree/etc/d.new && mv -fT /srv/tree/etc/d.new /srv/tree/etc/d; rm -rf /srv/tree/etc/d; mkdir -p /srv/tree/etc/d' 2>/dev/null || true",
            "done",
        ].join("\n")));
        const s = new Script("below probe");
        for (let i = 0; i < 30; i++) {
            s.raw(`hearth_put_below /srv/tree etc/target 0644 <<<'written ${i}'`);
            s.raw(`hearth_put_below /srv/tree etc/d/canary 0600 <<<'written ${i}'`);
        }
        const r = await runSsh(h.ssh, bashCommand(s.render()));
        await attacker;
        assert.equal(r.code === 0 || /could not write/.test(r.stderr), true, `unexpected failure: ${r.stderr}`);
        assert.deepEqual(await fileFacts(h, ["/root/canary"]), before, "a root-owned file outside the tree changed");
        const owners = await h.exec("find /srv/tree -xdev ! -user 4242 | wc -l");
        assert.equal(owners.stdout.trim(), "0", "root created something inside the tree");
    });

    it("refuses root writes below a directory someone else can change, and below a link", async () => {
        const r1 = await h.exec("rm -rf /srv/open /srv/link && mkdir -p /srv/open && chmod 0777 /srv/open && ln -s /etc /srv/link");
        assert.equal(r1.code, 0, r1.stderr);
        for (const path of ["/srv/open/x.conf", "/srv/link/x.conf"]) {
            const s = new Script("refuse probe");
            s.install({ path, content: "x\n", mode: 0o644 });
            const r = await runSsh(h.ssh, bashCommand(s.render()), { stdin: frameStdin(["x\n"]) });
            assert.equal(r.code, 65, `${path}: ${r.stderr}`);
            assert.match(r.stderr, /refusing to write below/);
        }
        assert.equal((await h.exec("test -e /etc/x.conf; echo $?")).stdout.trim(), "1");
    });

    it("a tree owned by root is refused unless the caller says nothing runs in it", async () => {
        const s = new Script("idle probe");
        s.raw("rm -rf /srv/rt && mkdir -p /srv/rt", "hearth_put_below /srv/rt etc/f 0644 <<<x");
        const r = await runSsh(h.ssh, bashCommand(s.render()));
        assert.equal(r.code, 65, r.stderr);
        const ok = await runSsh(h.ssh, `HEARTH_TREE_IDLE=1 ${bashCommand(s.render())}`);
        assert.equal(ok.code, 0, ok.stderr);
        assert.equal((await h.exec("cat /srv/rt/etc/f")).stdout, "x\n");
    });

    it("hearth_lock serialises scripts on one host", async () => {
        const s = new Script("lock probe");
        s.raw("hearth_lock probe", 'n=$(cat /srv/counter 2>/dev/null || echo 0)', "sleep 0.05", 'echo $((n + 1)) > /srv/counter');
        await h.exec("rm -f /srv/counter");
        // Eight at once: sshd (MaxStartups 10) drops logins beyond ten unauthenticated at a time.
        const runs = await Promise.all(Array.from({ length: 8 }, () => runSsh(h.ssh, bashCommand(s.render()))));
        for (const r of runs) assert.equal(r.code, 0, r.stderr);
        assert.equal((await h.exec("cat /srv/counter")).stdout.trim(), "8");
    });

    it("ownership marks: another owner is refused naming both, aliases and legacy marks are taken over", async () => {
        const claim = (found: string, aliases: string[] = [], adopt = false) => {
            const s = new Script("claim probe");
            s.owner({ id: "p/s/t/new", aliases, adopt });
            s.raw(`hearth_claim 'unit x.service' ${shq(found)}`, "echo claimed");
            return runSsh(h.ssh, bashCommand(s.render()));
        };
        const other = await claim("p/s/t/other");
        assert.equal(other.code, 65);
        assert.match(other.stderr, /owned by another resource \(p\/s\/t\/other\), not by p\/s\/t\/new.*aliases/);
        assert.equal((await claim("p/s/t/other", ["p/s/t/other"])).stdout.includes("claimed"), true);
        const legacy = await claim("legacy");
        assert.equal(legacy.code, 0);
        assert.match(legacy.stdout, /taking over unit x.service from an earlier release/);
        assert.equal((await claim("p/s/t/other", [], true)).code, 0);
        const none = await claim("");
        assert.equal(none.code, 65);
        assert.match(none.stderr, /not managed by hearth; set adopt: true/);
    });
});
