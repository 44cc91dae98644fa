// NspawnContainer ownership under mocks: the machine is claimed per host at plan time, the scripts carry the
// resource's own mark (and its aliases'), data is kept on delete unless destroyOnDelete, keepData: false is refused.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { NspawnContainer, NspawnContainerArgs } from "../../components/nspawn";
import { installMocks, recorded, resetRecorded, settle, TEST_HOST_KEY } from "../mocks";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA+qnnike2m5POlPYFnbDLTNtnYYVDkPmTOStlmpVbyN ops@example";
const secretKey = () => pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n");
const box = (name = "box") => new Host({ name, address: "10.231.1.2", privateKey: secretKey(), hostKey: TEST_HOST_KEY, facts: { zfs: true } });

function args(host: Host, over: Partial<NspawnContainerArgs> = {}): NspawnContainerArgs {
    return {
        host,
        rootfs: { copyFrom: "/var/lib/machines/.base" },
        network: { bridge: "br-ct" },
        addresses: ["10.231.40.2/24"],
        ssh: { authorizedKey: KEY, privateKey: secretKey() },
        ...over,
    };
}

const commands = () => recorded.filter((r) => r.type === "command:remote:Command");

describe("NspawnContainer ownership", () => {
    before(() => installMocks("hearth", "home"));
    beforeEach(() => resetRecorded());
    afterEach(() => settle());

    it("marks the machine as this resource's in its scripts, with its aliases", async () => {
        new NspawnContainer("web", args(box()), { aliases: [{ name: "www" }] });
        await settle();
        const [conv, life] = commands();
        assert.match(conv.inputs.create, /^hearth_owner=hearth\/home\/hearth:nspawn:Container\/web$/m);
        assert.match(conv.inputs.create, /^hearth_aliases=\(hearth\/home\/hearth:nspawn:Container\/www\)$/m);
        assert.match(conv.inputs.create, /^hearth_adopt=0$/m);
        assert.match(life.inputs.delete, /^hearth_owner=hearth\/home\/hearth:nspawn:Container\/web$/m);
        assert.match(conv.inputs.stdin, /^# hearth-owner: hearth\/home\/hearth:nspawn:Container\/web$/m);
    });

    it("adopt: true reaches the script", async () => {
        new NspawnContainer("web", args(box(), { adopt: true }));
        await settle();
        assert.match(commands()[0].inputs.create, /^hearth_adopt=1$/m);
    });

    it("refuses a second resource claiming the same machine on one host at plan time, naming the argument", async () => {
        const h = box();
        new NspawnContainer("web", args(h));
        assert.throws(() => new NspawnContainer("web2", args(h, { machine: "web" })), (e: unknown) => e instanceof pulumi.ResourceError && /'machine' argument "web"/.test((e as Error).message) && /machine web is already managed by hearth\/home\/hearth:nspawn:Container\/web/.test((e as Error).message));
        // Another host may run a machine of the same name.
        new NspawnContainer("web3", args(box("other"), { machine: "web" }));
        await settle();
    });

    it("keeps data on delete by default; destroyOnDelete is the opt-in; keepData: false is refused", async () => {
        new NspawnContainer("web", args(box()));
        await settle();
        assert.doesNotMatch(commands()[1].inputs.delete, /rm -rf --one-file-system/);
        assert.equal(recorded.find((r) => r.type === "hearth:nspawn:Container")!.inputs.destroyOnDelete, false);
        resetRecorded();
        new NspawnContainer("scratch", args(box(), { destroyOnDelete: true }));
        await settle();
        assert.match(commands()[1].inputs.delete, /rm -rf --one-file-system -- \/var\/lib\/machines\/scratch/);
        resetRecorded();
        assert.throws(() => new NspawnContainer("old", args(box(), { keepData: false as any })), /'keepData' argument false.*destroyOnDelete: true/);
        assert.throws(() => new NspawnContainer("old", args(box(), { keepData: true, destroyOnDelete: true })), /'destroyOnDelete' argument true/);
        assert.throws(() => new NspawnContainer("old", args(box(), { destroyOnDelete: "yes" as any })), /'destroyOnDelete' argument "yes".*true or false/);
        assert.throws(() => new NspawnContainer("old", args(box(), { adopt: 1 as any })), /'adopt' argument 1/);
        new NspawnContainer("legacy", args(box(), { keepData: true }));
        await settle();
        assert.equal(recorded.filter((r) => r.type === "hearth:nspawn:Container").map((r) => r.name).join(), "legacy");
    });

    it("a ZFS rootfs follows: kept unless destroyOnDelete, adopted with the container, renamed with its aliases", async () => {
        new NspawnContainer("web", args(box(), { adopt: true, rootfs: { zfs: { origin: "tank/base@v1", dataset: "tank/machines/web" } } }), { aliases: [{ name: "www" }] });
        await settle();
        const ds = recorded.find((r) => r.type === "hearth:zfs:Dataset")!;
        assert.equal(ds.inputs.destroyOnDelete, false);
        assert.equal(ds.inputs.adopt, true);
    });
});
