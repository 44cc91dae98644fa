// NspawnContainer claims its unit systemd-nspawn@<machine>.service and the drop-in it writes there under the names a
// SystemdService claims them by: a service's drop-in over the container's unit is refused, whichever comes first.
import { strict as assert } from "assert";
import { Host } from "../../components/host";
import { NspawnContainer, NspawnContainerArgs } from "../../components/nspawn";
import { SystemdService } from "../../components/systemd";
import { fakeHost, fakeKey, refused } from "../attempt";
import { installMocks, recorded, resetRecorded, settle } from "../mocks";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA+qnnike2m5POlPYFnbDLTNtnYYVDkPmTOStlmpVbyN ops@example";
const machineHost = () => fakeHost("box", "10.231.1.2", { zfs: true });

function args(host: Host, over: Partial<NspawnContainerArgs> = {}): NspawnContainerArgs {
    return { host, rootfs: { copyFrom: "/var/lib/machines/.base" }, network: { bridge: "br-ct" }, addresses: ["10.231.40.2/24"], ssh: { authorizedKey: KEY, privateKey: fakeKey() }, ...over };
}

describe("NspawnContainer claims: its unit and its drop-in", () => {
    before(() => installMocks("hearth", "home"));
    beforeEach(() => resetRecorded());
    afterEach(() => settle());

    it("refuses a service's drop-in over the container's unit (any drop-in name), naming dropIn.unit", async () => {
        const host = machineHost();
        new NspawnContainer("web", args(host));
        for (const name of [undefined, "99-x"]) {
            await refused(
                () => new SystemdService("s2", { host, dropIn: { unit: "systemd-nspawn@web.service", ...(name ? { name } : {}) } }),
                "The 'dropIn.unit' argument \"systemd-nspawn@web.service\" is not allowed: expected a packaged unit, not one another resource on this host manages " +
                    "(systemd unit systemd-nspawn@web.service is managed by hearth/home/hearth:nspawn:Container/web): change that resource's own arguments instead.",
            );
        }
    });

    it("refuses a container whose unit a service's drop-in already targets, naming machine", async () => {
        const host = machineHost();
        new SystemdService("s2", { host, dropIn: { unit: "systemd-nspawn@db.service", name: "99-x" } });
        await refused(
            () => new NspawnContainer("c", args(host, { machine: "db" })),
            "The 'machine' argument \"db\" is not allowed: expected a machine whose unit no other resource on this host puts a drop-in on " +
                "(systemd unit systemd-nspawn@db.service has a drop-in of hearth/home/hearth:systemd:Service/s2, which would change the container's).",
        );
    });

    it("a drop-in over another machine's unit, or the same machine on another host, builds", async () => {
        const host = machineHost();
        new NspawnContainer("web", args(host));
        new SystemdService("s2", { host, dropIn: { unit: "systemd-nspawn@other.service" } });
        new SystemdService("s3", { host: machineHost(), dropIn: { unit: "systemd-nspawn@web.service" } });
        await settle();
        assert.deepEqual(recorded.filter((r) => r.type === "hearth:systemd:Service").map((r) => r.name).sort(), ["s2", "s3"]);
        assert.equal(recorded.filter((r) => r.type === "hearth:nspawn:Container").length, 1);
    });
});
