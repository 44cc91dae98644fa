// HostTuning arguments: every hostile input refused with an error naming the argument, the value and what is allowed,
// before anything registers; values resolved to the text the kernel prints back; one tuning and one writer per sysctl
// per host.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { BBR_FQ, HostTuning, HostTuningArgs, renderSysctlConf, resolveTuningArgs } from "../../components/tuning";
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

    /** [what, sysctls, the key the error names, what it must say]: keys hearth could neither compare nor put back. */
    const irreversible: [string, Record<string, string | number>, string, RegExp][] = [
        ["an IPv6 stable_secret (unreadable until set, never unset)", { "net.ipv6.conf.lo.stable_secret": "fd00::1234" }, "net.ipv6.conf.lo.stable_secret", /no value: hearth does not set net\.ipv6\.conf\.lo\.stable_secret \(a secret the kernel lets nobody read before it is set/],
        ["the default interface's stable_secret", { "net.ipv6.conf.default.stable_secret": "fd00::1" }, "net.ipv6.conf.default.stable_secret", /neither compare it nor put it back/],
        ["kernel.modules_disabled", { "kernel.modules_disabled": 1 }, "kernel.modules_disabled", /one-way switch: once 1 it stays 1 until the next boot/],
        ["kernel.kexec_load_disabled", { "kernel.kexec_load_disabled": 1 }, "kernel.kexec_load_disabled", /one-way switch/],
        ["kernel.kexec_load_limit_reboot", { "kernel.kexec_load_limit_reboot": 0 }, "kernel.kexec_load_limit_reboot", /only be lowered until the next boot/],
        ["kernel.yama.ptrace_scope 3", { "kernel.yama.ptrace_scope": 3 }, "kernel.yama.ptrace_scope", /a value other than 3: 3 cannot be lowered again until the next boot.*use 2/],
        ["kernel.unprivileged_bpf_disabled 1", { "kernel.unprivileged_bpf_disabled": 1 }, "kernel.unprivileged_bpf_disabled", /a value other than 1: 1 cannot be cleared until the next boot.*use 2/],
        ["vm.drop_caches (an action)", { "vm.drop_caches": 3 }, "vm.drop_caches", /an action \(a write-only file\), not a setting/],
        ["net.ipv4.route.flush (an action)", { "net.ipv4.route.flush": 1 }, "net.ipv4.route.flush", /an action/],
        ["fs.binfmt_misc.status (an action)", { "fs.binfmt_misc.status": -1 }, "fs.binfmt_misc.status", /binfmt_misc's files are actions/],
        ["an integer the kernel prints in another form", { "net.netfilter.nf_conntrack_max": "0262144" }, "net.netfilter.nf_conntrack_max", /integers without leading zeros or '\+'/],
        ["a '+' integer", { "net.netfilter.nf_conntrack_max": "+5" }, "net.netfilter.nf_conntrack_max", /integers without leading zeros or '\+'/],
    ];
    for (const [what, sysctls, k, message] of irreversible) {
        it(`refuses ${what} before anything registers, naming the key and why`, async () => {
            const r = await build({ sysctls });
            assert.ok(r.error, "refused");
            assert.equal(r.count, 0);
            assert.ok(r.error.message.startsWith(`The '${argName(["sysctls", k])}' argument `), r.error.message);
            assert.match(r.error.message, message);
        });
    }

    /** [sysctls, the writer the error names, the other key it names]: one kernel setting, or a write that sets the other. */
    const tied: [Record<string, number>, string, string, RegExp][] = [
        [{ "net.ipv4.conf.all.forwarding": 1, "net.ipv4.ip_forward": 1 }, "net.ipv4.conf.all.forwarding", "net.ipv4.ip_forward", /one kernel setting under two names/],
        [{ "net.ipv4.ip_forward": 1, "net.ipv4.conf.eth0.forwarding": 0 }, "net.ipv4.ip_forward", "net.ipv4.conf.eth0.forwarding", /also sets every interface's forwarding/],
        [{ "net.ipv4.conf.all.forwarding": 1, "net.ipv4.conf.default.forwarding": 0 }, "net.ipv4.conf.all.forwarding", "net.ipv4.conf.default.forwarding", /the default's/],
        [{ "net.ipv4.ip_forward": 1, "net.ipv4.conf.all.accept_redirects": 0 }, "net.ipv4.ip_forward", "net.ipv4.conf.all.accept_redirects", /conf\.all\.accept_redirects/],
        [{ "net.ipv6.conf.all.forwarding": 1, "net.ipv6.conf.eth0.forwarding": 0 }, "net.ipv6.conf.all.forwarding", "net.ipv6.conf.eth0.forwarding", /every interface's forwarding and the default's/],
        [{ "net.ipv6.conf.all.disable_ipv6": 0, "net.ipv6.conf.default.disable_ipv6": 1 }, "net.ipv6.conf.all.disable_ipv6", "net.ipv6.conf.default.disable_ipv6", /every interface's disable_ipv6/],
        [{ "vm.dirty_bytes": 1 << 26, "vm.dirty_ratio": 20 }, "vm.dirty_bytes", "vm.dirty_ratio", /two spellings of one limit: writing one sets the other to 0/],
        [{ "vm.overcommit_kbytes": 1024, "vm.overcommit_ratio": 50 }, "vm.overcommit_kbytes", "vm.overcommit_ratio", /two spellings of one limit/],
    ];
    for (const [sysctls, writer, other, why] of tied) {
        it(`refuses ${writer} declared with ${other}, naming both`, async () => {
            const r = await build({ sysctls });
            assert.ok(r.error, "refused");
            assert.equal(r.count, 0);
            assert.ok(r.error.message.startsWith(`The '${argName(["sysctls", writer])}' argument `), r.error.message);
            assert.match(r.error.message, new RegExp(`not ${writer.replace(/\./g, "\\.")} together with ${other.replace(/\./g, "\\.")}: `));
            assert.match(r.error.message, why);
        });
    }
    it("takes each key of a tied pair alone, and keys of different interfaces together", async () => {
        for (const sysctls of <Record<string, number>[]>[{ "net.ipv4.ip_forward": 1 }, { "net.ipv4.conf.all.forwarding": 1 }, { "net.ipv4.conf.eth0.forwarding": 1, "net.ipv4.conf.eth1.forwarding": 0, "net.ipv6.conf.eth0.forwarding": 1 }, { "vm.dirty_bytes": 1 << 26, "vm.dirty_background_bytes": 1 << 25 }]) {
            const r = await build({ sysctls });
            assert.equal(r.error, undefined, JSON.stringify(sysctls));
        }
    });

    /** [key, a value that weakens the host, a safe value, the safe value's words]. */
    const loosenings: [string, number | boolean, number, RegExp][] = [
        ["kernel.randomize_va_space", 0, 2, /^2 \(full address space randomization\)/],
        ["kernel.kptr_restrict", 0, 1, /^1 or 2/],
        ["kernel.unprivileged_bpf_disabled", 0, 2, /^2 \(no BPF for unprivileged users\)/],
        ["kernel.perf_event_paranoid", -1, 2, /^2 or more/],
        ["kernel.sysrq", 511, 438, /^0, or a mask without 1/],
        ["kernel.sysrq", 1, 0, /^0, or a mask without 1/],
        ["kernel.dmesg_restrict", 0, 1, /^1 \(the kernel log for root only\)/],
        ["kernel.yama.ptrace_scope", 0, 1, /^1 or 2/],
        ["vm.mmap_min_addr", 0, 65536, /^65536/],
        ["fs.protected_symlinks", false, 1, /^1:/],
        ["fs.protected_hardlinks", 0, 1, /^1:/],
        ["fs.protected_regular", 0, 2, /^1 or 2/],
        ["fs.suid_dumpable", 2, 0, /^0 \(no core dumps of setuid programs\)/],
        ["net.core.bpf_jit_harden", 0, 2, /^1 or 2/],
        ["net.core.bpf_jit_enable", 2, 1, /^0 or 1/],
        ["vm.unprivileged_userfaultfd", 1, 0, /^0 /],
        ["dev.tty.ldisc_autoload", true, 0, /^0 /],
        ["kernel.io_uring_disabled", 0, 2, /^1 or 2/],
        ["net.ipv4.tcp_syncookies", 0, 1, /^1 \(SYN cookies/],
        ["net.ipv4.conf.all.accept_source_route", 1, 0, /^0 \(source-routed/],
    ];
    for (const [k, weak, safe, safeWords] of loosenings) {
        it(`refuses ${k} = ${weak} without a reason, naming the key, the value, the safe value and that a reason is needed; takes it with one`, async () => {
            const r = await build({ sysctls: { [k]: weak } });
            assert.ok(r.error, "refused");
            assert.equal(r.count, 0);
            const m = r.error.message;
            const text = typeof weak === "boolean" ? String(Number(weak)) : String(weak);
            assert.ok(m.startsWith(`The '${argName(["sysctls", k])}' argument ${JSON.stringify(weak)} is not allowed: expected `), m);
            assert.match(m.slice(m.indexOf("expected ") + 9), safeWords);
            assert.ok(m.includes(`${k} = ${text} weakens the host; to set it anyway, give the reason in words as loosen["${k}"]`), m);
            assert.equal((await build({ sysctls: { [k]: safe } })).error, undefined, `${k} = ${safe} is safe`);
            const ok = await build({ sysctls: { [k]: weak }, loosen: { [k]: "profiling and debugging on this lab machine" } });
            assert.equal(ok.error, undefined);
        });
    }
    it("writes a loosening's reason above its line in the sysctl file and records it as an input", async () => {
        const r = await build({ sysctls: { "kernel.perf_event_paranoid": 1, "net.core.somaxconn": 1024 }, loosen: { "kernel.perf_event_paranoid": "perf profiling by the build user" } });
        assert.equal(r.error, undefined);
        const { spec } = resolveTuningArgs({ host: host(), sysctls: { "kernel.perf_event_paranoid": 1, "net.core.somaxconn": 1024 }, loosen: { "kernel.perf_event_paranoid": "perf profiling by the build user" } });
        const conf = renderSysctlConf(spec, { id: "x", aliases: [], adopt: false });
        assert.match(conf, /^# loosened: perf profiling by the build user\nkernel\.perf_event_paranoid = 1\nnet\.core\.somaxconn = 1024\n$/m);
        assert.deepEqual(recorded.find((x) => x.type === TUNING_TYPE)!.inputs.loosen, { "kernel.perf_event_paranoid": "perf profiling by the build user" });
    });
    const badReasons: [string, Partial<HostTuningArgs>, string, RegExp][] = [
        ["a reason for a value that weakens nothing", { sysctls: { "kernel.randomize_va_space": 2 }, loosen: { "kernel.randomize_va_space": "because I said so" } }, 'loosen["kernel.randomize_va_space"]', /a reason only for a sysctl value that weakens the host \(sysctls\["kernel\.randomize_va_space"\] is 2, which does not\)/],
        ["a reason for a key not declared", { sysctls: { "net.core.somaxconn": 1024 }, loosen: { "kernel.sysrq": "keyboard reboots on the console" } }, 'loosen["kernel.sysrq"]', /a reason only for a key of sysctls \(kernel\.sysrq is not declared\)/],
        ["a reason without words", { sysctls: { "kernel.sysrq": 1 }, loosen: { "kernel.sysrq": "12345678" } }, 'loosen["kernel.sysrq"]', /a reason in words/],
        ["a reason with a newline", { sysctls: { "kernel.sysrq": 1 }, loosen: { "kernel.sysrq": "console debugging\nkernel.panic = 1" } }, 'loosen["kernel.sysrq"]', /one-line reason/],
        ["a loosen key that is no sysctl name", { sysctls: { "kernel.sysrq": 1 }, loosen: { "kernel/sysrq": "console debugging" } }, 'loosen["kernel/sysrq"]', /dotted form/],
    ];
    for (const [what, a, arg, message] of badReasons) {
        it(`refuses ${what}, naming ${arg}`, async () => {
            const r = await build(a);
            assert.ok(r.error, "refused");
            assert.equal(r.count, 0);
            assert.ok(r.error.message.startsWith(`The '${arg}' argument `), r.error.message);
            assert.match(r.error.message, message);
        });
    }

    it("refuses a second HostTuning on one host, and a second writer of one sysctl", async () => {
        const h = host();
        new HostTuning("a", { host: h, sysctls: { "net.core.somaxconn": 1024 } });
        assert.throws(() => new HostTuning("b", { host: h, hostname: "nas" }), /host tuning|HostTuning 'a'|hearth:host:Tuning/);
        // Another host is another host.
        new HostTuning("c", { host: host("other"), sysctls: { "net.core.somaxconn": 1024 } });
        await settle();
    });
});
