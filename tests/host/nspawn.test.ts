// NspawnContainer inside a real test host: boots from a zfs-fuse clone, answers SSH at its planned address, runs a hearth SystemdService, settings checked from inside.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { ipv4HostAddress } from "../../components/net";
import { NspawnContainer, NspawnContainerArgs } from "../../components/nspawn";
import { parseStartMs } from "../../components/nspawn/render";
import { SystemdService } from "../../components/systemd";
import { shq } from "../../components/shell";
import { mustExec } from "./crash";
import { describeHost, startHost, TestHost } from "./harness";
import { containerOutputsFromHosts, resetCommandOutputs } from "./outputs";
import { ProgramRunner, registeredCommands } from "./runner";
import { generateKey, runSsh, SshTarget, sshTempDir } from "./ssh";
import { BASE } from "./nspawn-base";


describeHost("NspawnContainer in a test host", function () {
    this.timeout(600_000);
    let h: TestHost;
    let zfsHost: Host;
    let target: SshTarget;
    let cidr: string;
    let address: string;
    const key = generateKey(sshTempDir(), "container-root", "hearth-container-test");
    const runner = new ProgramRunner();
    const sh = (cmd: string): Promise<string> => mustExec(h, cmd);
    const args = (): NspawnContainerArgs => ({
        host: zfsHost,
        machine: "web",
        rootfs: { zfs: { origin: "tank/base@bookworm", dataset: "tank/machines/web" } },
        // On the test host's own LAN, so the build machine reaches it directly (its veth end is on this /24).
        network: { macvlan: "host0" },
        addresses: [cidr],
        bindMounts: [{ source: "/srv/shared" }],
        capabilities: [{ name: "CAP_IPC_LOCK", reason: "locks its cache in memory" }],
        // zfs-fuse has no idmapped mounts: nspawn shifts the clone's ownership once, on first boot.
        privateUsersOwnership: "chown",
        memoryMaxMiB: 768,
        tasksMax: 512,
        ssh: { authorizedKey: key.publicKey, privateKey: pulumi.secret(key.privateKey) },
    });
    const inside = async (cmd: string) => {
        const r = await runSsh(target, cmd);
        assert.equal(r.code, 0, `${cmd}\n${r.stdout}${r.stderr}`);
        return r.stdout;
    };

    before(async () => {
        h = await startHost({ name: "ctho" });
        zfsHost = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey, facts: { zfs: true } });
        cidr = ipv4HostAddress(`10.231.${h.index}.0/24`, 50);
        address = cidr.split("/")[0];
        const t0 = Date.now();
        await sh(BASE);
        await sh("mkdir -p /srv/shared && echo 'from the host' > /srv/shared/hello.txt");
        process.stderr.write(`hearth nspawn: base snapshot built in ${((Date.now() - t0) / 1000).toFixed(1)} s (${(await sh("zfs get -Hp -o value used tank/base")).trim()} bytes)\n`);
        // The component reads its container's host key from the converge command: run it for real, as the engine would.
        containerOutputsFromHosts(() => runner.resources.some((r) => r.name === "web-container"));
    });
    after(async () => {
        resetCommandOutputs();
        await h?.stop();
    });

    it("boots from a clone of the base snapshot and reports its start time", async () => {
        const up = await runner.up(() => new NspawnContainer("web", args()));
        assert.deepEqual(up.created.sort(), ["web-container", "web-container-lifecycle", "web-rootfs-dataset", "web-rootfs-dataset-lifecycle"]);
        assert.equal((await sh("zfs get -H -o value origin tank/machines/web")).trim(), "tank/base@bookworm");
        assert.equal((await sh("systemctl is-active systemd-nspawn@web.service")).trim(), "active");
        assert.equal((await sh("systemctl is-enabled systemd-nspawn@web.service")).trim(), "enabled");
        const limits = await sh("systemctl show -p MemoryMax -p TasksMax systemd-nspawn@web.service");
        assert.match(limits, /MemoryMax=805306368/);
        assert.match(limits, /TasksMax=512/);
        target = { address, port: 22, user: "root", privateKeyPath: key.privateKeyPath, hostKey: (await sh("cut -d' ' -f1,2 /var/lib/machines/web/etc/ssh/ssh_host_ed25519_key.pub")).trim() };
        const first = up.runs.find((r) => r.resource === "web-container")!;
        process.stderr.write(`hearth nspawn: first boot of the clone (identity, ownership) ${parseStartMs(first.stdout)} ms after systemctl start\n`);
        assert.ok(parseStartMs(first.stdout)! > 0);
        // Converged: an unchanged up runs nothing, and the script itself, run again, changes and restarts nothing.
        assert.equal((await runner.up(() => new NspawnContainer("web", args()))).runs.length, 0);
        const converge = runner.resources.find((r) => r.name === "web-container")!.inputs;
        const again = await h.exec(converge.create, { stdin: converge.stdin });
        assert.equal(again.code, 0, again.stderr);
        assert.doesNotMatch(again.stdout, /hearth: wrote|running \d+ ms/);
        assert.match(again.stdout, /^hearth-nspawn-hostkey: ssh-ed25519 /m);
    });

    it("measures start time from systemctl start to the container's systemd running", async () => {
        const times: number[] = [];
        for (let i = 0; i < 3; i++) {
            const out = await sh(String.raw`systemctl stop systemd-nspawn@web.service
t0=$(date +%s%N); systemctl start systemd-nspawn@web.service
state=
for _ in $(seq 1200); do state=$(timeout 60 systemctl -M web is-system-running --wait 2>/dev/null || true); [ -n "$state" ] && break; sleep 0.05; done
echo "$state $(( ($(date +%s%N) - t0) / 1000000 ))"`);
            const [state, ms] = out.trim().split(" ");
            assert.equal(state, "running", out);
            times.push(Number(ms));
        }
        process.stderr.write(`hearth nspawn: container start (systemctl start -> running) ${times.join(", ")} ms\n`);
    });

    it("answers SSH at its planned address with its own pinned host key", async () => {
        assert.match((await inside("hostname; cat /etc/.hearth-container")).trim(), /^web\nweb [0-9a-f]{32}$/);
        assert.match(await inside("ip -4 -o addr show"), new RegExp(`inet ${address.replace(/\./g, "\\.")}/24`));
    });

    it("runs with the .nspawn settings: a picked uid range, the named capability only, read-only binds", async () => {
        const uidMap = (await inside("cat /proc/self/uid_map")).trim().split(/\s+/).map(Number);
        assert.equal(uidMap[0], 0);
        assert.equal(uidMap[1], 0x00a00000, "container root is the base's range on the host, not uid 0");
        assert.equal(uidMap[2], 65536);
        const bnd = BigInt(`0x${(await inside("grep CapBnd /proc/1/status")).trim().split(/\s+/)[1]}`);
        const has = (bit: number) => (bnd >> BigInt(bit)) & 1n;
        assert.equal(has(14), 1n, "CAP_IPC_LOCK was named");
        assert.equal(has(16), 0n, "CAP_SYS_MODULE was not");
        assert.equal(has(25), 0n, "CAP_SYS_TIME was not");
        assert.equal((await inside("cat /srv/shared/hello.txt")).trim(), "from the host");
        const w = await runSsh(target, "touch /srv/shared/nope");
        assert.notEqual(w.code, 0);
        assert.match(w.stderr, /Read-only file system/);
    });

    it("runs a hearth SystemdService inside the container", async () => {
        const program = () => {
            const ct = new NspawnContainer("web", args());
            new SystemdService("hello", { host: ct.host, description: "Says hello inside the container", execStart: ["/bin/sh", "-c", "echo hello from hearth; exec sleep infinity"] });
        };
        const cmds = await registeredCommands(program);
        const svc = cmds.filter((c) => c.inputs.connection.host === address && c.inputs.create !== undefined);
        assert.ok(svc.length > 0, "the service targets the container");
        for (const c of svc) {
            // The runner only connects to test hosts it started; the container is reached the same way, directly.
            const r = await runSsh({ ...target, hostKey: c.inputs.connection.hostKey }, c.inputs.create, { stdin: c.inputs.stdin });
            assert.equal(r.code, 0, `${c.name}\n${r.stdout}${r.stderr}`);
        }
        assert.equal((await inside("systemctl is-active hello.service")).trim(), "active");
        assert.match(await inside("journalctl -u hello.service --no-pager -o cat"), /hello from hearth/);
    });

    /** A root-owned 0600 host file the container's uid must never reach: its sha256, owner and mode. */
    const SECRET = "/root/hearth-nspawn-secret";
    const secretFacts = async () => (await sh(`sha256sum < ${SECRET} | cut -c1-64; stat -c '%a %U %G %h' -- ${SECRET}`)).trim();
    const treeUid = async () => (await sh("stat -c %u /var/lib/machines/web")).trim();
    /** Runs `cmd` as the tree's uid in the tree's etc (that uid cannot search the 0700 /var/lib/machines: root enters first). */
    const asTree = (uid: string, cmd: string) =>
        `cd /var/lib/machines/web/etc && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin setpriv --reuid=${uid} --regid=${uid} --clear-groups --no-new-privs -- bash --noprofile --norc -c '${cmd.replace(/'/g, `'"'"'`)}'`;

    it("finding 1: links planted at etc/.hearth-container and etc/hostname reach no host file; the converge replaces them", async () => {
        await sh(`head -c 64 /dev/urandom | base64 -w0 > ${SECRET}; chmod 0600 ${SECRET}`);
        const before = await secretFacts();
        const uid = await treeUid();
        assert.notEqual(uid, "0", "the tree belongs to the container's uid range");
        // The container's root plants the links (as its uid on the host; the container itself would do the same).
        await sh(asTree(uid, `ln -sfn ${SECRET} .hearth-container && ln -sfn ${SECRET} hostname && [ -L hostname ]`));
        // A changed setting makes the converge stop the container and rewrite its tree (the path the old script took).
        const up = await runner.up(() => new NspawnContainer("web", { ...args(), memoryMaxMiB: 800 }));
        assert.deepEqual(up.updated, ["web-container"]);
        assert.equal(await secretFacts(), before, "the host file is unchanged (content, mode, owner)");
        assert.equal((await sh("stat -c '%F %u %a' /var/lib/machines/web/etc/hostname /var/lib/machines/web/etc/.hearth-container")).trim(), `regular file ${uid} 644\nregular file ${uid} 644`);
        assert.equal((await sh("cat /var/lib/machines/web/etc/hostname")).trim(), "web");
        assert.equal((await sh("systemctl is-active systemd-nspawn@web.service")).trim(), "active");
    });

    it("finding 1: an attacker racing as the container's uid (swapping a file and a link) while converges run changes nothing outside the tree", async () => {
        const before = await secretFacts();
        const uid = await treeUid();
        const loop = `while :; do
  ln -sfn ${SECRET} .hc.l; mv -fT .hc.l .hearth-container; ln -sfn ${SECRET} .hn.l; mv -fT .hn.l hostname
  echo race > .hc.f; mv -fT .hc.f .hearth-container; echo race > .hn.f; mv -fT .hn.f hostname
done`;
        const pid = (await sh(`(${asTree(uid, `exec bash --noprofile --norc -c ${shq(loop)}`)}) >/dev/null 2>&1 & echo $!`)).trim();
        assert.match(pid, /^\d+$/);
        // The attacker is really at work: within a moment the path has been a link and a file.
        await sh(`for _ in $(seq 50); do [ -L /var/lib/machines/web/etc/hostname ] && break; sleep 0.05; done; [ -L /var/lib/machines/web/etc/hostname ]`);
        await sh(`for _ in $(seq 50); do [ -f /var/lib/machines/web/etc/hostname ] && [ ! -L /var/lib/machines/web/etc/hostname ] && break; sleep 0.05; done; [ ! -L /var/lib/machines/web/etc/hostname ]`);
        try {
            for (const mem of [801, 802, 803]) {
                const up = await runner.up(() => new NspawnContainer("web", { ...args(), memoryMaxMiB: mem }));
                assert.deepEqual(up.updated, ["web-container"], `converge with memoryMaxMiB ${mem}`);
                assert.equal(await secretFacts(), before, `the host file is unchanged after the converge with memoryMaxMiB ${mem}`);
            }
        } finally {
            await h.exec(`pkill -P ${pid}; kill ${pid}; sleep 0.3`);
        }
        assert.equal(await secretFacts(), before);
        // Without the attacker, the unchanged script puts the tree right again.
        await sh(asTree(uid, "rm -f .hc.l .hc.f .hn.l .hn.f"));
        const converge = runner.resources.find((r) => r.name === "web-container")!.inputs;
        const again = await h.exec(converge.create, { stdin: converge.stdin });
        assert.equal(again.code, 0, again.stderr);
        assert.equal((await sh("cat /var/lib/machines/web/etc/hostname")).trim(), "web");
        assert.equal((await sh("stat -c '%F %u' /var/lib/machines/web/etc/hostname")).trim(), `regular file ${uid}`);
        assert.equal(await secretFacts(), before);
    });

    it("delete stops the container and removes its settings, keeping the clone (destroyOnDelete is not set) and the base", async () => {
        await runner.destroy();
        assert.equal((await h.exec("systemctl is-active systemd-nspawn@web.service")).stdout.trim(), "inactive");
        const ls = await sh("zfs list -H -o name -r tank; ls /etc/systemd/nspawn /var/lib/hearth/applied/nspawn 2>/dev/null || true");
        assert.doesNotMatch(ls, /web\.nspawn|^web$/m);
        assert.match(ls, /tank\/machines\/web/);
        assert.match(ls, /tank\/base/);
    });
});
