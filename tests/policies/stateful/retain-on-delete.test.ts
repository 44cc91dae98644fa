// hearth-stateful-retain-on-delete: datasets and databases survive a delete unless waived.
import { strict as assert } from "assert";
import { DATABASE_TYPE, DATASET_TYPE } from "../../../components/tokens";
import { statefulRetainOnDelete as policy } from "../../../policies/stateful/retain-on-delete";
import { commandArgs, resourceArgs, urnOf, violations } from "../fixtures";
import { assertMetadata } from "../metadata";

describe("hearth-stateful-retain-on-delete", () => {
    it("has its metadata", () => assertMetadata(policy, "hearth-stateful-retain-on-delete", "mandatory"));

    it("passes a retained dataset and database and a keeping delete script", async () => {
        assert.deepEqual(await violations(policy, resourceArgs(DATASET_TYPE, { dataset: "tank/app", destroyOnDelete: false })), []);
        assert.deepEqual(await violations(policy, resourceArgs(DATABASE_TYPE, { database: "app" })), []);
        assert.deepEqual(await violations(policy, commandArgs({ deleteLines: ['zfs set hearth:managed=no "$ds"', "echo kept"] })), []);
    });

    it("flags a dataset destroyed on delete", async () => {
        assert.deepEqual(await violations(policy, resourceArgs(DATASET_TYPE, { dataset: "tank/app", destroyOnDelete: true })), [
            "The dataset is destroyed on delete ('destroyOnDelete' is true); its data would be lost.",
        ]);
    });

    it("flags a database not retained on delete", async () => {
        assert.match((await violations(policy, resourceArgs(DATABASE_TYPE, { retainOnDelete: false }))).join(), /The database is not retained on delete/);
    });

    for (const [line, what] of [['zfs destroy -r "$ds"', "zfs destroy"], ["sudo -u postgres psql -c 'DROP DATABASE app'", "DROP DATABASE"], ["dropdb app", "dropdb"], ["pg_dropcluster 15 main", "pg_dropcluster"]]) {
        it(`flags a delete script that runs ${what}`, async () => {
            assert.deepEqual(await violations(policy, commandArgs({ deleteLines: [line] })), [`The delete script destroys data (${what}); deleting this resource would lose it.`]);
        });
    }

    it("is opted out of by a waiver on the component, which also covers its command", async () => {
        const config = { waivers: [{ resource: "scratch", reason: "scratch space rebuilt from backups nightly" }] };
        assert.deepEqual(await violations(policy, resourceArgs(DATASET_TYPE, { destroyOnDelete: true }, { name: "scratch", config })), []);
        const parent = urnOf(DATASET_TYPE, "scratch");
        assert.deepEqual(await violations(policy, commandArgs({ deleteLines: ["zfs destroy tank/scratch"] }, { parent, config })), []);
    });
});
