// What the plan shows per host besides its commands: the listener registry, the declared Debian packages, and (for
// the site) the secure values still placeholders with the command that sets each.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { listenersOf } from "../../components/core/owner";
import { Host } from "../../components/host";
import { PostgresDb } from "../../components/postgres";
import { WireguardLink } from "../../components/wireguard";
import { PACKAGES_TYPE } from "../../components/tokens";
import { registryListeners } from "../../stacks/plan";
import { formatPlaceholders, formatPlan, planSummary, writePlan } from "../../stacks/plan-output";
import { buildPlan, plannedPackages } from "../../stacks/plan-report";
import { placeholderSecrets, PlannedResource } from "../../stacks/plan-runtime";
import { installMocks, settle, TEST_HOST_KEY } from "../mocks";
import { siteDir, tmpDir } from "./plan-run";

const key = () => pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n");
const EXTERNAL = "yFBApxHlqZV2r32SzjVII0ZXAOQcZvyVlFFRbaifYWw=";

/** A registered component resource as the plan's mock records it. */
const component = (type: string, name: string, inputs: Record<string, unknown>): PlannedResource => ({ type, name, custom: false, inputs });

describe("plan: listeners, packages and unset secrets", () => {
    before(() => installMocks());

    it("shows each host's listeners from the registry, with the resource and argument that declared each", async () => {
        const db = new Host({ name: "db1", address: "10.0.0.7", privateKey: key(), hostKey: TEST_HOST_KEY });
        new PostgresDb("shop", { host: db, database: "shop", pooler: {} });
        new WireguardLink("sites", { interfaceName: "wg0", hub: { host: db, endpoint: "198.51.100.7:51820" }, peers: [{ name: "x", publicKey: EXTERNAL }] });
        const listeners = registryListeners(() => [[db, listenersOf(db)]]);
        assert.ok(listeners);
        const plan = buildPlan("t", [], { db1: "root@10.0.0.7:22" }, { listeners });
        assert.deepEqual(plan.hosts.map((h) => h.name), ["db1"]);
        assert.deepEqual(plan.hosts[0].listeners.map((l) => `${l.protocol}/${l.port} ${l.address ?? "*"} ${l.listener} ${l.scope} ${l.resource} ${l.arg}`), [
            "tcp/5432 * postgresql@15-main local hearth:postgres:Database/shop port",
            "tcp/6432 127.0.0.1 pgbouncer loopback hearth:postgres:Database/shop pooler.port",
            "udp/51820 * wireguard wg0 internet hearth:wireguard:Link/sites hub.listenPort",
        ]);
        const text = formatPlan(plan);
        assert.match(text, /^ {2}listens on \(3\)$/m);
        assert.match(text, /^ {4}tcp\/5432 +\* +postgresql@15-main +local +hearth:postgres:Database shop$/m);
        assert.match(text, /^ {4}udp\/51820 +\* +wireguard wg0 +internet +hearth:wireguard:Link sites$/m);
        await settle();
    });

    it("an empty registry gives no host listeners", () => {
        assert.deepEqual([...registryListeners(() => [])], []);
    });

    it("shows a host's declared packages from the recorded props, and what it could not read", () => {
        const resources = [
            component(PACKAGES_TYPE, "radicale", { host: "rack1", packages: [{ name: "radicale", version: "3.1.8-2", hold: true }, { name: "apache2-utils", hold: false }], keepUnits: ["radicale.service"] }),
            component(PACKAGES_TYPE, "odd", { host: "rack1", packages: [{ version: "1" }, "curl"], keepUnits: "x" }),
            component(PACKAGES_TYPE, "none", { host: "gw" }),
        ];
        const plan = buildPlan("t", resources, { rack1: "root@10.0.0.1:22" });
        const rack = plan.hosts.find((h) => h.name === "rack1")!;
        assert.deepEqual(rack.packages[1], {
            resource: `${PACKAGES_TYPE}/radicale`,
            packages: [{ name: "radicale", version: "3.1.8-2", hold: true }, { name: "apache2-utils", hold: false }],
            keepUnits: ["radicale.service"],
        });
        assert.deepEqual(rack.packages[0].packages, [{ name: "curl", hold: false }]);
        assert.match(rack.packages[0].warning!, /a package entry without a name \(\{"version":"1"\}\); 'keepUnits' is not a list of unit names/);
        assert.match(plannedPackages("x", { host: "gw" }).warning!, /no 'packages' list/);
        const text = formatPlan(plan);
        assert.match(text, /^ {4}hearth:apt:Packages radicale: radicale=3\.1\.8-2 \(held\), apache2-utils; keeps units radicale\.service$/m);
        assert.match(text, /^ {8}! a package entry without a name/m);
        assert.match(text, /^host gw \(not reached by any command\)$/m);
    });

    it("writes listeners and packages per host and into plan.json", () => {
        const plan = buildPlan("t", [component(PACKAGES_TYPE, "p", { host: "h", packages: [{ name: "knot", hold: false }], keepUnits: [] })], { h: "root@10.0.0.1:22" }, {
            listeners: new Map([["h", [{ protocol: "udp", port: 53, address: "10.0.0.1", listener: "unit knot.service", scope: "local", owner: "proj/st/hearth%3Adns%3AZone/z%20one", arg: "backend.port", where: "hearth:zones[0].backend.port" }] as const]]),
            placeholders: [{ key: "hearth:sshPrivateKey", command: "pulumi config set --stack t --secret hearth:sshPrivateKey < FILE" }],
        });
        const out = tmpDir("plan-host");
        try {
            const dir = writePlan(plan, out);
            assert.equal(fs.readFileSync(path.join(dir, "h", "_listeners.tsv"), "utf8"), "# protocol\tport\taddress\tlistener\tscope\tresource\tdeclared at\nudp\t53\t10.0.0.1\tunit knot.service\tlocal\thearth:dns:Zone/z one\thearth:zones[0].backend.port\n");
            assert.equal(fs.readFileSync(path.join(dir, "h", "_packages.tsv"), "utf8"), "# package\tversion\thold\tresource\tkeepUnits\nknot\t\t\thearth:apt:Packages/p\t\n");
            const json = JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8"));
            assert.deepEqual(json, JSON.parse(JSON.stringify(planSummary(plan))));
            assert.equal(json.hosts[0].listeners[0].where, "hearth:zones[0].backend.port");
            assert.equal(json.unsetSecrets[0].key, "hearth:sshPrivateKey");
        } finally {
            fs.rmSync(out, { recursive: true, force: true });
        }
    });

    it("lists the secure values still placeholders, top-level and nested, with the command that sets each", () => {
        const dir = siteDir({
            s: [
                "config:",
                "  hearth:sshPrivateKey:",
                "    secure: v1:PLACEHOLDER:replace-me",
                "  cloudflare:apiToken:",
                "    secure: v1:AAABAF1xbGx0c2VjcmV0dmFsdWU=",
                "  token:",
                "    secure: v1:PLACEHOLDER:bare-key",
                "  hearth:hosts:",
                "    - name: a",
                "      privateKey:",
                "        secure: v1:PLACEHOLDER:nested",
                "      odd key:",
                "        secure: v1:PLACEHOLDER:quoted",
                "",
            ].join("\n"),
        });
        try {
            assert.deepEqual(placeholderSecrets(dir, "s"), [
                { key: "hearth:sshPrivateKey", command: "pulumi config set --stack s --secret hearth:sshPrivateKey < FILE" },
                { key: "hearth:token", command: "pulumi config set --stack s --secret hearth:token < FILE" },
                { key: "hearth:hosts[0].privateKey", command: "pulumi config set --stack s --secret --path 'hearth:hosts[0].privateKey' < FILE" },
                { key: 'hearth:hosts[0]["odd key"]', command: `pulumi config set --stack s --secret --path 'hearth:hosts[0]["odd key"]' < FILE` },
            ]);
            assert.match(formatPlaceholders(placeholderSecrets(dir, "s"), "s"), /^Secrets still placeholders in Pulumi\.s\.yaml \(4\)/);
            assert.equal(formatPlaceholders([], "s"), "Secrets: every secure value of Pulumi.s.yaml is set.");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
