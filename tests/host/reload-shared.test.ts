// Shared daemon-reloads on a real host: N SystemdService converges that each change a loaded unit, started at once on
// one host, end with far fewer reloads of PID 1 than N (counted by a systemd generator, which PID 1 runs on every
// reload), every unit loaded from its current files; the same scripts with the sharing taken out reload about once
// each (the baseline, measured in the same run). A brand-new unit needs no reload at all on bookworm's systemd 252
// (it loads a unit it has not seen from disk on demand), so the fresh converge is measured and printed, not the case. A script killed while it holds the reload lock blocks nobody, and a reload that fails is not taken
// as done: the next run reloads.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { SystemdService } from "../../components/systemd";
import { describeHost, startHost, TestHost } from "./harness";
import { CrashRun, mustExec, serviceRuns } from "./crash";
import { registeredCommands } from "./runner";

const N = 12;
/** Seconds between two scripts' starts: about a reload's length, so most scripts write while another one reloads. */
const STAGGER = 0.1;
const names = Array.from({ length: N }, (_, i) => `rl${i}`);
const WORK = "/root/reload-shared";
/** PID 1 runs every generator on each daemon-reload: this one counts them (the line count of /run/reload-count). */
const GENERATOR = "/etc/systemd/system-generators/hearth-test-count-reloads";
/** Ahead of /usr/bin in the runtime's PATH: systemctl with a daemon-reload that misbehaves as the spec says. */
const WRAPPER = "/usr/local/sbin/systemctl";

const LOCK = `    hearth_lock daemon-reload\n    if hearth_reload_due "$mode" "$@"; then\n`;
const CLOSE = `    exec {hearth_lock_fd}>&-\n`;

/** The runtime's shared reload with the sharing taken out: no lock, no second look (a reload whenever one is due). */
function unshared(command: string): string {
    assert.ok(command.includes(LOCK) && command.includes(CLOSE), "the runtime's shared reload is not where this spec expects it");
    return command.replace(LOCK, "    if true; then\n").replace(CLOSE, "");
}

/** The runtime's shared reload without its second look: reloads one at a time under the lock, each one due before. */
function noSecondLook(command: string): string {
    assert.ok(command.includes(LOCK), "the runtime's shared reload is not where this spec expects it");
    return command.replace(LOCK, "    hearth_lock daemon-reload\n    if true; then\n");
}

