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

/** A script over the runtime: writes the restore (it appends a line to MARK), then `lines`. */
function guardScript(lines: readonly string[]): string {
    const s = new Script("guard probe");
    s.raw(
        `hearth_dir ${RESTORE_DIR} 0700`,
        `hearth_tmp_in ${RESTORE_DIR}`,
        `printf 'echo restored >> ${MARK}\\n' > "$hearth_tmp"`,
        `hearth_put "$hearth_tmp" ${RESTORE} 0600 root root`,
        ...lines,
    );
    return bashCommand(s.render());
}

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
        const r = await h.exec(`systemctl stop hearth-guard-probe.timer hearth-guard-probe.service 2>/dev/null; systemctl reset-failed hearth-guard-probe.timer hearth-guard-probe.service 2>/dev/null; rm -rf /run/hearth/guard/probe ${RESTORE_DIR} ${MARK}; true`);
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
    async function restored(): Promise<number> {
        const r = await h.exec(`cat ${MARK} 2>/dev/null | wc -l`);
        return Number(r.stdout.trim());
    }

    it("nothing armed: state none, confirm returns 1", async () => {
        await reset();
        assert.equal(await state(), "none");
        const r = await run(["rc=0; hearth_guard_confirm probe || rc=$?; echo rc=$rc"]);
        assert.match(r.stdout, /rc=1$/m);
    });

    it("armed and confirmed in time: never restored; the timer is gone", async () => {
        await reset();
        const a = await run(["hearth_guard_arm probe 3 " + RESTORE]);
        assert.equal(a.code, 0, a.stderr);
        assert.match(a.stdout, /guard probe armed/);
        assert.equal(await state(), "pending");
        const perms = await h.exec("stat -c '%a %U' /run/hearth/guard /run/hearth/guard/probe /run/hearth/guard/probe/pending");
        assert.equal(perms.stdout, "700 root\n700 root\n600 root\n");
        const c = await run(["rc=0; hearth_guard_confirm probe || rc=$?; echo rc=$rc"]);
        assert.match(c.stdout, /rc=0$/m, c.stderr);
        await sleep(5000);
        assert.equal(await restored(), 0, "a confirmed guard restored");
        assert.equal(await state(), "none");
        const t = await h.exec("systemctl is-active hearth-guard-probe.timer");
        assert.notEqual(t.stdout.trim(), "active");
        const again = await run(["rc=0; hearth_guard_confirm probe || rc=$?; echo rc=$rc"]);
        assert.match(again.stdout, /rc=1$/m);
    });

    it("armed and not confirmed: restored once at the deadline; confirm then returns 2 saying when; re-arming forgets it", async () => {
        await reset();
        const a = await run(["hearth_guard_arm probe 2 " + RESTORE]);
        assert.equal(a.code, 0, a.stderr);
        await sleep(5000);
        assert.equal(await restored(), 1);
        assert.equal(await state(), "fired");
        const c = await run(["rc=0; hearth_guard_confirm probe || rc=$?; echo rc=$rc"]);
        assert.match(c.stdout, /^guard probe fired at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(armed at .*; the restore exited 0\)$/m);
        assert.match(c.stdout, /rc=2$/m);
        // Still fired for the next confirm (the next run reports it too).
        assert.match((await run(["rc=0; hearth_guard_confirm probe || rc=$?; echo rc=$rc"])).stdout, /rc=2$/m);
        const b = await run(["hearth_guard_arm probe 60 " + RESTORE]);
        assert.equal(b.code, 0, b.stderr);
        assert.equal(await state(), "pending");
        assert.match((await run(["rc=0; hearth_guard_confirm probe || rc=$?; echo rc=$rc"])).stdout, /rc=0$/m);
        assert.equal(await restored(), 1);
    });

    it("re-arming a pending guard replaces its timer: only the new deadline counts", async () => {
        await reset();
        assert.equal((await run(["hearth_guard_arm probe 3 " + RESTORE])).code, 0);
        assert.equal((await run(["hearth_guard_arm probe 60 " + RESTORE])).code, 0);
        await sleep(5000);
        assert.equal(await restored(), 0, "the replaced timer fired");
        assert.equal(await state(), "pending");
        assert.match((await run(["rc=0; hearth_guard_confirm probe || rc=$?; echo rc=$rc"])).stdout, /rc=0$/m);
    });

    it("refuses a bad name, window or restore before arming anything", async () => {
        await reset();
        for (const [args, msg] of [
            ["Bad/name 3 " + RESTORE, /bad guard name/],
            ["probe 0 " + RESTORE, /bad window '0'/],
            ["probe 3601 " + RESTORE, /bad window '3601'/],
            ["probe 3 " + shq("/tmp/x;y"), /bad restore path/],
            ["probe 3 /var/lib/hearth/guard/probe/missing.sh", /not a regular file/],
        ] as const) {
            const r = await run([`hearth_guard_arm ${args}`]);
            assert.notEqual(r.code, 0);
            assert.match(r.stderr, msg);
        }
        const loose = await run([`chmod 0644 ${RESTORE}`, `hearth_guard_arm probe 3 ${RESTORE}`]);
        assert.match(loose.stderr, /must be root's alone/);
        assert.equal(await state(), "none");
    });

    it("killed after any step of arming: the re-run arms it; killed after any step of confirming: never restored after", async () => {
        let points = 0;
        for (let n = 1; ; n++) {
            await reset();
            const k = await run(["hearth_guard_arm probe 3 " + RESTORE], n);
            if (k.code === 0) break;
            assert.match(k.stderr, /hearth-crash: step/, k.stderr);
            points++;
            // Whatever the kill left, a re-run arms the guard and a confirm holds: nothing fires after it.
            assert.equal((await run(["hearth_guard_arm probe 3 " + RESTORE])).code, 0);
            assert.equal(await state(), "pending");
            assert.match((await run(["rc=0; hearth_guard_confirm probe || rc=$?; echo rc=$rc"])).stdout, /rc=0$/m);
            await sleep(4000);
            assert.equal(await restored(), 0, `restored after a confirm (arm killed at step ${n})`);
        }
        assert.ok(points >= 3, `only ${points} kill points in arming`);
        let cpoints = 0;
        for (let n = 1; ; n++) {
            await reset();
            assert.equal((await run(["hearth_guard_arm probe 3 " + RESTORE])).code, 0);
            const k = await run(["hearth_guard_confirm probe"], n);
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
