// A Host's reapply counters (components/host.ts): a header line in each converge when its counter is above zero, so
// raising it makes the engine run that converge again on the next `up` and changes nothing else; bad values refused.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host, HostArgs } from "../../components/host";
import { HostFile } from "../../components/files";
import { installMocks, recorded, RecordedResource, resetRecorded, settle, TEST_HOST_KEY } from "../mocks";

const key = () => pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n");
const REAPPLY = /^# hearth-reapply: (\d+)$/m;

/** Two HostFiles (conf, other) on one host with these reapply counters: every command they register. */
async function site(reapply?: unknown): Promise<RecordedResource[]> {
    resetRecorded();
    const host = new Host({ name: "nas", address: "10.0.0.5", privateKey: key(), hostKey: TEST_HOST_KEY, ...(reapply !== undefined ? { reapply } : {}) } as HostArgs);
    new HostFile("conf", { host, path: "/etc/radicale/conf.d/a.conf", content: "a = 1\n" });
    new HostFile("other", { host, path: "/etc/radicale/conf.d/b.conf", content: "b = 2\n" });
    await settle();
    return recorded.filter((r) => r.type === "command:remote:Command").map((r) => structuredClone(r));
}

const converge = (rs: RecordedResource[], component: string) => rs.find((r) => r.name === `${component}-file`)!;
const counter = (r: RecordedResource) => Number(REAPPLY.exec(r.inputs.create)?.[1] ?? 0);

describe("Host reapply counters", () => {
    before(() => installMocks());

    it("adds no header while every counter is 0", async () => {
        for (const r of [undefined, {}, { all: 0 }, { all: 0, resources: { conf: 0 } }]) {
            const rs = await site(r);
            for (const c of rs) assert.doesNotMatch(JSON.stringify(c.inputs), /hearth-reapply/, `${JSON.stringify(r)}: ${c.name}`);
        }
    });

    it("counts all plus the component's own entry, by the component's name", async () => {
        let rs = await site({ all: 2 });
        assert.deepEqual([counter(converge(rs, "conf")), counter(converge(rs, "other"))], [2, 2]);
        rs = await site({ resources: { conf: 1 } });
        assert.deepEqual([counter(converge(rs, "conf")), counter(converge(rs, "other"))], [1, 0]);
        rs = await site({ all: 3, resources: { conf: 4, nosuch: 9 } });
        assert.deepEqual([counter(converge(rs, "conf")), counter(converge(rs, "other"))], [7, 3]);
        // The header sits after the content hash, before the script; update runs the same text as create.
        const lines: string[] = converge(rs, "conf").inputs.create.split("\n");
        assert.match(lines[0], /# hearth-content: [0-9a-f]{64}$/);
        assert.equal(lines[1], "# hearth-reapply: 7");
        assert.equal(converge(rs, "conf").inputs.update, converge(rs, "conf").inputs.create);
    });

    it("changes the converge's create and update text and nothing else (stdin, connection, the delete, the completion record)", async () => {
        const base = await site();
        const raised = await site({ all: 1, resources: { conf: 1 } });
        assert.deepEqual(raised.map((r) => r.name), base.map((r) => r.name));
        for (const [a, b] of base.map((r, i) => [r, raised[i]] as const)) {
            if (b.inputs.create !== undefined) {
                assert.notEqual(b.inputs.create, a.inputs.create, `${b.name}: a new create text is an update the engine runs`);
                assert.equal(b.inputs.create.replace(/\n# hearth-reapply: \d+/, ""), a.inputs.create, `${b.name}: only the header differs`);
            }
            const rest = (r: RecordedResource) => ({ ...r.inputs, create: undefined, update: undefined });
            assert.deepEqual(rest(b), rest(a), b.name);
        }
    });

    const hostile: [string, unknown, RegExp][] = [
        ["a negative counter", { all: -1 }, /reapply\.all/],
        ["a fractional counter", { all: 1.5 }, /reapply\.all/],
        ["a string counter", { all: "1" }, /reapply\.all/],
        ["a huge counter", { all: 1e12 }, /reapply\.all/],
        ["NaN", { all: NaN }, /reapply\.all/],
        ["a component counter below 0", { resources: { conf: -2 } }, /reapply\.resources/],
        ["a component name with '/'", { resources: { "a/b": 1 } }, /reapply\.resources/],
        ["a component name with a newline", { resources: { "conf\n# hearth-content: x": 1 } }, /reapply\.resources/],
        ["an unknown key", { everything: 1 }, /reapply/],
        ["a list", [1], /reapply/],
        ["a number", 3, /reapply/],
    ];
    for (const [what, value, names] of hostile) {
        it(`refuses ${what}, naming the argument, before anything registers`, () => {
            resetRecorded();
            assert.throws(
                () => new Host({ name: "nas", address: "10.0.0.5", privateKey: key(), hostKey: TEST_HOST_KEY, reapply: value } as HostArgs),
                (e: Error) => names.test(e.message) && !/fake/.test(e.message),
            );
            assert.equal(recorded.length, 0);
        });
    }
});
