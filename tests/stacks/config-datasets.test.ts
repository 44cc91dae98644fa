// hearth:datasets is the ZfsDataset schema with the host named: the config refuses every value the component refuses,
// at the key path it came from, with the component's own sentence; what needs the host's facts is refused by the build.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ArgumentError, describe as show, Host, HostFacts, resolveZfsDatasetArgs, ZfsDatasetArgs } from "../../components";
import { checkSiteConfig } from "../../stacks/schema";
import { planDatasets } from "../../stacks/build/datasets";
import { datasetFields, DatasetConfig } from "../../stacks/config/datasets";
import { ProblemCollector } from "../../stacks/config/problems";
import { installMocks, TEST_HOST_KEY } from "../mocks";
import { hostileDatasets } from "../zfs/hostile";

type Values = Record<string, any>;

const host = (facts: HostFacts = { zfs: true }) =>
    new Host({ name: "web1", address: "192.0.2.10", privateKey: pulumi.secret("placeholder"), hostKey: TEST_HOST_KEY, facts });

function values(dataset: Record<string, unknown>): Values {
    return {
        sshPrivateKey: "placeholder",
        hosts: [{ name: "web1", address: "192.0.2.10", hostKey: TEST_HOST_KEY, facts: { zfs: true } }],
        datasets: [{ name: "media", host: "web1", dataset: "tank/app", ...dataset }],
    };
}

function problems(v: Values): string[] {
    const r = checkSiteConfig({ values: v, secretKeys: new Set(["sshPrivateKey"]) });
    return r.ok ? [] : r.problems.map((p) => `'${p.path}' ${p.message}`);
}

/** The component's error for the same arguments, as the config would word it at hearth:datasets[0]. */
function componentProblem(over: Partial<ZfsDatasetArgs>): string {
    try {
        resolveZfsDatasetArgs({ host: host(), dataset: "tank/app", ...over } as ZfsDatasetArgs);
    } catch (e) {
        if (!(e instanceof ArgumentError)) throw e;
        // The config says "is missing" where the component shows an absent value as undefined.
        return `'hearth:datasets[0].${e.arg}' is ${e.value === undefined ? "missing" : show(e.value)}: expected ${e.allowed}`;
    }
    assert.fail("the component accepted the arguments");
}

describe("site config: hearth:datasets", () => {
    before(() => installMocks());

    it("accepts a dataset using every argument, and the build hands the component the same arguments with the Host", () => {
        const full = {
            compression: "gzip-6", recordsizeKiB: 16, quotaMiB: 100, refquotaMiB: 50, reservationMiB: 10, mountpoint: "/srv/app",
            canmount: "noauto", atime: false, readonly: false, xattr: "sa", userProperties: { "com.example:owner": "family" },
            encryption: false, adopt: true, previousNames: ["tank/old"], origin: "tank/images@v1",
            snapshots: { every: "hourly", keep: { hourly: 24, daily: 7 } }, destroyOnDelete: true, recursive: true,
        };
        const r = checkSiteConfig({ values: values(full), secretKeys: new Set(["sshPrivateKey"]) });
        assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
        const h = host();
        const collector = new ProblemCollector();
        const planned = planDatasets(r.site.datasets as DatasetConfig[], new Map([["web1", h]]), collector);
        assert.deepEqual(collector.problems, []);
        assert.equal(planned.length, 1);
        const [name, args] = planned[0];
        assert.equal(name, "media");
        assert.equal(args.host, h);
        assert.deepEqual({ ...args, host: undefined }, { dataset: "tank/app", ...full, host: undefined });
        assert.equal(resolveZfsDatasetArgs(args).spec.properties.compression, "gzip");
    });

    describe("refuses what the component refuses, with the same sentence at the key path", () => {
        for (const [what, over] of hostileDatasets) {
            if (Object.keys(over).some((k) => !(k in datasetFields) && k !== "destroyOnDelete" && k !== "recursive")) continue;
            it(what, () => {
                const expected = componentProblem(over);
                const got = problems(values(over));
                assert.equal(got.length, 1, got.join("\n"));
                // A map key the config names by its own wording ("is not an allowed name"); the path and the sentence agree.
                if (/' is not an allowed name: /.test(got[0])) assert.equal(got[0].replace(/' is not an allowed name: /, "' "), expected.replace(/' is .*?: expected /, "' expected "));
                else assert.equal(got[0], expected);
            });
        }
    });

    it("refuses a misspelt key, naming the keys a dataset entry takes", () => {
        const [p, ...rest] = problems(values({ mountPoint: "/srv/app" }));
        assert.deepEqual(rest, []);
        assert.match(p, /^'hearth:datasets\[0\]\.mountPoint' is not a known key: expected one of the keys of a dataset: name, host, dataset, compression, /);
        assert.doesNotMatch(p, /host, dataset.*, host,/);
    });

    it("checks the rules between fields in the config itself (origin and previous names in the dataset's pool)", () => {
        assert.deepEqual(problems(values({ origin: "other/img@v1", previousNames: ["tank/app/sub"] })), [
            `'hearth:datasets[0].origin' is "other/img@v1": expected a snapshot in the dataset's own pool 'tank' (clones cannot cross pools)`,
            `'hearth:datasets[0].previousNames[0]' is "tank/app/sub": expected a dataset that is neither a parent nor a child of 'tank/app'`,
        ]);
    });

    describe("the build refuses what needs the host's facts, at the key path, before any component exists", () => {
        const cases: [string, HostFacts, Record<string, unknown>, string][] = [
            ["a host without ZFS", {}, {}, `'hearth:datasets[0].host' is "web1": expected a host whose facts declare zfs: true`],
            ["lz4 on a pool without the feature", { zfs: true }, { compression: "lz4" }, `'hearth:datasets[0].compression' is "lz4": expected an algorithm the pool on host 'web1' supports (off, on, lzjb, gzip); declare more in host facts.zfsCompression only if the pool has the feature`],
            ["encryption without the feature", { zfs: true }, { encryption: true }, `'hearth:datasets[0].encryption' is true: expected false: the pool on host 'web1' does not support native encryption (host facts.zfsEncryption is false)`],
        ];
        for (const [what, facts, over, expected] of cases) {
            it(what, () => {
                const r = checkSiteConfig({ values: values(over), secretKeys: new Set(["sshPrivateKey"]) });
                assert.ok(r.ok, "the schema alone accepts it");
                const collector = new ProblemCollector();
                const planned = planDatasets(r.site.datasets as DatasetConfig[], new Map([["web1", host(facts)]]), collector);
                assert.deepEqual(planned, []);
                assert.deepEqual(collector.problems.map((p) => `'${p.path}' ${p.message}`), [expected]);
            });
        }
    });

    it("a tablespace takes the dataset fields without host and the delete options its database decides", () => {
        assert.deepEqual(
            Object.keys(datasetFields).sort(),
            ["adopt", "atime", "canmount", "compression", "dataset", "encryption", "mountpoint", "origin", "previousNames", "quotaMiB", "readonly", "recordsizeKiB", "refquotaMiB", "reservationMiB", "snapshots", "userProperties", "xattr"],
        );
    });
});
