// hearth-systemd-named-privileges-only: capabilities, writable paths, address families and syscalls only by allow list.
import { strict as assert } from "assert";
import { systemdNamedPrivilegesOnly as policy } from "../../../policies/systemd/named-privileges-only";
import { installMocks } from "../../mocks";
import { commandArgs, unitFile, violations } from "../fixtures";
import { assertMetadata } from "../metadata";
import { LOCKED_UNIT, lockedWith, realConverge } from "./unit-texts";

const run = (text: string, dropIns: Record<string, string> = {}) =>
    violations(policy, commandArgs({ files: [unitFile("app.service", text), ...Object.entries(dropIns).map(([n, t]) => unitFile(`app.service.d/${n}`, t))] }));

describe("hearth-systemd-named-privileges-only", () => {
    before(() => installMocks());

    it("has its metadata", () => assertMetadata(policy, "hearth-systemd-named-privileges-only", "mandatory"));

    it("passes the unit a real SystemdService installs", async () => {
        assert.deepEqual(await violations(policy, realConverge()), []);
    });

    it("passes a unit that grants only what it names", async () => {
        assert.deepEqual(await run(LOCKED_UNIT), []);
        assert.deepEqual(await run(lockedWith({ CapabilityBoundingSet: ["CapabilityBoundingSet=CAP_NET_BIND_SERVICE"], ReadWritePaths: ["ReadWritePaths=/srv/app/data"] })), []);
    });

    it("flags capabilities kept by default or by a deny list", async () => {
        assert.match((await run(lockedWith({ CapabilityBoundingSet: [] }))).join(), /keeps 35 capabilities it does not name/);
        assert.match((await run(lockedWith({ CapabilityBoundingSet: ["CapabilityBoundingSet=~CAP_SYS_ADMIN"] }))).join(), /keeps 34 capabilities it does not name/);
    });

    it("flags a writable OS tree", async () => {
        const v = await run(lockedWith({ DynamicUser: ["User=app"], ProtectSystem: ["ProtectSystem=full"] }));
        assert.match(v.join(), /may write the OS file hierarchy \(ProtectSystem=full\)/);
    });

    it("flags writable home directories", async () => {
        assert.match((await run(lockedWith({ DynamicUser: ["User=app"], ProtectHome: ["ProtectHome=no"] }))).join(), /may write home directories/);
    });

    it("flags writable paths too broad to be named", async () => {
        assert.match((await run(lockedWith({ ReadWritePaths: ["ReadWritePaths=/var -/etc/"] }))).join(), /makes \/var, \/etc writable/);
    });

    it("accepts a broad writable path that SystemdService explains in the unit", async () => {
        const text = lockedWith({ ReadWritePaths: ["# hearth loosening 'writablePaths': rotates the host's TLS certificates in /etc", "ReadWritePaths=/etc"] });
        assert.deepEqual(await run(text), []);
        assert.equal((await run(text.replace("rotates the host's TLS certificates in /etc", "todo"))).length, 1);
    });

    it("flags address families left open", async () => {
        assert.match((await run(lockedWith({ RestrictAddressFamilies: [] }))).join(), /any address family/);
        assert.match((await run(lockedWith({ RestrictAddressFamilies: ["RestrictAddressFamilies=~AF_PACKET"] }))).join(), /any address family/);
    });

    it("flags a missing or deny-list syscall filter", async () => {
        assert.match((await run(lockedWith({ SystemCallFilter: [] }))).join(), /any system call/);
        assert.match((await run(lockedWith({ SystemCallFilter: ["SystemCallFilter=~@mount"] }))).join(), /any system call/);
    });

    it("reads drop-ins the command installs with the unit", async () => {
        assert.match((await run(LOCKED_UNIT, { "10-loose.conf": "[Service]\nRestrictAddressFamilies=\n" })).join(), /any address family/);
        // DynamicUser= forces ProtectSystem=strict whatever a drop-in says, as systemd does.
        assert.deepEqual(await run(LOCKED_UNIT, { "10-loose.conf": "[Service]\nProtectSystem=full\n" }), []);
    });

    it("leaves drop-ins over packaged units and non-unit files alone", async () => {
        const v = await violations(policy, commandArgs({ files: [unitFile("nginx.service.d/50-hearth.conf", "[Service]\nProtectSystem=full\n"), { path: "/etc/app.conf", content: "[Service]\n", mode: 0o644 }] }));
        assert.deepEqual(v, []);
    });
});
