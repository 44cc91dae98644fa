// The drift check on a home-like site: two test hosts converged by the site program, drifted by hand in ten ways.
//
// `rack` holds the ZFS pool, a dataset, a PostgreSQL database with its role and client line, a hardened service with a
// credential and a config file, and a container cloned from a base snapshot; `gw` serves a zone from Knot and is the
// WireGuard hub `rack` peers with. buildSite (stacks/site.ts) builds it from site config values, as stacks/index.ts
// does; the runner executes the registered commands over SSH. Then `npm run check` itself (stacks/check.ts, in a child
// process, on a site directory whose config points at the test hosts) must find the hosts clean; after ten hand edits
// it must report exactly those and nothing else (exit 1); a reapply of both hosts and an `up` converge them again, and
// the next check is clean (exit 0). The checks themselves change nothing on either host.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import yaml = require("js-yaml");
import { serverLayout } from "../../components/dns/knot";
import { ipv4HostAddress } from "../../components/net";
import { parseSiteConfig } from "../../stacks/schema";
import { buildSite } from "../../stacks/site";
import { mustExec } from "./crash";
import { formatReports } from "../../stacks/drift";
import { driftLines } from "./drift";
import { describeHost, startHost, TestHost } from "./harness";
import { BASE } from "./nspawn-base";
import { containerOutputsFromHosts, resetCommandOutputs } from "./outputs";
import { ProgramRunner } from "./runner";
import { generateKey, KeyPair, keyFile, sshTempDir } from "./ssh";

const REPO = path.join(__dirname, "..", "..");
const say = (what: string) => process.stderr.write(`drift-site: ${what}\n`);
const TOKEN = "token-" + "5".repeat(24);

