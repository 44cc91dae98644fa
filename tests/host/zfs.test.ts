// ZfsDataset on a real booted Debian host with zfs-fuse: create, no-op re-run, in-place change, rename, clone, timer, delete.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host, HostFacts } from "../../components/host";
import { ZfsDataset, ZfsDatasetArgs, snapshotUnitName } from "../../components/zfs";
import { AUTOSNAP_SCRIPT } from "../../components/zfs/snapshots";
import { mustExec } from "./crash";
import { describeHost, startHost, TestHost } from "./harness";
import { ProgramRunner, RemoteCommandError, registeredCommands } from "./runner";
import { runSsh } from "./ssh";
import { createHash } from "crypto";

/** The owner id the runner's program gives ZfsDataset `name` (project hearth, stack test). */
const owner = (name: string) => `hearth/test/hearth:zfs:Dataset/${name}`;

/** The test host as a hearth Host whose facts declare ZFS (zfs-fuse: legacy compression only, no encryption). */
function zfsHost(h: TestHost, facts: HostFacts = { zfs: true }): Host {
    return new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey, facts });
}

describeHost("ZfsDataset on a zfs-fuse host", function () {
    this.timeout(600_000);
    let h: TestHost;
    const sh = (cmd: string): Promise<string> => mustExec(h, cmd);
    const props = (ds: string, list: string) => sh(`zfs get -Hp -o property,value,source ${list} ${ds}`);
    const snapshots = async (ds: string) => (await sh(`zfs list -H -o name -t snapshot -r ${ds}`)).split("\n").filter((l) => l.startsWith(`${ds}@`));
    // A fresh Host per program run, as each `pulumi up` is a fresh process (plan-time claims are per Host).
    const dataset = (args: Omit<ZfsDatasetArgs, "host">, name = "data", opts: pulumi.ComponentResourceOptions = {}) => () => {
        new ZfsDataset(name, { host: zfsHost(h), ...args }, opts);
    };

    before(async () => {
        h = await startHost({ name: "zfshost" });
        await sh("systemctl is-active zfs-fuse && truncate -s 512M /var/lib/hearth-tank.img && zpool create tank /var/lib/hearth-tank.img");
    });
    after(async () => { await h?.stop(); });

    describe("one dataset through its life", () => {
        const runner = new ProgramRunner();
        const v1: Omit<ZfsDatasetArgs, "host"> = {
            dataset: "tank/app", mountpoint: "/srv/app", compression: "gzip", recordsizeKiB: 16, quotaMiB: 64, atime: false,
            userProperties: { "com.example:owner": "ops" },
        };

        it("creates the dataset with its properties and this resource's mark", async () => {
            const r = await runner.up(dataset(v1));
            assert.deepEqual(r.created, ["data-dataset", "data-dataset-lifecycle"]);
            assert.match(r.runs[0].stdout, /hearth: created tank\/app[\s\S]*hearth: mountpoint=\/srv\/app/);
            assert.equal(await props("tank/app", "compression,recordsize,quota,atime,mountpoint,com.example:owner,hearth:owner,hearth:managed,hearth:props"), [
                "compression\tgzip\tlocal", "recordsize\t16384\tlocal", "quota\t67108864\tlocal", "atime\toff\tlocal", "mountpoint\t/srv/app\tlocal",
                "com.example:owner\tops\tlocal", `hearth:owner\t${owner("data")}\tlocal`, "hearth:managed\t-\t-",
                "hearth:props\tatime,compression,mountpoint,quota,recordsize,com.example:owner\tlocal", "",
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
            assert.match(r.runs[0].stdout, /hearth: inherit atime on tank\/app/);
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
            assert.equal(await sh("zfs get -H -o value hearth:owner tank/apps/copy"), "-\n", "the clone is kept, unmarked");
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
            assert.equal(await sh("zfs get -Hp -o value hearth:owner,hearth:props,quota tank/apps/main"), "-\n-\n134217728\n");
        });
    });

    it("never mounts through a link or below a directory a service user controls (a mount there could land on /usr/local/bin)", async () => {
        // The service user owns /srv/svc; it points two names at system directories.
        await sh([
            "id svcuser >/dev/null 2>&1 || useradd --system --uid 1500 svcuser",
            "rm -rf /srv/svc && mkdir -p /srv/svc && chown 1500:1500 /srv/svc",
            "setpriv --reuid=1500 --regid=1500 --clear-groups ln -s /usr/local/bin /srv/svc/bin",
            "setpriv --reuid=1500 --regid=1500 --clear-groups ln -s /etc /srv/svc/etcl",
        ].join("\n"));
        const before = await sh("findmnt -rn -o TARGET | sort");
        for (const [name, mountpoint] of [["mnt-link", "/srv/svc/bin"], ["mnt-parent", "/srv/svc/etcl/evil"], ["mnt-below", "/srv/svc/data"]] as const) {
            const runner = new ProgramRunner();
            const err = await runner.up(dataset({ dataset: `tank/${name}`, mountpoint }, name)).then(() => undefined, (e: unknown) => e);
            assert.ok(err instanceof RemoteCommandError, `${mountpoint}: the converge must fail`);
            assert.equal(err.run.code, 65, err.run.stderr);
            assert.match(err.run.stderr, /refusing to mount at /);
            assert.equal((await h.exec(`zfs list tank/${name}`)).code, 1, `${mountpoint}: nothing was created`);
        }
        assert.equal(await sh("findmnt -rn -o TARGET | sort"), before, "no new mount anywhere");
        assert.equal((await h.exec("test -e /etc/evil")).code, 1);
        // Moving an existing dataset there is refused the same way, before its mountpoint changes.
        const runner = new ProgramRunner();
        await runner.up(dataset({ dataset: "tank/mnt-move", mountpoint: "/srv/mnt-move" }, "mnt-move"));
        const err = await runner.up(dataset({ dataset: "tank/mnt-move", mountpoint: "/srv/svc/bin" }, "mnt-move")).then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof RemoteCommandError);
        assert.equal(await sh("zfs get -H -o value mountpoint tank/mnt-move"), "/srv/mnt-move\n");
        assert.equal((await h.exec("findmnt -n /usr/local/bin")).code, 1, "nothing is mounted over /usr/local/bin");
    });

    it("checks inherited mountpoints too: a child, or a parent that -p creates, never mounts through a service user's link", async () => {
        const runner = new ProgramRunner();
        await runner.up(dataset({ dataset: "tank/svcdata", mountpoint: "/srv/svcdata" }, "svcdata"));
        await sh([
            "id svcuser >/dev/null 2>&1 || useradd --system --uid 1500 svcuser",
            "chown 1500:1500 /srv/svcdata",
            "setpriv --reuid=1500 --regid=1500 --clear-groups ln -s /usr/local/bin /srv/svcdata/child",
            "setpriv --reuid=1500 --regid=1500 --clear-groups ln -s /usr/local/sbin /srv/svcdata/mid",
        ].join("\n"));
        for (const [name, args] of [["inh-child", { dataset: "tank/svcdata/child" }], ["inh-leaf", { dataset: "tank/svcdata/mid/leaf", mountpoint: "/srv/leaf" }]] as const) {
            const r = new ProgramRunner();
            const err = await r.up(dataset(args, name)).then(() => undefined, (e: unknown) => e);
            assert.ok(err instanceof RemoteCommandError, `${name}: refused`);
            assert.equal(err.run.code, 65, err.run.stderr);
            assert.match(err.run.stderr, /refusing to mount at \/srv\/svcdata\//);
        }
        assert.equal((await h.exec("findmnt -n /usr/local/bin")).code, 1);
        assert.equal((await h.exec("findmnt -n /usr/local/sbin")).code, 1);
        assert.equal((await h.exec("zfs list tank/svcdata/child")).code, 1);
        assert.equal((await h.exec("zfs list tank/svcdata/mid")).code, 1);
    });

    it("a recursive destroy checks clones of its children's snapshots, and clones of clones", async () => {
        await sh("zfs create tank/rp && zfs create tank/rp/c && zfs snapshot tank/rp/c@s");
        const keep = new ProgramRunner();
        await keep.up(dataset({ dataset: "tank/rkept", origin: "tank/rp/c@s" }, "rkept"));
        await keep.destroy();
        const other = new ProgramRunner();
        await other.up(dataset({ dataset: "tank/rother", origin: "tank/rp/c@s" }, "rother"));
        const parent = new ProgramRunner();
        await parent.up(dataset({ dataset: "tank/rp", adopt: true, destroyOnDelete: true, recursive: true }, "rp"));
        const err = await parent.destroy().then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof RemoteCommandError, "refused");
        assert.match(err.run.stderr, /refusing to destroy tank\/rp: tank\/(rkept|rother) below or cloned from it/);
        assert.equal((await h.exec("zfs list tank/rkept tank/rother")).code, 0, "both are still there");
    });

    it("refuses to create a dataset over a non-empty directory (a rename without previousNames), before creating anything", async () => {
        await sh("rm -rf /srv/full && mkdir -p /srv/full && echo kept > /srv/full/data");
        const runner = new ProgramRunner();
        const err = await runner.up(dataset({ dataset: "tank/full", mountpoint: "/srv/full" }, "full")).then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof RemoteCommandError);
        assert.equal(err.run.code, 65, err.run.stderr);
        assert.match(err.run.stderr, /refusing to create tank\/full: its mountpoint \/srv\/full is a directory that is not empty .*previousNames/);
        assert.equal((await h.exec("zfs list tank/full")).code, 1, "nothing was created");
        assert.equal(await sh("cat /srv/full/data"), "kept\n");
    });

    it("a recursive destroy of a parent never takes along a child whose delete kept it (a tablespace, a container's clone)", async () => {
        const runner = new ProgramRunner();
        const both = () => {
            new ZfsDataset("par", { host: zfsHost(h), dataset: "tank/par", destroyOnDelete: true, recursive: true });
            new ZfsDataset("kid", { host: zfsHost(h), dataset: "tank/par/kid" });
        };
        await runner.up(both);
        await sh("echo precious > /tank/par/kid/data");
        // The child's resource goes first: its delete keeps the dataset (and says so).
        const kept = await runner.up(dataset({ dataset: "tank/par", destroyOnDelete: true, recursive: true }, "par"));
        assert.match(kept.runs.map((r) => r.stdout).join(""), /tank\/par\/kid kept with its data/);
        assert.match(await sh("zfs get -H -o value -s local hearth:kept tank/par/kid"), /hearth:zfs:Dataset\/kid/);
        const err = await runner.destroy().then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof RemoteCommandError, "the parent's destroy is refused");
        assert.match(err.run.stderr, /refusing to destroy tank\/par: tank\/par\/kid below or cloned from it holds data kept when .*kid was deleted/);
        assert.equal(await sh("cat /tank/par/kid/data"), "precious\n");
    });

    it("refuses to touch a dataset it does not own unless told to adopt it, and adopting keeps the data", async () => {
        await sh("zfs create -o mountpoint=/srv/legacy tank/legacy && echo precious > /srv/legacy/data.txt");
        const runner = new ProgramRunner();
        await assert.rejects(runner.up(dataset({ dataset: "tank/legacy", atime: false }, "legacy")),
            (e: unknown) => e instanceof RemoteCommandError && /dataset tank\/legacy exists and is not managed by hearth; set adopt: true to take it over/.test(e.run.stderr));
        assert.equal(await sh("zfs get -H -o value,source atime tank/legacy"), "on\tdefault\n", "nothing changed");
        const r = await runner.up(dataset({ dataset: "tank/legacy", atime: false, adopt: true }, "legacy"));
        assert.match(r.runs[0].stdout, /hearth: adopting dataset tank\/legacy \(mark was 'none'[\s\S]*hearth: snapshot tank\/legacy@hearth-/);
        assert.equal(await sh("cat /srv/legacy/data.txt"), "precious\n");
        assert.equal(await sh("zfs get -H -o value atime,hearth:owner tank/legacy"), `off\n${owner("legacy")}\n`);
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
        assert.match(foreign.stderr, /carries no hearth:owner mark of its own; not touching it/);
        assert.deepEqual(await snapshots("tank/foreign"), []);
        await runner.destroy();
    });

    it("runs the snapshots from a hardened systemd timer", async () => {
        const runner = new ProgramRunner();
        await runner.up(dataset({ dataset: "tank/snapped", snapshots: { every: "hourly", keep: { hourly: 2, daily: 2, weekly: 1 } } }, "snapped"));
        const unit = snapshotUnitName("tank/snapped");
        assert.equal((await sh(`systemctl is-active ${unit}.timer`)).trim(), "active");
        for (const f of [`${unit}.service`, `${unit}.timer`]) {
            assert.match(await sh(`cat /etc/systemd/system/${f}`), /^# hearth-owner: hearth\/test\/hearth:systemd:Service\/snapped-snapshots$/m, `${f} carries its owner`);
        }
        const run = await h.exec(`systemctl start ${unit}.service`);
        const journal = await h.exec(`journalctl -u ${unit}.service --no-pager -o cat | tail -n 5`);
        assert.equal(run.code, 0, `the timer's service failed:\n${journal.stdout}`);
        const taken = await snapshots("tank/snapped");
        assert.deepEqual(taken.map((s) => s.replace(/\d{8}T\d{6}Z$/, "T")).sort(), ["tank/snapped@hearth-daily-T", "tank/snapped@hearth-hourly-T", "tank/snapped@hearth-weekly-T"]);
        await runner.destroy();
        assert.equal((await h.exec(`systemctl cat ${unit}.timer`)).code, 1, "the timer goes with the dataset resource");
        assert.equal(await sh("zfs get -H -o value hearth:owner tank/snapped"), "-\n");
    });

    describe("ownership per resource (finding 6)", () => {
        it("adopts a dataset carrying the earlier release's shared mark, rewrites the mark and says so", async () => {
            await sh("zfs create -o hearth:managed=yes -o hearth:props=atime -o atime=off tank/old-release");
            const runner = new ProgramRunner();
            const r = await runner.up(dataset({ dataset: "tank/old-release", atime: false }, "oldrel"));
            assert.match(r.runs[0].stdout, /hearth: taking over dataset tank\/old-release from an earlier release of hearth \(the mark is rewritten to hearth\/test\/hearth:zfs:Dataset\/oldrel\)/);
            assert.equal(await props("tank/old-release", "hearth:owner,hearth:managed,atime"), `hearth:owner\t${owner("oldrel")}\tlocal\nhearth:managed\t-\t-\natime\toff\tlocal\n`);
            assert.doesNotMatch(r.runs[0].stdout, /hearth: snapshot/, "nothing but the mark changed");
        });

        it("refuses a dataset another resource owns, names it and says how to rename or take over; an alias takes over; the old resource's delete is then a no-op", async () => {
            const alpha = new ProgramRunner();
            await alpha.up(dataset({ dataset: "tank/owned", destroyOnDelete: true, mountpoint: "/srv/owned" }, "alpha"));
            await sh("echo mine > /srv/owned/f");
            // A renamed resource without aliases: a new resource, which must not take over the live dataset.
            const beta = new ProgramRunner();
            await assert.rejects(beta.up(dataset({ dataset: "tank/owned", mountpoint: "/srv/owned", atime: false }, "beta")),
                (e: unknown) => e instanceof RemoteCommandError &&
                    /dataset tank\/owned is owned by another resource \(hearth\/test\/hearth:zfs:Dataset\/alpha\), not by hearth\/test\/hearth:zfs:Dataset\/beta\. If you renamed the resource, add aliases.*set adopt: true/.test(e.run.stderr));
            assert.equal(await props("tank/owned", "hearth:owner,atime"), `hearth:owner\t${owner("alpha")}\tlocal\natime\ton\tdefault\n`, "nothing changed");
            // With the alias, the renamed resource takes the dataset over and rewrites the mark.
            const r = await beta.up(dataset({ dataset: "tank/owned", mountpoint: "/srv/owned", atime: false }, "beta", { aliases: [{ name: "alpha" }] }));
            assert.match(r.runs[0].stdout, /taking over dataset tank\/owned from hearth\/test\/hearth:zfs:Dataset\/alpha/);
            assert.equal(await props("tank/owned", "hearth:owner,atime"), `hearth:owner\t${owner("beta")}\tlocal\natime\toff\tlocal\n`);
            // The old resource's delete (destroyOnDelete!) touches nothing that is no longer its own.
            const gone = await alpha.destroy();
            assert.match(gone.runs.map((x) => x.stdout).join(""), /tank\/owned is owned by hearth\/test\/hearth:zfs:Dataset\/beta, not by hearth\/test\/hearth:zfs:Dataset\/alpha; left untouched/);
            assert.equal(await sh("cat /srv/owned/f"), "mine\n");
            assert.equal(await sh("zfs get -H -o value hearth:owner tank/owned"), `${owner("beta")}\n`);
            await beta.destroy();
        });

        it("a changed 'dataset' without previousNames leaves the old dataset with its data but without this resource's mark", async () => {
            const runner = new ProgramRunner();
            await runner.up(dataset({ dataset: "tank/moved1" }, "mover"));
            const r = await runner.up(dataset({ dataset: "tank/moved2" }, "mover"));
            assert.match(r.runs[0].stdout, /tank\/moved1 carried this resource's mark but is no longer its dataset: kept/);
            assert.equal(await sh("zfs get -H -o value hearth:owner tank/moved1 tank/moved2"), `-\n${owner("mover")}\n`);
            await runner.destroy();
        });
    });

    it("runs 50 converges of two snapshot-enabled datasets at once with no failure (finding 11)", async () => {
        // sshd's default MaxStartups drops concurrent logins beyond 10; the host takes them all, as a busy server would be set up.
        await sh("printf 'MaxStartups 100:30:200\\n' > /etc/ssh/sshd_config.d/zz-many.conf && systemctl reload ssh");
        const cmds = await registeredCommands(() => {
            const host = zfsHost(h);
            new ZfsDataset("race-a", { host, dataset: "tank/race/a", snapshots: { every: "daily", keep: { daily: 7 } } });
            new ZfsDataset("race-b", { host, dataset: "tank/race/b", snapshots: { every: "daily", keep: { daily: 7 } } });
        });
        const runs = ["race-a-dataset", "race-b-dataset"].map((n) => cmds.find((c) => c.name === n)!.inputs);
        // From nothing: no tool, no lock directory, no parent dataset, so the first runs race on creating all three.
        await sh("rm -rf /usr/local/lib/hearth /run/hearth/lock");
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
            runSsh(h.ssh, runs[i % 2].create as string, { stdin: runs[i % 2].stdin as string, timeoutMs: 300_000 })));
        const failed = results.map((r, i) => ({ i, ...r })).filter((r) => r.code !== 0).map((r) => `run ${r.i}: exit ${r.code}: ${r.stderr.slice(-400)}`);
        assert.deepEqual(failed, [], `${failed.length} of 50 concurrent converges failed`);
        assert.equal(await sh("sha256sum < /usr/local/lib/hearth/zfs-autosnap | cut -c1-64"), `${createHash("sha256").update(AUTOSNAP_SCRIPT).digest("hex")}\n`);
        assert.equal(await sh("stat -c '%a %U' /usr/local/lib/hearth/zfs-autosnap"), "755 root\n");
        assert.equal(await sh("find /usr/local/lib/hearth -name '.hearth.*' | wc -l"), "0\n", "no temp file left behind");
        assert.equal(await sh("zfs get -H -o value hearth:owner tank/race/a tank/race/b"), `${owner("race-a")}\n${owner("race-b")}\n`);
        assert.equal(results.filter((r) => /hearth: created tank\/race\/a/.test(r.stdout)).length, 1, "exactly one run created each dataset");
        assert.equal(results.filter((r) => /hearth: wrote \/usr\/local\/lib\/hearth\/zfs-autosnap/.test(r.stdout)).length, 1, "exactly one run wrote the tool");
    });
});
