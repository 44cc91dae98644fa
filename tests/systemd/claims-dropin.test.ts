// A drop-in and a unit another hearth resource writes never meet on a host, whichever is declared first: a drop-in goes
// on a packaged unit (several resources may put theirs there, by their names), never over a unit hearth writes.
import { strict as assert } from "assert";
import { SystemdFullServiceArgs, SystemdService } from "../../components/systemd";
import { snapshotUnitName, ZfsDataset } from "../../components/zfs";
import { fakeHost, refused } from "../attempt";
import { installMocks, recorded, resetRecorded, settle } from "../mocks";
import { testHost } from "./scenarios";

const svc = (extra: Partial<SystemdFullServiceArgs> = {}) => ({ description: "A service", execStart: ["/bin/sleep", "infinity"], ...extra });
const SERVICE = "hearth/test/hearth:systemd:Service";
const OWNED = "a packaged unit, not one another resource on this host manages";
const DROPPED = "a unit no other resource on this host puts a drop-in on";

describe("SystemdService claims: drop-ins and the units hearth writes", () => {
    before(() => installMocks());
    beforeEach(() => resetRecorded());

    it("refuses a drop-in over another service's unit, naming dropIn.unit", async () => {
        const host = testHost();
        new SystemdService("web", { host, ...svc() });
        await refused(
            () => new SystemdService("loosen", { host, dropIn: { unit: "web.service", name: "zz-loose" } }),
            `The 'dropIn.unit' argument "web.service" is not allowed: expected ${OWNED} (systemd unit web.service is managed by ${SERVICE}/web): change that resource's own arguments instead.`,
        );
    });

    it("refuses a service whose unit another resource's drop-in already targets, naming unitName", async () => {
        const host = testHost();
        new SystemdService("harden", { host, dropIn: { unit: "web.service" } });
        await refused(
            () => new SystemdService("web", { host, ...svc() }),
            `The 'unitName' argument "web.service" is not allowed: expected ${DROPPED} (systemd unit web.service has a drop-in of ${SERVICE}/harden, which would change this unit).`,
        );
    });

    it("refuses a drop-in over a socket-activated service's proxy unit, and that unit under a drop-in (drop-ins go on services only)", async () => {
        const host = testHost();
        new SystemdService("sock", { host, ...svc({ socket: { listenStream: 8080, targetPort: 9002, idleStopSec: 60 } }) });
        await refused(
            () => new SystemdService("d2", { host, dropIn: { unit: "sock-proxy.service" } }),
            `The 'dropIn.unit' argument "sock-proxy.service" is not allowed: expected ${OWNED} (systemd unit sock-proxy.service is managed by ${SERVICE}/sock): change that resource's own arguments instead.`,
        );
        new SystemdService("d3", { host, dropIn: { unit: "app-proxy.service" } });
        await refused(
            () => new SystemdService("app", { host, ...svc({ socket: { listenStream: 8081, targetPort: 9003, idleStopSec: 60 } }) }),
            `The 'socket' argument "app-proxy.service" is not allowed: expected ${DROPPED} (systemd unit app-proxy.service has a drop-in of ${SERVICE}/d3, which would change this unit).`,
        );
    });

    it("refuses a drop-in over a dataset's snapshot unit", async () => {
        const host = fakeHost("nas", "192.0.2.11", { zfs: true });
        new ZfsDataset("photos", { host, dataset: "tank/photos", snapshots: { every: "hourly", keep: { hourly: 24 } } });
        const unit = `${snapshotUnitName("tank/photos")}.service`;
        await refused(
            () => new SystemdService("s5", { host, dropIn: { unit } }),
            `The 'dropIn.unit' argument "${unit}" is not allowed: expected ${OWNED} (systemd unit ${unit} is managed by ${SERVICE}/photos-snapshots): change that resource's own arguments instead.`,
        );
    });

    it("allows drop-ins by several resources on one packaged unit (each by its own name), and the same unit on another host", async () => {
        const host = testHost();
        new SystemdService("harden", { host, dropIn: { unit: "nginx.service" } });
        new SystemdService("limits", { host, dropIn: { unit: "nginx.service", name: "60-limits" } });
        const other = testHost("other");
        new SystemdService("harden-web", { host: other, dropIn: { unit: "web.service" } });
        new SystemdService("web", { host: testHost("third"), ...svc() });
        await settle();
        assert.deepEqual(recorded.filter((r) => r.type === "hearth:systemd:Service").map((r) => r.name).sort(), ["harden", "harden-web", "limits", "web"]);
    });
});
