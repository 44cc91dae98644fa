// Crash points for ZfsDataset on a real zfs-fuse host: its converge (fresh, a property change, a rename) and its
// delete (keep, and destroyOnDelete) killed after every runtime step, re-run unchanged, and compared with a clean run.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { ZfsDataset, ZfsDatasetArgs } from "../../components/zfs";
import { describeHost, startHost, TestHost } from "./harness";
import { CrashRun, crashPoints, fileFacts, mustExec, startState } from "./crash";
import { registeredCommands } from "./runner";

describeHost("ZfsDataset crash points", function () {
    this.timeout(1_800_000);
    let h: TestHost;
    const sh = (cmd: string): Promise<string> => mustExec(h, cmd);

    /** The converge (create) and delete commands ZfsDataset `name` registers for `args`. */
    async function commands(args: Omit<ZfsDatasetArgs, "host">, name = "app"): Promise<{ converge: CrashRun; del: CrashRun }> {
        const cmds = await registeredCommands(() => {
            const host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey, facts: { zfs: true } });
            new ZfsDataset(name, { host, ...args });
        });
        const converge = cmds.find((c) => c.name === `${name}-dataset`)!.inputs;
        const life = cmds.find((c) => c.name === `${name}-dataset-lifecycle`)!.inputs;
        return {
            converge: { command: converge.create as string, stdin: (converge.stdin as string | undefined) || undefined },
            del: { command: life.delete as string },
        };
    }

    // Everything below tank/c goes, with hearth's tool and applied state; the pool and hearth's lock dir stay.
    const wipe = () => sh([
        "for d in $(zfs list -H -o name -r tank/c 2>/dev/null | sort -r); do",
        "  for i in $(seq 1 50); do zfs unmount $d 2>/dev/null || true; zfs destroy -r $d 2>/dev/null && break; sleep 0.2; done",
        "done",
        "zfs list tank/c >/dev/null 2>&1 && exit 1",
        "rm -rf /usr/local/lib/hearth /var/lib/hearth/applied/zfs-before",
    ].join("\n"));
    const start = (from?: CrashRun) => startState(h, wipe, from);

    /** Datasets, snapshots (pre-change ones by kind, their time taken out), own properties, mounts, tool, state. */
    const fingerprint = async () => {
        const zfs = await sh([
            "zfs list -H -o name,mounted,mountpoint -r tank/c 2>/dev/null || true",
            "zfs list -H -o name -t snapshot -r tank/c 2>/dev/null || true",
            "zfs get -H -p -o name,property,value,source -s local all -r tank/c 2>/dev/null | grep -v '@' || true",
        ].join("; "));
        return [
            ...zfs.replace(/@hearth-\d{8}T\d{6}\.\d{9}Z/g, "@hearth-<time>").split("\n").sort(),
            ...(await fileFacts(h, ["/usr/local/lib/hearth/zfs-autosnap"], { trees: ["/usr/local/lib/hearth", "/var/lib/hearth/applied/zfs-before"], random: ["/var/lib/hearth/applied/zfs-before/*"] })),
        ];
    };

    const v1: Omit<ZfsDatasetArgs, "host"> = {
        dataset: "tank/c/app", mountpoint: "/srv/c-app", compression: "gzip", quotaMiB: 64, atime: false,
        userProperties: { "com.example:tier": "gold" },
        snapshots: { every: "daily", keep: { daily: 3 } },
    };
    const v2: Omit<ZfsDatasetArgs, "host"> = { ...v1, compression: "lzjb", quotaMiB: 128, atime: undefined, mountpoint: "/srv/c-app2" };
    const v3: Omit<ZfsDatasetArgs, "host"> = { ...v1, dataset: "tank/c/renamed", previousNames: ["tank/c/app"] };

    before(async () => {
        h = await startHost({ name: "zfscrash" });
        await sh("systemctl is-active zfs-fuse && truncate -s 512M /var/lib/hearth-tank.img && zpool create tank /var/lib/hearth-tank.img");
    });
    after(async () => { await h?.stop(); });

    const cases: [string, () => Promise<{ from?: CrashRun; run: CrashRun; min: number }>][] = [
        ["converge of a new dataset", async () => ({ run: (await commands(v1)).converge, min: 3 })],
        ["converge of a property change (snapshot, inherit, sets, remount)", async () => ({ from: (await commands(v1)).converge, run: (await commands(v2)).converge, min: 6 })],
        ["converge of a rename (zfs rename carries data, snapshots and mark)", async () => ({ from: (await commands(v1)).converge, run: (await commands(v3)).converge, min: 4 })],
        ["delete that keeps the dataset (the marks go, hearth:owner last)", async () => ({ from: (await commands(v1)).converge, run: (await commands(v1)).del, min: 2 })],
        ["delete with destroyOnDelete", async () => {
            const c = await commands({ ...v1, destroyOnDelete: true });
            return { from: c.converge, run: c.del, min: 2 };
        }],
    ];
    for (const [name, make] of cases) {
        it(`${name}: every kill point finishes on the re-run`, async () => {
            const c = await make();
            const report = await crashPoints(h, { name, reset: () => start(c.from), run: c.run, fingerprint });
            assert.ok(report.points >= c.min, `${name}: only ${report.points} kill points`);
            process.stderr.write(`crash-zfs: ${name}: ${report.points} points in ${report.seconds.toFixed(0)} s\n`);
            const leftovers = await h.exec("find /usr/local/lib/hearth /var/lib/hearth/applied -name '.hearth.*' 2>/dev/null");
            assert.equal(leftovers.stdout, "", "temp files left behind");
        });
    }
});
