// Crash points for DnsZone's host backend (Knot DNS) on a real host: the zone converge (fresh, and a record change)
// and the zone delete, killed after every runtime step, re-run unchanged, and compared with a clean run.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { DnsRecordArgs, DnsZone } from "../../components/dns";
import { serverLayout } from "../../components/dns/knot";
import { Host } from "../../components/host";
import { describeHost, startHost, TestHost } from "./harness";
import { CrashRun, crashPoints, fileFacts, unitFacts, mustExec, runAll } from "./crash";
import { registeredCommands } from "./runner";

const ZONE = "crash.hearth.test";

describeHost("DnsZone crash points", function () {
    this.timeout(1_800_000);
    let h: TestHost;
    const layout = serverLayout(ZONE);
    const sh = (cmd: string): Promise<string> => mustExec(h, cmd);

    /** The knotd unit's converge, the zone converge and the zone delete for `records`. */
    async function commands(records: DnsRecordArgs[]): Promise<{ unit: CrashRun; zone: CrashRun; del: CrashRun }> {
        const cmds = await registeredCommands(() => {
            const host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey });
            new DnsZone("crash", { zone: ZONE, backend: { kind: "host", host, nameservers: [{ name: "ns1", addresses: [h.address] }] }, records });
        });
        const get = (n: string) => cmds.find((c) => c.name === n)!.inputs;
        return {
            unit: { command: get("crash-knot-converge").create, stdin: get("crash-knot-converge").stdin || undefined },
            zone: { command: get("crash-zone").create, stdin: get("crash-zone").stdin },
            del: { command: get("crash-zone-lifecycle").delete },
        };
    }
    const v1: DnsRecordArgs[] = [{ name: "www", type: "A", value: "10.231.99.80" }, { name: "@", type: "TXT", value: "crash points" }];
    const v2: DnsRecordArgs[] = [...v1, { name: "new", type: "AAAA", value: "fd00:231::90" }];

    /** knotd stopped and every file of the zone gone; the unit itself stays installed. */
    const wipe = () => sh([
        `systemctl stop ${layout.unit} 2>/dev/null || true`,
        `systemctl reset-failed ${layout.unit} 2>/dev/null || true`,
        `rm -rf ${layout.dir} /var/lib/hearth/applied/knot /var/lib/private/${layout.id} /var/lib/${layout.id}`,
    ].join("\n"));
    const runClean = (...runs: CrashRun[]) => runAll(h, runs);

    const fingerprint = async () => [
        ...(await fileFacts(h, [layout.dir], { trees: [layout.dir, "/var/lib/hearth/applied/knot"] })),
        JSON.stringify(await unitFacts(h, [layout.unit])),
        await sh(`if systemctl is-active --quiet ${layout.unit}; then /usr/sbin/knotc -c ${layout.conf} zone-status ${ZONE} 2>/dev/null | sed -n 's/.*| serial: \\([0-9]*\\).*/serial \\1/p'; else echo stopped; fi`),
    ];

    before(async () => {
        h = await startHost({ name: "dnscrash" });
        await runClean((await commands(v1)).unit);
    });
    after(async () => { await h?.stop(); });

    const cases: [string, () => Promise<{ from: CrashRun[]; run: CrashRun; min: number }>][] = [
        ["zone converge on a fresh host", async () => ({ from: [], run: (await commands(v1)).zone, min: 6 })],
        ["zone converge with a record change (zone reload)", async () => ({ from: [(await commands(v1)).zone], run: (await commands(v2)).zone, min: 2 })],
        ["zone delete", async () => {
            const c = await commands(v1);
            return { from: [c.zone], run: c.del, min: 5 };
        }],
    ];
    for (const [name, make] of cases) {
        it(`${name}: every kill point finishes on the re-run`, async () => {
            const c = await make();
            const report = await crashPoints(h, { name, reset: async () => { await wipe(); await runClean(...c.from); }, run: c.run, fingerprint });
            assert.ok(report.points >= c.min, `${name}: only ${report.points} kill points`);
            process.stderr.write(`crash-dns: ${name}: ${report.points} points in ${report.seconds.toFixed(0)} s\n`);
            const leftovers = await h.exec("find /etc/hearth /var/lib/hearth/applied -name '.hearth.*' 2>/dev/null");
            assert.equal(leftovers.stdout, "", "temp files left behind");
        });
    }
});
