// Smoke spec for the host harness and the script runner: real booted hosts, real SSH, and nothing left behind.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { remoteScript } from "../../components/host";
import { contentHash, frameStdin, Script } from "../../components/shell";
import { describeHost, startHost, TestHost } from "./harness";
import { cgroupPids, LOCK_DIR, mountsUnder, run } from "./machine";
import { ProgramRunner, RemoteCommandError } from "./runner";
import { generateKey, runSsh, sshTempDir } from "./ssh";

const SMOKE_FILE = "/etc/hearth-smoke/hello.txt";

/** A hearth Script that installs one file, and the one that removes it: what every component registers. */
function smokeProgram(h: TestHost, content: string): () => void {
    return () => {
        const s = new Script("smoke").install({ path: SMOKE_FILE, content, mode: 0o640 }).raw('echo "changed=$hearth_changed"');
        const del = new Script("smoke delete").raw(`hearth_remove ${SMOKE_FILE}`);
        remoteScript("smoke-file", {
            host: h.host,
            script: s.render(),
            deleteScript: del.render(),
            stdin: frameStdin(s.installedFiles.map((f) => f.content)),
            hash: contentHash(s.render(), content),
        }, {});
    };
}

/** A bare command with explicit inputs, to pin down the runner's update/replace/delete rules. */
function rawCommand(
    h: TestHost, name: string,
    args: { create: string; update?: string; delete?: string; stdin?: string; triggers?: string[] },
    opts: pulumi.CustomResourceOptions = {},
): command.remote.Command {
    return new command.remote.Command(name, { connection: h.host.connection, addPreviousOutputInEnv: false, ...args }, opts);
}

