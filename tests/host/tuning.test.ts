// HostTuning on a real host (nspawn): only the network namespace's sysctls are writable there, so those are proven live
// (congestion control, local port range, somaxconn, rp_filter): set where they differ, a re-run changes nothing, a key
// no longer declared gets its previous value back, the delete puts everything back. The rest is render-checked: the
// sysctl file's syntax by procps' sysctl and systemd-sysctl reading a throwaway copy with the keys a container cannot
// set, the timesyncd drop-in by timesyncd's own config reader (timesyncd does not run in a container:
// ConditionVirtualization=!container; its unit is enabled and its restart is skipped by systemd). Hostile host states: a
// congestion control the kernel does not offer, a sysctl a container cannot set, a link planted at the sysctl file, at
// /etc/hosts and at temp names in /etc. Crash points over the converge, a key's removal and the delete.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { CONGESTION_CONTROLS, HostTuning, HostTuningArgs, renderSysctlConf, renderTuning, SYSCTL_CONF, TIMESYNC_DROPIN } from "../../components/tuning";
import { frameStdin } from "../../components/core/shell";
import { describeHost, startHost, TestHost } from "./harness";
import { CrashRun, crashPoints, fileFacts, mustExec } from "./crash";
import { checkHost, driftLines } from "./drift";
import { ProgramRunner, registeredCommands } from "./runner";

const CC = "net.ipv4.tcp_congestion_control";
const KEYS = ["net.core.somaxconn", "net.ipv4.ip_local_port_range", "net.ipv4.conf.all.rp_filter", CC];

