// WireguardLink on two real hosts: wireguard-go tunnel up, pings both ways, site subnet routed through it, no-op, rotation, validation, delete.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { ulaAddress, ulaPlan, ulaPrefix, ulaSubnet } from "../../components/net";
import { frameStdin } from "../../components/shell";
import { WireguardLink } from "../../components/wireguard";
import { parsePublicKey } from "../../components/wireguard/render";
import { describeHost, startHost, TestHost } from "./harness";
import { commandOutputsFromHosts, pingAvgMs, resetCommandOutputs } from "./outputs";
import { ProgramRunner, registeredCommands } from "./runner";
import { setCommandStdout } from "../mocks";

const IF = "wg-sites";
const IF2 = "wg-sites2";
const betaLan = ulaPlan("beta", ["lan"]);

describeHost("WireguardLink on two test hosts", function () {
    this.timeout(600_000);
    let a: TestHost;
    let b: TestHost;
    const runner = new ProgramRunner();
    const program = (keyVersion: number, interfaceName = IF, name = "sites") => () => new WireguardLink(name, {
        interfaceName,
        hub: { host: a.host, endpoint: `${a.address}:51820` },
        peers: [{ host: b.host, subnets: [betaLan.subnets.lan] }],
        presharedKey: true,
        keyVersion,
    });
    // Both sides compute the tunnel addresses from names alone: so can the test.
    const tunnel = (side: string, ifname = IF) => ulaAddress(ulaSubnet(ulaPrefix(`wireguard:${ifname}`), 0), side).split("/")[0];
    // The site behind beta: an address on a LAN-side interface (a veth: this kernel has no dummy module), inside the subnet the link routes to beta.
    const siteAddress = betaLan.address("lan", "svc").split("/")[0];

    before(async () => {
        [a, b] = await Promise.all([startHost({ name: "alpha" }), startHost({ name: "beta" })]);
        const r = await b.exec(`ip link add hsite0 type veth peer name hsite1 && ip -6 addr add ${betaLan.address("lan", "svc")} dev hsite0 nodad && ip link set hsite1 up && ip link set hsite0 up`);
        assert.equal(r.code, 0, r.stderr);
        commandOutputsFromHosts(/-key$/);
    });
    after(async () => {
        resetCommandOutputs();
        await a?.stop();
        await b?.stop();
    });

    async function ping(from: TestHost, to: string): Promise<number> {
        const r = await from.exec(`ping -6 -n -c 5 -i 0.2 -W 2 ${to}`);
        assert.equal(r.code, 0, `${from.name} -> ${to}: ${r.stdout}${r.stderr}`);
        return pingAvgMs(r.stdout)!;
    }

    it("brings the link up with wireguard-go on both sides; each side pings the other's tunnel address", async () => {
        const t0 = Date.now();
        const up = await runner.up(program(0));
        process.stderr.write(`hearth wireguard: first up ${((Date.now() - t0) / 1000).toFixed(1)} s, ${up.runs.length} remote commands\n`);
        for (const h of [a, b]) {
            const r = await h.exec(`wg show ${IF} && pgrep -x wireguard-go >/dev/null && echo userspace && stat -L -c '%a %n' /etc/wireguard/${IF}.conf /etc/wireguard/${IF}.key`);
            assert.equal(r.code, 0, r.stderr);
            assert.match(r.stdout, /userspace/, "wireguard-go is used where the kernel has no module");
            assert.match(r.stdout, /600 \/etc\/wireguard\/wg-sites\.conf\n600 \/etc\/wireguard\/wg-sites\.key/);
            assert.match(r.stdout, /preshared key: \(hidden\)/);
            const conf = await h.exec(`cat /etc/wireguard/${IF}.conf`);
            assert.doesNotMatch(conf.stdout, /PrivateKey|PresharedKey/);
        }
        const first = await ping(a, tunnel("beta"));
        const ba = await ping(b, tunnel("alpha"));
        // The first round includes the handshake; measure the tunnel itself once it is established.
        const ab = await ping(a, tunnel("beta"));
        process.stderr.write(`hearth wireguard: tunnel ping avg alpha->beta ${ab} ms (first round with handshake ${first} ms), beta->alpha ${ba} ms\n`);
    });

    it("sends traffic for beta's site subnet through the tunnel", async () => {
        const route = await a.exec(`ip -6 route get ${siteAddress}`);
        assert.match(route.stdout, new RegExp(`dev ${IF}`));
        const rx = async () => Number((await a.exec(`wg show ${IF} transfer | cut -f2`)).stdout.trim());
        const before = await rx();
        await ping(a, siteAddress);
        assert.ok((await rx()) > before, "bytes received from beta over the tunnel grew");
    });

    it("runs nothing on an unchanged up", async () => {
        const again = await runner.up(program(0));
        assert.equal(again.runs.length, 0, again.runs.map((r) => r.resource).join(", "));
    });

    it("refuses a config wg cannot read on the host, leaving the live one untouched", async () => {
        const cmds = await registeredCommands(program(0));
        const iface = cmds.find((c) => c.name === "sites-alpha-interface")!;
        const frames = splitFrames(iface.inputs.stdin);
        frames[0] = frames[0].replace(/PublicKey = [A-Za-z0-9+/]{43}=/, "PublicKey = notakey=");
        const liveBefore = (await a.exec(`sha256sum /etc/wireguard/${IF}.conf`)).stdout;
        const r = await a.exec(iface.inputs.create, { stdin: frameStdin(frames) });
        assert.equal(r.code, 65, `${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /wg setconf rejected the config/);
        assert.equal((await a.exec(`sha256sum /etc/wireguard/${IF}.conf`)).stdout, liveBefore);
        await ping(a, tunnel("beta"));
    });

    it("rotates both keys on request and the link keeps working", async () => {
        const keyOf = async (h: TestHost) => (await h.exec(`wg show ${IF} public-key`)).stdout.trim();
        const [oldA, oldB] = [await keyOf(a), await keyOf(b)];
        const rot = await runner.up(program(1));
        assert.deepEqual(rot.updated.filter((n) => n.endsWith("-key")).sort(), ["sites-alpha-key", "sites-beta-key"]);
        assert.deepEqual(rot.updated.filter((n) => n.endsWith("-interface")).sort(), ["sites-alpha-interface", "sites-beta-interface"]);
        const [newA, newB] = [await keyOf(a), await keyOf(b)];
        assert.notEqual(newA, oldA);
        assert.notEqual(newB, oldB);
        assert.equal(parsePublicKey(rot.runs.find((r) => r.resource === "sites-alpha-key")!.stdout), newA);
        assert.equal((await b.exec(`wg show ${IF} peers`)).stdout.trim(), newA);
        await ping(a, tunnel("beta"));
        await ping(b, tunnel("alpha"));
    });

    it("a second link on the same interface in one program is refused before anything runs, naming interfaceName", async () => {
        await assert.rejects(registeredCommands(() => {
            program(1)();
            program(1, IF, "intruder")();
        }), /The 'interfaceName' argument "wg-sites" is not allowed: .*wireguard interface wg-sites is already managed by .*\/sites/);
    });

    it("another link claiming the interface is refused and touches nothing; its delete leaves the interface alone", async () => {
        // Planned with a stand-in for its key step's stdout: the key step itself is what is tried below.
        setCommandStdout((n) => (n.endsWith("-key") ? `hearth-wg-public-key: ${"A".repeat(43)}=\n` : ""));
        let cmds;
        try {
            // Another stack's program (its own Host objects): the plan-time claim cannot see it, the host's mark can.
            cmds = await registeredCommands(() => new WireguardLink("intruder", {
                interfaceName: IF,
                hub: { host: new Host({ name: a.name, address: a.address, privateKey: pulumi.secret(a.privateKey), hostKey: a.hostKey }), endpoint: `${a.address}:51820` },
                peers: [{ name: "beta", publicKey: "A".repeat(43) + "=" }],
            }));
        } finally {
            commandOutputsFromHosts(/-key$/);
        }
        const get = (n: string) => cmds.find((c) => c.name === n)!.inputs;
        const facts = async () => (await a.exec(`sha256sum /etc/wireguard/${IF}.conf /etc/wireguard/${IF}.hearth-keys; readlink /etc/wireguard/${IF}.key; wg show ${IF} public-key; cat /var/lib/hearth/applied/wireguard/${IF}`)).stdout;
        const before = await facts();
        for (const n of ["intruder-alpha-key", "intruder-alpha-interface"]) {
            const r = await a.exec(get(n).create, { stdin: get(n).stdin });
            assert.equal(r.code, 65, `${n}: ${r.stdout}${r.stderr}`);
            assert.match(r.stderr, /WireGuard interface wg-sites .* is owned by another resource \(.*\/sites\), not by .*\/intruder\. If you renamed the resource, add aliases.*adopt: true/, n);
        }
        for (const n of ["intruder-alpha-interface-lifecycle", "intruder-alpha-key-lifecycle"]) {
            const r = await a.exec(get(n).delete);
            assert.equal(r.code, 0, `${n}: ${r.stderr}`);
            assert.match(r.stdout, /alone: (it|the interface) is owned by .*\/sites, not .*\/intruder/, n);
        }
        assert.equal(await facts(), before, "the interface, its files, key and applied state are unchanged");
        await ping(a, tunnel("beta"));
    });

    it("renaming the interface brings the old one down and removes everything it had; the new one carries the link", async () => {
        const up = await runner.up(program(1, IF2));
        assert.ok(up.runs.every((r) => r.code === 0));
        for (const h of [a, b]) {
            const r = await h.exec(`ip link show ${IF} 2>&1; ls -A /etc/wireguard /etc/wireguard/.hearth /var/lib/hearth/applied/wireguard; systemctl is-enabled wg-quick@${IF} 2>&1 || true`);
            assert.match(r.stdout, /does not exist/, h.name);
            assert.doesNotMatch(r.stdout, /^wg-sites\./m, `${h.name}: files of the old interface left: ${r.stdout}`);
            assert.match(r.stdout, /^wg-sites2\.conf$/m);
            assert.doesNotMatch(r.stdout, /^enabled/m);
            assert.match(up.runs.find((x) => x.resource === `sites-${h.name}-interface`)!.stdout, /removed WireGuard interface wg-sites\n/);
        }
        await ping(a, tunnel("beta", IF2));
        await ping(b, tunnel("alpha", IF2));
        const again = await runner.up(program(1, IF2));
        assert.equal(again.runs.length, 0);
    });

    it("delete removes the interface, the config and the keys", async () => {
        await runner.destroy();
        for (const h of [a, b]) {
            const r = await h.exec(`ip link show ${IF2}; ls -A /etc/wireguard /var/lib/hearth/applied/wireguard; systemctl is-enabled wg-quick@${IF2} || true`);
            assert.match(r.stderr, /does not exist/);
            assert.doesNotMatch(r.stdout, /wg-sites2?\.(conf|key|[a-z]+\.psk|hearth-keys)/);
            assert.doesNotMatch(r.stdout, /^wg-sites2?$/m, "no applied state left");
            assert.doesNotMatch(r.stdout, /^enabled/m);
        }
    });
});

/** The payloads of a framed stdin (`<length>\n<bytes>` each). */
function splitFrames(stdin: string): string[] {
    const buf = Buffer.from(stdin, "utf8");
    const out: string[] = [];
    for (let off = 0; off < buf.length;) {
        const nl = buf.indexOf(0x0a, off);
        const len = Number(buf.subarray(off, nl).toString("ascii"));
        out.push(buf.subarray(nl + 1, nl + 1 + len).toString("utf8"));
        off = nl + 1 + len;
    }
    return out;
}