describeHost("npm run check on a home-like site: clean, then exactly ten drifts, then clean after a reapply", function () {
    this.timeout(900_000);
    let rack: TestHost;
    let gw: TestHost;
    let boxKey: KeyPair;
    let siteDir: string;
    let reapply = 0;
    const runner = new ProgramRunner();

    /** The site's config values (without the hearth: namespace), pointed at the test hosts. */
    function values(): Record<string, unknown> {
        const boxAddress = ipv4HostAddress(`10.231.${rack.index}.0/24`, 50);
        const reapplied = reapply ? { reapply: { all: reapply } } : {};
        return {
            hosts: [
                { name: "rack", address: rack.address, hostKey: rack.hostKey, facts: { zfs: true }, ...reapplied },
                { name: "gw", address: gw.address, hostKey: gw.hostKey, ...reapplied },
            ],
            datasets: [{ name: "data", host: "rack", dataset: "tank/data", compression: "lzjb", quotaMiB: 64, mountpoint: "/srv/data" }],
            databases: [{ name: "app-db", host: "rack", database: "app", clients: ["10.231.0.0/16"] }],
            containers: [{
                name: "box", host: "rack",
                rootfs: { zfs: { origin: "tank/base@bookworm", dataset: "tank/machines/box" } },
                network: { macvlan: "host0" }, addresses: [boxAddress],
                privateUsersOwnership: "chown", memoryMaxMiB: 512, tasksMax: 256,
                ssh: { authorizedKey: boxKey.publicKey, privateKey: "boxKey" },
            }],
            services: [{
                name: "web", host: "rack", description: "a static file server",
                execStart: ["/usr/bin/python3", "-m", "http.server", "8080", "--directory", "/srv/data"],
                bindReadOnlyPaths: ["/srv/data"], requires: [{ dataset: "data" }],
                network: "local", listenPorts: [8080], memoryMaxMiB: 128, tasksMax: 16,
                credentials: { token: "webToken" },
                // Python's mimetypes reads /etc/mime.types: the service sees this one in its place.
                files: [{ target: "/etc/mime.types", content: "text/plain txt text\n" }],
            }],
            wireguard: [{
                name: "sites", interfaceName: "wg-sites",
                hub: { host: "gw", endpoint: `${gw.address}:51820`, subnets: ["10.98.0.0/24"] },
                peers: [{ host: "rack", subnets: ["10.97.0.0/24"] }],
            }],
            zones: [{
                name: "home", zone: "home.arpa",
                backend: { kind: "host", host: "gw", nameservers: [{ name: "ns1", addresses: [gw.address] }] },
                records: [
                    { name: "www", type: "A", value: "10.231.99.80" },
                    { name: "mail", type: "A", value: "10.231.99.25" },
                ],
            }],
        };
    }

    const secretValues = (): Record<string, string> => ({ sshPrivateKey: rack.privateKey, boxKey: boxKey.privateKey, webToken: TOKEN });

    const program = () => {
        const keys = secretValues();
        const site = parseSiteConfig({ values: { ...values(), ...keys }, secretKeys: new Set(Object.keys(keys)) });
        buildSite(site, { secret: (key) => pulumi.secret(keys[key]) });
    };

    /** The site as a directory `npm run check` reads: Pulumi.yaml naming the repository's site program, and the config. */
    function writeSite(): void {
        fs.writeFileSync(path.join(siteDir, "Pulumi.yaml"), `name: hearth\nruntime: nodejs\nmain: ${path.join(REPO, "stacks", "index.ts")}\n`);
        const config: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(values())) config[`hearth:${k}`] = v;
        // Secrets stay `secure:` placeholders, as in a site repository: the check never needs them.
        for (const k of Object.keys(secretValues())) config[`hearth:${k}`] = { secure: "v1:PLACEHOLDER:set-by-the-cli" };
        fs.writeFileSync(path.join(siteDir, "Pulumi.test.yaml"), yaml.dump({ config }, { noRefs: true }));
    }

    /** `npm run check -- --stack test --json (the stack the runner's mocks name: marks carry project and stack)` in a child process, as a user (or the scheduled workflow) runs it. */
    function check(): { code: number; report: any; stderr: string } {
        writeSite();
        const r = spawnSync(process.execPath, [require.resolve("tsx/cli"), path.join(REPO, "stacks", "check.ts"), "--stack", "test", "--dir", siteDir, "--identity", keyFile(rack.privateKey), "--json"], {
            encoding: "utf8", cwd: REPO, env: { ...process.env, SSH_AUTH_SOCK: "" }, timeout: 300_000,
        });
        let report: any;
        try {
            report = JSON.parse(r.stdout);
        } catch {
            assert.fail(`check printed no JSON (exit ${r.status}): ${r.stdout}\n${r.stderr}`);
        }
        return { code: r.status ?? -1, report, stderr: r.stderr };
    }

    const lines = (report: any): string[] => report.hosts.flatMap((h: any) => driftLines(h.resources).map((l) => `${h.host}: ${l}`)).sort();
    const errors = (report: any): string[] => report.hosts.filter((h: any) => h.status === "error").map((h: any) => `${h.host}: ${h.error}`);

    /** What a check must leave as it was: file mtimes and contents, unit invocations, dataset properties, the WAL position. */
    async function fingerprint(): Promise<string[]> {
        const files = "find /etc /usr/local/etc /var/lib/hearth /var/lib/machines/box/etc /srv -xdev -type f -printf '%p %T@ %s\\n' 2>/dev/null | sort | sha256sum";
        const units = "systemctl show -p InvocationID --value web.service systemd-nspawn@box.service postgresql@15-main.service";
        const zfs = "zfs get -Hp -o name,property,value,source all tank/data tank/machines/box | grep -v -e '\\bused' -e 'referenced' -e 'written' -e 'available' -e 'logicalused' -e 'logicalreferenced' | sha256sum";
        const wal = "runuser -u postgres -- psql -XAtc 'select pg_current_wal_lsn()'";
        return [
            await mustExec(rack, files), await mustExec(rack, units), await mustExec(rack, zfs), await mustExec(rack, wal),
            await mustExec(gw, "find /etc /usr/local/etc /var/lib/hearth /var/lib/knot -xdev -type f -printf '%p %T@ %s\\n' 2>/dev/null | sort | sha256sum"),
            await mustExec(gw, "systemctl show -p InvocationID --value hearth-knot-home.service 2>/dev/null || true"),
        ];
    }

    /** The WAL settles first (a checkpoint, then no record for 2 s), so only a write by the check could move it. */
    async function quietWal(): Promise<void> {
        await mustExec(rack, "runuser -u postgres -- psql -XAtqc 'CHECKPOINT'");
        let last = "";
        for (let i = 0; i < 40; i++) {
            const now = await mustExec(rack, "runuser -u postgres -- psql -XAtc 'select pg_current_wal_lsn()'");
            if (now === last) return;
            last = now;
            await new Promise((r) => setTimeout(r, 2_000));
        }
    }

    /**
     * `check()`, asserting it changed nothing on either host. PostgreSQL's own background writer may log a record while
     * the check runs (a standby snapshot after the checkpoint): a run where only the WAL position moved is retried, at
     * most twice.
     */
    async function readOnlyCheck(): Promise<ReturnType<typeof check>> {
        for (let attempt = 0; ; attempt++) {
            await quietWal();
            const before = await fingerprint();
            const r = check();
            const after = await fingerprint();
            if (JSON.stringify(after) === JSON.stringify(before)) return r;
            const walOnly = JSON.stringify(after.filter((_, i) => i !== 3)) === JSON.stringify(before.filter((_, i) => i !== 3));
            assert.ok(walOnly && attempt < 2, `the check changed nothing: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`);
        }
    }

    before(async () => {
        siteDir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-drift-site-"));
        boxKey = generateKey(sshTempDir(), "box-root", "hearth-drift-box");
        [rack, gw] = await Promise.all([startHost({ name: "rack" }), startHost({ name: "gw" })]);
        const t0 = Date.now();
        await mustExec(rack, BASE);
        say(`base snapshot for the container built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        // The engine hands a container's host key and a WireGuard side's public key to what uses them: run them for real.
        containerOutputsFromHosts(() => runner.resources.some((r) => r.name === "box-container"), { wireguardKeys: true });
    });
    after(async () => {
        resetCommandOutputs();
        if (siteDir) fs.rmSync(siteDir, { recursive: true, force: true });
        await Promise.all([rack?.stop(), gw?.stop()]);
    });

    it("converges the site, and the check finds both hosts as declared without changing anything", async () => {
        let t = Date.now();
        const first = await runner.up(program);
        say(`first up: ${first.runs.length} remote commands in ${((Date.now() - t) / 1000).toFixed(1)} s`);
        assert.equal((await runner.up(program)).runs.length, 0, "converged: a re-run runs nothing");
        t = Date.now();
        const r = await readOnlyCheck();
        say(`check: exit ${r.code} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
        assert.deepEqual(errors(r.report), [], r.stderr);
        assert.deepEqual(lines(r.report), []);
        assert.equal(r.code, 0);
        assert.deepEqual(r.report.hosts.map((h: any) => h.host).sort(), ["gw", "rack"]);
    });

    /** Report lines with hashes cut out (their values are not what a spec can know). */
    const masked = (report: any) => lines(report).map((l) => l.replace(/\b[0-9a-f]{12}\b/g, "#").replace(/\(([A-Za-z0-9+/]{8})\.\.\.\)/, "(key)"));

    it("reports exactly ten drifts made by hand, and changes nothing doing it", async () => {
        const knotc = `knotc -c ${serverLayout("home.arpa").conf}`;
        const gwKey = (await mustExec(gw, "wg show wg-sites public-key")).trim();
        // The peer's allowed IPs as the interface runs them (a peer's endpoint would roam back on its next keepalive).
        const gwLine = (await mustExec(rack, "wg show wg-sites allowed-ips")).split("\n").find((l) => l.startsWith(gwKey + "\t"));
        assert.ok(gwLine, "rack's interface lists gw as a peer");
        const ips = gwLine!.split("\t")[1].trim().split(/\s+/).sort();
        const drifted = [...ips, "10.96.0.0/24"].sort();
        const hba = "/etc/postgresql/15/main/pg_hba.conf";
        const drifts: [TestHost, string][] = [
            // 1. a unit edited by hand (and loaded)
            [rack, "echo 'Environment=EDITED=1' >> /etc/systemd/system/web.service && systemctl daemon-reload"],
            // 2. a service stopped
            [rack, "systemctl stop web.service"],
            // 3. a credential file's mode
            [rack, "chmod 0644 /etc/credstore/web.service/token"],
            // 4. a dataset property
            [rack, "zfs set compression=gzip tank/data"],
            // 5. an hba line dropped (and the server reloaded)
            [rack, `runuser -u postgres -- sed -i '/^host "app" "app" 10\\.231\\./d' ${hba} && runuser -u postgres -- psql -X -q -c 'SELECT pg_reload_conf()' >/dev/null`],
            // 6. the role's password set by hand
            [rack, "runuser -u postgres -- psql -X -q -c \"ALTER ROLE app PASSWORD 'SetByHand0123456789'\""],
            // 7. a WireGuard peer given one more allowed network
            [rack, `wg set wg-sites peer ${gwKey} allowed-ips ${drifted.join(",")}`],
            // 8. a container stopped
            [rack, "systemctl stop systemd-nspawn@box.service"],
            // 9. a file inside the container edited (it is idle now: the check reads its tree as the tree's owner)
            [rack, "echo edited >> /var/lib/machines/box/etc/hostname"],
            // 10. a record deleted from Knot
            [gw, `${knotc} zone-begin home.arpa && ${knotc} zone-unset home.arpa mail A && ${knotc} zone-commit home.arpa`],
        ];
        for (const [h, cmd] of drifts) await mustExec(h, cmd);
        const r = await readOnlyCheck();
        say(`drift report:\n  ${masked(r.report).join("\n  ")}`);
        assert.deepEqual(errors(r.report), [], r.stderr);
        assert.equal(r.code, 1, "drift: exit 1");
        assert.deepEqual(masked(r.report), [
            "gw: home-zone: record mail.home.arpa. A: 300 10.231.99.25 -> absent",
            `rack: app-db-database: ${hba} line host "app" "app" 10.231.0.0/16 scram-sha-256: present -> absent`,
            "rack: app-db-database: role app verifier: as hearth applied it -> changed since hearth applied it",
            "rack: box-container: /var/lib/machines/box/etc/hostname content: sha256 # -> sha256 #",
            "rack: box-container: unit systemd-nspawn@box.service active: active -> inactive",
            "rack: data-dataset: dataset tank/data compression: lzjb -> gzip",
            `rack: sites-rack-interface: peer gw (key) allowed IPs: ${ips.join(",")} -> ${drifted.join(",")}`,
            "rack: web-converge: /etc/credstore/web.service/token mode: 0600 -> 0644",
            // The unit edit shows twice: its file, and the running instance no longer started from what hearth applied.
            "rack: web-converge: /etc/systemd/system/web.service content: sha256 # -> sha256 #",
            "rack: web-converge: unit web.service active: active -> inactive",
            "rack: web-converge: unit web.service applied content: as hearth last applied it -> its files changed since",
        ]);
        // The table a user reads says the same.
        assert.match(formatReports(r.report.hosts), /^rack \(root@[\d.]+:22\): 10 difference\(s\) in \d+ resource\(s\)/m);
    });

    it("a reapply of both hosts and an up converge everything again; the next check is clean", async () => {
        reapply = 1;
        const t = Date.now();
        const up = await runner.up(program);
        say(`reapply up: ${up.runs.length} remote commands in ${((Date.now() - t) / 1000).toFixed(1)} s`);
        assert.deepEqual(up.created, []);
        assert.deepEqual(up.deleted, []);
        assert.ok(up.updated.length >= 10, `every converge ran again (${up.updated.join(", ")})`);
        assert.equal((await runner.up(program)).runs.length, 0, "converged again: a re-run runs nothing");
        const r = await readOnlyCheck();
        assert.deepEqual(errors(r.report), [], r.stderr);
        assert.deepEqual(masked(r.report), []);
        assert.equal(r.code, 0);
        assert.equal((await mustExec(gw, `knotc -c ${serverLayout("home.arpa").conf} zone-read home.arpa mail A`)).includes("10.231.99.25"), true, "the record is served again");
    });
});
