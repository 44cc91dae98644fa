// A renamed component's children keep their objects: the parent's name aliases reach the children's ownership marks.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { DnsZone, PostgresDb } from "../components";
import { Host } from "../components/host";
import { installMocks, recorded, resetRecorded, settle, TEST_HOST_KEY } from "./mocks";

const host = () => new Host({ name: "box", address: "10.0.0.2", privateKey: pulumi.secret("k"), hostKey: TEST_HOST_KEY, facts: { zfs: true } });
const aliasesIn = (name: string): string => {
    const cmd = recorded.find((r) => r.type === "command:remote:Command" && r.name === name);
    assert.ok(cmd, `${name} is registered`);
    // The runtime starts with an empty list; the script's owner lines set it after.
    const all = [...(cmd.inputs.create as string).matchAll(/^hearth_aliases=\((.*)\)$/gm)];
    return all[all.length - 1][1];
};

describe("a renamed component's children follow its aliases", () => {
    before(() => installMocks());
    beforeEach(() => resetRecorded());

    it("PostgresDb: the tablespace dataset accepts the old name's mark", async () => {
        new PostgresDb("shop2", { host: host(), database: "shop", tablespace: { dataset: "tank/pg/shop" } }, { aliases: [{ name: "shop" }] });
        await settle();
        assert.match(aliasesIn("shop2-tablespace-dataset"), /hearth\/test\/hearth:zfs:Dataset\/shop-tablespace/);
        assert.match(aliasesIn("shop2-database"), /hearth\/test\/hearth:postgres:Database\/shop/);
    });

    it("DnsZone on a host: knotd's service accepts the old name's mark", async () => {
        new DnsZone("zone2", { zone: "home.example.org", backend: { kind: "host", host: host(), nameservers: [{ name: "ns1", addresses: ["10.0.0.2"] }] }, records: [] }, { aliases: [{ name: "zone" }] });
        await settle();
        assert.match(aliasesIn("zone2-knot-converge"), /hearth\/test\/hearth:systemd:Service\/zone-knot/);
    });
});
