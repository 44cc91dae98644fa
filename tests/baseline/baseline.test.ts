// HostBaseline: one declaration per host. Its children come in order (accounts, tuning, upgrades, the firewall last,
// which opens exactly the listeners declared on the host before it); a bad argument of any part is named under the
// part's key, on a site host under `hearth:hosts[i].baseline`, and nothing registers.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { HostBaseline } from "../../components/baseline";
import { SystemdService } from "../../components/systemd";
import { ACCOUNTS_TYPE, BASELINE_TYPE, FIREWALL_TYPE, TUNING_TYPE, UPGRADES_TYPE } from "../../components/tokens";
import { forgetClaims } from "../../components/core/owner";
import { installMocks, recorded, resetRecorded, resolve, settle, TEST_HOST_KEY } from "../mocks";
import { refusedProblems, buildProblems, Values, webHosts } from "../stacks/site-values";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMHP0rnHYlQm9yr6Lk3ALEcrrwORdxW6oZsHCIu1dB2Z ops@laptop";

function host(): Host {
    return new Host({ name: "web1", address: "192.0.2.10", user: "ops", privateKey: pulumi.secret("k"), hostKey: TEST_HOST_KEY });
}

const FULL = {
    accounts: { deploy: { user: "ops", keys: [KEY] } },
    tuning: { sysctls: { "net.core.somaxconn": 4096 } },
    upgrades: { rebootWindow: { onCalendar: "Sun 04:00", durationMinutes: 60 } },
    firewall: { adminNetworks: ["192.0.2.0/24"], networks: { local: ["192.0.2.0/24"] } },
};

/** The ruleset the firewall installs: its stdin's first frame. */
async function ruleset(): Promise<string> {
    const cmd = recorded.find((r) => r.type === "command:remote:Command" && /-firewall-ruleset$/.test(r.name))!;
    const stdin: string = await resolve(cmd.inputs.stdin);
    const nl = stdin.indexOf("\n");
    return stdin.slice(nl + 1, nl + 1 + Number(stdin.slice(0, nl)));
}

