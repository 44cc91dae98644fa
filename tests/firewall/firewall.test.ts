// HostFirewall: the ruleset derived from the listener registry (nft itself checks every rendered file, in a fresh
// network namespace), the boot unit (systemd-analyze verify), the commands it registers, and every argument's refusals.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { firewallPlan, HostFirewall, HostFirewallArgs, renderBootUnit, renderRuleset, resolveFirewall } from "../../components/firewall";
import { Host } from "../../components/host";
import { SystemdService } from "../../components/systemd";
import { WireguardLink } from "../../components/wireguard";
import { claimListener, forgetClaims } from "../../components/core/owner";
import { unwrapCommand } from "../../components/core/shell";
import { fakeHost, refused } from "../attempt";
import { installMocks, recorded, resetRecorded, settle } from "../mocks";
import { checkScript, verifyUnits } from "../tools";

/** nft's own check of a ruleset file, in a network namespace of its own (the machine's ruleset is never touched). */
function nftCheck(text: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-nft-"));
    const file = path.join(dir, "ruleset.nft");
    fs.writeFileSync(file, text);
    try {
        const r = spawnSync("unshare", ["-n", "nft", "-c", "-f", file], { encoding: "utf8" });
        if (r.error) throw r.error;
        return r.status === 0 ? "" : `exit ${r.status}: ${r.stderr}`;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const ADMIN = ["192.168.1.0/24", "2001:db8:1::/64"];
const svc = (h: Host, name: string, network: "local" | "internet", ports: number[]) =>
    new SystemdService(name, { host: h, description: name, execStart: ["/usr/bin/true"], network, listenPorts: ports });

describe("HostFirewall", () => {
    before(() => installMocks());
    beforeEach(() => {
        resetRecorded();
        forgetClaims();
    });

    it("renders one table from the listeners by scope, both families, that nft accepts", async () => {
        const h = fakeHost("nas", "10.0.0.5");
        svc(h, "web", "internet", [443]);
        svc(h, "cal", "local", [5232]);
        const fw = new HostFirewall("fw", { host: h, adminNetworks: ADMIN, networks: { local: ["192.168.1.0/24", "fd00:1::/64"] }, allow: [{ protocol: "udp", ports: [60000, "61000-61010"], from: "internet", reason: "mosh sessions from anywhere" }] });
        const r = fw.ruleset;
        assert.equal(nftCheck(r), "");
        assert.match(r, /^table inet hearth\ndelete table inet hearth\ntable inet hearth \{$/m);
        assert.match(r, /type filter hook input priority filter; policy drop;/);
        assert.match(r, /^\t\tip saddr \{ 192\.168\.1\.0\/24 \} tcp dport 22 accept$/m);
        assert.match(r, /^\t\tip6 saddr \{ 2001:db8:1::\/64 \} tcp dport 22 accept$/m);
        assert.match(r, /^\t\ttcp dport 443 accept$/m);
        assert.match(r, /^\t\tip saddr \{ 192\.168\.1\.0\/24 \} tcp dport 5232 accept$/m);
        assert.match(r, /^\t\tip6 saddr \{ fd00:1::\/64 \} tcp dport 5232 accept$/m);
        assert.match(r, /^\t\t# allow: mosh sessions from anywhere\n\t\tudp dport \{ 60000, 61000-61010 \} accept$/m);
        assert.doesNotMatch(r, /chain (forward|output)/);
        const plan = firewallPlan(fw.spec);
        assert.match(plan[0], /^firewall of nas: table inet hearth/);
        assert.ok(plan.some((l) => /^ {2}listener: unit cal\.service tcp\/5232 \(scope local\), declared by hearth\/test\/hearth:systemd:Service\/cal/.test(l)), plan.join("\n"));
        assert.ok(plan.some((l) => l === "  | table inet hearth {"));
    });

    it("matches a listener bound to one address on that address; overlay listeners on WireGuard interfaces and overlay networks", () => {
        const spec = {
            hostName: "gw", sshPort: 22, adminNetworks: ADMIN, local: [], overlay: ["fd10::/64"], overlayInterfaces: ["wg0"], allow: [], confirmSeconds: 30,
            listeners: [
                { protocol: "udp", port: 53, address: "203.0.113.7", listener: "knot", scope: "internet", owner: "p/s/t/knot", arg: "x" },
                { protocol: "tcp", port: 9100, listener: "node-exporter", scope: "overlay", owner: "p/s/t/ne", arg: "x" },
                { protocol: "tcp", port: 8080, address: "fd10::5", listener: "api", scope: "overlay", owner: "p/s/t/api", arg: "x" },
                { protocol: "tcp", port: 5433, listener: "db", scope: "loopback", owner: "p/s/t/db", arg: "x" },
                { protocol: "tcp", port: 5434, address: "127.0.0.1", listener: "db2", scope: "internet", owner: "p/s/t/db2", arg: "x" },
            ],
        } as const;
        const r = renderRuleset(spec);
        assert.equal(nftCheck(r), "");
        assert.match(r, /^\t\tip daddr 203\.0\.113\.7 udp dport 53 accept$/m);
        assert.match(r, /^\t\tiifname \{ "wg0" \} tcp dport 9100 accept$/m);
        assert.match(r, /^\t\tip6 saddr \{ fd10::\/64 \} tcp dport 9100 accept$/m);
        assert.match(r, /^\t\tiifname \{ "wg0" \} ip6 daddr fd10::5 tcp dport 8080 accept$/m);
        assert.match(r, /^\t\tip6 saddr \{ fd10::\/64 \} ip6 daddr fd10::5 tcp dport 8080 accept$/m);
        assert.doesNotMatch(r, /ip saddr \{ [^}]*\} ip6 daddr/);
        assert.doesNotMatch(r, /dport 543[34]/, "a loopback listener opens nothing beyond lo");
    });

    it("takes the WireGuard interfaces a WireguardLink registered on the host before it", () => {
        const a = fakeHost("alpha", "10.0.0.7");
        const b = fakeHost("beta", "10.0.0.8");
        new WireguardLink("wg", { interfaceName: "wgsite", hub: { host: a, endpoint: "10.0.0.7:51820" }, peers: [{ host: b }] });
        const { spec } = resolveFirewall({ host: a, adminNetworks: ADMIN });
        assert.deepEqual(spec.overlayInterfaces, ["wgsite"]);
        assert.equal(nftCheck(renderRuleset(spec)), "");
        assert.match(renderRuleset(spec), /^\t\tudp dport 51820 accept$/m);
    });

    it("registers the ruleset converge (ruleset and unit on stdin, check lines) and a confirm that depends on it", async () => {
        const h = fakeHost("nas", "10.0.0.5");
        new HostFirewall("fw", { host: h, adminNetworks: ADMIN, confirmSeconds: 60 });
        await settle();
        const conv = recorded.find((x) => x.name === "fw-ruleset")!;
        const confirm = recorded.find((x) => x.name === "fw-confirm")!;
        assert.ok(conv && confirm && recorded.find((x) => x.name === "fw-ruleset-lifecycle"));
        assert.match(conv.inputs.create, /hearth_firewall_converge 60 [0-9a-f]{64}/);
        assert.match(conv.inputs.create, /# hearth-check: hearth_check_firewall [0-9a-f]{64}/);
        assert.match(conv.inputs.create, /# hearth-check: hearth_check_unit hearth-firewall\.service enabled -/);
        assert.match(confirm.inputs.create, /hearth_firewall_confirm/);
        // outlasting(): the host's 10 dials plus one per 5 s of the 60 s window.
        assert.equal(confirm.inputs.connection.dialErrorLimit, 22, "the confirm's dials outlast the rollback window");
        assert.equal(confirm.inputs.update, confirm.inputs.create);
        for (const s of [conv.inputs.create, confirm.inputs.create, recorded.find((x) => x.name === "fw-ruleset-lifecycle")!.inputs.delete]) {
            // A command carries the runtime cut to what its lines reach, with the runtime's top-level variables: that
            // some of them go unused in one command is expected (SC2034 on hearth_* only); anything else is a finding.
            const problems = checkScript(unwrapCommand(s)!.script).flatMap((p) => p.split("\n")).filter((l) => l.trim() !== "" && !/^(shellcheck: )?\S+:\d+:\d+: warning: hearth_\w+ appears unused\. .*\[SC2034\]$/.test(l));
            assert.deepEqual(problems, []);
        }
    });

    it("refuses a reachable listener declared after the firewall, naming it; one no network reaches needs no rule", () => {
        const h = fakeHost("nas", "10.0.0.5");
        svc(h, "web", "internet", [443]);
        const fw = new HostFirewall("fw", { host: h, adminNetworks: ADMIN });
        assert.throws(() => svc(h, "late", "internet", [8443]), /'listenPorts\[0\]' argument 8443 is not allowed: expected a listener declared before the host's firewall \(hearth\/test\/hearth:host:Firewall\/fw\)/);
        assert.throws(() => svc(h, "lan", "local", [8080]), /tcp\/8080 would stay closed/);
        svc(h, "quiet", "internet", []);
        // A loopback listener (a pooler on 127.0.0.1) needs no rule: lo is accepted.
        claimListener(h, { protocol: "tcp", port: 9000, address: "127.0.0.1", listener: "pooler", scope: "loopback" }, "owner", "pooler.port", 9000);
        assert.equal(fw.spec.listeners.length, 1);
        assert.doesNotMatch(fw.ruleset, /8443|8080|9000/);
    });

    it("takes ::/0 (every IPv6 source), ::/128, ::1/128 and networks beside the IPv4-mapped range as IPv6 networks", () => {
        const h = fakeHost("nas", "10.0.0.5");
        const fw = new HostFirewall("fw", { host: h, adminNetworks: ["0.0.0.0/0", "::/0"], networks: { local: ["::/128", "::1/128", "::fffe:0:0/96", "::ffff:0:0:0/96", "64:ff9b::a00:0/104"] } });
        assert.equal(nftCheck(fw.ruleset), "");
        assert.match(fw.ruleset, /^\t\tip6 saddr \{ ::\/0 \} tcp dport 22 accept$/m);
    });

    it("writes a boot unit systemd-analyze verify accepts without a warning", () => {
        assert.deepEqual(verifyUnits({ "hearth-firewall.service": renderBootUnit() }), []);
        assert.match(renderBootUnit(), /^Before=network-pre\.target shutdown\.target$/m);
        assert.match(renderBootUnit(), /^After=nftables\.service$/m);
    });

    describe("refuses, before anything registers", () => {
        const base = (h: Host): HostFirewallArgs => ({ host: h, adminNetworks: ADMIN });
        const cases: [string, (h: Host) => HostFirewallArgs, string][] = [
            ["an empty adminNetworks", (h) => ({ ...base(h), adminNetworks: [] }), `The 'adminNetworks' argument [] is not allowed: expected an array of networks`],
            ["a CIDR with host bits", (h) => ({ ...base(h), adminNetworks: ["192.168.1.5/24"] }), `The 'adminNetworks[0]' argument "192.168.1.5/24" is not allowed: expected an IPv4 or IPv6 network in CIDR form with no host bits`],
            ["a bare address", (h) => ({ ...base(h), adminNetworks: ["192.168.1.5"] }), `The 'adminNetworks[0]' argument "192.168.1.5" is not allowed`],
            ["a CIDR with an injected rule", (h) => ({ ...base(h), adminNetworks: ["10.0.0.0/8 } accept; #"] }), `The 'adminNetworks[0]' argument`],
            ["a duplicate network", (h) => ({ ...base(h), adminNetworks: ["10.0.0.0/8", "10.0.0.0/8"] }), `The 'adminNetworks[1]' argument "10.0.0.0/8" is not allowed: expected admin networks without repeats (10.0.0.0/8 is the same network as entry 0)`],
            ["an IPv6 with a zone", (h) => ({ ...base(h), networks: { local: ["fe80::%eth0/64"] } }), `The 'networks.local[0]' argument "fe80::%eth0/64" is not allowed`],
            ["an unknown networks key", (h) => ({ ...base(h), networks: { lan: [] } as any }), `The 'networks.lan' argument [] is not allowed: expected one of the keys of networks: local, overlay.`],
            ["an interface name with a quote", (h) => ({ ...base(h), overlayInterfaces: ['wg0" accept'] }), `The 'overlayInterfaces[0]' argument "wg0\\" accept" is not allowed: expected an interface name of 1 to 15 characters`],
            ["an interface name too long", (h) => ({ ...base(h), overlayInterfaces: ["wg0123456789abcd"] }), `The 'overlayInterfaces[0]' argument`],
            ["port 0", (h) => ({ ...base(h), allow: [{ protocol: "tcp", ports: [0], from: "internet", reason: "a port for testing here" }] }), `The 'allow[0].ports[0]' argument 0 is not allowed: expected a port from 1 to 65535, or a range "LOW-HIGH"`],
            ["a reversed range", (h) => ({ ...base(h), allow: [{ protocol: "tcp", ports: ["9000-8000"], from: "internet", reason: "a port for testing here" }] }), `The 'allow[0].ports[0]' argument "9000-8000" is not allowed`],
            ["overlapping ports", (h) => ({ ...base(h), allow: [{ protocol: "tcp", ports: ["8000-8010", 8005], from: "internet", reason: "a port for testing here" }] }), `The 'allow[0].ports[1]' argument 8005 is not allowed: expected ports that overlap no other entry of the rule (entry 0 covers some of them)`],
            ["an empty ports list", (h) => ({ ...base(h), allow: [{ protocol: "tcp", ports: [], from: "internet", reason: "a port for testing here" }] }), `The 'allow[0].ports' argument [] is not allowed`],
            ["a protocol other than tcp or udp", (h) => ({ ...base(h), allow: [{ protocol: "sctp" as any, ports: [1], from: "internet", reason: "a port for testing here" }] }), `The 'allow[0].protocol' argument "sctp" is not allowed: expected one of "tcp", "udp"`],
            ["a from that is neither", (h) => ({ ...base(h), allow: [{ protocol: "tcp", ports: [1], from: "anywhere" as any, reason: "a port for testing here" }] }), `The 'allow[0].from' argument "anywhere" is not allowed: expected "internet" (any source), or an array of networks in CIDR form`],
            ["an empty from list", (h) => ({ ...base(h), allow: [{ protocol: "tcp", ports: [1], from: [], reason: "a port for testing here" }] }), `The 'allow[0].from' argument [] is not allowed: expected an array of networks (an IPv4 or IPv6 network in CIDR form with no host bits, e.g. "192.168.1.0/24", "2001:db8::/64" or "203.0.113.7/32"), at least 1 entry.`],
            ["an IPv4-mapped admin network", (h) => ({ ...base(h), adminNetworks: ["::ffff:10.0.0.0/104"] }), `The 'adminNetworks[0]' argument "::ffff:10.0.0.0/104" is not allowed: expected a network in its own family: ::ffff:10.0.0.0/104 is the IPv4 network 10.0.0.0/8 written as IPv4-mapped IPv6, which the firewall never matches (IPv4 packets are matched by their IPv4 address): write "10.0.0.0/8".`],
            ["an IPv4-mapped local network", (h) => ({ ...base(h), networks: { local: ["192.168.1.0/24", "::ffff:192.168.2.0/120"] } }), `The 'networks.local[1]' argument "::ffff:192.168.2.0/120" is not allowed: expected a network in its own family: ::ffff:192.168.2.0/120 is the IPv4 network 192.168.2.0/24 written as IPv4-mapped IPv6`],
            ["an IPv4-mapped overlay network", (h) => ({ ...base(h), networks: { overlay: ["::ffff:0:0/96"] } }), `write "0.0.0.0/0"`],
            ["an IPv4-mapped source", (h) => ({ ...base(h), allow: [{ protocol: "tcp", ports: [1], from: ["::ffff:203.0.113.7/128"], reason: "a port for testing here" }] }), `The 'allow[0].from[0]' argument "::ffff:203.0.113.7/128" is not allowed: expected a network in its own family: ::ffff:203.0.113.7/128 is the IPv4 network 203.0.113.7/32 written as IPv4-mapped IPv6, which the firewall never matches (IPv4 packets are matched by their IPv4 address): write "203.0.113.7/32".`],
            ["a source partly IPv4-mapped", (h) => ({ ...base(h), allow: [{ protocol: "tcp", ports: [1], from: ["::fffe:0:0/95"], reason: "a port for testing here" }] }), `The 'allow[0].from[0]' argument "::fffe:0:0/95" is not allowed: expected a network in its own family: ::fffe:0:0/95 contains ::ffff:0:0/96, the IPv4-mapped addresses, which the firewall never matches (IPv4 packets are matched by their IPv4 address): write "::fffe:0:0/96", and IPv4 networks as IPv4 (e.g. "0.0.0.0/0"); "::/0" means every IPv6 source.`],
            ["an admin network around the IPv4-mapped range", (h) => ({ ...base(h), adminNetworks: ["::/80"] }), `The 'adminNetworks[0]' argument "::/80" is not allowed: expected a network in its own family: ::/80 contains ::ffff:0:0/96`],
            ["an IPv4-compatible local network", (h) => ({ ...base(h), networks: { local: ["::a00:0/104"] } }), `The 'networks.local[0]' argument "::a00:0/104" is not allowed: expected a network in its own family: ::a00:0/104 is the IPv4 network 10.0.0.0/8 in the deprecated IPv4-compatible IPv6 form (inside ::/96, where only ::/128 and ::1/128 are IPv6 addresses), which no packet carries: write "10.0.0.0/8".`],
            ["::/96 as an overlay network", (h) => ({ ...base(h), networks: { overlay: ["::/96"] } }), `::/96 is the IPv4 network 0.0.0.0/0 in the deprecated IPv4-compatible IPv6 form`],
            ["a missing reason", (h) => ({ ...base(h), allow: [{ protocol: "tcp", ports: [1], from: "internet" } as any] }), `The 'allow[0].reason' argument`],
            ["a reason with a newline", (h) => ({ ...base(h), allow: [{ protocol: "tcp", ports: [1], from: "internet", reason: "open it\n\t\taccept" }] }), `The 'allow[0].reason' argument`],
            ["a reason with a quote and no words", (h) => ({ ...base(h), allow: [{ protocol: "tcp", ports: [1], from: "internet", reason: '"";;;;;;;' }] }), `The 'allow[0].reason' argument`],
            ["a window too short", (h) => ({ ...base(h), confirmSeconds: 5 }), `The 'confirmSeconds' argument 5 is not allowed: expected an integer from 10 to 600`],
            ["a window too long", (h) => ({ ...base(h), confirmSeconds: 601 }), `The 'confirmSeconds' argument 601 is not allowed: expected an integer from 10 to 600`],
            ["an SSH port not the one hearth connects on", (h) => ({ ...base(h), sshPort: 2222 }), `The 'sshPort' argument 2222 is not allowed: expected the port hearth connects to this host on (22, the host's port): a ruleset that opens SSH on another port cuts hearth's own connection.`],
            ["an unknown key", (h) => ({ ...base(h), allowed: [] } as any), `one of the keys of HostFirewallArgs`],
            ["not a host", () => ({ host: {} as any, adminNetworks: ADMIN }), `The 'host' argument "(not a Host)" is not allowed: expected a hearth Host.`],
        ];
        for (const [what, args, message] of cases) {
            it(what, async () => {
                const h = fakeHost("nas", "10.0.0.5");
                await settle();
                const before = recorded.length;
                assert.throws(() => new HostFirewall("fw", args(h)), (e: Error) => {
                    assert.ok(e.message.includes(message), `${e.message}\n  does not contain\n${message}`);
                    return true;
                });
                await settle();
                assert.equal(recorded.length, before, "registered something");
            });
        }

        it("a local listener with no local network, naming the listener", async () => {
            const h = fakeHost("nas", "10.0.0.5");
            svc(h, "cal", "local", [5232]);
            await refused(() => new HostFirewall("fw", { host: h, adminNetworks: ADMIN }), `The 'networks.local' argument [] is not allowed: expected at least one network: unit cal.service tcp/5232 (scope local), declared by hearth/test/hearth:systemd:Service/cal (listenPorts[0]) is open to the local networks, and none is declared.`);
        });

        it("a second firewall on one host", async () => {
            const h = fakeHost("nas", "10.0.0.5");
            new HostFirewall("fw", { host: h, adminNetworks: ADMIN });
            assert.throws(() => new HostFirewall("fw2", { host: h, adminNetworks: ADMIN }), /nftables table inet hearth is already managed by hearth\/test\/hearth:host:Firewall\/fw/);
        });
    });
});