describeHost("shared daemon-reloads", function () {
    this.timeout(1_200_000);
    let h: TestHost;
    const sh = (cmd: string): Promise<string> => mustExec(h, cmd);
    /** Runs a registered command with its stdin; it must succeed. */
    const run = async (r: CrashRun): Promise<void> => {
        const x = await h.exec(r.command, { stdin: r.stdin });
        assert.equal(x.code, 0, `${x.stdout}${x.stderr}`);
    };
    let runs: { converge: CrashRun; del: CrashRun }[] = [];
    let runs2: { converge: CrashRun; del: CrashRun }[] = [];

    /** Every service at `version` (its environment changes with it, so its unit file does). */
    async function commands(version: number): Promise<{ converge: CrashRun; del: CrashRun }[]> {
        const cmds = await registeredCommands(() => {
            const host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey });
            for (const n of names) {
                new SystemdService(n, { host, description: `Reload subject ${n}`, execStart: ["/usr/bin/sleep", "infinity"], environment: { VERSION: String(version) }, memoryMaxMiB: 32 });
            }
        });
        return names.map((n) => serviceRuns(cmds, n));
    }

    /**
     * Starts every run on the host (one background job each), the i-th `stagger` seconds after the one before, as an
     * engine's SSH sessions arrive one after another; waits for all; returns each exit code and output.
     */
    async function concurrently(list: readonly CrashRun[], tag: string, stagger = 0): Promise<{ code: number; out: string }[]> {
        const dir = path.join(h.rootDir, WORK.slice(1), tag);
        fs.mkdirSync(dir, { recursive: true });
        list.forEach((r, i) => {
            fs.writeFileSync(path.join(dir, `${i}.cmd`), r.command);
            fs.writeFileSync(path.join(dir, `${i}.in`), r.stdin ?? "");
        });
        await sh([
            `cd ${WORK}/${tag}`,
            ...list.map((_, i) => `(sleep ${(i * stagger).toFixed(2)}; bash ${i}.cmd <${i}.in >${i}.out 2>&1; echo $? >${i}.rc) &`),
            `wait`,
        ].join("\n"));
        return list.map((_, i) => ({
            code: Number(fs.readFileSync(path.join(dir, `${i}.rc`), "utf8").trim()),
            out: fs.readFileSync(path.join(dir, `${i}.out`), "utf8"),
        }));
    }

    const reloads = async (): Promise<number> => Number((await sh("wc -l </run/reload-count")).trim());

    /** Every unit loaded from its current files and running. */
    async function allFresh(units: readonly string[]): Promise<void> {
        const out = await sh(`systemctl show -p Id -p LoadState -p NeedDaemonReload -p ActiveState -- ${units.join(" ")}`);
        const blocks = out.trim().split(/\n\n/);
        assert.equal(blocks.length, units.length, out);
        for (const b of blocks) {
            const p = Object.fromEntries(b.split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
            assert.deepEqual([p.LoadState, p.NeedDaemonReload, p.ActiveState], ["loaded", "no", "active"], `${p.Id}: ${b}`);
        }
    }

    const services = (list: readonly string[]) => list.map((n) => `${n}.service`);

    async function deleteAll(): Promise<void> {
        for (const r of runs) await run(r.del);
        await sh(`! systemctl show -p NeedDaemonReload -- ${services(names).join(" ")} | grep -qvx -e NeedDaemonReload=no -e ""`);
    }

    before(async () => {
        h = await startHost({ name: "reloadsh" });
        runs = await commands(1);
        runs2 = await commands(2);
        // The counter: a generator PID 1 runs on every daemon-reload; it proves itself by counting the one below.
        fs.mkdirSync(path.join(h.rootDir, path.dirname(GENERATOR).slice(1)), { recursive: true });
        fs.writeFileSync(path.join(h.rootDir, GENERATOR.slice(1)), "#!/bin/sh\necho reload >>/run/reload-count\n", { mode: 0o755 });
        await sh(`chown root:root ${GENERATOR} && : >/run/reload-count && systemctl daemon-reload`);
        assert.equal(await reloads(), 1, "the generator did not count a daemon-reload");
    });
    after(async () => { await h?.stop(); });

    it(`${N} converges at once that each change a loaded unit share their reloads (printed beside the same scripts without sharing)`, async () => {
        const counts: Record<string, number> = {};
        await deleteAll();
        let before = await reloads();
        const fresh = await concurrently(runs.map((r) => r.converge), "fresh");
        fresh.forEach((r, i) => assert.equal(r.code, 0, `fresh ${names[i]}: ${r.out}`));
        counts.fresh = (await reloads()) - before;
        await allFresh(services(names));
        for (const [tag, list] of [
            ["unshared", runs2.map((r) => ({ ...r.converge, command: unshared(r.converge.command) }))],
            ["shared", runs2.map((r) => r.converge)],
        ] as const) {
            // From version 1 (converged one at a time, not counted) to version 2, all at once.
            for (const r of runs) await run(r.converge);
            await allFresh(services(names));
            before = await reloads();
            const results = await concurrently(list, tag, STAGGER);
            results.forEach((r, i) => assert.equal(r.code, 0, `${tag} ${names[i]}: ${r.out}`));
            counts[tag] = (await reloads()) - before;
            await allFresh(services(names));
            assert.equal(await sh(`systemctl show -p Environment --value ${names[N - 1]}.service`), "VERSION=2\n");
            // A re-run finds every unit loaded from its files: no reload at all.
            before = await reloads();
            await concurrently(runs2.map((r) => r.converge), `${tag}-again`);
            assert.equal((await reloads()) - before, 0, `${tag}: a re-run reloaded`);
        }
        console.log(`      daemon-reloads for ${N} concurrent converges: fresh (new units) ${counts.fresh}; each changing a loaded unit: ${counts.unshared} without sharing, ${counts.shared} shared`);
        assert.ok(counts.shared >= 1 && counts.shared <= N / 3, `shared: ${counts.shared} reloads for ${N} converges`);
    });

    it(`${N} converges that all found a reload due before any ran (queued on the lock): one reload shared, ${N} without the second look`, async () => {
        const counts: Record<string, number> = {};
        for (const [tag, list] of [
            ["queued-no-second-look", runs2.map((r) => ({ ...r.converge, command: noSecondLook(r.converge.command) }))],
            ["queued-shared", runs2.map((r) => r.converge)],
        ] as const) {
            for (const r of runs) await run(r.converge);
            await allFresh(services(names));
            // The spec holds the reload lock until every script waits on it (each wrote its file and found a reload due).
            await sh(`mkdir -p -m 0700 /run/hearth/lock && rm -f ${WORK}/release ${WORK}/holding && (flock /run/hearth/lock/daemon-reload.lock sh -c 'touch ${WORK}/holding; while [ ! -e ${WORK}/release ]; do sleep 0.05; done' >/dev/null 2>&1 &)`);
            await sh(`for _ in $(seq 200); do [ -e ${WORK}/holding ] && exit 0; sleep 0.05; done; exit 1`);
            const before = await reloads();
            const done = concurrently(list, tag);
            await sh(`for _ in $(seq 1200); do [ "$(pgrep -cx flock)" -ge ${N + 1} ] && exit 0; sleep 0.1; done; pgrep -ax flock; exit 1`);
            assert.equal((await reloads()) - before, 0, "a script reloaded while the spec held the lock");
            await sh(`touch ${WORK}/release`);
            const results = await done;
            results.forEach((r, i) => assert.equal(r.code, 0, `${tag} ${names[i]}: ${r.out}`));
            counts[tag] = (await reloads()) - before;
            await allFresh(services(names));
        }
        console.log(`      daemon-reloads for ${N} converges queued on the lock: ${counts["queued-no-second-look"]} without the second look, ${counts["queued-shared"]} shared`);
        assert.equal(counts["queued-no-second-look"], N);
        assert.equal(counts["queued-shared"], 1);
    });

    it("a script killed while it holds the reload lock (before reloading) blocks nobody; its re-run reloads", async () => {
        await deleteAll();
        // The first daemon-reload under the lock records that the lock is held, then kills its script (bash, its
        // parent) without reloading: the lock's holder is gone, its units are not loaded.
        fs.writeFileSync(path.join(h.rootDir, WRAPPER.slice(1)), [
            "#!/bin/bash",
            `if [ "$1" = daemon-reload ] && [ ! -e ${WORK}/killed ]; then`,
            `  if flock -n /run/hearth/lock/daemon-reload.lock true; then echo free >${WORK}/killed; else echo held >${WORK}/killed; fi`,
            "  kill -KILL $PPID",
            "  exit 1",
            "fi",
            'exec /usr/bin/systemctl "$@"',
            "",
        ].join("\n"), { mode: 0o755 });
        await sh(`rm -f ${WORK}/killed && chown root:root ${WRAPPER}`);
        for (const r of runs.slice(0, 2)) await run(r.converge);
        const [a, b] = runs2;
        const killed = await h.exec(a.converge.command, { stdin: a.converge.stdin });
        // Killed by a signal: the login shell says 137, or ssh 255 when the script was the session's own process.
        assert.ok([137, 255].includes(killed.code ?? 0), `the script was not killed (${killed.code}): ${killed.stdout}${killed.stderr}`);
        assert.equal(await sh(`cat ${WORK}/killed`), "held\n", "the script was not holding the reload lock when it was killed");
        // The next script (another unit) takes the lock at once and reloads; the killed one's re-run finishes too.
        const before = await reloads();
        const t0 = Date.now();
        const next = await h.exec(`timeout 60 ${b.converge.command}`, { stdin: b.converge.stdin });
        assert.equal(next.code, 0, `${next.stdout}${next.stderr}`);
        assert.ok(Date.now() - t0 < 30_000, "the next converge waited on the dead script's lock");
        assert.equal((await reloads()) - before, 1);
        await run(a.converge);
        await allFresh(services(names.slice(0, 2)));
        await sh(`rm -f ${WRAPPER}`);
    });

    it("a daemon-reload that fails fails the run and counts for nothing: the next run reloads", async () => {
        await deleteAll();
        await run(runs[0].converge);
        fs.writeFileSync(path.join(h.rootDir, WRAPPER.slice(1)), [
            "#!/bin/bash",
            'if [ "$1" = daemon-reload ]; then echo "reload refused by the spec" >&2; exit 1; fi',
            'exec /usr/bin/systemctl "$@"',
            "",
        ].join("\n"), { mode: 0o755 });
        await sh(`chown root:root ${WRAPPER}`);
        const a = runs2[0].converge;
        const failed = await h.exec(a.command, { stdin: a.stdin });
        assert.notEqual(failed.code, 0, "a failed daemon-reload did not fail the run");
        assert.match(failed.stderr, /reload refused by the spec/);
        await sh(`rm -f ${WRAPPER}`);
        const before = await reloads();
        await run(a);
        assert.equal((await reloads()) - before, 1, "the run after a failed reload did not reload");
        await allFresh(services(names.slice(0, 1)));
    });

    /** Registered commands of one resource `name` built by `build` on this host. */
    async function oneService(name: string, build: (host: Host) => void): Promise<{ converge: CrashRun; del: CrashRun }> {
        const cmds = await registeredCommands(() => build(new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey })));
        return serviceRuns(cmds, name);
    }

    /** UNIT's LoadState, FragmentPath and NeedDaemonReload, and the command line of its main process ("" when none runs). */
    async function unitState(unit: string): Promise<{ load: string; frag: string; need: string; main: string }> {
        const out = await sh(`systemctl show -p LoadState -p FragmentPath -p NeedDaemonReload -p MainPID -- ${unit}`);
        const p = Object.fromEntries(out.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
        const main = p.MainPID && p.MainPID !== "0" ? (await sh(`ps -o args= -p ${p.MainPID} || true`)).trim() : "";
        return { load: p.LoadState, frag: p.FragmentPath, need: p.NeedDaemonReload, main };
    }

    /** The drift hearth_check_unit reports for UNIT (the runtime sourced on the host), one line per finding. */
    async function unitDrift(unit: string): Promise<string> {
        fs.writeFileSync(path.join(h.rootDir, "root/runtime.sh"), fs.readFileSync(path.join(__dirname, "../../components/core/runtime.sh")));
        return sh(`bash -c 'source /root/runtime.sh; hearth_check_unit ${unit} enabled active'`);
    }

    const PACKAGED = "/lib/systemd/system/rlpkg.service";
    const HEARTHS = "/etc/systemd/system/rlpkg.service";

    /** A packaged unit of the name rlpkg.service, loaded from /lib and running its own ExecStart. */
    async function packagedRunning(): Promise<void> {
        fs.writeFileSync(path.join(h.rootDir, PACKAGED.slice(1)), "[Unit]\nDescription=packaged rlpkg\n[Service]\nExecStart=/usr/bin/sleep 1001\n");
        await sh(`chown root:root ${PACKAGED} && systemctl daemon-reload && systemctl restart rlpkg.service`);
        const st = await unitState("rlpkg.service");
        assert.deepEqual([st.load, st.frag, st.main], ["loaded", PACKAGED, "/usr/bin/sleep 1001"]);
    }

    it("a packaged unit of the same name, loaded and running, is replaced by hearth's: reloaded, restarted from hearth's file; a re-run changes nothing", async () => {
        const r = await oneService("rlpkg", (host) => {
            new SystemdService("rlpkg", { host, description: "Replaces a packaged unit", execStart: ["/usr/bin/sleep", "2002"], memoryMaxMiB: 32 });
        });
        await packagedRunning();
        let before = await reloads();
        await run(r.converge);
        // systemd 252 does not flag a new file in /etc/systemd/system as NeedDaemonReload: the reload comes from FragmentPath.
        assert.equal((await reloads()) - before, 1, "the converge did not reload exactly once");
        let st = await unitState("rlpkg.service");
        assert.deepEqual([st.load, st.frag, st.need, st.main], ["loaded", HEARTHS, "no", "/usr/bin/sleep 2002"]);
        // Nothing, not even "enabled: disabled" (a `systemctl show` between the reload and the enable would leave
        // PID 1 reporting the UnitFileState it read then).
        assert.equal(await unitDrift("rlpkg.service"), "");
        before = await reloads();
        await run(r.converge);
        assert.equal((await reloads()) - before, 0, "a re-run reloaded");
        assert.equal((await unitState("rlpkg.service")).main, st.main);

        // A host a converge left shadowed (the reload not taken, the packaged unit restarted and recorded as applied):
        // the drift check reports it, and the next converge reloads and restarts it from hearth's file.
        await run(r.del);
        await packagedRunning();
        const blind = r.converge.command.replace("hearth_fragment_shadowed() {\n", "hearth_fragment_shadowed() {\n  return 1\n");
        assert.notEqual(blind, r.converge.command, "hearth_fragment_shadowed is not where this spec expects it");
        await run({ ...r.converge, command: blind });
        st = await unitState("rlpkg.service");
        assert.deepEqual([st.frag, st.need, st.main], [PACKAGED, "no", "/usr/bin/sleep 1001"], "systemd picked up hearth's file without a reload: the case is not reproduced");
        assert.match(await unitDrift("rlpkg.service"), new RegExp(`^hearth-drift\tunit rlpkg.service file\tloaded from ${HEARTHS}\tloaded from ${PACKAGED} `, "m"));
        before = await reloads();
        await run(r.converge);
        assert.equal((await reloads()) - before, 1);
        st = await unitState("rlpkg.service");
        assert.deepEqual([st.frag, st.need, st.main], [HEARTHS, "no", "/usr/bin/sleep 2002"]);
        before = await reloads();
        await run(r.converge);
        assert.equal((await reloads()) - before, 0, "a re-run reloaded");
        assert.equal((await unitState("rlpkg.service")).main, st.main, "a re-run restarted the unit");
        await run(r.del);
        await sh(`rm -f ${PACKAGED} && systemctl daemon-reload`);
    });

    it("a drop-in on a masked packaged unit costs no reload on a re-run", async () => {
        const unit = "rlmask.service";
        fs.writeFileSync(path.join(h.rootDir, "lib/systemd/system", unit), "[Unit]\nDescription=packaged rlmask\n[Service]\nExecStart=/usr/bin/sleep 1003\n");
        await sh(`chown root:root /lib/systemd/system/${unit} && systemctl mask ${unit} && systemctl daemon-reload`);
        const r = await oneService("rlmask", (host) => {
            new SystemdService("rlmask", { host, dropIn: { unit }, description: "Drop-in on a masked unit", memoryMaxMiB: 32 });
        });
        const first = await h.exec(r.converge.command, { stdin: r.converge.stdin });
        // It converges: the drop-in waits under the mask (try-restart of a masked, stopped unit does nothing).
        assert.equal(first.code, 0, `${first.stdout}${first.stderr}`);
        for (let i = 0; i < 2; i++) {
            const before = await reloads();
            const x = await h.exec(r.converge.command, { stdin: r.converge.stdin });
            assert.equal(x.code, first.code, `${x.stdout}${x.stderr}`);
            assert.equal((await reloads()) - before, 0, `re-run ${i + 1} reloaded a masked unit`);
        }
        assert.equal((await unitState(unit)).load, "masked");
        await run(r.del);
        await sh(`systemctl unmask ${unit} && rm -f /lib/systemd/system/${unit} && systemctl daemon-reload`);
    });

    it("a unit systemd cannot load (bad-setting) stops the converge naming it and systemd's error, and costs no reload on a re-run", async () => {
        const unit = "rlbad.service";
        // No ExecStart=: systemd refuses to load it (bad-setting).
        fs.writeFileSync(path.join(h.rootDir, "lib/systemd/system", unit), "[Unit]\nDescription=packaged rlbad\n[Service]\nType=simple\n");
        await sh(`chown root:root /lib/systemd/system/${unit} && systemctl daemon-reload`);
        assert.equal((await unitState(unit)).load, "bad-setting");
        const r = await oneService("rlbad", (host) => {
            new SystemdService("rlbad", { host, dropIn: { unit }, description: "Drop-in on a bad unit", memoryMaxMiB: 32 });
        });
        for (let i = 0; i < 3; i++) {
            const before = await reloads();
            const x = await h.exec(r.converge.command, { stdin: r.converge.stdin });
            assert.equal(x.code, 65, `run ${i + 1}: ${x.stdout}${x.stderr}`);
            assert.match(x.stderr, /hearth: systemd cannot load rlbad\.service: bad-setting \(.+\)/);
            // The first run wrote the drop-in: a reload is due for it once (NeedDaemonReload); none after.
            if (i > 0) assert.equal((await reloads()) - before, 0, `re-run ${i} reloaded a unit systemd cannot load`);
        }
        await run(r.del);
        await sh(`rm -f /lib/systemd/system/${unit} && systemctl daemon-reload`);
    });

    it("a delete leaves no unit of it loaded or stale, with at most one reload for all its units", async () => {
        await deleteAll();
        const r = runs[0];
        await run(r.converge);
        await allFresh(services(names.slice(0, 1)));
        const before = await reloads();
        await run(r.del);
        const n = (await reloads()) - before;
        console.log(`      daemon-reloads for one service's delete: ${n}`);
        assert.ok(n <= 1, `a delete of one service reloaded ${n} times`);
        assert.equal(await sh(`systemctl show -p LoadState -p NeedDaemonReload ${names[0]}.service`), "LoadState=not-found\nNeedDaemonReload=no\n");
    });
});
