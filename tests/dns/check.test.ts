// DnsZone's drift check (host backend): the line the zone converge carries, the record of what knotd served that the
// converge leaves, and what the runtime reports against a real knotd on loopback whose zone is changed through knotc.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { checkOfConverge, parseCheckOutput, renderHostCheck } from "../../components/core/check";
import { RUNTIME } from "../../components/core/runtime";
import { unwrapCommand } from "../../components/core/shell";
import { DnsZone } from "../../components/dns";
import { Host } from "../../components/host";
import { installMocks, recorded, resetRecorded, settle, TEST_HOST_KEY } from "../mocks";
import { checkScript } from "../tools";
import { homeZone, zoneFileOf } from "./fixtures";
import { LocalKnot } from "./tools";

const ZONE = "home.example.org";

describe("DnsZone drift check", () => {
    describe("the check line and the converge's record", () => {
        before(() => installMocks());
        beforeEach(() => resetRecorded());

        it("the zone converge carries one check of the served records; it records them after knotd serves the zone's serial, and its delete forgets them", async () => {
            const host = new Host({ name: "ns", address: "10.231.1.2", privateKey: pulumi.secret("k"), hostKey: TEST_HOST_KEY });
            new DnsZone("home", {
                zone: "home.hearth.test",
                backend: { kind: "host", host, nameservers: [{ name: "ns1", addresses: ["10.231.1.2"] }] },
                records: [{ name: "www", type: "A", value: "10.231.99.80" }],
            });
            await settle();
            const zone = recorded.find((r) => r.name === "home-zone")!;
            const w = unwrapCommand(zone.inputs.create)!;
            const check = checkOfConverge("home-zone", w.script, w.sudo, zone.inputs.stdin)!;
            assert.deepEqual(check.lines.filter((l) => !/^hearth_check_(converged|file) /.test(l)), [
                "hearth_check_knot_zone /etc/hearth/dns/home.hearth.test/knot.conf home.hearth.test knot/home.hearth.test.served",
            ]);
            // The staged zone file is compared with the declared records (known here).
            assert.ok(check.lines.some((l) => /^hearth_check_file \/etc\/hearth\/dns\/home\.hearth\.test\/staged\/home\.hearth\.test\.zone [0-9a-f]{64} 0644 root root /.test(l)), check.lines.join("\n"));
            const lines = w.script.split("\n");
            const served = lines.findIndex((l) => l.startsWith("hearth_record knot/home.hearth.test.served "));
            const waited = lines.findIndex((l) => l.includes("expected $hearth_serial"));
            assert.ok(waited > 0 && served > waited, "recorded only once knotd serves the installed serial");
            assert.match(lines[served - 1], /^hearth_zone_read=\$\(hearth_knot_served \/etc\/hearth\/dns\/home\.hearth\.test\/knot\.conf home\.hearth\.test\) \|\| hearth_die /);
            const del = recorded.find((r) => r.name === "home-zone-lifecycle")!.inputs.delete as string;
            assert.match(del, /hearth_forget "knot\/\$\{hearth_zdir##\*\/\}\.served"/);
            assert.deepEqual(checkScript(renderHostCheck("ns", [check])), []);
        });
    });

    describe("against knotd on loopback", function () {
        this.timeout(30000);
        const zf = zoneFileOf(homeZone());
        let knot: LocalKnot;
        before(async () => {
            knot = new LocalKnot(ZONE);
            knot.writeZone(zf.text);
            await knot.start(zf.serial);
        });
        after(() => knot?.stop());

        /** Runs `lines` over the runtime, with the applied state read from the spec's directory. */
        function run(lines: string[]): { stdout: string; stderr: string } {
            const script = renderHostCheck("ns", [{ resource: "home-zone", sudo: false, lines }]).replace(RUNTIME, () => [
                RUNTIME,
                `hearth_applied() { cat -- '${knot.dir}/applied' 2>/dev/null || true; }`,
            ].join("\n"));
            const r = spawnSync("bash", ["--noprofile", "--norc", "-s"], { input: script, encoding: "utf8" });
            assert.equal(r.status, 0, r.stderr);
            return r;
        }
        const served = (): string => {
            const r = spawnSync("bash", ["--noprofile", "--norc", "-s"], { input: `${RUNTIME}\nhearth_knot_served '${knot.conf}' ${ZONE}\n`, encoding: "utf8" });
            assert.equal(r.status, 0, r.stderr);
            return r.stdout;
        };
        const check = () => {
            const [rep] = parseCheckOutput(run([`hearth_check_knot_zone '${knot.conf}' ${ZONE} knot/${ZONE}.served`]).stdout);
            assert.equal(rep.error, undefined);
            return rep.drift.map((d) => `${d.what}: ${d.desired} -> ${d.found}`);
        };
        const txn = (...ops: string[][]) => {
            for (const op of [["zone-begin", ZONE], ...ops.map((o) => [o[0], ZONE, ...o.slice(1)]), ["zone-commit", ZONE]]) {
                const r = knot.knotc(...op);
                assert.equal(r.status, 0, `knotc ${op.join(" ")}: ${r.out}`);
            }
        };

        it("the served copy is sorted, one record a line, with the SOA serial left out", () => {
            const text = served();
            const lines = text.trim().split("\n");
            assert.deepEqual([...lines].sort(), lines);
            assert.ok(lines.includes(`git.${ZONE}. 300 A 10.0.0.5`), text);
            const soa = lines.find((l) => / SOA /.test(l))!;
            assert.match(soa, new RegExp(`^${ZONE.replace(/\./g, "\\.")}\\. \\d+ SOA \\S+ \\S+ - \\d+ \\d+ \\d+ \\d+$`));
            assert.doesNotMatch(text, new RegExp(`\\b${zf.serial}\\b`));
            assert.doesNotMatch(text, /^\[/m);
        });

        it("nothing is reported when knotd serves what was recorded, or when nothing was recorded", () => {
            fs.rmSync(path.join(knot.dir, "applied"), { force: true });
            assert.deepEqual(check(), []);
            fs.writeFileSync(path.join(knot.dir, "applied"), served());
            assert.deepEqual(check(), []);
        });

        it("names each record removed, added or changed through knotc's zone transactions (a new serial alone is no drift)", () => {
            fs.writeFileSync(path.join(knot.dir, "applied"), served());
            txn(["zone-unset", "git", "A"], ["zone-set", "extra", "60", "TXT", "by hand"], ["zone-unset", "git", "AAAA"], ["zone-set", "git", "300", "AAAA", "fd00::99"]);
            assert.deepEqual(check(), [
                `record git.${ZONE}. A: 300 10.0.0.5 -> absent`,
                `record git.${ZONE}. AAAA: 300 fd00::5 -> absent`,
                `record extra.${ZONE}. TXT: absent -> 60 "by" "hand"`,
                `record git.${ZONE}. AAAA: absent -> 300 fd00::99`,
            ]);
        });

        it("reports a knotd that does not answer, once", () => {
            fs.writeFileSync(path.join(knot.dir, "applied"), "x\n");
            const conf = path.join(knot.dir, "other.conf");
            fs.writeFileSync(conf, fs.readFileSync(knot.conf, "utf8").replace(/rundir: "[^"]*"/, `rundir: "${knot.dir}/nowhere"`));
            const [rep] = parseCheckOutput(run([`hearth_check_knot_zone '${conf}' ${ZONE} knot/${ZONE}.served`]).stdout);
            assert.deepEqual(rep.drift, [{ what: `zone ${ZONE}`, desired: "served by knotd", found: `knotc zone-read ${ZONE} failed (knotd does not answer)` }]);
        });
    });
});
