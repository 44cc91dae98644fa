// HostFile on a real host: write, re-run (no change), change, a planted link at the path, a parent directory a
// non-root user owns (refused, with a racing swap reaching nothing outside), adopt + delete puts the original back,
// a renamed path removes the old file once the new one is written (a failing one leaves it), an adopted original gone
// or a killed delete followed by a converge, a secret's mode, and crash points over converge and delete.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { HostFile, HostFileArgs } from "../../components/files";
import { describeHost, startHost, TestHost } from "./harness";
import { CrashRun, crashPoints, fileFacts, mustExec, startState } from "./crash";
import { registeredCommands } from "./runner";
import { runSsh } from "./ssh";

describeHost("HostFile on a real host", function () {
    this.timeout(1_800_000);
    let h: TestHost;
    const sh = (cmd: string): Promise<string> => mustExec(h, cmd);
    before(async () => {
        h = await startHost({ name: "files" });
    });
    after(async () => {
        await h?.stop();
    });

    /** The converge and delete commands HostFile `name` registers for `args`. */
    async function commands(args: Omit<HostFileArgs, "host">, name = "conf", opts: pulumi.ComponentResourceOptions = {}): Promise<{ converge: CrashRun; del: CrashRun }> {
        const cmds = await registeredCommands(() => {
            const host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey });
            new HostFile(name, { host, ...args }, opts);
        });
        const converge = cmds.find((c) => c.name === `${name}-file`)!.inputs;
        const life = cmds.find((c) => c.name === `${name}-file-lifecycle`)!.inputs;
        return { converge: { command: converge.create as string, stdin: converge.stdin as string }, del: { command: life.delete as string } };
    }
    const run = (r: CrashRun) => h.exec(r.command, { stdin: r.stdin });
    const ok = async (r: CrashRun) => {
        const res = await run(r);
        assert.equal(res.code, 0, `${res.stdout}${res.stderr}`);
        return res;
    };

    const wipe = () => sh("rm -rf /etc/hf /usr/local/etc/hf /var/lib/hearth/applied/files; mkdir -p /etc/hf && printf 'packaged\\n' > /etc/hf/orig.conf");
    const fingerprint = async () => [
        ...(await fileFacts(h, [], { trees: ["/etc/hf", "/usr/local/etc/hf", "/var/lib/hearth/applied/files"] })),
    ];

    const v1: Omit<HostFileArgs, "host"> = { path: "/etc/hf/conf.d/a.conf", content: "a = 1\n", createParents: true };
    const v2: Omit<HostFileArgs, "host"> = { ...v1, content: "a = 2\n", mode: "0640" };

    it("writes the file, changes nothing on a re-run, rewrites a changed content, replaces a planted link without following it", async () => {
        await wipe();
        const c1 = await commands(v1);
        const first = await ok(c1.converge);
        assert.match(first.stdout, /wrote \/etc\/hf\/conf\.d\/a\.conf/);
        assert.equal(await sh("cat /etc/hf/conf.d/a.conf"), "a = 1\n");
        assert.equal(await sh("stat -c '%a %U %G' /etc/hf/conf.d/a.conf"), "644 root root\n");
        const before = await fingerprint();
        const again = await ok(c1.converge);
        assert.doesNotMatch(again.stdout, /wrote|removed/);
        assert.deepEqual(await fingerprint(), before);
        const c2 = await commands(v2);
        await ok(c2.converge);
        assert.equal(await sh("cat /etc/hf/conf.d/a.conf; stat -c '%a' /etc/hf/conf.d/a.conf"), "a = 2\n640\n");
        // A link planted at the path: replaced by the rename, its target untouched.
        await sh("printf 'canary\\n' > /root/canary && chmod 0600 /root/canary && ln -sfn /root/canary /etc/hf/conf.d/a.conf");
        const canary = await fileFacts(h, ["/root/canary"]);
        await ok(c2.converge);
        assert.deepEqual(await fileFacts(h, ["/root/canary"]), canary);
        assert.equal(await sh("test ! -L /etc/hf/conf.d/a.conf && cat /etc/hf/conf.d/a.conf"), "a = 2\n");
        // Delete: the file and the directory hearth created go, the packaged tree stays.
        await ok(c2.del);
        assert.equal(await sh("ls -A /etc/hf; ls -A /var/lib/hearth/applied/files"), "orig.conf\n");
    });

    it("refuses a parent directory a non-root user owns or can write, before writing anything (a racing swap reaches nothing)", async () => {
        await wipe();
        await sh("mkdir -p /etc/hf/user && chown 4242:4242 /etc/hf/user && printf 'canary\\n' > /root/canary && chmod 0600 /root/canary");
        const c = await commands({ path: "/etc/hf/user/a.conf", content: "x = 1\n" });
        const canary = await fileFacts(h, ["/root/canary", "/root"]);
        const attacker = runSsh(h.ssh, `bash --noprofile --norc -c ${JSON.stringify("end=$((SECONDS + 4)); while [ $SECONDS -lt $end ]; do setpriv --reuid=4242 --regid=4242 --clear-groups sh -c 'ln -sfn /root/canary /etc/hf/user/a.conf.n && mv -fT /etc/hf/user/a.conf.n /etc/hf/user/a.conf' 2>/dev/null || true; done")}`);
        const results = [];
        for (let i = 0; i < 5; i++) results.push(await run(c.converge));
        await attacker;
        for (const r of results) {
            assert.equal(r.code, 65, `${r.stdout}${r.stderr}`);
            assert.match(r.stderr, /refusing to write below \/etc\/hf\/user/);
        }
        assert.deepEqual(await fileFacts(h, ["/root/canary", "/root"]), canary, "nothing outside changed");
        assert.equal(await sh("ls -A /var/lib/hearth/applied/files 2>/dev/null || true"), "", "nothing recorded");
        // Group-writable by someone else is refused too.
        await sh("chown root:4242 /etc/hf/user && chmod 0775 /etc/hf/user && rm -f /etc/hf/user/a.conf");
        const r = await run(c.converge);
        assert.equal(r.code, 65, r.stderr);
    });

    it("refuses an existing unmanaged file without adopt; with adopt keeps the original and puts it back on delete", async () => {
        await wipe();
        const plain = await commands({ path: "/etc/hf/orig.conf", content: "managed\n" });
        const refused = await run(plain.converge);
        assert.equal(refused.code, 65);
        assert.match(refused.stderr, /\/etc\/hf\/orig\.conf exists and is not managed by hearth; set adopt: true/);
        assert.equal(await sh("cat /etc/hf/orig.conf"), "packaged\n");
        const adopt = await commands({ path: "/etc/hf/orig.conf", content: "managed\n", adopt: true });
        await ok(adopt.converge);
        assert.equal(await sh("cat /etc/hf/orig.conf /etc/hf/orig.conf.hearth-orig"), "managed\npackaged\n");
        await ok(adopt.converge);
        await ok(adopt.del);
        assert.equal(await sh("cat /etc/hf/orig.conf; ls -A /etc/hf"), "packaged\norig.conf\n");
        // Another resource's file is refused too (its record names the other one).
        await ok((await commands({ path: "/etc/hf/x.conf", content: "1\n" }, "first")).converge);
        const second = await run((await commands({ path: "/etc/hf/x.conf", content: "2\n" }, "second")).converge);
        assert.equal(second.code, 65);
        assert.match(second.stderr, /owned by another resource .*hearth:files:File\/first/);
    });

    it("a changed path removes the old file (found by its record); a missing owner is refused before anything is written", async () => {
        await wipe();
        await ok((await commands(v1)).converge);
        const moved = await commands({ ...v1, path: "/usr/local/etc/hf/b.conf" });
        const r = await ok(moved.converge);
        assert.match(r.stdout, /removed \/etc\/hf\/conf\.d\/a\.conf/);
        assert.equal(await sh("ls -A /etc/hf; cat /usr/local/etc/hf/b.conf"), "orig.conf\na = 1\n");
        const nobody = await run((await commands({ path: "/etc/hf/n.conf", content: "1\n", owner: "hf-nobody" }, "n")).converge);
        assert.equal(nobody.code, 65);
        assert.match(nobody.stderr, /the owner 'hf-nobody' of \/etc\/hf\/n\.conf does not exist/);
        assert.equal(await sh("test ! -e /etc/hf/n.conf && echo absent"), "absent\n");
    });

    it("an adopted path whose kept original is gone: the delete removes hearth's content (nothing to put back) and its records", async () => {
        await wipe();
        const adopt = await commands({ path: "/etc/hf/orig.conf", content: "managed\n", adopt: true });
        await ok(adopt.converge);
        await sh("rm /etc/hf/orig.conf.hearth-orig");
        const r = await ok(adopt.del);
        assert.match(r.stdout, /the original of \/etc\/hf\/orig\.conf .* is gone: nothing to put back, hearth's content is removed/);
        assert.equal(await sh("ls -A /etc/hf; ls -A /var/lib/hearth/applied/files"), "");
    });

    it("a delete killed at any step, then a converge: the adopted original is kept again and the next delete puts it back", async () => {
        const adopt = await commands({ path: "/etc/hf/orig.conf", content: "m\n", adopt: true });
        await startState(h, wipe, adopt.converge);
        const converged = await fingerprint();
        for (let k = 1; ; k++) {
            await startState(h, wipe, adopt.converge);
            const killed = await h.exec(`HEARTH_CRASH_AT=${k} ${adopt.del.command}`);
            if (!/^hearth-crash: step \d+$/m.test(killed.stderr)) {
                assert.equal(killed.code, 0, killed.stderr);
                assert.ok(k > 2, `only ${k - 1} kill points`);
                break;
            }
            await ok(adopt.converge);
            assert.deepEqual(await fingerprint(), converged, `a converge after the delete was killed at step ${k}`);
            await ok(adopt.del);
            assert.equal(await sh("cat /etc/hf/orig.conf; ls -A /etc/hf"), "packaged\norig.conf\n", `the delete after a kill at step ${k}`);
        }
    });

    it("a renamed path that fails leaves the old file and its record; the path is released only once the new one is written", async () => {
        await wipe();
        await ok((await commands(v1)).converge);
        const before = await fingerprint();
        await sh("printf 'unmanaged\\n' > /etc/hf/taken.conf");
        const failing: [Omit<HostFileArgs, "host">, RegExp][] = [
            [{ ...v1, path: "/etc/hf/n.conf", owner: "hf-nobody" }, /the owner 'hf-nobody' of \/etc\/hf\/n\.conf does not exist/],
            [{ ...v1, path: "/etc/hf/missing/n.conf", createParents: false }, /the directory \/etc\/hf\/missing of .* does not exist/],
            [{ ...v1, path: "/etc/hf/taken.conf" }, /\/etc\/hf\/taken\.conf exists and is not managed by hearth/],
        ];
        for (const [args, re] of failing) {
            const r = await run((await commands(args)).converge);
            assert.equal(r.code, 65, `${r.stdout}${r.stderr}`);
            assert.match(r.stderr, re);
            assert.doesNotMatch(r.stdout, /removed/);
        }
        await sh("rm /etc/hf/taken.conf");
        assert.deepEqual(await fingerprint(), before, "the old file and its record are untouched");
        // A rename inside the directory the old path created: the directory is the new record's, removed on delete.
        const inside = await commands({ ...v1, path: "/etc/hf/conf.d/b.conf" });
        const r = await ok(inside.converge);
        assert.match(r.stdout, /removed \/etc\/hf\/conf\.d\/a\.conf/);
        assert.equal(await sh("ls -A /etc/hf/conf.d"), "b.conf\n");
        await ok(inside.del);
        assert.equal(await sh("ls -A /etc/hf; ls -A /var/lib/hearth/applied/files"), "orig.conf\n");
    });

    it("writes a secret 0600 and never shows it", async () => {
        await wipe();
        const c = await commands({ path: "/etc/hf/users", content: pulumi.secret("alice:hunter2\n"), secret: true });
        const r = await ok(c.converge);
        assert.doesNotMatch(`${r.stdout}${r.stderr}`, /hunter2/);
        assert.equal(await sh("stat -c '%a %U' /etc/hf/users; cat /etc/hf/users"), "600 root\nalice:hunter2\n");
    });

    describe("crash points", () => {
        // [what, the script under test, the run that makes its start state, the fewest kill points it has, a shell
        // command run after that to finish the start state]
        const cases: [string, () => Promise<CrashRun>, (() => Promise<CrashRun>) | undefined, number, string?][] = [
            ["converge (fresh, creating parents)", async () => (await commands(v1)).converge, undefined, 4],
            ["converge (a changed content and mode)", async () => (await commands(v2)).converge, async () => (await commands(v1)).converge, 1],
            ["converge (adopt)", async () => (await commands({ path: "/etc/hf/orig.conf", content: "m\n", adopt: true })).converge, undefined, 4],
            ["converge (a renamed path)", async () => (await commands({ ...v1, path: "/usr/local/etc/hf/b.conf" })).converge, async () => (await commands(v1)).converge, 6],
            ["converge (a renamed path inside the directory the old one created)", async () => (await commands({ ...v1, path: "/etc/hf/conf.d/b.conf" })).converge, async () => (await commands(v1)).converge, 5],
            ["delete", async () => (await commands(v1)).del, async () => (await commands(v1)).converge, 4],
            ["delete (adopted)", async () => (await commands({ path: "/etc/hf/orig.conf", content: "m\n", adopt: true })).del, async () => (await commands({ path: "/etc/hf/orig.conf", content: "m\n", adopt: true })).converge, 4],
            ["delete (adopted, its kept original gone)", async () => (await commands({ path: "/etc/hf/orig.conf", content: "m\n", adopt: true })).del, async () => (await commands({ path: "/etc/hf/orig.conf", content: "m\n", adopt: true })).converge, 2, "rm /etc/hf/orig.conf.hearth-orig"],
        ];
        for (const [what, under, from, fewest, then] of cases) {
            it(what, async () => {
                const target = await under();
                const start = from ? await from() : undefined;
                const reset = async () => {
                    await startState(h, wipe, start);
                    if (then) await sh(then);
                };
                const report = await crashPoints(h, { name: what, reset, run: target, fingerprint });
                assert.ok(report.points >= fewest, `only ${report.points} kill points`);
            });
        }
    });
});
