// Drift checks of WireguardLink and DnsZone (Knot) on real hosts: a converged link and zone check clean; a peer's
// endpoint changed, a peer removed, the interface taken down and a record deleted through knotc are reported exactly;
// a reapply clears them; the check itself changes nothing (files, units, the running interface).
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { DnsZone } from "../../components/dns";
import { serverLayout } from "../../components/dns/knot";
import { Host } from "../../components/host";
import { WireguardLink } from "../../components/wireguard";
import { checkHost, driftLines } from "./drift";
import { describeHost, startHost, TestHost } from "./harness";
import { commandOutputsFromHosts, resetCommandOutputs } from "./outputs";
import { ProgramRunner } from "./runner";

const IF = "wg-chk";
const ZONE = "chk.hearth.test";

describeHost("drift checks of WireguardLink and DnsZone on test hosts", function () {
    this.timeout(600_000);
    let a: TestHost;
    let b: TestHost;
    const runner = new ProgramRunner();
    const layout = serverLayout(ZONE);

    const hostOf = (h: TestHost, reapply: number) =>
        new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey, ...(reapply ? { reapply: { all: reapply } } : {}) });
    const program = (reapply = 0) => () => {
        const ha = hostOf(a, reapply);
        const hb = hostOf(b, reapply);
        new WireguardLink("sites", { interfaceName: IF, hub: { host: ha, endpoint: `${a.address}:51820` }, peers: [{ host: hb }], presharedKey: true });
        new DnsZone("chk", {
            zone: ZONE,
            backend: { kind: "host", host: ha, nameservers: [{ name: "ns1", addresses: [a.address] }] },
            records: [{ name: "www", type: "A", value: "10.231.99.80", ttl: 600 }, { name: "@", type: "TXT", value: "drift check" }],
        });
    };

    before(async () => {
        [a, b] = await Promise.all([startHost({ name: "alpha" }), startHost({ name: "beta" })]);
        commandOutputsFromHosts(/-key$/);
    });
    after(async () => {
        resetCommandOutputs();
        await a?.stop();
        await b?.stop();
    });

    const sh = async (h: TestHost, cmd: string): Promise<string> => {
        const r = await h.exec(cmd);
        assert.equal(r.code, 0, `${h.name}: ${cmd}: ${r.stderr}`);
        return r.stdout;
    };
    /** What a check must leave alone: every file's kind, mode, size, mtime and content below hearth's trees, the units' invocations, and the running interface apart from handshakes and counters (no secret field). */
    const facts = (h: TestHost) => sh(h, [
        "find /etc/wireguard /etc/hearth /var/lib/hearth /etc/systemd/system /run/wireguard -xdev -printf '%p %y %m %s %T@\\n' 2>/dev/null | sort",
        "find /etc/wireguard /etc/hearth /var/lib/hearth -xdev -type f -exec sha256sum {} + | sort",
        `for u in wg-quick@${IF}.service ${layout.unit}; do echo "$u $(systemctl show -p InvocationID --value "$u")"; done`,
        `ip -o link show dev ${IF} 2>&1 | sed 's/^[0-9]*: //' || true`,
        `wg show ${IF} dump 2>&1 | awk -F '\\t' 'NR == 1 { print $2, $3, $4; next } { print $1, $3, $4, $8 }' || true`,
    ].join("; "));
    /** Checks both hosts; asserts the check changed nothing on either; the drift lines of both. */
    async function check(): Promise<{ lines: string[]; info: string[] }> {
        const before = await Promise.all([facts(a), facts(b)]);
        const reports = [...(await checkHost(a, runner.resources)), ...(await checkHost(b, runner.resources))];
        assert.deepEqual(await Promise.all([facts(a), facts(b)]), before, "the check changed nothing");
        return { lines: driftLines(reports), info: reports.flatMap((r) => r.info.map((i) => `${r.resource}: ${i.what}: ${i.value}`)) };
    }
    /** Beta (which knows the hub's endpoint) pings alpha, then alpha (which learns beta's from it) pings beta. */
    const tunnelPing = async () => {
        const addr = async (h: TestHost) => (await sh(h, `ip -6 -o addr show dev ${IF} scope global | awk '{ print $4 }' | cut -d/ -f1`)).trim();
        await sh(b, `ping -6 -n -c 3 -i 0.2 -W 2 ${await addr(a)} >/dev/null`);
        await sh(a, `ping -6 -n -c 3 -i 0.2 -W 2 ${await addr(b)} >/dev/null`);
    };
    const publicKey = async (h: TestHost) => (await sh(h, `wg show ${IF} public-key`)).trim();

    it("a converged link and zone check clean, with each peer's latest handshake as information", async () => {
        await runner.up(program());
        await tunnelPing();
        const { lines, info } = await check();
        assert.deepEqual(lines, []);
        const [ka, kb] = [await publicKey(a), await publicKey(b)];
        assert.ok(info.some((l) => new RegExp(`^sites-alpha-interface: peer beta \\(${esc(kb.slice(0, 8))}\\.\\.\\.\\) latest handshake: \\d+s ago$`).test(l)), info.join("\n"));
        assert.ok(info.some((l) => new RegExp(`^sites-beta-interface: peer alpha \\(${esc(ka.slice(0, 8))}\\.\\.\\.\\) latest handshake: \\d+s ago$`).test(l)), info.join("\n"));
    });

    it("reports exactly the drift made by hand: a peer's endpoint, a removed peer, the interface down, a record deleted through knotc", async () => {
        const [ka, kb] = [await publicKey(a), await publicKey(b)];
        await sh(b, `wg set ${IF} peer ${ka} endpoint ${a.address}:4444`);
        await sh(a, `wg set ${IF} peer ${kb} remove && ip link set dev ${IF} down`);
        const knotc = `knotc -c ${layout.conf}`;
        await sh(a, `${knotc} zone-begin ${ZONE} && ${knotc} zone-unset ${ZONE} www A && ${knotc} zone-commit ${ZONE}`);
        const { lines } = await check();
        assert.deepEqual(lines, [
            `sites-alpha-interface: interface ${IF}: up -> down`,
            `sites-alpha-interface: peer beta (${kb.slice(0, 8)}...): present -> absent`,
            `chk-zone: record www.${ZONE}. A: 600 10.231.99.80 -> absent`,
            `sites-beta-interface: peer alpha (${ka.slice(0, 8)}...) endpoint: ${a.address}:51820 -> ${a.address}:4444`,
        ]);
    });

    it("an up with the hosts' reapply counter raised clears it, and the next check is clean", async () => {
        const r = await runner.up(program(1));
        assert.ok(r.updated.includes("sites-alpha-interface") && r.updated.includes("chk-zone"), r.updated.join(", "));
        assert.match(r.runs.find((x) => x.resource === "sites-alpha-interface")!.stdout, /restarted wg-quick@wg-chk\.service: the interface was down or gone/);
        assert.match(r.runs.find((x) => x.resource === "sites-beta-interface")!.stdout, /reloaded wg-quick@wg-chk\.service: its peers differed from the config/);
        await tunnelPing();
        assert.deepEqual((await check()).lines, []);
        assert.match(await sh(a, `knotc -c ${layout.conf} zone-read ${ZONE} www A`), /600 A 10\.231\.99\.80/);
    });
});

function esc(s: string): string {
    return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
