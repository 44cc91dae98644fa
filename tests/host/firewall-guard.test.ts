// The runtime's guarded change (hearth_guard_arm / _confirm / _state) on a real host: a confirmed change is never
// restored, an unconfirmed one is restored at its deadline and the confirm then says when, re-arming replaces the
// timer, and a script killed after any step of arming or confirming never leaves a restore that fires after a confirm
// nor loses one.
import * as assert from "assert";
import { Script, shq } from "../../components/shell";
import { describeHost, startHost, TestHost } from "./harness";
import { runSsh } from "./ssh";

function bashCommand(script: string): string {
    return `bash --noprofile --norc -c ${shq(script)}`;
}

const RESTORE_DIR = "/var/lib/hearth/guard/probe";
const RESTORE = `${RESTORE_DIR}/restore.sh`;
const MARK = "/root/guard-restored";
const FLAG = "/root/guard-flag";

/** A restore that does `first` on its first run only (it leaves FLAG), then appends to MARK. */
function flakyRestore(first: string): string {
    return `printf '%s\\n' ${shq(`if [ ! -e ${FLAG} ]; then touch ${FLAG}; ${first}; fi`)} ${shq(`echo restored >> ${MARK}`)} > ${RESTORE}`;
}

/** A script over the runtime: writes the restore (it appends a line to MARK) unless there is one, then `lines`. */
function guardText(lines: readonly string[]): string {
    const s = new Script("guard probe");
    s.raw(
        `if [ ! -e ${RESTORE} ]; then`,
        `  hearth_dir ${RESTORE_DIR} 0700`,
        `  hearth_tmp_in ${RESTORE_DIR}`,
        `  printf 'echo restored >> ${MARK}\\n' > "$hearth_tmp"`,
        `  hearth_put "$hearth_tmp" ${RESTORE} 0600 root root`,
        "fi",
        ...lines,
    );
    return s.render();
}
const guardScript = (lines: readonly string[]): string => bashCommand(guardText(lines));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeHost("guarded changes (hearth_guard_*) on a real host", function () {
    this.timeout(600_000);
    let h: TestHost;
    before(async () => {
        h = await startHost({ name: "fwguard" });
    });
    after(async () => {
        await h?.stop();
    });

    async function reset(): Promise<void> {
        const r = await h.exec(`systemctl stop hearth-guard-probe.timer hearth-guard-probe.service 2>/dev/null; systemctl reset-failed hearth-guard-probe.timer hearth-guard-probe.service 2>/dev/null; rm -rf /run/hearth/guard/probe ${RESTORE_DIR} ${MARK} ${FLAG}; true`);
        assert.equal(r.code, 0, r.stderr);
    }
    async function run(lines: readonly string[], crashAt = 0): Promise<{ code: number; stdout: string; stderr: string }> {
        return runSsh(h.ssh, (crashAt ? `HEARTH_CRASH_AT=${crashAt} ` : "") + guardScript(lines));
    }
    async function state(): Promise<string> {
        const r = await run(["hearth_guard_state probe"]);
        assert.equal(r.code, 0, r.stderr);
        return r.stdout.trim().split("\n").pop()!;
    }
    /** hearth_guard_confirm probe ID: its exit status and output. */
    async function confirm(id: string): Promise<{ rc: number; out: string }> {
        const r = await run([`rc=0; hearth_guard_confirm probe ${id} || rc=$?; echo rc=$rc`]);
        const m = /^rc=(\d+)$/m.exec(r.stdout);
        assert.ok(m, `no rc: ${r.stdout}${r.stderr}`);
        return { rc: Number(m[1]), out: r.stdout + r.stderr };
    }
    async function restored(): Promise<number> {
        const r = await h.exec(`cat ${MARK} 2>/dev/null | wc -l`);
        return Number(r.stdout.trim());
    }

    it("nothing armed: state none, confirm returns 1", async () => {
        await reset();
        assert.equal(await state(), "none");
        assert.equal((await confirm("c1")).rc, 1);
    });

    it("armed and confirmed in time: never restored; the timer is gone", async () => {
        await reset();
        const a = await run(["hearth_guard_arm probe 3 " + RESTORE + " c1"]);
        assert.equal(a.code, 0, a.stderr);
        assert.match(a.stdout, /guard probe armed/);
        assert.equal(await state(), "pending");
        const perms = await h.exec("stat -c '%a %U' /run/hearth/guard /run/hearth/guard/probe /run/hearth/guard/probe/pending");
        assert.equal(perms.stdout, "700 root\n700 root\n600 root\n");
        assert.equal((await confirm("c1")).rc, 0);
        await sleep(5000);
        assert.equal(await restored(), 0, "a confirmed guard restored");
        assert.equal(await state(), "none");
        const t = await h.exec("systemctl is-active hearth-guard-probe.timer");
        assert.notEqual(t.stdout.trim(), "active");
        assert.equal((await confirm("c1")).rc, 1);
    });

    it("armed and not confirmed: restored once at the deadline; confirm then returns 2 saying when; re-arming forgets it", async () => {
        await reset();
        const a = await run(["hearth_guard_arm probe 2 " + RESTORE + " c1"]);
        assert.equal(a.code, 0, a.stderr);
        await sleep(5000);
        assert.equal(await restored(), 1);
        assert.equal(await state(), "fired");
        const c = await confirm("c1");
        assert.match(c.out, /^guard probe fired at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(change c1, armed at .*; the restore exited 0\)$/m);
        assert.equal(c.rc, 2);
        // Still fired for the next confirm (the next run reports it too).
        assert.equal((await confirm("c1")).rc, 2);
        const b = await run(["hearth_guard_arm probe 60 " + RESTORE + " c2"]);
        assert.equal(b.code, 0, b.stderr);
        assert.equal(await state(), "pending");
        assert.equal((await confirm("c2")).rc, 0);
        assert.equal(await restored(), 1);
    });

    it("re-arming a pending guard replaces its timer: only the new deadline counts", async () => {
        await reset();
        assert.equal((await run(["hearth_guard_arm probe 3 " + RESTORE + " c1"])).code, 0);
        assert.equal((await run(["hearth_guard_arm probe 60 " + RESTORE + " c2"])).code, 0);
        await sleep(5000);
        assert.equal(await restored(), 0, "the replaced timer fired");
        assert.equal(await state(), "pending");
        assert.equal((await confirm("c2")).rc, 0);
    });

    it("a confirm of another change touches nothing: it returns 3 naming the pending one, whose deadline holds", async () => {
        await reset();
        assert.equal((await run(["hearth_guard_arm probe 60 " + RESTORE + " rulesetA"])).code, 0);
        // A newer change re-arms the guard; the older change's confirm comes late, over a connection it had already.
        assert.equal((await run(["hearth_guard_arm probe 3 " + RESTORE + " rulesetB"])).code, 0);
        const old = await confirm("rulesetA");
        assert.equal(old.rc, 3, old.out);
        assert.match(old.out, /^guard probe: the pending change is rulesetB \(armed at .* UTC, undone at .* UTC unless confirmed\), not rulesetA: nothing confirmed$/m);
        assert.equal(await state(), "pending");
        await sleep(5000);
        assert.equal(await restored(), 1, "the newer change was not rolled back at its deadline");
        const b = await confirm("rulesetB");
        assert.equal(b.rc, 2, b.out);
        assert.match(b.out, /\(change rulesetB, armed at/);
    });

    it("a restore killed while it runs is run again by the timer's service until it exits 0", async () => {
        await reset();
        const a = await run([flakyRestore("sleep 60"), "hearth_guard_arm probe 2 " + RESTORE + " c1"]);
        assert.equal(a.code, 0, a.stderr);
        await sleep(4000);
        assert.equal((await h.exec(`test -e ${FLAG} && systemctl kill -s KILL hearth-guard-probe.service`)).code, 0, "the restore is not running");
        await sleep(1000);
        assert.equal(await restored(), 0);
        assert.equal((await h.exec("test -f /run/hearth/guard/probe/pending && test ! -e /run/hearth/guard/probe/fired")).code, 0, "a killed restore is not recorded as fired, nor the change forgotten");
        await sleep(12_000);
        assert.equal(await restored(), 1, "the killed restore was never run again");
        assert.equal((await h.exec("test ! -e /run/hearth/guard/probe/pending && test -f /run/hearth/guard/probe/fired")).code, 0);
        assert.equal((await confirm("c1")).rc, 2);
    });

    it("a restore that failed stays pending; the next state, confirm or arm past the deadline runs it", async () => {
        await reset();
        assert.equal((await run([flakyRestore("exit 1"), "hearth_guard_arm probe 2 " + RESTORE + " c1"])).code, 0);
        await sleep(4000);
        assert.equal(await restored(), 0);
        assert.equal((await h.exec(`test -e ${FLAG} && test -f /run/hearth/guard/probe/pending && test ! -e /run/hearth/guard/probe/fired`)).code, 0, "a failed restore is recorded as fired, or its change forgotten");
        // Where the records cannot be written (the drift timer's ProtectSystem=strict), reading the state only reads.
        assert.equal((await h.exec("cat > /root/guard-state.sh", { stdin: guardText(["hearth_guard_state probe"]) })).code, 0);
        const ro = await h.exec("systemd-run --quiet --wait --pipe -p ProtectSystem=strict /bin/bash --noprofile --norc /root/guard-state.sh");
        assert.equal(ro.code, 0, ro.stderr);
        assert.equal(ro.stdout.trim().split("\n").pop(), "pending");
        assert.equal(await restored(), 0);
        // Before the service's retry (10 s): a read of the state (what every drift check does) runs the restore.
        assert.equal(await state(), "fired");
        assert.equal(await restored(), 1);
        // No timer at all (stopped, lost): the confirm past the deadline runs the restore and says it fired.
        await reset();
        assert.equal((await run(["hearth_guard_arm probe 2 " + RESTORE + " c1", "systemctl stop hearth-guard-probe.timer"])).code, 0);
        await sleep(3000);
        assert.equal(await restored(), 0);
        assert.equal((await confirm("c1")).rc, 2, "a confirm past the deadline confirmed");
        assert.equal(await restored(), 1);
        // And an arm over an overdue change rolls it back before arming the next.
        await reset();
        assert.equal((await run(["hearth_guard_arm probe 2 " + RESTORE + " c1", "systemctl stop hearth-guard-probe.timer"])).code, 0);
        await sleep(3000);
        assert.equal((await run(["hearth_guard_arm probe 60 " + RESTORE + " c2"])).code, 0);
        assert.equal(await restored(), 1);
        assert.equal((await confirm("c2")).rc, 0);
        // A restore that keeps failing: arm refuses to arm over it, the state stays pending.
        await reset();
        assert.equal((await run([`printf 'exit 3\\n' > ${RESTORE}`, "hearth_guard_arm probe 2 " + RESTORE + " c1", "systemctl stop hearth-guard-probe.timer"])).code, 0);
        await sleep(3000);
        const r = await run(["hearth_guard_arm probe 60 " + RESTORE + " c2"]);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /guard probe: the change c1 passed its deadline and its restore .* failed \(exit 3\); it stays pending and is retried: not arming a new change over it/);
        assert.equal(await state(), "pending");
    });

    it("records lost while a change is pending: the timer's service exits 0 saying why, never restarts; arm and cancel still work", async () => {
        await reset();
        const since = (await h.exec("date +%s")).stdout.trim();
        const journal = async () => (await h.exec(`journalctl -u hearth-guard-probe.service --since @${since} --no-pager -o cat`)).stdout;
        assert.equal((await run(["hearth_guard_arm probe 2 " + RESTORE + " c1"])).code, 0);
        assert.equal((await h.exec("rm -rf /run/hearth/guard/probe")).code, 0);
        await sleep(14_000);
        const j = await journal();
        assert.match(j, /^hearth: guard probe: \/run\/hearth\/guard\/probe\/fire is gone \(its records were removed\): nothing to restore$/m, j);
        assert.doesNotMatch(j, /status=127|Scheduled restart/, j);
        const u = await h.exec("systemctl show -p NRestarts,Result,ActiveState hearth-guard-probe.service");
        assert.match(u.stdout, /^NRestarts=0$/m, u.stdout);
        assert.match(u.stdout, /^Result=success$/m, u.stdout);
        assert.match(u.stdout, /^ActiveState=inactive$/m, u.stdout);
        assert.equal(await restored(), 0);
        // Only the pending record lost: the service finds nothing pending and says so.
        assert.equal((await run(["hearth_guard_arm probe 2 " + RESTORE + " c2", "rm -f /run/hearth/guard/probe/pending"])).code, 0);
        await sleep(5000);
        const j2 = await journal();
        assert.match(j2, /^hearth: guard probe: nothing pending \(confirmed, cancelled or its record removed\): nothing to restore$/m, j2);
        assert.equal(await restored(), 0);
        // Records lost, then a cancel: it stops the timer all the same; a later arm works.
        assert.equal((await run(["hearth_guard_arm probe 60 " + RESTORE + " c3", "rm -rf /run/hearth/guard/probe", "hearth_guard_cancel probe"])).code, 0);
        assert.notEqual((await h.exec("systemctl is-active hearth-guard-probe.timer")).stdout.trim(), "active");
        assert.equal((await run(["hearth_guard_arm probe 60 " + RESTORE + " c4"])).code, 0);
        assert.equal(await state(), "pending");
        assert.equal((await confirm("c4")).rc, 0);
    });

    it("a link or FIFO planted among the records is refused naming it, never opened nor followed: nothing blocks", async () => {
        const ops: [string, string][] = [["state", "hearth_guard_state probe"], ["confirm", "hearth_guard_confirm probe c1"], ["arm", `hearth_guard_arm probe 60 ${RESTORE} c1`]];
        // [what, plant, the file refused, the ops that must refuse it (the others never open it)]
        const cases: [string, string, string, string[]][] = [
            ["a FIFO pending", "mkfifo -m 600 /run/hearth/guard/probe/pending", "pending", ["state", "confirm", "arm"]],
            ["a link pending", "ln -s /dev/zero /run/hearth/guard/probe/pending", "pending", ["state", "confirm", "arm"]],
            ["a FIFO fired", "mkfifo -m 600 /run/hearth/guard/probe/fired", "fired", ["state", "confirm"]],
            ["a link lock", "ln -s /root/lockvictim /run/hearth/guard/probe/lock", "lock", ["confirm", "arm"]],
            ["a FIFO lock", "mkfifo -m 600 /run/hearth/guard/probe/lock", "lock", ["confirm", "arm"]],
        ];
        const seen: string[] = [];
        for (const [what, plant, file] of cases) {
            for (const [op, line] of ops) {
                await reset();
                assert.equal((await h.exec(`rm -f /root/lockvictim; mkdir -p -m 700 /run/hearth/guard/probe && ${plant}`)).code, 0);
                const t0 = Date.now();
                const r = await runSsh(h.ssh, "timeout -s KILL 20 " + guardScript([line]));
                const secs = (Date.now() - t0) / 1000;
                const refused = r.code === 65 && r.stderr.includes(`hearth: guard probe: /run/hearth/guard/probe/${file} is not a regular file (a link, a FIFO or another kind): refusing to open it`);
                seen.push(`${what}/${op}: ${secs < 15 ? "" : "blocked "}${refused ? "refused" : r.code === 0 ? "ok" : `exit ${r.code} ${r.stderr.trim().split("\n").pop()}`}`);
                assert.equal((await h.exec("test ! -e /root/lockvictim && test ! -L /root/lockvictim")).code, 0, `${what}/${op}: the link was followed`);
            }
        }
        await reset();
        const want = cases.flatMap(([what, , , refusing]) => ops.map(([op]) => `${what}/${op}: ${refusing.includes(op) ? "refused" : "ok"}`));
        assert.deepEqual(seen, want);
    });

    it("a hanging restore: the service's restore is bounded (timeout -k), a confirm meanwhile fails within about 60 s saying a restore is running", async () => {
        await reset();
        assert.equal((await run([`hearth_dir ${RESTORE_DIR} 0700; printf 'sleep 1000\\n' > ${RESTORE}`, `hearth_guard_arm probe 2 ${RESTORE} c1`])).code, 0);
        await sleep(4000);
        const ps = await h.exec("systemctl show -p MainPID --value hearth-guard-probe.service | xargs -r pgrep -a -P");
        assert.match(ps.stdout, new RegExp(`^\\d+ timeout -k 10 300 /bin/bash ${RESTORE}$`, "m"), ps.stdout);
        const t0 = Date.now();
        const r = await runSsh(h.ssh, "timeout -s KILL 120 " + guardScript(["hearth_guard_confirm probe c1"]));
        const secs = (Date.now() - t0) / 1000;
        assert.equal(r.code, 75, r.stderr);
        assert.match(r.stderr, /^hearth: guard probe: its lock is held for 60 s: a restore is running \(the timer's, or a late one\); nothing was changed, run again once it is done$/m);
        assert.ok(secs >= 59 && secs < 90, `the confirm waited ${secs} s`);
        assert.equal((await h.exec("test -f /run/hearth/guard/probe/pending && test ! -e /run/hearth/guard/probe/fired")).code, 0, "a hanging restore recorded as fired, or its change forgotten");
        await reset();
    });

    it("cancel forgets a pending change: its restore never runs", async () => {
        await reset();
        assert.equal((await run(["hearth_guard_arm probe 2 " + RESTORE + " c1", "hearth_guard_cancel probe"])).code, 0);
        await sleep(4000);
        assert.equal(await restored(), 0);
        assert.equal(await state(), "none");
    });

    it("refuses a bad name, window or restore before arming anything", async () => {
        await reset();
        for (const [args, msg] of [
            ["Bad/name 3 " + RESTORE + " c1", /bad guard name/],
            ["probe 0 " + RESTORE + " c1", /bad window '0'/],
            ["probe 3601 " + RESTORE + " c1", /bad window '3601'/],
            ["probe 3 " + shq("/tmp/x;y") + " c1", /bad restore path/],
            ["probe 3 /var/lib/hearth/guard/probe/missing.sh c1", /not a regular file/],
            ["probe 3 " + RESTORE, /bad change id ''/],
            ["probe 3 " + RESTORE + " " + shq("c1;x"), /bad change id 'c1;x'/],
        ] as const) {
            const r = await run([`hearth_guard_arm ${args}`]);
            assert.notEqual(r.code, 0);
            assert.match(r.stderr, msg);
        }
        const loose = await run([`chmod 0644 ${RESTORE}`, `hearth_guard_arm probe 3 ${RESTORE} c1`]);
        assert.match(loose.stderr, /must be root's alone/);
        assert.equal(await state(), "none");
        const noId = await run(["hearth_guard_confirm probe"]);
        assert.match(noId.stderr, /bad change id ''/);
    });

    it("killed after any step of arming: the re-run arms it; killed after any step of confirming: never restored after", async () => {
        let points = 0;
        for (let n = 1; ; n++) {
            await reset();
            const k = await run(["hearth_guard_arm probe 3 " + RESTORE + " c1"], n);
            if (k.code === 0) break;
            assert.match(k.stderr, /hearth-crash: step/, k.stderr);
            points++;
            // Whatever the kill left, a re-run arms the guard and a confirm holds: nothing fires after it.
            assert.equal((await run(["hearth_guard_arm probe 3 " + RESTORE + " c1"])).code, 0);
            assert.equal(await state(), "pending");
            assert.equal((await confirm("c1")).rc, 0);
            await sleep(4000);
            assert.equal(await restored(), 0, `restored after a confirm (arm killed at step ${n})`);
        }
        assert.ok(points >= 3, `only ${points} kill points in arming`);
        let cpoints = 0;
        for (let n = 1; ; n++) {
            await reset();
            assert.equal((await run(["hearth_guard_arm probe 3 " + RESTORE + " c1"])).code, 0);
            const k = await run(["hearth_guard_confirm probe c1"], n);
            if (k.code === 0) break;
            cpoints++;
            await sleep(4000);
            // A confirm killed after its first step (pending cleared) has confirmed: the timer finds nothing.
            assert.equal(await restored(), 0, `restored after a confirm killed at step ${n}`);
        }
        assert.ok(cpoints >= 1, "no kill points in confirming");
        // An arm killed before its pending record: its timer fires on nothing and restores nothing; never a lost restore
        // once arm returned (the test above: every completed arm fires unless confirmed).
    });
});
