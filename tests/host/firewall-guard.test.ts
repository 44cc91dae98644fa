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
