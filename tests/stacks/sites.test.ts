// The home and vps sites and the hand-written example plan offline: every component wired, the two sites agree on their link.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import yaml = require("js-yaml");
import { PlanJson, PlanRun, readPlan, ROOT, runPlan, tmpDir, triggers, walk } from "./plan-run";
import { qualifiedStack } from "../../stacks/site";

/** `[Peer]` sections of a wg-quick config: public key and endpoint by the comment naming the side. */
function peers(conf: string): Record<string, { key?: string; endpoint?: string }> {
    const out: Record<string, { key?: string; endpoint?: string }> = {};
    for (const block of conf.split(/^# /m).slice(1)) {
        const name = block.split("\n")[0].trim();
        if (!/\[Peer\]/.test(block)) continue;
        out[name] = { key: /^PublicKey = (\S+)$/m.exec(block)?.[1], endpoint: /^Endpoint = (\S+)$/m.exec(block)?.[1] };
    }
    return out;
}

function outputsOf(run: PlanRun): any {
    const line = run.stdout.split("\n").find((l) => l.startsWith("Stack outputs: "));
    assert.ok(line, "the plan prints the stack outputs");
    return JSON.parse(line.slice("Stack outputs: ".length));
}

describe("example sites", function () {
    this.timeout(240000);
    let out: string;
    let again: string;
    let home: PlanRun;
    let vps: PlanRun;
    let homeAgain: PlanRun;
    let byHand: PlanRun;

    before(async () => {
        out = tmpDir("sites");
        again = tmpDir("sites-again");
        [home, vps, byHand] = await Promise.all([
            runPlan(["--stack", "home", "--out", out]),
            runPlan(["--stack", "vps", "--out", out]),
            runPlan(["--dir", "examples/by-hand", "--stack", "dev", "--out", out]),
        ]);
        homeAgain = await runPlan(["--stack", "home", "--out", again]);
        for (const r of [home, vps, byHand, homeAgain]) assert.equal(r.code, 0, r.stderr);
    });
    after(() => [out, again].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    it("plans home with every kind of component, each command under the host it reaches", () => {
        const plan: PlanJson = readPlan(out, "home");
        assert.deepEqual([...new Set(plan.components.map((c) => c.type))].sort(), [
            "hearth:apt:Packages", "hearth:dns:Zone", "hearth:host:Accounts", "hearth:host:Baseline", "hearth:host:Firewall", "hearth:host:Tuning", "hearth:host:Upgrades",
            "hearth:nspawn:Container", "hearth:postgres:Database", "hearth:systemd:Service", "hearth:wireguard:Link", "hearth:zfs:Dataset",
        ]);
        assert.deepEqual(plan.hosts.map((h) => `${h.name}=${h.target}`), ["build=root@192.168.10.50:22", "gw=root@192.168.10.1:22", "rack1=ops@192.168.10.10:22"]);
        // The nightly job runs inside the container, so its commands reach the container, not rack1.
        assert.ok(plan.hosts.find((h) => h.name === "build")!.commands.some((c) => c.name === "nightly-build-converge"));
        assert.ok(fs.existsSync(path.join(out, "home/rack1/etc/systemd/nspawn/build.nspawn")));
    });

    it("joins the two sites' WireGuard sides with each other's planned key and the hub's endpoint", () => {
        const homeKeys = outputsOf(home).wireguard.sites.publicKeys;
        const vpsKeys = outputsOf(vps).wireguard.sites.publicKeys;
        const gw = peers(fs.readFileSync(path.join(out, "home/gw/etc/wireguard/.hearth/wg-sites.conf"), "utf8"));
        const edge = peers(fs.readFileSync(path.join(out, "vps/edge/etc/wireguard/.hearth/wg-sites.conf"), "utf8"));
        assert.deepEqual(gw.edge, { key: vpsKeys.edge, endpoint: "203.0.113.10:51820" });
        assert.deepEqual(edge.gw, { key: homeKeys.gw, endpoint: undefined });
        assert.match(homeKeys.gw, /^[A-Za-z0-9+/]{43}=$/);
        assert.notEqual(homeKeys.gw, vpsKeys.edge);
    });

    it("serves home.arpa on the gateway and delegates rack1.home.arpa to rack1 with glue", () => {
        const parent = fs.readFileSync(path.join(out, "home/gw/etc/hearth/dns/home.arpa/staged/home.arpa.zone"), "utf8");
        const child = fs.readFileSync(path.join(out, "home/rack1/etc/hearth/dns/rack1.home.arpa/staged/rack1.home.arpa.zone"), "utf8");
        assert.match(parent, /^rack1\t300\tIN\tNS\tns1\.rack1\.home\.arpa\.$/m);
        assert.match(parent, /^ns1\.rack1\t300\tIN\tA\t192\.168\.10\.10$/m);
        assert.match(parent, /^build\t300\tIN\tA\t192\.168\.10\.50$/m, "the container's record comes from its address");
        assert.match(child, /^photos\t300\tIN\tA\t192\.168\.10\.10$/m, "the service's record comes from its host's address");
    });

    it("publishes the vps zone on Cloudflare with the records the config and the services give", () => {
        const records = readPlan(out, "vps").resources.filter((r) => r.type === "cloudflare:index/dnsRecord:DnsRecord").map((r) => r.inputs as any);
        const www = records.find((r) => r.name === "www.example.org");
        assert.deepEqual({ type: www.type, content: www.content, zoneId: www.zoneId }, { type: "A", content: "203.0.113.10", zoneId: "0123456789abcdef0123456789abcdef" });
        assert.deepEqual(records.map((r) => `${r.type} ${r.name}`).sort(), ["A edge.example.org", "A example.org", "A www.example.org", "CAA example.org", "MX example.org", "TXT example.org"]);
        // The sibling site, fully qualified with this stack's organization and project.
        const refs = readPlan(out, "vps").resources.filter((r) => r.type === "pulumi:pulumi:StackReference").map((r) => (r.inputs as any).name);
        assert.equal(refs.length, 1);
        assert.match(refs[0], /^[^/]+\/hearth\/home$/);
    });

    it("prints each host's firewall: SSH from the admin networks, each declared listener by its scope and declaration, nothing else", () => {
        const section = (run: PlanRun, host: string) => {
            const m = new RegExp(`^  firewall \\(hearth:host:Baseline/${host}-baseline: /var/lib/hearth/firewall/desired\\.nft\\)\n((?: {4}\\| .*\n)+)`, "m").exec(run.stdout);
            assert.ok(m, `no firewall section for ${host}`);
            return m![1].split("\n").filter((l) => / accept$/.test(l) && /dport/.test(l) && !/fe80::/.test(l)).map((l) => l.replace(/^ {4}\| +/, ""));
        };
        assert.deepEqual(section(home, "rack1"), [
            "ip saddr { 192.168.10.0/24 } tcp dport 22 accept",
            "ip saddr { 192.168.10.0/24 } tcp dport 53 accept",
            "ip saddr { 192.168.10.0/24 } ip daddr 192.168.10.10 tcp dport 53 accept",
            "ip saddr { 192.168.10.0/24 } tcp dport 5232 accept",
            "ip saddr { 192.168.10.0/24 } tcp dport 5432 accept",
            "ip saddr { 192.168.10.0/24 } tcp dport 8080 accept",
            "ip saddr { 192.168.10.0/24 } ip daddr 192.168.10.10 udp dport 53 accept",
        ]);
        // The pooler listens on loopback only: a comment in the ruleset, no rule.
        assert.match(home.stdout, /# pgbouncer tcp\/6432 on 127\.0\.0\.1 \(scope loopback\).*\n.*nothing beyond lo/);
        assert.deepEqual(section(vps, "edge"), ["ip saddr { 198.51.100.0/24, 10.99.0.0/24, 192.168.10.0/24 } tcp dport 22 accept", "tcp dport 80 accept", "udp dport 51820 accept"]);
    });

    it("keeps the database password out of the outputs, the printed plan and every file", () => {
        assert.deepEqual(outputsOf(home).databases["photos-db"].uri, "[secret]");
        assert.equal(outputsOf(home).databases["photos-db"].host, "192.168.10.10");
        const password = "plan-placeholder-photos-db-password";
        assert.ok(!home.stdout.includes(password));
        for (const f of walk(path.join(out, "home"))) assert.ok(!fs.readFileSync(path.join(out, "home", f), "utf8").includes(password), f);
    });

    it("keeps every written .service of both sites within the exposure budget", () => {
        for (const run of [home, vps]) {
            const scored = [...run.stdout.matchAll(/^ {2}\S+ +(\S+\.service) +(\d+\.\d) +(within budget|OVER BUDGET)/gm)];
            assert.ok(scored.length >= 1);
            for (const m of scored) assert.equal(m[3], "within budget", `${m[1]}: ${m[2]}`);
        }
        assert.match(home.stdout, /hearth-dns-home-arpa\.service +\d\.\d +within budget/);
    });

    it("re-plans home with identical triggers and files", () => {
        assert.deepEqual(triggers(readPlan(again, "home")), triggers(readPlan(out, "home")));
        const files = walk(path.join(out, "home"));
        assert.deepEqual(walk(path.join(again, "home")), files);
        for (const f of files) assert.ok(fs.readFileSync(path.join(out, "home", f)).equals(fs.readFileSync(path.join(again, "home", f))), f);
    });

    it("plans the hand-written program, which uses the components without the site schema", () => {
        const names = readPlan(out, "dev").components.map((c) => `${c.type} ${c.name}`);
        for (const c of ["hearth:postgres:Database gallery-db", "hearth:systemd:Service gallery", "hearth:zfs:Dataset photos"]) assert.ok(names.includes(c), c);
        assert.ok(fs.existsSync(path.join(out, "dev/nas/etc/systemd/system/gallery.service")));
    });

    it("the hand-written program installs Radicale's package, writes a HostFile and a service's own file, and requires them", () => {
        const plan = readPlan(out, "dev");
        const names = plan.components.map((c) => `${c.type} ${c.name}`);
        for (const c of ["hearth:apt:Packages radicale-pkg", "hearth:files:File radicale-rights", "hearth:zfs:Dataset calendars", "hearth:systemd:Service radicale"]) assert.ok(names.includes(c), c);
        const unit = fs.readFileSync(path.join(out, "dev/nas/etc/systemd/system/radicale.service"), "utf8");
        assert.match(unit, /^RequiresMountsFor=\/var\/lib\/radicale\/collections$/m, "requires the dataset");
        assert.match(unit, /^BindReadOnlyPaths=\/usr\/local\/etc\/hearth\/radicale\.service\/etc\/radicale\/config:\/etc\/radicale\/config$/m, "its config file, bound read-only");
        assert.match(unit, /^User=radicale$/m);
        assert.match(fs.readFileSync(path.join(out, "dev/nas/etc/radicale/rights"), "utf8"), /^\[family\]\nuser: \.\+\ncollection: family\/\[\^\/\]\+\npermissions: rw$/m);
        assert.match(byHand.stdout, /^ {4}hearth:apt:Packages radicale-pkg: radicale; keeps units radicale\.service$/m);
        assert.match(byHand.stdout, /^ {2}nas {3}radicale\.service +\d\.\d {2}within budget \(OK\)$/m);
    });

    it("ships a CI workflow that previews with the policy pack on pull requests and runs up on main, per site", () => {
        const wf = yaml.load(fs.readFileSync(path.join(ROOT, ".github/workflows/hearth.yml"), "utf8")) as any;
        assert.deepEqual(Object.keys(wf.on).sort(), ["pull_request", "push"]);
        assert.deepEqual(wf.on.push.branches, ["main"]);
        const job = wf.jobs.site;
        const sites = job.strategy.matrix.include.map((i: any) => i.site).sort();
        const siteFiles = fs.readdirSync(ROOT).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s) => s && s !== "example").sort();
        assert.deepEqual(sites, siteFiles, "one matrix entry per site file");
        const steps: any[] = job.steps;
        const preview = steps.find((s) => s.with?.command === "preview");
        const up = steps.find((s) => s.with?.command === "up");
        assert.equal(preview.if, "github.event_name == 'pull_request'");
        assert.equal(up.if, "github.event_name == 'push' && github.ref == 'refs/heads/main'");
        for (const s of [preview, up]) assert.equal(s.with.policyPacks, "policies");
        assert.ok(steps.some((s) => s.run === "npm run plan -- --stack ${{ matrix.site }}"));
    });
});

describe("cross-site references", () => {
    it("qualify a bare site name with this organization and project, and keep qualified names", () => {
        assert.equal(qualifiedStack("home", "acme", "hearth"), "acme/hearth/home");
        assert.equal(qualifiedStack("infra/home", "acme", "hearth"), "acme/infra/home");
        assert.equal(qualifiedStack("other/infra/home", "acme", "hearth"), "other/infra/home");
    });
});
