// One dataset per mountpoint on a host: a second dataset mounted there would hide the first. `none` and `legacy` are
// not places, and a dataset that never mounts (canmount off) only passes its mountpoint on to its children.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { ZfsDataset } from "../../components/zfs";
import { installMocks, recorded, resetRecorded, settle, TEST_HOST_KEY } from "../mocks";

const key = () => pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n");
const host = () => new Host({ name: "nas", address: "10.0.0.5", privateKey: key(), hostKey: TEST_HOST_KEY, facts: { zfs: true } });

describe("ZfsDataset claims: its mountpoint", () => {
    before(() => installMocks());
    beforeEach(() => resetRecorded());

    it("refuses a second dataset with the same mountpoint on a host, naming mountpoint, with nothing registered", async () => {
        const h = host();
        new ZfsDataset("a", { host: h, dataset: "tank/b", mountpoint: "/srv/x" });
        await settle();
        const before = recorded.length;
        assert.throws(
            () => new ZfsDataset("b", { host: h, dataset: "tank/c", mountpoint: "/srv/x" }),
            (e: unknown) => {
                assert.ok(e instanceof pulumi.ResourceError, `not a ResourceError: ${e}`);
                assert.equal(
                    e.message,
                    `The 'mountpoint' argument "/srv/x" is not allowed: expected an object no other resource on this host manages (mountpoint /srv/x is already managed by hearth/test/hearth:zfs:Dataset/a).`,
                );
                return true;
            },
        );
        await settle();
        assert.equal(recorded.length, before);
    });

    it("none, legacy, canmount off, nested mountpoints and another host build", async () => {
        const h = host();
        new ZfsDataset("n1", { host: h, dataset: "tank/n1", mountpoint: "none" });
        new ZfsDataset("n2", { host: h, dataset: "tank/n2", mountpoint: "none" });
        new ZfsDataset("l1", { host: h, dataset: "tank/l1", mountpoint: "legacy" });
        new ZfsDataset("l2", { host: h, dataset: "tank/l2", mountpoint: "legacy" });
        new ZfsDataset("off", { host: h, dataset: "tank/off", mountpoint: "/srv/data", canmount: "off" });
        new ZfsDataset("on", { host: h, dataset: "tank/on", mountpoint: "/srv/data" });
        new ZfsDataset("nested", { host: h, dataset: "tank/on/x", mountpoint: "/srv/data/x" });
        new ZfsDataset("elsewhere", { host: host(), dataset: "tank/on", mountpoint: "/srv/data" });
        await settle();
        assert.equal(recorded.filter((r) => r.type === "hearth:zfs:Dataset").length, 8);
    });
});