describeHost("test hosts", function () {
    this.timeout(600_000);
    let a: TestHost;
    let b: TestHost;

    before(async () => {
        [a, b] = await Promise.all([startHost({ name: "alpha" }), startHost({ name: "beta" })]);
        process.stderr.write(`hearth host: warm start to SSH: alpha ${a.timings.sshReadySeconds.toFixed(1)} s, beta ${b.timings.sshReadySeconds.toFixed(1)} s\n`);
    });
    after(async () => {
        await Promise.all([a?.stop(), b?.stop()]);
    });

    it("boots systemd as PID 1 and finishes booting", async () => {
        const r = await a.exec("systemctl is-system-running --wait; cat /proc/1/comm; hostname");
        const [state, pid1, hostname] = r.stdout.trim().split("\n");
        if (state === "degraded") {
            const failed = await a.exec("systemctl --failed --no-legend --plain");
            process.stderr.write(`hearth host: alpha is degraded; failed units:\n${failed.stdout}`);
        }
        assert.ok(state === "running" || state === "degraded", `system state: ${r.stdout}${r.stderr}`);
        assert.equal(pid1, "systemd");
        assert.equal(hostname, "alpha");
    });

    it("answers SSH only with the pinned host key", async () => {
        const ok = await a.exec("id -un");
        assert.equal(ok.code, 0, ok.stderr);
        assert.equal(ok.stdout.trim(), "root");
        const other = generateKey(sshTempDir(), "not-alpha", "impostor");
        const r = await runSsh({ ...a.ssh, hostKey: other.publicKey }, "true");
        assert.equal(r.code, 255);
        assert.match(r.stderr, /host key/i);
    });

    it("passes stdin to exec and closes it", async () => {
        const r = await a.exec("wc -c", { stdin: "12345\n" });
        assert.equal(r.stdout.trim(), "6");
        const empty = await a.exec("cat; echo end");
        assert.equal(empty.stdout, "end\n");
    });

    it("keeps the test range blackholed and gives hosts no way out of it", async () => {
        assert.match(run("ip", ["-4", "route", "show", "type", "blackhole", "10.231.0.0/16"]).out, /10\.231\.0\.0\/16/);
        // An address in the range that no host holds is dropped here, not sent towards the default route.
        assert.match(run("ip", ["-4", "route", "get", "10.231.253.2"]).out, /blackhole|invalid argument/i);
        const out = await a.exec("ip -4 route get 192.0.2.1 2>&1 || true");
        assert.match(out.stdout, /unreachable/i);
    });

    it("lets hosts reach each other over their veths", async () => {
        const ab = await a.exec(`ping -c 1 -W 2 ${b.address}`);
        assert.equal(ab.code, 0, ab.stdout + ab.stderr);
        const ba = await b.exec(`ping -c 1 -W 2 ${a.address}`);
        assert.equal(ba.code, 0, ba.stdout + ba.stderr);
    });

    it("runs a hearth Script through the runner: installs, a no-op runs nothing, a change updates in place, destroy removes", async () => {
        const runner = new ProgramRunner();
        const first = await runner.up(smokeProgram(a, "hello from hearth\n"));
        assert.deepEqual(first.created, ["smoke-file", "smoke-file-lifecycle"]);
        assert.equal(first.runs.length, 1, "the lifecycle command holds the delete and runs nothing on create");
        assert.match(first.runs[0].stdout, /hearth: wrote \/etc\/hearth-smoke\/hello.txt[\s\S]*changed=1/);
        const file = await a.exec(`stat -c '%a %U' ${SMOKE_FILE} && cat ${SMOKE_FILE}`);
        assert.equal(file.stdout, "640 root\nhello from hearth\n");

        const again = await runner.up(smokeProgram(a, "hello from hearth\n"));
        assert.deepEqual(again.unchanged, ["smoke-file", "smoke-file-lifecycle"]);
        assert.equal(again.runs.length, 0, "a no-op up runs no remote command");

        const changed = await runner.up(smokeProgram(a, "hello again\n"));
        assert.deepEqual([changed.updated, changed.replaced, changed.deleted], [["smoke-file"], [], []]);
        assert.equal(changed.runs.length, 1);
        assert.equal((await a.exec(`cat ${SMOKE_FILE}`)).stdout, "hello again\n");

        const gone = await runner.destroy();
        assert.deepEqual(gone.deleted, ["smoke-file-lifecycle", "smoke-file"]);
        assert.equal(gone.runs.length, 1);
        assert.equal((await a.exec(`test -e ${SMOKE_FILE}`)).code, 1);
    });

    it("updates in place on an input change, replaces on a trigger change, deletes what disappeared", async () => {
        const runner = new ProgramRunner();
        const log = "/root/runner.log";
        const entry = (tag: string) => `read -r x; echo "${tag} $x" >> ${log}`;
        await a.exec(`rm -f ${log}`);
        // "two" depends on "one": created after it, deleted before it.
        const version = (stdin: string, trigger: string, withTwo: boolean) => () => {
            const one = rawCommand(a, "one", { create: entry("create-one"), update: entry("update-one"), delete: entry("delete-one"), stdin, triggers: [trigger] });
            if (withTwo) rawCommand(a, "two", { create: entry("create-two"), delete: entry("delete-two"), stdin: "v1\n" }, { dependsOn: [one] });
        };
        await runner.up(version("v1\n", "t1", true));
        const changed = await runner.up(version("v2\n", "t1", true));
        assert.deepEqual([changed.updated, changed.unchanged, changed.runs.length], [["one"], ["two"], 1]);
        const replaced = await runner.up(version("v3\n", "t2", false));
        assert.deepEqual([replaced.replaced, replaced.deleted], [["one"], ["two"]]);
        // The provider's delete gets the old stdin; the engine deletes after creating, dependents first.
        const lines = (await a.exec(`cat ${log}`)).stdout.trim().split("\n");
        assert.deepEqual(lines, ["create-one v1", "create-two v1", "update-one v2", "create-one v3", "delete-two v1", "delete-one v2"]);
    });

    it("updates a command whose connection changed in place (the provider replaces only on triggers), unless it is an ignored change", async () => {
        const runner = new ProgramRunner();
        const version = (perDialTimeout: number) => () => {
            const connection = { ...a.host.connection, perDialTimeout };
            new command.remote.Command("pinned", { connection, create: "true", addPreviousOutputInEnv: false }, { ignoreChanges: ["connection"] });
            new command.remote.Command("follows", { connection, create: "true", addPreviousOutputInEnv: false });
        };
        await runner.up(version(15));
        const r = await runner.up(version(20));
        assert.deepEqual([r.unchanged, r.updated, r.replaced, r.runs.map((x) => x.resource)], [["pinned"], ["follows"], [], ["follows"]]);
    });

    it("retries a command whose connection was cut mid-script, and it converges", async () => {
        let cut = false;
        const runner = new ProgramRunner({
            onSpawn: (child) => {
                if (!cut) { cut = true; setTimeout(() => child.kill("SIGKILL"), 1500); }
            },
        });
        const program = () => { rawCommand(a, "slow", { create: "test -e /root/slow-once || { touch /root/slow-once; sleep 20; }; echo converged" }); };
        await a.exec("rm -f /root/slow-once");
        await assert.rejects(runner.up(program), (e: unknown) => e instanceof RemoteCommandError && e.run.op === "create");
        const retry = await runner.up(program);
        // A failed create stores nothing: the next up creates again.
        assert.deepEqual(retry.created, ["slow"]);
        assert.equal(retry.runs[0].stdout, "converged\n");
        assert.equal((await runner.up(program)).runs.length, 0);
    });

    it("refuses to connect anywhere but a host this process started", async () => {
        const runner = new ProgramRunner();
        const elsewhere = () => {
            new command.remote.Command("stray", { connection: { ...a.host.connection, host: "10.231.250.2" }, create: "true" });
        };
        await assert.rejects(runner.up(elsewhere), /refusing to connect to 10\.231\.250\.2/);
    });

    it("stop() leaves no process, cgroup, veth, route, mount, lock or directory behind", async () => {
        const pids = [b.pid, ...cgroupPids(b.cgroups)];
        assert.ok(pids.length > 3, `expected the container's processes in ${b.cgroups.join(", ")}`);
        assert.ok(fs.existsSync(`/sys/class/net/${b.veth}`));
        await b.stop();
        const alive = pids.filter((p) => fs.existsSync(`/proc/${p}`));
        assert.deepEqual(alive, [], `processes left: ${alive.map((p) => `${p}:${fs.readFileSync(`/proc/${p}/comm`, "utf8").trim()}`).join(" ")}`);
        for (const cg of b.cgroups) assert.equal(fs.existsSync(cg), false, `cgroup ${cg} left behind`);
        assert.equal(fs.existsSync(`/sys/class/net/${b.veth}`), false, `${b.veth} left behind`);
        assert.equal(run("ip", ["-4", "route", "show", `10.231.${b.index}.0/24`]).out, "");
        assert.deepEqual(mountsUnder(b.stateDir), []);
        assert.equal(fs.existsSync(b.stateDir), false, `${b.stateDir} left behind`);
        assert.equal(fs.existsSync(path.join(LOCK_DIR, `${b.index}.json`)), false);
    });
});
