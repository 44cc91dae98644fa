// Waivers and config defaults, shared by every policy: a waiver needs a reason, and a reasonless one is a violation itself.
import { strict as assert } from "assert";
import { SystemdService } from "../../../components/systemd";
import { REMOTE_COMMAND_TYPE, SERVICE_TYPE } from "../../../components/tokens";
import { policies } from "../../../policies/all";
import { hearthPolicy, resolveConfig, matchingWaivers } from "../../../policies/lib/policy";
import { isReason } from "../../../policies/lib/reason";
import { installMocks } from "../../mocks";
import { declare, Declared, fixtureHost, violations, urnOf } from "../fixtures";

const always = hearthPolicy<{ limit: number }, typeof SERVICE_TYPE | typeof REMOTE_COMMAND_TYPE>({
    name: "hearth-test-always",
    description: "Reports one finding for every service and remote command it sees, with its configured limit.",
    enforcementLevel: "mandatory",
    types: [SERVICE_TYPE, REMOTE_COMMAND_TYPE],
    config: { limit: { type: "number", default: 3 } },
    check: ({ config, report }) => report(`limit ${config.limit}`),
});

describe("policy waivers and config", () => {
    /** Two real services, web and db, each with its converge command (web-converge is web's child). */
    let site: Declared;
    before(async () => {
        await installMocks();
        site = await declare(() => {
            for (const name of ["web", "db"]) new SystemdService(name, { host: fixtureHost(), description: name, execStart: [`/usr/bin/${name}`] });
        });
    });

    it("applies config defaults and lets given values win", async () => {
        assert.deepEqual(await violations(always, site.args("web")), ["limit 3"]);
        assert.deepEqual(await violations(always, site.args("web", { config: { limit: 7 } })), ["limit 7"]);
        assert.deepEqual(resolveConfig(always.spec, { enforcementLevel: "advisory" } as any), { waivers: [], limit: 3 });
    });

    it("waives by resource name, URN, parent URN or parent name when the waiver has a reason", async () => {
        const parent = urnOf(SERVICE_TYPE, "web");
        const reason = "legacy daemon until the rewrite lands";
        assert.equal(site.args("web-converge").opts.parent, parent, "the converge command's parent is its service");
        for (const resource of ["web-converge", urnOf(REMOTE_COMMAND_TYPE, "web-converge", { parent }), parent, "web"]) {
            assert.deepEqual(await violations(always, site.args("web-converge", { config: { waivers: [{ resource, reason }] } })), [], `waiver by ${resource}`);
        }
    });

    it("does not waive other resources", async () => {
        const config = { waivers: [{ resource: "web", reason: "legacy daemon until the rewrite lands" }] };
        assert.deepEqual(await violations(always, site.args("db", { config })), ["limit 3"]);
        assert.deepEqual(await violations(always, site.args("db-converge", { config })), ["limit 3"]);
    });

    it("reports a waiver without a usable reason and keeps the finding", async () => {
        for (const reason of [undefined, "", "todo", "TODO: fixme later", "n/a n/a n/a", "x".repeat(201), "two\nlines here"]) {
            const v = await violations(always, site.args("web", { config: { waivers: [{ resource: "web", reason }] } }));
            assert.equal(v.length, 2, `reason ${JSON.stringify(reason)}`);
            assert.match(v[0], /^The waiver of 'hearth-test-always' for 'web' has no usable reason/);
            assert.equal(v[1], "limit 3");
        }
    });

    it("matches waivers defensively (non-objects are ignored)", () => {
        const r = matchingWaivers([null as any, { resource: 5 } as any, { resource: "a", reason: "because the vendor says so" }], { name: "a", urn: "u", opts: {} as any });
        assert.equal(r.valid.length, 1);
    });

    it("accepts reasons in words and refuses placeholders", () => {
        assert.ok(isReason("needs CAP_NET_ADMIN to bring up wg0"));
        for (const bad of ["todo", "because because", "12345678", "none.", "????????", 42]) assert.ok(!isReason(bad), String(bad));
    });

    it("every pack policy is unique, named hearth-<area>-<rule>, and has a waivers schema", () => {
        const names = policies.map((p) => p.name);
        assert.equal(new Set(names).size, names.length);
        for (const p of policies) {
            assert.match(p.name, /^hearth-(systemd|nspawn|command|stateful|postgres|dns|wireguard)-[a-z-]+$/);
            assert.ok(p.configSchema?.properties.waivers);
        }
        assert.equal(policies.length, 16);
    });
});