describeHost("HostTuning on a real host", function () {
    this.timeout(900_000);
    let h: TestHost;
    const sh = (cmd: string): Promise<string> => mustExec(h, cmd);
    const t0 = Date.now();
    let orig: Record<string, string>;
    let origHosts: string;
    let origName: string;
    let want: Record<string, string | number | number[]>;

    const live = async (): Promise<Record<string, string>> => {
        const out: Record<string, string> = {};
        for (const k of KEYS) out[k] = (await sh(`sysctl -n ${k}`)).trim().replace(/\s+/g, " ");
        return out;
    };
    const args = (over: Partial<HostTuningArgs> = {}): Omit<HostTuningArgs, "host"> => ({
        sysctls: want,
        timeSync: { servers: ["10.231.0.1", "ntp.example.org"], fallbackServers: [] },
        hostname: "tuned.lan",
        hosts: [{ address: "10.231.9.9", names: ["nas.lan", "nas"] }, { address: "fd00::9", names: ["nas.lan"] }],
        ...over,
    });
    const program = (a: Omit<HostTuningArgs, "host">) => () => {
        new HostTuning("tune", { host: h.host, ...a });
    };
    async function commands(a: Omit<HostTuningArgs, "host">): Promise<{ converge: CrashRun; del: CrashRun }> {
        const cmds = await registeredCommands(() => {
            const host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey });
            new HostTuning("tune", { host, ...a });
        });
        const c = cmds.find((x) => x.name === "tune-tuning")!.inputs;
        const d = cmds.find((x) => x.name === "tune-tuning-lifecycle")!.inputs;
        return { converge: { command: c.create, stdin: c.stdin }, del: { command: d.delete } };
    }
    const fingerprint = async () => [
        JSON.stringify(await live()),
        (await sh("cat /proc/sys/kernel/hostname; systemctl is-enabled systemd-timesyncd.service || true")).trim(),
        ...(await fileFacts(h, ["/etc/hosts", "/etc/hostname", SYSCTL_CONF, TIMESYNC_DROPIN], { trees: ["/var/lib/hearth/applied/tuning"] })),
    ];

    before(async () => {
        h = await startHost({ name: "tuning", packages: ["systemd-timesyncd"] });
        orig = await live();
        origHosts = await sh("cat /etc/hosts");
        origName = (await sh("cat /proc/sys/kernel/hostname")).trim();
        const allowed = (await sh("cat /proc/sys/net/ipv4/tcp_allowed_congestion_control")).trim().split(/\s+/);
        const cc = allowed.find((c) => c !== orig[CC]);
        want = {
            "net.core.somaxconn": Number(orig["net.core.somaxconn"]) === 1024 ? 2048 : 1024,
            "net.ipv4.ip_local_port_range": [20000, 40000],
            "net.ipv4.conf.all.rp_filter": orig["net.ipv4.conf.all.rp_filter"] === "1" ? 2 : 1,
            ...(cc ? { [CC]: cc } : {}),
        };
        assert.ok(cc, `a congestion control other than ${orig[CC]} that a container may choose (allowed: ${allowed.join(" ")})`);
    });
    after(async () => {
        process.stderr.write(`tuning: ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
        await h?.stop();
    });

    it("sets what differs live and for boot, changes nothing on a re-run, reports and repairs drift, puts a removed key back, and the delete puts everything back", async () => {
        const runner = new ProgramRunner();
        const first = await runner.up(program(args()));
        assert.equal(first.runs.length, 1);
        const now = await live();
        for (const [k, v] of Object.entries(want)) assert.equal(now[k], Array.isArray(v) ? v.join(" ") : String(v), k);
        const conf = await sh(`cat ${SYSCTL_CONF}`);
        for (const [k, v] of Object.entries(want)) assert.match(conf, new RegExp(`^${k.replace(/\./g, "\\.")} = ${Array.isArray(v) ? v.join(" ") : v}$`, "m"));
        assert.equal(await sh("cat /proc/sys/kernel/hostname /etc/hostname"), "tuned.lan\ntuned.lan\n");
        // Every line of /etc/hosts that was there stays, in order; the block follows between the markers.
        const hosts = await sh("cat /etc/hosts");
        assert.ok(hosts.startsWith(origHosts), hosts);
        assert.equal(hosts.slice(origHosts.length), "# hearth-hosts: begin (managed by hearth: lines up to the end marker are rewritten)\n10.231.9.9\tnas.lan nas\nfd00::9\tnas.lan\n# hearth-hosts: end\n");
        assert.equal(await sh("getent hosts nas"), "10.231.9.9      nas.lan nas\n");
        // timesyncd: enabled, reads the drop-in, and does not run in a container (its condition, not a failure).
        assert.equal((await sh("systemctl is-enabled systemd-timesyncd.service")).trim(), "enabled");
        assert.match(await sh("systemd-analyze cat-config systemd/timesyncd.conf"), /^NTP=10\.231\.0\.1 ntp\.example\.org$/m);
        assert.match(await sh("systemctl show -p ConditionResult -p ActiveState systemd-timesyncd.service"), /ConditionResult=no/);

        // A re-run: nothing on `up`, and the script itself (re-run) writes and sets nothing.
        const before = await fingerprint();
        assert.equal((await runner.up(program(args()))).runs.length, 0);
        const again = await runner.rerunCreate();
        assert.doesNotMatch(again.map((r) => r.stdout).join(""), /setting|putting back|wrote|removed|set the live/);
        assert.deepEqual(await fingerprint(), before);
        assert.deepEqual(driftLines(await checkHost(h, runner.resources)), []);

        // Drift by hand: reported by the check, repaired by the next converge.
        await sh("sysctl -q -w net.core.somaxconn=999 && hostname drifted && sed -i 's/^10\\.231\\.9\\.9\\t.*/10.231.9.9\\tevil/' /etc/hosts");
        const drift = driftLines(await checkHost(h, runner.resources)).join("\n");
        assert.match(drift, new RegExp(`sysctl net\\.core\\.somaxconn: ${want["net.core.somaxconn"]} -> 999`));
        assert.match(drift, /live hostname: tuned\.lan -> drifted/);
        assert.match(drift, /\/etc\/hosts block: /);
        await runner.rerunCreate();
        assert.deepEqual(await fingerprint(), before);

        // somaxconn and the port range no longer declared: back to what they were before hearth first set them.
        const fewer = { ...want };
        delete fewer["net.core.somaxconn"];
        delete fewer["net.ipv4.ip_local_port_range"];
        await runner.up(program(args({ sysctls: fewer })));
        const after = await live();
        assert.equal(after["net.core.somaxconn"], orig["net.core.somaxconn"]);
        assert.equal(after["net.ipv4.ip_local_port_range"], orig["net.ipv4.ip_local_port_range"]);
        assert.equal(after[CC], String(want[CC]));
        assert.doesNotMatch(await sh(`cat ${SYSCTL_CONF}`), /somaxconn|port_range/);
        assert.equal(await sh("ls /var/lib/hearth/applied/tuning/sysctl | sort"), [CC, "net.ipv4.conf.all.rp_filter"].sort().join("\n") + "\n");

        // The delete: every sysctl, the hostname and /etc/hosts as they were, hearth's files gone.
        await runner.destroy();
        assert.deepEqual(await live(), orig);
        assert.equal(await sh("cat /etc/hosts"), origHosts);
        assert.equal((await sh("cat /proc/sys/kernel/hostname")).trim(), origName);
        assert.equal(await sh(`ls ${SYSCTL_CONF} ${TIMESYNC_DROPIN} 2>&1 || true; ls -A /var/lib/hearth/applied/tuning/sysctl; cat /var/lib/hearth/applied/tuning/owner 2>&1 || true`), `ls: cannot access '${SYSCTL_CONF}': No such file or directory\nls: cannot access '${TIMESYNC_DROPIN}': No such file or directory\ncat: /var/lib/hearth/applied/tuning/owner: No such file or directory\n`);
    });

    it("refuses what the host cannot do before writing anything: a congestion control the kernel does not offer, a sysctl a container cannot set", async () => {
        const offered = (await sh("cat /proc/sys/net/ipv4/tcp_available_congestion_control")).trim();
        const missing = CONGESTION_CONTROLS.find((c) => !offered.split(/\s+/).includes(c))!;
        const cases: [Record<string, string | number>, RegExp][] = [
            [{ "net.core.somaxconn": 512, [CC]: missing }, new RegExp(`sysctl ${CC.replace(/\./g, "\\.")}=${missing}: this kernel offers only: ${offered}`)],
            [{ "net.core.somaxconn": 512, "vm.swappiness": 10 }, /sysctl vm\.swappiness: cannot be set here \(\/proc\/sys\/vm\/swappiness is read-only; inside a container/],
        ];
        const allowed = (await sh("cat /proc/sys/net/ipv4/tcp_allowed_congestion_control")).trim();
        const notAllowed = offered.split(/\s+/).find((c) => !allowed.split(/\s+/).includes(c));
        if (notAllowed) cases.push([{ [CC]: notAllowed }, /may only choose from tcp_allowed_congestion_control/]);
        for (const [sysctls, message] of cases) {
            const before = await fingerprint();
            const { converge } = await commands(args({ sysctls }));
            const r = await h.exec(converge.command, { stdin: converge.stdin });
            assert.equal(r.code, 65, r.stderr);
            assert.match(r.stderr, message);
            assert.deepEqual(await fingerprint(), before, "nothing written");
        }
    });

    it("never wedges on a key it cannot read: refused before anything is written, never recorded as an empty value", async () => {
        const mark = { id: "hearth/test/hearth:host:Tuning/tune", aliases: [], adopt: false };
        // An IPv6 stable_secret the kernel will not show before it is set (the arguments refuse the key; the script,
        // rendered past them here, refuses it too): nothing written, nothing recorded as an empty "before".
        const secret = renderTuning({ sysctls: [["net.ipv6.conf.lo.stable_secret", "fd00::1234"]], hosts: [] }, mark);
        const before = await fingerprint();
        const r = await h.exec(secret.script, { stdin: frameStdin(secret.frames) });
        assert.equal(r.code, 65, r.stderr);
        assert.match(r.stderr, /sysctl net\.ipv6\.conf\.lo\.stable_secret: its value cannot be read here, so hearth could neither compare it nor put it back/);
        assert.deepEqual(await fingerprint(), before, "nothing written");
        assert.notEqual((await h.exec("cat /proc/sys/net/ipv6/conf/lo/stable_secret")).code, 0, "still unset");
    });

    it("never wedges on a value the kernel reads back in another form: put back and refused, naming the form", async () => {
        // A value the kernel reads back in another form: the live value is put back, the converge stops naming the
        // form, nothing is persisted for boot; the value as the kernel prints it converges; dropped, the old value is back.
        const reserved = "net.ipv4.ip_local_reserved_ports";
        const origReserved = (await sh(`sysctl -n ${reserved}`)).trim();
        let c = await commands(args({ sysctls: { [reserved]: "9000-9010,8080" } }));
        let r = await h.exec(c.converge.command, { stdin: c.converge.stdin });
        assert.equal(r.code, 65, r.stderr);
        assert.match(r.stderr, /sysctl net\.ipv4\.ip_local_reserved_ports=9000-9010,8080: the kernel reads it back as '8080,9000-9010': declare the value as the kernel prints it/);
        assert.equal((await sh(`sysctl -n ${reserved}`)).trim(), origReserved, "the live value put back");
        assert.equal((await h.exec(`test -e ${SYSCTL_CONF}`)).code, 1, "not persisted for boot");
        c = await commands(args({ sysctls: { [reserved]: "8080,9000-9010" } }));
        r = await h.exec(c.converge.command, { stdin: c.converge.stdin });
        assert.equal(r.code, 0, r.stderr);
        assert.equal((await sh(`sysctl -n ${reserved}`)).trim(), "8080,9000-9010");
        c = await commands(args({ sysctls: {} }));
        r = await h.exec(c.converge.command, { stdin: c.converge.stdin });
        assert.equal(r.code, 0, r.stderr);
        assert.equal((await sh(`sysctl -n ${reserved}`)).trim(), origReserved);
        assert.equal((await h.exec(c.del.command)).code, 0);
    });

    it("never wedges on an old value the kernel will not take back: the release and the delete warn, forget it and go on", async () => {
        const c = await commands(args({ sysctls: {} }));
        let r = await h.exec(c.converge.command, { stdin: c.converge.stdin });
        assert.equal(r.code, 0, r.stderr);
        // Records whose value the kernel will not take back (an old value it refuses; an empty "before" of an unreadable
        // key, as an earlier hearth recorded): the release warns, forgets them and goes on; so does the delete.
        const plant = "mkdir -p /var/lib/hearth/applied/tuning/sysctl && printf '=not-a-number\\n' > /var/lib/hearth/applied/tuning/sysctl/net.core.somaxconn && printf '=\\n' > /var/lib/hearth/applied/tuning/sysctl/net.ipv6.conf.lo.stable_secret";
        const somaxconn = (await sh("sysctl -n net.core.somaxconn")).trim();
        await sh(plant);
        r = await h.exec(c.converge.command, { stdin: c.converge.stdin });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, new RegExp(`sysctl net\\.core\\.somaxconn: could not put back not-a-number \\(the kernel refused it \\(Invalid argument\\)\\): it stays ${somaxconn} until set by hand or the next boot; forgetting it`));
        assert.match(r.stderr, /sysctl net\.ipv6\.conf\.lo\.stable_secret is gone from this kernel or cannot be read: nothing to put back, forgetting it/);
        assert.equal(await sh("ls -A /var/lib/hearth/applied/tuning/sysctl"), "");
        await sh(plant);
        r = await h.exec(c.del.command);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /could not put back not-a-number/);
        assert.equal(await sh("ls -A /var/lib/hearth/applied/tuning/sysctl; cat /var/lib/hearth/applied/tuning/owner 2>&1 || true"), "cat: /var/lib/hearth/applied/tuning/owner: No such file or directory\n");
        assert.equal((await sh("sysctl -n net.core.somaxconn")).trim(), somaxconn);
    });

    it("refuses a second block of hearth's in /etc/hosts, naming the marker lines, before anything is written", async () => {
        // A second block of hearth's in /etc/hosts (copied by hand): refused naming the marker lines, nothing written.
        const c = await commands(args());
        let r = await h.exec(c.converge.command, { stdin: c.converge.stdin });
        assert.equal(r.code, 0, r.stderr);
        await sh("printf '%s\\n' '# hearth-hosts: begin (managed by hearth: lines up to the end marker are rewritten)' '10.9.9.9\tmine' '# hearth-hosts: end' >> /etc/hosts && hostname x");
        const hosts = await sh("cat /etc/hosts");
        const at = hosts.split("\n").flatMap((l, i) => (l.startsWith("# hearth-hosts: ") ? [i + 1] : []));
        assert.equal(at.length, 4);
        const before = await fingerprint();
        r = await h.exec(c.converge.command, { stdin: c.converge.stdin });
        assert.equal(r.code, 65, r.stderr);
        assert.match(r.stderr, new RegExp(`/etc/hosts has hearth's marker lines out of pairs, or more than one block \\(marker lines at ${at.join(",")}\\): repair the block by hand`));
        assert.deepEqual(await fingerprint(), before, "nothing written");
        assert.match(await sh("cat /etc/hosts"), /^10\.9\.9\.9\tmine$/m);
        await sh("head -n -3 /etc/hosts > /root/hosts.fixed && cat /root/hosts.fixed > /etc/hosts && rm /root/hosts.fixed");
        r = await h.exec(c.del.command);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(await sh("cat /etc/hosts"), origHosts);
        assert.deepEqual(await live(), orig);
        assert.equal((await sh("cat /proc/sys/kernel/hostname")).trim(), origName);
    });

    it("never follows a link: at the sysctl file (refused before hearth wrote it, replaced once hearth's), at /etc/hosts, at temp names in /etc", async () => {
        const c = await commands(args());
        // From the host as it was (nothing of this resource's recorded).
        assert.equal((await h.exec(c.del.command)).code, 0);
        await sh(`printf 'canary\\n' > /root/canary && chmod 0600 /root/canary && ln -sfn /root/canary ${SYSCTL_CONF}`);
        const canary = await fileFacts(h, ["/root/canary"]);
        let r = await h.exec(c.converge.command, { stdin: c.converge.stdin });
        assert.equal(r.code, 65);
        assert.match(r.stderr, /\/etc\/sysctl\.d\/60-hearth\.conf exists and hearth did not write it/);
        assert.equal(await sh("cat /proc/sys/kernel/hostname; test ! -e /var/lib/hearth/applied/tuning/owner && echo no-owner"), `${origName}\nno-owner\n`);
        await sh(`rm ${SYSCTL_CONF}`);
        r = await h.exec(c.converge.command, { stdin: c.converge.stdin });
        assert.equal(r.code, 0, r.stderr);
        // Once hearth's: a link planted there (and at temp names a dead script would have left in /etc) is replaced, never followed.
        await sh(`ln -sfn /root/canary ${SYSCTL_CONF} && ln -sfn /root/canary /etc/.hearth.999999.aaaaaaaaaa && ln -sfn /root/canary /etc/.hearth.999998.bbbbbbbbbb && sysctl -q -w net.core.somaxconn=999 && sed -i '/^fd00::9/d' /etc/hosts && hostname x`);
        r = await h.exec(c.converge.command, { stdin: c.converge.stdin });
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(await fileFacts(h, ["/root/canary"]), canary);
        // The temp names are random (mktemp): the planted ones are neither used nor followed, only left as they were.
        assert.equal(await sh(`test ! -L ${SYSCTL_CONF} && find /etc -maxdepth 1 -name '.hearth.*' -printf '%f %l\\n' | sort`), ".hearth.999998.bbbbbbbbbb /root/canary\n.hearth.999999.aaaaaaaaaa /root/canary\n");
        await sh("rm /etc/.hearth.999999.aaaaaaaaaa /etc/.hearth.999998.bbbbbbbbbb");
        assert.match(await sh("tail -n2 /etc/hosts"), /^fd00::9\tnas\.lan\n# hearth-hosts: end\n$/);
        assert.equal(await sh("cat /proc/sys/net/core/somaxconn /proc/sys/kernel/hostname"), `${want["net.core.somaxconn"]}\ntuned.lan\n`);
        // A block whose end marker someone removed: refused (its lines are not told from the user's), nothing written.
        await sh("sed -i '$d' /etc/hosts && hostname x");
        r = await h.exec(c.converge.command, { stdin: c.converge.stdin });
        assert.equal(r.code, 65);
        assert.match(r.stderr, /\/etc\/hosts has hearth's marker lines out of pairs/);
        assert.equal(await sh("cat /proc/sys/kernel/hostname"), "x\n");
        await sh("printf '# hearth-hosts: end\\n' >> /etc/hosts");
        // /etc/hosts a link: refused, the link and its target untouched.
        await sh("cp /etc/hosts /root/hosts.real && ln -sfn /root/hosts.real /etc/hosts && sed -i '$d' /root/hosts.real");
        const real = await fileFacts(h, ["/root/hosts.real", "/etc/hosts"]);
        r = await h.exec(c.converge.command, { stdin: c.converge.stdin });
        assert.equal(r.code, 65);
        assert.match(r.stderr, /refusing \/etc\/hosts: it is a link \(to \/root\/hosts\.real\), not a file/);
        assert.deepEqual(await fileFacts(h, ["/root/hosts.real", "/etc/hosts"]), real);
        await sh("rm /etc/hosts && cp /root/hosts.real /etc/hosts && printf '# hearth-hosts: end\\n' >> /etc/hosts");
        r = await h.exec(c.del.command);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(await sh("cat /etc/hosts"), origHosts);
        assert.deepEqual(await live(), orig);
    });

    it("render-checks what a container cannot set: the sysctl file read by sysctl -p and systemd-sysctl (throwaway copy)", async () => {
        const mark = { id: "hearth/test/hearth:host:Tuning/tune", aliases: [], adopt: false };
        const text = renderSysctlConf({ sysctls: [["fs.inotify.max_user_watches", "524288"], ["kernel.kptr_restrict", "2"], ["vm.swappiness", "10"]], hosts: [] }, mark);
        await sh(`mkdir -p /root/throwaway && cat > /root/throwaway/60-hearth.conf <<'EOF'\n${text}EOF`);
        const p = await h.exec("sysctl -p /root/throwaway/60-hearth.conf");
        // Each key is read as a setting (a container refuses to write it), none as a syntax error.
        assert.doesNotMatch(p.stderr, /invalid syntax|unknown key/i);
        for (const k of ["fs/inotify/max_user_watches", "kernel/kptr_restrict", "vm/swappiness"]) assert.match(p.stderr + p.stdout, new RegExp(k.replace(/\//g, "[./]")));
        const s = await h.exec("/lib/systemd/systemd-sysctl /root/throwaway/60-hearth.conf");
        assert.doesNotMatch(s.stderr, /not an assignment|Failed to parse|Ignoring/i);
        await sh("rm -rf /root/throwaway");
    });

    const crashCases: [string, () => Promise<{ from?: CrashRun; run: CrashRun }>][] = [
        ["converge from the host as it was", async () => ({ run: (await commands(args())).converge })],
        ["converge dropping two keys, the hostname and the hosts", async () => ({ from: (await commands(args())).converge, run: (await commands(args({ sysctls: { [CC]: want[CC] as string }, hostname: undefined, hosts: [] }))).converge })],
        ["delete", async () => { const c = await commands(args()); return { from: c.converge, run: c.del }; }],
    ];
    for (const [name, make] of crashCases) {
        it(`crash points: ${name}: every kill point finishes on the re-run`, async () => {
            const c = await make();
            const del = (await commands(args())).del;
            const reset = async () => {
                const r = await h.exec(del.command);
                assert.equal(r.code, 0, r.stderr);
                if (c.from) {
                    const f = await h.exec(c.from.command, { stdin: c.from.stdin });
                    assert.equal(f.code, 0, f.stderr);
                }
            };
            const report = await crashPoints(h, { name, reset, run: c.run, fingerprint });
            process.stderr.write(`tuning: ${name}: ${report.points} points in ${report.seconds.toFixed(0)} s\n`);
            assert.ok(report.points >= 4, `${name}: only ${report.points} kill points`);
            await reset();
            if (!c.from) {
                const r = await h.exec(del.command);
                assert.equal(r.code, 0);
            }
        });
    }
});
