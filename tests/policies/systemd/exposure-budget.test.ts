// hearth-systemd-exposure-budget: rendered units stay within their exposure budget.
import { strict as assert } from "assert";
import { systemdExposureBudget as policy } from "../../../policies/systemd/exposure-budget";
import { installMocks } from "../../mocks";
import { commandArgs, unitFile, violations } from "../fixtures";
import { assertMetadata } from "../metadata";
import { LOCKED_UNIT, lockedWith, realConverge } from "./unit-texts";
import { UNIT_FIXTURES } from "./unit-fixtures";

describe("hearth-systemd-exposure-budget", () => {
    before(() => installMocks());

    it("has its metadata and a 1.5 default budget", () => {
        assertMetadata(policy, "hearth-systemd-exposure-budget", "mandatory");
        assert.equal((policy.configSchema!.properties.budget as any).default, 1.5);
    });

    it("passes the unit a real SystemdService installs", async () => {
        assert.deepEqual(await violations(policy, realConverge()), []);
    });

    it("passes a locked-down unit (0.2)", async () => {
        assert.deepEqual(await violations(policy, commandArgs({ files: [unitFile("app.service", LOCKED_UNIT)] })), []);
    });

    it("flags a unit over budget with its score and largest contributions", async () => {
        const v = await violations(policy, commandArgs({ files: [unitFile("bare.service", UNIT_FIXTURES["bare.service"])] }));
        assert.equal(v.length, 1);
        assert.match(v[0], /^Unit bare.service has exposure 9.6, over its budget of 1.5; largest contributions: PrivateNetwork 0.5, UserOrDynamicUser 0.4/);
    });

    it("draws the line at the budget: root on the host network is 1.2, with internet sockets 1.6", async () => {
        const root = lockedWith({ DynamicUser: ["User=root"], PrivateNetwork: [], PrivateUsers: [] });
        assert.deepEqual(await violations(policy, commandArgs({ files: [unitFile("app.service", root)] })), []);
        const inet = lockedWith({ DynamicUser: ["User=root"], PrivateNetwork: [], PrivateUsers: [], RestrictAddressFamilies: ["RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6"], IPAddressDeny: [] });
        assert.match((await violations(policy, commandArgs({ files: [unitFile("app.service", inet)] }))).join(), /has exposure 1\.6, over its budget of 1\.5/);
    });

    it("takes a per-unit budget from config, by unit name or resource name", async () => {
        const files = [unitFile("bare.service", UNIT_FIXTURES["bare.service"])];
        assert.deepEqual(await violations(policy, commandArgs({ files }, { config: { budgets: { "bare.service": 9.6 } } })), []);
        assert.deepEqual(await violations(policy, commandArgs({ files }, { config: { budgets: { "fixture-converge": 10 } } })), []);
        assert.equal((await violations(policy, commandArgs({ files }, { config: { budget: 9.5 } }))).length, 1);
    });

    it("scores every full unit a command installs", async () => {
        const files = [unitFile("a.service", LOCKED_UNIT), unitFile("b.service", UNIT_FIXTURES["dynamic.service"]), unitFile("c.service", UNIT_FIXTURES["static-user.service"])];
        const v = await violations(policy, commandArgs({ files }));
        assert.deepEqual(v.map((m) => m.split(" ")[1]), ["b.service", "c.service"]);
    });
});
