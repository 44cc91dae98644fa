// ZfsDataset on a real booted Debian host with zfs-fuse: create, no-op re-run, in-place change, rename, clone, timer, delete.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host, HostFacts } from "../../components/host";
import { ZfsDataset, ZfsDatasetArgs, snapshotUnitName } from "../../components/zfs";
import { describeHost, startHost, TestHost } from "./harness";
import { ProgramRunner, RemoteCommandError } from "./runner";

/** The test host as a hearth Host whose facts declare ZFS (zfs-fuse: legacy compression only, no encryption). */
function zfsHost(h: TestHost, facts: HostFacts = { zfs: true }): Host {
    return new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey, facts });
}

describeHost("ZfsDataset on a zfs-fuse host", function () {
    this.timeout(600_000);
    let h: TestHost;
    let host: Host;
    const sh = async (cmd: string): Promise<string> => {
        const r = await h.exec(cmd);
        assert.equal(r.code, 0, `${cmd}\n${r.stdout}${r.stderr}`);
        return r.stdout;
    };
    const props = (ds: string, list: string) => sh(`zfs get -Hp -o property,value,source ${list} ${ds}`);
    const snapshots = async (ds: string) => (await sh(`zfs list -H -o name -t snapshot -r ${ds}`)).split("\n").filter((l) => l.startsWith(`${ds}@`));
    const dataset = (args: Omit<ZfsDatasetArgs, "host">, name = "data") => () => { new ZfsDataset(name, { host, ...args }); };

    before(async () => {
        h = await startHost({ name: "zfshost" });
        host = zfsHost(h);
        await sh("systemctl is-active zfs-fuse && truncate -s 512M /var/lib/hearth-tank.img && zpool create tank /var/lib/hearth-tank.img");
    });
    after(async () => { await h?.stop(); });

    describe("one dataset through its life", () => {
        const runner = new ProgramRunner();
        const v1: Omit<ZfsDatasetArgs, "host"> = {
            dataset: "tank/app", mountpoint: "/srv/app", compression: "gzip", recordsizeKiB: 16, quotaMiB: 64, atime: false,
            userProperties: { "com.example:owner": "ops" },
        };

        it("creates the dataset with its properties and hearth's mark", async () => {
            const r = await runner.up(dataset(v1));
            assert.deepEqual(r.created, ["data-dataset", "data-dataset-lifecycle"]);
            assert.match(r.runs[0].stdout, /hearth: created tank\/app[\s\S]*hearth: mountpoint=\/srv\/app/);
            assert.equal(await props("tank/app", "compression,recordsize,quota,atime,mountpoint,com.example:owner,hearth:managed,hearth:props"), [
                "compression\tgzip\tlocal", "recordsize\t16384\tlocal", "quota\t67108864\tlocal", "atime\toff\tlocal", "mountpoint\t/srv/app\tlocal",
                "com.example:owner\tops\tlocal", "hearth:managed\tyes\tlocal", "hearth:props\tatime,compression,mountpoint,quota,recordsize,com.example:owner\tlocal", "",
            ].join("\n"));
            assert.equal(await sh("findmnt -n -o SOURCE /srv/app"), "tank/app\n");
            assert.deepEqual(await snapshots("tank/app"), [], "a new dataset needs no pre-change snapshot");
        });

        it("re-running changes nothing: no remote command, and the script itself reports no change", async () => {
            const r = await runner.up(dataset(v1));
            assert.equal(r.runs.length, 0);
            const create = runner.resources.find((c) => c.name === "data-dataset")!.inputs.create as string;
            const again = await h.exec(create);
            assert.equal(again.code, 0, again.stderr);
            assert.match(again.stdout, /hearth: tank\/app unchanged/);
            assert.doesNotMatch(again.stdout, /hearth: (set|inherit|snapshot)/);
            assert.deepEqual(await snapshots("tank/app"), []);
        });

        it("changes properties in place after a snapshot, and a file written before survives", async () => {
            await sh("echo 'written before the change' > /srv/app/keep.txt");
            const { atime: _dropped, ...rest } = v1;
            const r = await runner.up(dataset({ ...rest, compression: "lzjb", quotaMiB: 128 }));
            assert.deepEqual([r.updated, r.created, r.replaced, r.deleted], [["data-dataset"], [], [], []]);
            assert.match(r.runs[0].stdout, /hearth: snapshot tank\/app@hearth-\d{8}T\d{6}\.\d{9}Z/);
            assert.match(r.runs[0].stdout, /hearth: inherit atime/);
            assert.equal(await props("tank/app", "compression,quota,atime"), "compression\tlzjb\tlocal\nquota\t134217728\tlocal\natime\ton\tdefault\n");
            assert.equal(await sh("cat /srv/app/keep.txt"), "written before the change\n");
            const snaps = await snapshots("tank/app");
            assert.equal(snaps.length, 1);
            // The snapshot holds the data as it was before the change: a clone of it shows the file as first written.
            await sh("echo 'changed after' > /srv/app/keep.txt");
            await sh(`zfs clone -o mountpoint=/srv/check ${snaps[0]} tank/check && cat /srv/check/keep.txt > /root/from-snapshot`);
            // zfs-fuse may still hold the file a moment after cat closed it ("dataset is busy").
            await sh("for i in $(seq 1 50); do zfs destroy tank/check 2>/dev/null && exit 0; sleep 0.2; done; zfs destroy tank/check");
            assert.equal(await sh("cat /root/from-snapshot"), "written before the change\n");
            await sh("echo 'written before the change' > /srv/app/keep.txt");
        });

        it("renames with zfs rename (never destroy and create): the data and its snapshots move along", async () => {
            const { atime: _dropped, ...rest } = v1;
            const r = await runner.up(dataset({ ...rest, compression: "lzjb", quotaMiB: 128, dataset: "tank/apps/main", previousNames: ["tank/app"] }));
            assert.deepEqual(r.updated, ["data-dataset", "data-dataset-lifecycle"]);
            assert.match(r.runs[0].stdout, /hearth: renamed tank\/app to tank\/apps\/main/);
            assert.equal((await h.exec("zfs list tank/app")).code, 1);
            assert.equal(await sh("cat /srv/app/keep.txt"), "written before the change\n");
            assert.equal(await sh("findmnt -n -o SOURCE /srv/app"), "tank/apps/main\n");
            assert.equal((await snapshots("tank/apps/main")).length, 2, "the earlier snapshot and the one taken before the rename");
        });

        it("clones a snapshot into a new dataset that sees the data", async () => {
            await sh("zfs snapshot tank/apps/main@base");
            const clone = new ProgramRunner();
            const r = await clone.up(dataset({ dataset: "tank/apps/copy", origin: "tank/apps/main@base", mountpoint: "/srv/copy" }, "copy"));
            assert.match(r.runs[0].stdout, /hearth: cloned tank\/apps\/main@base to tank\/apps\/copy/);
            assert.equal(await sh("zfs get -H -o value origin tank/apps/copy"), "tank/apps/main@base\n");
            assert.equal(await sh("cat /srv/copy/keep.txt"), "written before the change\n");
            await clone.destroy();
            assert.equal(await sh("zfs get -H -o value hearth:managed tank/apps/copy"), "-\n", "the clone is kept, unmarked");
        });

        it("refuses, when destroyOnDelete is set, to destroy a dataset that has clones, and keeps it", async () => {
            const r = await runner.up(dataset({ ...v1, compression: "lzjb", quotaMiB: 128, atime: undefined, dataset: "tank/apps/main", previousNames: ["tank/app"], destroyOnDelete: true }));
            assert.ok(r.updated.includes("data-dataset-lifecycle"));
            await assert.rejects(runner.destroy(), (e: unknown) => e instanceof RemoteCommandError && /refusing to destroy tank\/apps\/main: it has 0 child datasets and 1 clones/.test(e.run.stderr));
            assert.equal(await sh("cat /srv/app/keep.txt"), "written before the change\n");
        });

        it("by default a delete keeps the dataset and its data, and removes only the mark", async () => {
            const r = await runner.up(dataset({ ...v1, compression: "lzjb", quotaMiB: 128, atime: undefined, dataset: "tank/apps/main", previousNames: ["tank/app"] }));
            assert.ok(r.updated.includes("data-dataset-lifecycle"));
            const gone = await runner.destroy();
            assert.deepEqual(gone.deleted.sort(), ["data-dataset", "data-dataset-lifecycle"]);
            assert.match(gone.runs.map((x) => x.stdout).join(""), /tank\/apps\/main kept with its data and snapshots/);
            assert.equal(await sh("cat /srv/app/keep.txt"), "written before the change\n");
            assert.equal(await sh("zfs get -Hp -o value hearth:managed,quota tank/apps/main"), "-\n134217728\n");
        });
    });

    it("refuses to touch a dataset it does not own unless told to adopt it, and adopting keeps the data", async () => {
        await sh("zfs create -o mountpoint=/srv/legacy tank/legacy && echo precious > /srv/legacy/data.txt");
        const runner = new ProgramRunner();
        await assert.rejects(runner.up(dataset({ dataset: "tank/legacy", atime: false }, "legacy")),
            (e: unknown) => e instanceof RemoteCommandError && /tank\/legacy exists but is not marked hearth:managed=yes; refusing to change/.test(e.run.stderr));
        assert.equal(await sh("zfs get -H -o value,source atime tank/legacy"), "on\tdefault\n", "nothing changed");
        const r = await runner.up(dataset({ dataset: "tank/legacy", atime: false, adopt: true }, "legacy"));
        assert.match(r.runs[0].stdout, /hearth: adopting tank\/legacy[\s\S]*hearth: snapshot tank\/legacy@hearth-/);
        assert.equal(await sh("cat /srv/legacy/data.txt"), "precious\n");
        assert.equal(await sh("zfs get -H -o value atime,hearth:managed tank/legacy"), "off\nyes\n");
    });

    it("destroys on opt-in only: children block it unless recursive, and then everything goes", async () => {
        const runner = new ProgramRunner();
        const program = (recursive: boolean) => dataset({ dataset: "tank/scratch", destroyOnDelete: true, recursive }, "scratch");
        await runner.up(program(false));
        await sh("zfs create tank/scratch/child && echo data > /tank/scratch/child/f");
        await assert.rejects(runner.destroy(), (e: unknown) => e instanceof RemoteCommandError && /refusing to destroy tank\/scratch: it has 1 child datasets and 0 clones/.test(e.run.stderr));
        assert.equal(await sh("cat /tank/scratch/child/f"), "data\n");
        await runner.up(program(true));
        const gone = await runner.destroy();
        assert.match(gone.runs.map((r) => r.stdout).join(""), /destroying tank\/scratch with 1 children and 0 clones \(recursive\)[\s\S]*destroyed tank\/scratch/);
        assert.equal((await h.exec("zfs list tank/scratch")).code, 1);
    });

    it("checks the pool at run time too: lz4 on zfs-fuse fails before any change, naming what the pool supports", async () => {
        const liar = zfsHost(h, { zfs: true, zfsCompression: ["off", "on", "lzjb", "gzip", "lz4"] });
        const runner = new ProgramRunner();
        await assert.rejects(runner.up(() => { new ZfsDataset("fast", { host: liar, dataset: "tank/fast", compression: "lz4" }); }),
            (e: unknown) => e instanceof RemoteCommandError &&
                /property 'compression' = lz4 needs the pool feature lz4_compress, which pool tank does not have; it supports compression off on lzjb gzip gzip-1..gzip-9 zle$/m.test(e.run.stderr));
        assert.equal((await h.exec("zfs list tank/fast")).code, 1, "nothing was created");
    });

    it("prunes scheduled snapshots to the newest N of each class, leaving every other snapshot alone", async () => {
        const runner = new ProgramRunner();
        // The dataset resource installs the tool; the runs below pin the clock to replay days of schedule.
        await runner.up(dataset({ dataset: "tank/replay", snapshots: { every: "hourly", keep: { hourly: 2, daily: 2, weekly: 1 } } }, "replay"));
        await sh("zfs snapshot tank/replay@hand-made && zfs snapshot tank/replay@hearth-20300101T000000Z");
        for (const t of ["20300105T100000Z", "20300105T110000Z", "20300105T120000Z", "20300106T100000Z", "20300107T100000Z", "20300114T100000Z"]) {
            await sh(`HEARTH_NOW=${t} /usr/local/lib/hearth/zfs-autosnap tank/replay 2 2 1`);
        }
        assert.deepEqual((await snapshots("tank/replay")).sort(), [
            "tank/replay@hand-made",
            "tank/replay@hearth-20300101T000000Z",
            "tank/replay@hearth-daily-20300107T100000Z",
            "tank/replay@hearth-daily-20300114T100000Z",
            "tank/replay@hearth-hourly-20300107T100000Z",
            "tank/replay@hearth-hourly-20300114T100000Z",
            "tank/replay@hearth-weekly-20300114T100000Z",
        ]);
        // A dataset without hearth's mark is never touched by the tool.
        await sh("zfs create tank/foreign");
        const foreign = await h.exec("/usr/local/lib/hearth/zfs-autosnap tank/foreign 2 0 0");
        assert.equal(foreign.code, 1);
        assert.match(foreign.stderr, /not marked hearth:managed=yes; not touching it/);
        assert.deepEqual(await snapshots("tank/foreign"), []);
        await runner.destroy();
    });

    it("runs the snapshots from a hardened systemd timer", async () => {
        const runner = new ProgramRunner();
        await runner.up(dataset({ dataset: "tank/snapped", snapshots: { every: "hourly", keep: { hourly: 2, daily: 2, weekly: 1 } } }, "snapped"));
        const unit = snapshotUnitName("tank/snapped");
        assert.equal((await sh(`systemctl is-active ${unit}.timer`)).trim(), "active");
        const run = await h.exec(`systemctl start ${unit}.service`);
        const journal = await h.exec(`journalctl -u ${unit}.service --no-pager -o cat | tail -n 5`);
        assert.equal(run.code, 0, `the timer's service failed:\n${journal.stdout}`);
        const taken = await snapshots("tank/snapped");
        assert.deepEqual(taken.map((s) => s.replace(/\d{8}T\d{6}Z$/, "T")).sort(), ["tank/snapped@hearth-daily-T", "tank/snapped@hearth-hourly-T", "tank/snapped@hearth-weekly-T"]);
        await runner.destroy();
        assert.equal((await h.exec(`systemctl cat ${unit}.timer`)).code, 1, "the timer goes with the dataset resource");
        assert.equal(await sh("zfs get -H -o value hearth:managed tank/snapped"), "-\n");
    });
});