describe("HostBaseline", () => {
    before(() => installMocks());
    beforeEach(() => {
        resetRecorded();
        forgetClaims();
    });

    it("declares its parts in order, the firewall last, opening the listeners declared on the host before it", async () => {
        const h = host();
        new SystemdService("web", { host: h, description: "web", execStart: ["/usr/bin/python3", "-m", "http.server", "8080"], network: "local", listenPorts: [8080] });
        new HostBaseline("web1-baseline", { host: h, ...FULL });
        // A reachable listener declared after the baseline would stay closed: refused where it is declared.
        assert.throws(
            () => new SystemdService("late", { host: h, description: "late", execStart: ["/usr/bin/python3", "-m", "http.server", "9090"], network: "local", listenPorts: [9090] }),
            /'listenPorts\[0\]' argument 9090 is not allowed: expected a listener declared before the host's firewall \(.*web1-baseline-firewall\).*tcp\/9090 would stay closed; declare the firewall \(or the HostBaseline\) last/,
        );
        await settle();
        const parts = recorded.filter((r) => [ACCOUNTS_TYPE, TUNING_TYPE, UPGRADES_TYPE, FIREWALL_TYPE].includes(r.type));
        assert.deepEqual(parts.map((r) => r.name).sort(), ["web1-baseline-accounts", "web1-baseline-firewall", "web1-baseline-tuning", "web1-baseline-upgrades"]);
        assert.deepEqual(recorded.filter((r) => r.type === BASELINE_TYPE).map((r) => r.inputs), [{ host: "web1", parts: ["accounts", "tuning", "upgrades", "firewall"] }]);
        const rules = await ruleset();
        assert.match(rules, /ip saddr \{ 192\.0\.2\.0\/24 \} tcp dport 8080 accept/);
        assert.doesNotMatch(rules, /9090/);
    });

    it("declares only the parts given", async () => {
        new HostBaseline("b", { host: host(), tuning: FULL.tuning });
        await settle();
        assert.deepEqual(recorded.filter((r) => r.type.startsWith("hearth:host:")).map((r) => r.type), [BASELINE_TYPE, TUNING_TYPE]);
    });

    const bad: [string, Record<string, unknown>, RegExp][] = [
        ["an admin network with host bits", { firewall: { adminNetworks: ["192.0.2.1/24"] } }, /'firewall\.adminNetworks\[0\]' argument "192\.0\.2\.1\/24".*CIDR/],
        ["an SSH port the host is not reached on", { firewall: { adminNetworks: ["192.0.2.0/24"], sshPort: 2222 } }, /'firewall\.sshPort'/],
        ["a sysctl value with a newline", { tuning: { sysctls: { "net.core.somaxconn": "1\nkernel.x=1" } } }, /'tuning\.sysctls\["net\.core\.somaxconn"\]' argument "1\\nkernel\.x=1"/],
        ["a deploy user that is a system account", { accounts: { deploy: { user: "daemon", keys: [KEY] } } }, /'accounts\.deploy/],
        ["a reboot window too short", { upgrades: { rebootWindow: { onCalendar: "Sun 04:00", durationMinutes: 1 } } }, /'upgrades\.rebootWindow\.durationMinutes'/],
        ["an unknown part", { backups: {} }, /'backups'/],
    ];
    for (const [what, args, message] of bad) {
        it(`refuses ${what}, naming the part's argument, before anything registers`, async () => {
            assert.throws(() => new HostBaseline("b", { host: host(), ...args } as never), message);
            await settle();
            assert.deepEqual(recorded.filter((r) => r.type.startsWith("hearth:host:") || r.type === "command:remote:Command"), []);
        });
    }
});

describe("a site host's baseline", () => {
    before(() => installMocks());

    function site(baseline: unknown): Values {
        const [web1, web2] = webHosts();
        return {
            sshPrivateKey: "fake-secret-value",
            hosts: [web1, { ...web2, baseline }],
            services: [{ name: "web", host: "web2", description: "The web app", execStart: ["/usr/bin/python3", "-m", "http.server"], network: "internet", listenPorts: [80] }],
        };
    }

    it("is declared after the host's entries: its firewall opens the site's listeners on that host", async () => {
        assert.deepEqual(buildProblems(site({ firewall: { adminNetworks: ["192.0.2.0/24"] } })), []);
        await settle();
        assert.deepEqual(recorded.filter((r) => r.type === FIREWALL_TYPE).map((r) => [r.name, r.inputs.host]), [["web2-baseline-firewall", "web2"]]);
        assert.match(await ruleset(), /# unit web\.service tcp\/80 \(scope internet\), declared by .* at hearth:services\[0\]\.listenPorts\[0\]\n\s*tcp dport 80 accept/);
    });

    const bad: [string, unknown, RegExp][] = [
        ["an empty admin network list", { firewall: { adminNetworks: [] } }, /'hearth:hosts\[1\]\.baseline\.firewall\.adminNetworks'/],
        ["an allow rule without a reason", { firewall: { adminNetworks: ["192.0.2.0/24"], allow: [{ protocol: "tcp", ports: [443], from: "internet" }] } }, /'hearth:hosts\[1\]\.baseline\.firewall\.allow\[0\]\.reason'/],
        ["a firewall whose SSH port is not the host's", { firewall: { adminNetworks: ["192.0.2.0/24"], sshPort: 2200 } }, /'hearth:hosts\[1\]\.baseline\.firewall\.sshPort'/],
        ["a hosts entry with a shell word", { tuning: { hosts: [{ address: "192.0.2.5", names: ["a;reboot"] }] } }, /'hearth:hosts\[1\]\.baseline\.tuning\.hosts\[0\]\.names\[0\]'/],
    ];
    for (const [what, value, message] of bad) {
        it(`refuses ${what} at its key path, registering nothing`, async () => {
            const problems = await refusedProblems(site(value));
            assert.equal(problems.length, 1, problems.join("\n"));
            assert.match(problems[0], message);
        });
    }
});
