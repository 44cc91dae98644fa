// End to end: every example site passes the whole pack; loosening one thing at a time yields exactly the violation that names it.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import yaml = require("js-yaml");
import { Host, remoteScript } from "../../../components/host";
import { contentHash } from "../../../components/shell";
import { ZfsDataset } from "../../../components/zfs";
import { DnsZone } from "../../../components/dns";
import { installMocks, recorded, resetRecorded, settle } from "../../mocks";
import { evaluate, exampleStacks, Finding, runSite, SiteResource } from "./evaluate";

const ZONE_ID = "0123456789abcdef0123456789abcdef";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";

/** The example stack with one service's config changed. */
function exampleWith(service: string, change: (svc: Record<string, any>) => void): string {
    const doc = yaml.load(exampleStacks().find((s) => s.stack === "example")!.yaml) as any;
    const svc = doc.config["hearth:services"].find((s: any) => s.name === service);
    change(svc);
    // YAML is a superset of JSON, and js-yaml here is typed for loading only.
    return JSON.stringify(doc, null, 1);
}

const summary = (f: Finding[]) => f.map((x) => `${x.policy} ${x.resource}: ${x.message}`);

describe("policy pack end to end", function () {
    this.timeout(120000);

    describe("example sites", () => {
        for (const { stack, yaml: text } of exampleStacks()) {
            it(`${stack}: every resource passes every policy`, async () => {
                const site = runSite(text, stack);
                assert.ok(site.resources.some((r) => r.type === "hearth:systemd:Service"), "the site registers services");
                assert.ok(site.resources.some((r) => r.type === "command:remote:Command"), "the site registers remote commands");
                // A site may be previewed with its own pack config (waivers with reasons): policies/examples/<stack>.json.
                const configFile = path.join(__dirname, "../../../policies/examples", `${stack}.json`);
                const config = fs.existsSync(configFile) ? JSON.parse(fs.readFileSync(configFile, "utf8")) : undefined;
                assert.deepEqual(summary(await evaluate(site.resources, { project: site.project, stack, config })), []);
            });
        }
    });

    describe("the example site loosened one thing at a time", () => {
        it("root user without a usable reason", async () => {
            const site = runSite(exampleWith("web-probe", (s) => (s.runAsRoot = { reason: "TODO: fixme later" })));
            assert.deepEqual(summary(await evaluate(site.resources, { project: site.project, stack: "example" })), [
                "hearth-systemd-root-needs-reason web-probe: The service runs as root without a recorded reason: 'runAsRoot.reason' must be a one-line reason of 8 to 200 printable ASCII characters that says why (got \"TODO: fixme later\").",
            ]);
        });

        it("root user with a reason stays sandboxed (1.0 -> 1.3) and is judged by its budget", async () => {
            const site = runSite(exampleWith("web-probe", (s) => (s.runAsRoot = { reason: "needs raw sockets for ICMP probes" })));
            assert.deepEqual(await evaluate(site.resources, { project: site.project, stack: "example" }), []);
            const tight = await evaluate(site.resources, { project: site.project, stack: "example", config: { "hearth-systemd-exposure-budget": { budget: 1.2, budgets: { "web.service": 1.3 } } } });
            assert.deepEqual(tight.map((x) => [x.policy, x.resource]), [["hearth-systemd-exposure-budget", "web-probe-converge"]]);
            assert.match(tight[0].message, /^Unit web-probe.service has exposure 1\.3, over its budget of 1\.2; largest contributions: PrivateNetwork 0\.5, UserOrDynamicUser 0\.4/);
        });

        it("missing reason: a loosening whose reason says nothing", async () => {
            const site = runSite(exampleWith("web", (s) => (s.loosen = { memoryDenyWriteExecute: { reason: "todo todo todo" } })));
            const f = await evaluate(site.resources, { project: site.project, stack: "example" });
            assert.deepEqual(summary(f), [
                "hearth-systemd-loosening-needs-reason web: The sandbox setting 'memoryDenyWriteExecute' is loosened without a recorded reason: 'loosen.memoryDenyWriteExecute.reason' must be a one-line reason of 8 to 200 printable ASCII characters that says why (got \"todo todo todo\").",
            ]);
        });

        it("secret in a unit: a password in the environment", async () => {
            const site = runSite(exampleWith("web", (s) => (s.environment = { DB_PASSWORD: "hunter2hunter2" })));
            const f = await evaluate(site.resources, { project: site.project, stack: "example" });
            assert.deepEqual(summary(f), [
                "hearth-command-no-secrets web-converge: /etc/systemd/system/web.service (installed by this command) contains a 'DB_PASSWORD=' assignment (DB_PASSWORD=hu…(14 chars)); put the secret in a credential (LoadCredential=), not in the file.",
            ]);
        });

        it("a waiver with a reason lets the loosened site pass; without one it is reported", async () => {
            const site = runSite(exampleWith("web", (s) => (s.loosen = { memoryDenyWriteExecute: { reason: "todo todo todo" } })));
            const policy = "hearth-systemd-loosening-needs-reason";
            const waived = await evaluate(site.resources, { project: site.project, stack: "example", config: { [policy]: { waivers: [{ resource: "web", reason: "JIT rewrite tracked in issue 42" }] } } });
            assert.deepEqual(waived, []);
            const unreasoned = await evaluate(site.resources, { project: site.project, stack: "example", config: { [policy]: { waivers: [{ resource: "web" }] } } });
            assert.deepEqual(unreasoned.map((x) => x.message.slice(0, 60)), [
                "The waiver of 'hearth-systemd-loosening-needs-reason' for 'w",
                "The sandbox setting 'memoryDenyWriteExecute' is loosened wit",
            ]);
        });
    });

    describe("components registered directly, loosened one thing at a time", () => {
        let host: Host;
        const parents = new Map<string, string>();
        // Component transformations see every child with its parent, as the engine records it.
        const capture: pulumi.ResourceTransformation = (t) => {
            const p = t.opts.parent as any;
            if (p?.__pulumiType) parents.set(`${t.type}/${t.name}`, `${p.__pulumiType}/${p.__name}`);
            return undefined;
        };

        before(async () => {
            await installMocks();
            host = new Host({ name: "h1", address: "10.231.0.2", privateKey: pulumi.secret("key"), hostKey: HOST_KEY, facts: { zfs: true } });
        });

        /** Registers resources with the mocks and returns them as the engine would see them. */
        async function registered(build: () => void): Promise<SiteResource[]> {
            resetRecorded();
            build();
            await settle();
            return recorded.map((r) => ({ type: r.type, name: r.name, inputs: r.inputs, parent: parents.get(`${r.type}/${r.name}`) }));
        }

        it("baseline: a retained dataset, a public zone with public addresses and a clean script pass", async () => {
            const rs = await registered(() => {
                new ZfsDataset("data", { host, dataset: "tank/data" }, { transformations: [capture] });
                new DnsZone("public", { zone: "example.org", backend: { kind: "cloudflare", zoneId: ZONE_ID }, records: [{ name: "www", type: "A", value: "203.0.113.7" }] }, { transformations: [capture] });
                const tidy = "set -eu\nfind /var/tmp -mtime +7 -delete\n";
                remoteScript("tidy", { host, script: tidy, hash: contentHash(tidy) }, {});
            });
            assert.ok(rs.some((r) => r.type === "cloudflare:index/dnsRecord:DnsRecord"), "the zone registers its records");
            assert.deepEqual(summary(await evaluate(rs)), []);
        });

        it("secret in a script", async () => {
            const migrate = "PGPASSWORD=hunter22 psql -h 127.0.0.1 -c 'select 1'\n";
            const rs = await registered(() => remoteScript("migrate", { host, script: migrate, hash: contentHash(migrate) }, {}));
            assert.deepEqual(summary(await evaluate(rs)), [
                "hearth-command-no-secrets migrate: The 'create' command text contains a 'PGPASSWORD=' assignment (PGPASSWORD=hu…(8 chars)); secrets must travel over stdin as Pulumi secrets, never in command text.",
                "hearth-command-no-secrets migrate: The 'update' command text contains a 'PGPASSWORD=' assignment (PGPASSWORD=hu…(8 chars)); secrets must travel over stdin as Pulumi secrets, never in command text.",
            ]);
        });

        it("destroyable dataset", async () => {
            const rs = await registered(() => new ZfsDataset("scratch", { host, dataset: "tank/scratch", destroyOnDelete: true }, { transformations: [capture] }));
            assert.deepEqual(summary(await evaluate(rs)), [
                "hearth-stateful-retain-on-delete scratch: The dataset is destroyed on delete ('destroyOnDelete' is true); its data would be lost.",
                "hearth-stateful-retain-on-delete scratch-dataset-lifecycle: The delete script destroys data (zfs destroy); deleting this resource would lose it.",
            ]);
            const waived = await evaluate(rs, { config: { "hearth-stateful-retain-on-delete": { waivers: [{ resource: "scratch", reason: "scratch space, rebuilt from backups" }] } } });
            assert.deepEqual(waived, [], "one waiver on the component covers its delete command");
        });

        it("private IP in a public zone", async () => {
            const rs = await registered(() =>
                new DnsZone("public", {
                    zone: "example.org",
                    backend: { kind: "cloudflare", zoneId: ZONE_ID },
                    allowPrivate: true,
                    records: [{ name: "www", type: "A", value: "203.0.113.7" }, { name: "nas", type: "A", value: "192.168.1.10" }],
                }, { transformations: [capture] }),
            );
            assert.deepEqual(summary(await evaluate(rs)), [
                "hearth-dns-no-private-in-public public: Public record nas.example.org A 192.168.1.10 points into 192.168.0.0/16 (RFC 1918).",
            ]);
        });
    });
});
