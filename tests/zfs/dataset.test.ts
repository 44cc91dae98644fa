// ZfsDataset under the mock runtime: what it registers, its outputs, feature checks against host facts, and hostile input.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host, HostFacts } from "../../components/host";
import { ZfsDataset, ZfsDatasetArgs, reportedMountpoint, resolveZfsDatasetArgs, snapshotUnitName } from "../../components/zfs";
import { ArgumentError } from "../../components/core/errors";
import { installMocks, recorded, resetRecorded, resolve, setCommandStdout, settle, TEST_HOST_KEY } from "../mocks";
import { verifyUnits } from "../tools";
import { hostileDatasets } from "./hostile";
import { attemptRecorded } from "../attempt";

const key = () => pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n");
const host = (facts: HostFacts = { zfs: true }) => new Host({ name: "nas", address: "10.0.0.5", privateKey: key(), hostKey: TEST_HOST_KEY, facts });

/** Constructs inside a fresh recording and returns what registered; the error, if construction threw. */
const build = (args: ZfsDatasetArgs) => attemptRecorded(() => new ZfsDataset("data", args));

describe("ZfsDataset", () => {
    before(() => installMocks());
    afterEach(() => setCommandStdout());

    describe("refuses hostile or impossible arguments before registering anything", () => {
        for (const [what, over, re] of hostileDatasets) {
            it(`refuses ${what}`, async () => {
                const { error, count } = await build({ host: host(), dataset: "tank/app", ...over } as ZfsDatasetArgs);
                assert.ok(error, "construction should throw");
                assert.ok(error instanceof pulumi.ResourceError, `a ResourceError, got ${error}`);
                assert.match(error.message, re);
                assert.match(error.message, /expected /, "the error says what is allowed");
                assert.equal(count, 0, "no resource registered");
            });
        }
    });

    describe("checks what the pool can do against the host's facts", () => {
        it("refuses lz4 on a pool whose facts list only the legacy algorithms, naming what it supports", async () => {
            const { error, count } = await build({ host: host(), dataset: "tank/app", compression: "lz4" });
            assert.match(error!.message, /'compression' argument "lz4" .*supports \(off, on, lzjb, gzip\)/);
            assert.equal(count, 0);
        });
        it("refuses zstd-3 unless the facts list zstd, and accepts it when they do", async () => {
            assert.match((await build({ host: host({ zfs: true, zfsCompression: ["off", "lz4"] }), dataset: "tank/app", compression: "zstd-3" })).error!.message, /'compression' argument "zstd-3"/);
            const ok = await build({ host: host({ zfs: true, zfsCompression: ["off", "lz4", "zstd"] }), dataset: "tank/app", compression: "zstd-3" });
            assert.equal(ok.error, undefined);
        });
        it("refuses encryption on a pool without the feature", async () => {
            const { error, count } = await build({ host: host(), dataset: "tank/app", encryption: true });
            assert.match(error!.message, /'encryption' argument true .*does not support native encryption/);
            assert.equal(count, 0);
        });
        it("refuses a host that has no ZFS at all", async () => {
            const { error, count } = await build({ host: host({}), dataset: "tank/app" });
            assert.match(error!.message, /'host' argument "nas" .*zfs: true/);
            assert.equal(count, 0);
        });
    });

    describe("resolveZfsDatasetArgs", () => {
        it("throws an ArgumentError whose path sits under the parent's argument", () => {
            for (const prefix of ["tablespace.", ["tablespace"]] as const) {
                assert.throws(
                    () => resolveZfsDatasetArgs({ host: host(), dataset: "tank/app", recordsizeKiB: 3 }, prefix),
                    (e: unknown) => e instanceof ArgumentError && e.arg === "tablespace.recordsizeKiB" && assert.deepEqual(e.path, ["tablespace", "recordsizeKiB"]) === undefined,
                );
            }
            assert.throws(
                () => resolveZfsDatasetArgs({ host: host({}), dataset: "tank/m/web", origin: "tank/base@v1" }, "rootfs.zfs."),
                (e: unknown) => e instanceof ArgumentError && assert.deepEqual(e.path, ["rootfs", "zfs", "host"]) === undefined && /'rootfs\.zfs\.host' argument "nas"/.test(e.message),
            );
        });
        it("refuses a host that is not a hearth Host, and arguments that are not a mapping", () => {
            assert.throws(() => resolveZfsDatasetArgs({ host: { name: "nas" } as any, dataset: "tank/app" }), /'host' argument "\(not a Host\)" is not allowed: expected a hearth Host\./);
            assert.throws(() => resolveZfsDatasetArgs("tank/app" as any), /'args' argument "tank\/app" is not allowed: expected ZfsDatasetArgs \(a mapping with keys host, dataset,/);
        });
        it("resolves sizes to bytes, booleans to on/off, gzip-6 to the form zfs prints, and fills the schedule's classes", () => {
            const h = host({ zfs: true, zfsCompression: ["off", "gzip"] });
            const r = resolveZfsDatasetArgs({
                host: h, dataset: "tank/app", compression: "gzip-6", recordsizeKiB: 16, quotaMiB: 2, atime: false, readonly: true,
                snapshots: { every: "daily", keep: { weekly: 4 } }, previousNames: ["tank/old"],
            });
            assert.deepEqual(r.spec.properties, { compression: "gzip", recordsize: "16384", quota: String(2 * 1024 * 1024), atime: "off", readonly: "on" });
            assert.deepEqual(r.snapshots, { every: "daily", keep: { hourly: 0, daily: 0, weekly: 4 } });
            assert.deepEqual(r.spec.previousNames, ["tank/old"]);
            assert.equal(r.mountpoint, "/tank/app");
            assert.equal(r.host, h);
            assert.deepEqual([r.spec.encryption, r.spec.adopt, r.spec.destroyOnDelete, r.spec.recursive, r.spec.autosnap], [false, false, false, false, true]);
        });
    });

    it("registers the component, a converge command without triggers and a lifecycle command that keeps the data", async () => {
        resetRecorded();
        const ds = new ZfsDataset("data", { host: host(), dataset: "tank/app", quotaMiB: 1024, atime: false });
        await settle();
        const types = recorded.map((r) => `${r.type} ${r.name}`);
        assert.deepEqual(types, ["hearth:zfs:Dataset data", "command:remote:Command data-dataset", "command:remote:Command data-dataset-lifecycle"]);
        const converge = recorded[1].inputs;
        assert.equal(converge.triggers, undefined, "no triggers: a change is an update, never a replacement");
        assert.equal(converge.delete, undefined, "the converge command never deletes");
        assert.equal(converge.create, converge.update);
        assert.match(converge.create, /zfs create -p -o "hearth:owner=\$hearth_owner" -o atime=off -o quota=1073741824/);
        assert.match(converge.create, /^hearth_owner=hearth\/test\/hearth:zfs:Dataset\/data$/m, "the mark names this resource");
        assert.match(converge.create, new RegExp(`# hearth-content: ${await resolve(ds.hash)}`), "the content hash heads the script");
        const life = recorded[2].inputs;
        assert.equal(life.create, undefined, "the lifecycle command runs nothing until the dataset is deleted");
        assert.match(life.delete, /^hearth_zfs_disown "\$ds"$/m);
        assert.match(life.delete, /^hearth_owner=hearth\/test\/hearth:zfs:Dataset\/data$/m, "the delete knows whose dataset it may touch");
        assert.doesNotMatch(life.delete, /zfs destroy/);
        assert.deepEqual(recorded[0].inputs.properties, { atime: "off", quota: "1073741824" });
        assert.equal(await resolve(ds.name), "tank/app");
        assert.equal(await resolve(ds.mountpoint), "/tank/app");
        assert.match(await resolve(ds.hash), /^[0-9a-f]{64}$/);
    });

    it("reports the mountpoint the host printed", async () => {
        setCommandStdout((name) => (name === "data-dataset" ? "hearth: created tank/app\nhearth: mountpoint=/mnt/tank/app\n" : ""));
        const ds = new ZfsDataset("data", { host: host(), dataset: "tank/app" });
        assert.equal(await resolve(ds.mountpoint), "/mnt/tank/app");
        assert.equal(reportedMountpoint("hearth: mountpoint=none\n"), "none");
        assert.equal(reportedMountpoint(""), undefined);
    });

    it("destroys only on opt-in, from the lifecycle command", async () => {
        resetRecorded();
        new ZfsDataset("data", { host: host(), dataset: "tank/app", destroyOnDelete: true, recursive: true });
        await settle();
        const life = recorded.find((r) => r.name === "data-dataset-lifecycle")!.inputs;
        assert.match(life.delete, /zfs destroy -R "\$ds"/);
        assert.doesNotMatch(recorded.find((r) => r.name === "data-dataset")!.inputs.create, /zfs destroy/);
    });

    it("adds a hardened snapshot timer whose unit passes systemd-analyze verify", async () => {
        resetRecorded();
        const ds = new ZfsDataset("data", { host: host(), dataset: "tank/app", snapshots: { every: "hourly", keep: { hourly: 24, daily: 7, weekly: 4 } } });
        await settle();
        assert.ok(ds.snapshotService);
        const unit = snapshotUnitName("tank/app");
        assert.match(unit, /^zfs-snapshot-tank-app-[0-9a-f]{8}$/);
        const svc = recorded.find((r) => r.type === "hearth:systemd:Service")!;
        assert.equal(svc.name, "data-snapshots");
        const text: string = svc.inputs.unitText;
        assert.match(text, /^ExecStart=\/usr\/local\/lib\/hearth\/zfs-autosnap tank\/app 24 7 4$/m);
        assert.match(text, /^PrivateNetwork=yes$/m);
        assert.match(text, /^CapabilityBoundingSet=CAP_SYS_ADMIN$/m);
        assert.match(text, /^ProtectSystem=strict$/m);
        assert.match(text, /^# hearth-owner: hearth\/test\/hearth:systemd:Service\/data-snapshots$/m, "the timer's unit files carry their owner");
        const timer = recorded.find((r) => r.name === "data-dataset")!.inputs;
        assert.match(timer.create, /hearth_install \/usr\/local\/lib\/hearth\/zfs-autosnap 0755 root root/);
        assert.deepEqual(verifyUnits({ [`${unit}.service`]: text }).filter((l) => !/zfs-autosnap.*(No such file|not executable|is not executable)/.test(l)), []);
    });

    describe("ownership", () => {
        it("refuses, before anything registers, a second resource naming the same dataset on the host", async () => {
            resetRecorded();
            const h = host();
            new ZfsDataset("one", { host: h, dataset: "tank/app" });
            assert.throws(() => new ZfsDataset("two", { host: h, dataset: "tank/app" }),
                (e: Error) => e instanceof pulumi.ResourceError && /'dataset' argument "tank\/app".*dataset tank\/app is already managed by hearth\/test\/hearth:zfs:Dataset\/one/.test(e.message));
            await settle();
            assert.deepEqual(recorded.filter((r) => r.type === "hearth:zfs:Dataset").map((r) => r.name), ["one"]);
        });
        it("refuses a previous name that another resource declares as its dataset", () => {
            const h = host();
            new ZfsDataset("old", { host: h, dataset: "tank/old" });
            assert.throws(() => new ZfsDataset("new", { host: h, dataset: "tank/new", previousNames: ["tank/old"] }), /'previousNames\[0\]' argument "tank\/old"/);
        });
        it("lets two hosts each have the dataset, and one resource name it once", () => {
            new ZfsDataset("a", { host: host(), dataset: "tank/app" });
            new ZfsDataset("a", { host: host(), dataset: "tank/app" });
        });
        it("carries aliases and adopt into both scripts, and the timer follows the resource's aliases", async () => {
            resetRecorded();
            new ZfsDataset("data2", { host: host(), dataset: "tank/app", adopt: true, snapshots: { every: "daily", keep: { daily: 7 } } }, { aliases: [{ name: "data" }] });
            await settle();
            for (const name of ["data2-dataset", "data2-dataset-lifecycle"]) {
                const r = recorded.find((x) => x.name === name)!.inputs;
                const script: string = r.create ?? r.delete;
                assert.match(script, /^hearth_owner=hearth\/test\/hearth:zfs:Dataset\/data2$/m);
                assert.match(script, /^hearth_aliases=\(hearth\/test\/hearth:zfs:Dataset\/data\)$/m);
                assert.match(script, /^hearth_adopt=1$/m);
            }
            const svc = recorded.find((r) => r.type === "hearth:systemd:Service")!;
            assert.equal(svc.name, "data2-snapshots");
        });
    });

    it("gives distinct timer units to datasets whose names differ only in punctuation", () => {
        assert.notEqual(snapshotUnitName("tank/a-b"), snapshotUnitName("tank/a/b"));
        assert.ok(snapshotUnitName(`tank/${"x".repeat(200)}`).length <= 63);
    });
});
