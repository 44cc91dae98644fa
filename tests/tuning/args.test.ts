// HostTuning arguments: every hostile input refused with an error naming the argument, the value and what is allowed,
// before anything registers; values resolved to the text the kernel prints back; one tuning and one writer per sysctl
// per host.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { BBR_FQ, HostTuning, HostTuningArgs, resolveTuningArgs } from "../../components/tuning";
import { TUNING_TYPE } from "../../components/tokens";
import { argName } from "../../components/core/errors";
import { installMocks, recorded, resetRecorded, settle, TEST_HOST_KEY } from "../mocks";

const key = () => pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n");
const host = (name = "nas") => new Host({ name, address: "10.0.0.5", privateKey: key(), hostKey: TEST_HOST_KEY });

async function build(args: Partial<HostTuningArgs>, h = host()): Promise<{ error?: Error; count: number }> {
    resetRecorded();
    let error: Error | undefined;
    try {
        new HostTuning("tune", { host: h, ...args } as HostTuningArgs);
    } catch (e) {
        error = e as Error;
    }
    await settle();
    return { error, count: recorded.length };
}

/** [what, args, the argument named, what the message must say]. */
const hostile: [string, Partial<HostTuningArgs> & Record<string, unknown>, string, RegExp][] = [
    ["a key with '..'", { sysctls: { "net..ipv4.ip_forward": 1 } }, "sysctls", /dotted form/],
    ["a key with '/'", { sysctls: { "net/ipv4/ip_forward": 1 } }, "sysctls", /no '\/'/],
    ["a key climbing out of /proc/sys", { sysctls: { "net.ipv4.conf.../../../etc/shadow": 1 } }, "sysctls", /dotted form/],
    ["a key with a space", { sysctls: { "net.core. somaxconn": 1 } }, "sysctls", /dotted form/],
    ["a key with a newline", { sysctls: { "net.core.somaxconn\nkernel.panic": 1 } }, "sysctls", /dotted form/],
    ["an uppercase key", { sysctls: { "NET.core.somaxconn": 1 } }, "sysctls", /lowercase/],
    ["a one-part key", { sysctls: { somaxconn: 1 } }, "sysctls", /at least two parts/],
    ["a wildcard key", { sysctls: { "net.ipv4.conf.*.rp_filter": 1 } }, "sysctls", /wildcards/],
    ["a key with '='", { sysctls: { "net.core.somaxconn=1": 1 } }, "sysctls", /dotted form/],
    ["a key too long", { sysctls: { [`net.${"a".repeat(130)}`]: 1 } }, "sysctls", /at most 128/],
    ["kernel.hostname", { sysctls: { "kernel.hostname": "x" } }, 'sysctls["kernel.hostname"]', /hostname argument/],
    ["a congestion control not on the list", { sysctls: { "net.ipv4.tcp_congestion_control": "bbr2; reboot" } }, 'sysctls["net.ipv4.tcp_congestion_control"]', /one of "reno", "cubic", "bbr"/],
    ["an unknown qdisc", { sysctls: { "net.core.default_qdisc": "fastest" } }, 'sysctls["net.core.default_qdisc"]', /"fq_codel"/],
    ["rp_filter 3", { sysctls: { "net.ipv4.conf.all.rp_filter": 3 } }, 'sysctls["net.ipv4.conf.all.rp_filter"]', /integer from 0 to 2/],
    ["a boolean as 2", { sysctls: { "net.ipv4.ip_forward": 2 } }, 'sysctls["net.ipv4.ip_forward"]', /true or false/],
    ["a fraction", { sysctls: { "vm.swappiness": 10.5 } }, 'sysctls["vm.swappiness"]', /integer from 0 to 200/],
    ["swappiness over 200", { sysctls: { "vm.swappiness": 201 } }, 'sysctls["vm.swappiness"]', /integer from 0 to 200/],
    ["a port range backwards", { sysctls: { "net.ipv4.ip_local_port_range": [60000, 1024] } }, 'sysctls["net.ipv4.ip_local_port_range"]', /each at least the one before/],
    ["a port range of one", { sysctls: { "net.ipv4.ip_local_port_range": "1024" } }, 'sysctls["net.ipv4.ip_local_port_range"]', /2 integers/],
    ["a port range with a tab", { sysctls: { "net.ipv4.ip_local_port_range": "1024\t65000" } }, 'sysctls["net.ipv4.ip_local_port_range"]', /2 integers/],
    ["a value with a newline", { sysctls: { "net.netfilter.nf_conntrack_max": "1\nkernel.panic = 1" } }, 'sysctls["net.netfilter.nf_conntrack_max"]', /no newline/],
    ["a value with '='", { sysctls: { "net.netfilter.nf_conntrack_max": "a=b" } }, 'sysctls["net.netfilter.nf_conntrack_max"]', /no newline, '='/],
    ["a value with a pipe (a core pattern that runs a program)", { sysctls: { "kernel.core_pattern": "|/tmp/x" } }, 'sysctls["kernel.core_pattern"]', /shell character/],
    ["a value with a path", { sysctls: { "kernel.modprobe": "/tmp/evil" } }, 'sysctls["kernel.modprobe"]', /letters, digits/],
    ["a value with two spaces", { sysctls: { "net.netfilter.nf_conntrack_max": "1  2" } }, 'sysctls["net.netfilter.nf_conntrack_max"]', /single spaces/],
    ["an empty value", { sysctls: { "net.netfilter.nf_conntrack_max": "" } }, 'sysctls["net.netfilter.nf_conntrack_max"]', /a value as the kernel prints it/],
    ["an object value", { sysctls: { "net.core.somaxconn": { v: 1 } } as never }, 'sysctls["net.core.somaxconn"]', /a value as the kernel prints it/],
    ["a string integer with a leading zero", { sysctls: { "net.core.somaxconn": "04096" } }, 'sysctls["net.core.somaxconn"]', /integer from 1/],
    ["no time servers", { timeSync: { servers: [] } }, "timeSync.servers", /at least 1/],
    ["a time server with a space", { timeSync: { servers: ["ntp.example.org pool.ntp.org"] } }, "timeSync.servers[0]", /IPv4 or IPv6 address, or a DNS name/],
    ["a time server with a newline", { timeSync: { servers: ["ntp.example.org\nFallbackNTP=evil"] } }, "timeSync.servers[0]", /DNS name/],
    ["an unknown timeSync key", { timeSync: { servers: ["10.0.0.1"], pool: "x" } as never }, "timeSync.pool", /one of the keys of timeSync/],
    ["an uppercase hostname", { hostname: "NAS" }, "hostname", /lowercase DNS labels/],
    ["a hostname with a newline", { hostname: "nas\nevil" }, "hostname", /lowercase DNS labels/],
    ["a hostname with a space", { hostname: "nas evil" }, "hostname", /lowercase DNS labels/],
    ["a hostname starting with '-'", { hostname: "-n" }, "hostname", /inner '-'/],
    ["a hostname over 64 characters", { hostname: `${"a".repeat(40)}.${"b".repeat(30)}` }, "hostname", /at most 64/],
    ["an all-digit hostname", { hostname: "10.0.0.1" }, "hostname", /not all digits/],
    ["a hostname with '..'", { hostname: "a..b" }, "hostname", /single dots/],
    ["a hosts address that is a name", { hosts: [{ address: "nas.lan", names: ["x"] }] }, "hosts[0].address", /IPv4 or IPv6 address/],
    ["a hosts address with a zone", { hosts: [{ address: "fe80::1%eth0", names: ["x"] }] }, "hosts[0].address", /IPv4 or IPv6 address/],
    ["a hosts address with a newline", { hosts: [{ address: "10.0.0.1\n10.0.0.2", names: ["x"] }] }, "hosts[0].address", /IPv4 or IPv6 address/],
    ["a hosts name with a space", { hosts: [{ address: "10.0.0.1", names: ["a b"] }] }, "hosts[0].names[0]", /lowercase DNS labels/],
    ["a hosts name with a tab", { hosts: [{ address: "10.0.0.1", names: ["a\tb"] }] }, "hosts[0].names[0]", /lowercase DNS labels/],
    ["a hosts name that is hearth's marker", { hosts: [{ address: "10.0.0.1", names: ["# hearth-hosts: end"] }] }, "hosts[0].names[0]", /lowercase DNS labels/],
    ["a hosts entry without names", { hosts: [{ address: "10.0.0.1", names: [] }] }, "hosts[0].names", /at least 1/],
    ["localhost", { hosts: [{ address: "10.0.0.1", names: ["localhost"] }] }, "hosts[0].names[0]", /distribution's own lines/],
    ["one address twice (spelt two ways)", { hosts: [{ address: "fd00::1", names: ["a"] }, { address: "fd00:0::1", names: ["b"] }] }, "hosts[1].address", /entry 0 has it/],
    ["an unknown argument", { swap: true } as never, "swap", /one of the keys of HostTuningArgs/],
    ["a host that is not a Host", { host: { name: "nas" } as never }, "host", /a hearth Host/],
];

describe("HostTuning arguments", () => {
    before(() => installMocks());

    for (const [what, args, given, allowed] of hostile) {
        // A bad key is named as the entry it is: sysctls["<key>"].
        const arg = given === "sysctls" ? argName(["sysctls", Object.keys(args.sysctls!)[0]]) : given;
        it(`refuses ${what}, naming ${given === "sysctls" ? "the key" : arg}, before anything registers`, async () => {
            const r = await build(args);
            assert.ok(r.error, "refused");
            assert.equal(r.count, 0, "nothing registered");
            const m = r.error.message;
            assert.ok(m.startsWith(`The '${arg}' argument `), m);
            assert.match(m, allowed);
        });
    }

    it("resolves values to the text the kernel prints back, sorted by key", () => {
        const { spec } = resolveTuningArgs({
            host: host(),
            sysctls: { "vm.swappiness": "10", "net.ipv4.ip_forward": true, "net.ipv4.ip_local_port_range": [1024, 65000], "net.ipv4.tcp_rmem": "4096 131072 6291456", "net.netfilter.nf_conntrack_max": 262144, "net.ipv4.conf.all.rp_filter": 2, ...BBR_FQ },
        });
        assert.deepEqual(spec.sysctls, [
            ["net.core.default_qdisc", "fq"],
            ["net.ipv4.conf.all.rp_filter", "2"],
            ["net.ipv4.ip_forward", "1"],
            ["net.ipv4.ip_local_port_range", "1024 65000"],
            ["net.ipv4.tcp_congestion_control", "bbr"],
            ["net.ipv4.tcp_rmem", "4096 131072 6291456"],
            ["net.netfilter.nf_conntrack_max", "262144"],
            ["vm.swappiness", "10"],
        ]);
    });

    it("records its arguments as inputs and registers one converge and one lifecycle command", async () => {
        const r = await build({ sysctls: { "net.core.somaxconn": 4096 }, hostname: "nas", hosts: [{ address: "10.0.0.2", names: ["a.lan", "a"] }], timeSync: { servers: ["10.0.0.1"] } });
        assert.equal(r.error, undefined);
        const comp = recorded.find((x) => x.type === TUNING_TYPE)!;
        assert.equal(comp.inputs.host, "nas");
        assert.deepEqual(comp.inputs.sysctls, { "net.core.somaxconn": "4096" });
        assert.deepEqual(recorded.filter((x) => x.type === "command:remote:Command").map((x) => x.name).sort(), ["tune-tuning", "tune-tuning-lifecycle"]);
    });

    it("refuses a second HostTuning on one host, and a second writer of one sysctl", async () => {
        const h = host();
        new HostTuning("a", { host: h, sysctls: { "net.core.somaxconn": 1024 } });
        assert.throws(() => new HostTuning("b", { host: h, hostname: "nas" }), /host tuning|HostTuning 'a'|hearth:host:Tuning/);
        // Another host is another host.
        new HostTuning("c", { host: host("other"), sysctls: { "net.core.somaxconn": 1024 } });
        await settle();
    });
});
