// hearth-stateful-retain-on-delete: datasets and databases survive a delete unless waived, judged on what real
// ZfsDatasets and PostgresDbs record and on their delete commands.
import { strict as assert } from "assert";
import { ZfsDataset, ZfsDatasetArgs } from "../../../components/zfs";
import { statefulRetainOnDelete as policy } from "../../../policies/stateful/retain-on-delete";
import { installMocks } from "../../mocks";
import { database } from "../postgres/database";
import { declare, editScript, fixtureHost, violations } from "../fixtures";
import { assertMetadata } from "../metadata";

async function dataset(name: string, extra: Partial<ZfsDatasetArgs> = {}, config?: Record<string, unknown>) {
    const d = await declare(() => new ZfsDataset(name, { host: fixtureHost(), dataset: `tank/${name}`, ...extra }));
    return { props: d.args(name, { config }), lifecycle: d.args(`${name}-dataset-lifecycle`, { config }) };
}

describe("hearth-stateful-retain-on-delete", () => {
    before(() => installMocks());

    it("has its metadata", () => assertMetadata(policy, "hearth-stateful-retain-on-delete", "mandatory"));

    it("passes a retained dataset and database, and their keeping delete scripts", async () => {
        const ds = await dataset("app");
        const db = await database();
        for (const args of [ds.props, ds.lifecycle, db.props, db.lifecycle]) assert.deepEqual(await violations(policy, args), [], args.name);
    });

    it("flags a dataset destroyed on delete, and its destroying delete script", async () => {
        const ds = await dataset("app", { destroyOnDelete: true });
        assert.deepEqual(await violations(policy, ds.props), ["The dataset is destroyed on delete ('destroyOnDelete' is true); its data would be lost."]);
        assert.deepEqual(await violations(policy, ds.lifecycle), ["The delete script destroys data (zfs destroy); deleting this resource would lose it."]);
    });

    it("flags a database destroyed on delete", async () => {
        const db = await database({ destroyOnDelete: true });
        assert.deepEqual(await violations(policy, db.props), ["The database is destroyed on delete ('destroyOnDelete' is true); its data would be lost."]);
        assert.match((await violations(policy, db.lifecycle)).join(), /^The delete script destroys data \(.*DROP DATABASE.*\)/);
    });

    for (const [line, what] of [['zfs destroy -r "$ds"', "zfs destroy"], ["sudo -u postgres psql -c 'DROP DATABASE app'", "DROP DATABASE"], ["dropdb app", "dropdb"], ["pg_dropcluster 15 main", "pg_dropcluster"]]) {
        it(`flags a delete script that runs ${what}`, async () => {
            const { lifecycle } = await dataset("app");
            const edited = editScript(lifecycle, (s) => `${s}\n${line}`, ["delete"]);
            assert.deepEqual(await violations(policy, edited), [`The delete script destroys data (${what}); deleting this resource would lose it.`]);
        });
    }

    it("is opted out of by a waiver on the component, which also covers its command", async () => {
        const config = { waivers: [{ resource: "scratch", reason: "scratch space rebuilt from backups nightly" }] };
        const ds = await dataset("scratch", { destroyOnDelete: true }, config);
        assert.deepEqual(await violations(policy, ds.props), []);
        assert.deepEqual(await violations(policy, ds.lifecycle), []);
    });
});
