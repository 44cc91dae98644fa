// HostTuning renderer: bash -n + shellcheck on every script, the order of its steps (everything the host must offer is
// checked before anything is written), the files it installs and the drift check lines it carries.
import { strict as assert } from "assert";
import { createHash } from "crypto";
import { CHECK_LINE, checkOfConverge, convergeTail } from "../../components/core/check";
import { RUNTIME } from "../../components/core/runtime";
import { frameStdin, parseScriptFiles } from "../../components/core/shell";
import { renderTuning, SYSCTL_CONF, TIMESYNC_DROPIN, TuningSpec } from "../../components/tuning/render";
import { checkScript } from "../tools";

const MARK = { id: "home/prod/hearth:host:Tuning/tune", aliases: ["home/prod/hearth:host:Tuning/old"], adopt: false };
const own = (script: string) => script.slice(script.indexOf(RUNTIME) + RUNTIME.length);

const FULL: TuningSpec = {
    sysctls: [["net.core.default_qdisc", "fq"], ["net.ipv4.ip_local_port_range", "1024 65000"], ["net.ipv4.tcp_congestion_control", "bbr"], ["vm.swappiness", "10"]],
    timeSync: { servers: ["ntp.example.org", "10.0.0.1"], fallbackServers: [] },
    hostname: "nas.lan",
    hosts: [{ address: "10.0.0.2", names: ["a.lan", "a"] }, { address: "fd00::2", names: ["a.lan"] }],
};
const SCENARIOS: Record<string, TuningSpec> = {
    full: FULL,
    empty: { sysctls: [], hosts: [] },
    "sysctls only": { sysctls: FULL.sysctls, hosts: [] },
    "names only": { sysctls: [], hostname: "nas", hosts: FULL.hosts },
};

describe("tuning render", () => {
    for (const [name, spec] of Object.entries(SCENARIOS)) {
        describe(name, () => {
            const r = renderTuning(spec, MARK);
            it("passes bash -n and shellcheck", () => {
                assert.deepEqual(checkScript(r.script), []);
                assert.deepEqual(checkScript(r.deleteScript), []);
            });
            it("takes the tuning lock and claims the host before anything else; checks what the host offers before the first write", () => {
                const s = own(r.script);
                assert.ok(s.indexOf("hearth_lock tuning") < s.indexOf("hearth_tuning_claim "));
                const firstWrite = s.indexOf('hearth_record tuning/owner "$hearth_owner"');
                assert.ok(firstWrite > 0);
                for (const ready of ["hearth_tuning_claim ", "hearth_tuning_hosts_ready", ...(spec.sysctls.length ? ["hearth_sysctl_ready "] : []), ...(spec.timeSync ? ["hearth_unit_file_exists systemd-timesyncd.service"] : [])]) {
                    const at = s.indexOf(ready);
                    assert.ok(at >= 0 && at < firstWrite, `${ready} comes before anything is written`);
                }
                for (const write of ["hearth_install", "hearth_sysctl_apply", "hearth_sysctl_release", "hearth_tuning_hosts '", "hearth_tuning_hostname"]) {
                    const at = s.indexOf(write);
                    if (at >= 0) assert.ok(at > firstWrite, `${write} comes after the owner is recorded`);
                }
            });
            it("installs exactly the files it declares, from stdin frames the drift check can read", () => {
                const files = parseScriptFiles(r.script, frameStdin(r.frames));
                const want = [...(spec.sysctls.length ? [SYSCTL_CONF] : []), ...(spec.timeSync ? [TIMESYNC_DROPIN] : [])];
                assert.deepEqual(files.map((f) => f.path), want);
                for (const f of files) {
                    assert.equal(f.mode, 0o644);
                    assert.equal(f.content.split("\n")[0], `# hearth-owner: ${MARK.id}`);
                }
                // A sysctl no longer declared is put back; without keys the release keeps none.
                assert.match(own(r.script), spec.sysctls.length ? new RegExp(`^hearth_sysctl_release ${spec.sysctls.map(([k]) => k.replace(/\./g, "\\.")).join(" ")}$`, "m") : /^hearth_sysctl_release ''$/m);
            });
            it("carries read-only check lines: each sysctl's live value, the hostname, the hosts block", () => {
                for (const l of r.check) assert.match(l, CHECK_LINE);
                const tail = convergeTail("k".repeat(32), "0".repeat(64), undefined, r.script, r.check);
                const c = checkOfConverge("tune-tuning", `${r.script}\n${tail}`, false, frameStdin(r.frames))!;
                for (const [k, v] of spec.sysctls) assert.ok(c.lines.some((l) => l === `hearth_sysctl_check_live ${k} ${v.includes(" ") ? `'${v}'` : v}`), `${k} is checked live`);
                assert.equal(c.lines.filter((l) => l.startsWith("hearth_check_file ")).length, (spec.sysctls.length ? 1 : 0) + (spec.timeSync ? 1 : 0));
                assert.equal(r.check.some((l) => l.startsWith("hearth_tuning_check_hostname ")), spec.hostname !== undefined);
                const block = spec.hosts.map((e) => `${e.address}\t${e.names.join(" ")}`).join("\n");
                assert.ok(r.check.includes(`hearth_tuning_check_hosts ${block ? createHash("sha256").update(block + "\n").digest("hex") : "none"}`));
            });
            it("the delete puts back only what this resource recorded, its owner record last", () => {
                const d = own(r.deleteScript);
                const steps = ["hearth_lock tuning", 'if [ -z "$found" ] || ! hearth_mine "$found"; then exit 0; fi', "hearth_sysctl_release ''", "hearth_tuning_timesync_off ", "hearth_tuning_hosts ''", "hearth_tuning_hostname_release", "hearth_forget tuning/owner"];
                let at = -1;
                for (const step of steps) {
                    const i = d.indexOf(step);
                    assert.ok(i > at, `${step} in order`);
                    at = i;
                }
                assert.doesNotMatch(d, /hearth_install|hearth_sysctl_apply/);
            });
        });
    }

    it("sets the live values before it persists them for boot (a value the kernel refuses is never written to the file)", () => {
        const s = own(renderTuning(FULL, MARK).script);
        const apply = s.indexOf("hearth_sysctl_apply ");
        assert.ok(apply > 0 && apply < s.indexOf(`hearth_install ${SYSCTL_CONF}`) && apply < s.indexOf("hearth_install "), "apply before the sysctl file");
    });

    it("writes a loosening's reason as a comment above its line, and nothing for the others", () => {
        const r = renderTuning({ sysctls: [["kernel.sysrq", "1"], ["vm.swappiness", "10"]], loosen: { "kernel.sysrq": "console debugging on the lab box" }, hosts: [] }, MARK);
        assert.deepEqual(r.frames[0].split("\n").slice(2), ["# loosened: console debugging on the lab box", "kernel.sysrq = 1", "vm.swappiness = 10", ""]);
    });

    it("writes the sysctl file as sysctl.d(5) reads it, and the drop-in as timesyncd.conf(5) does", () => {
        const r = renderTuning(FULL, MARK);
        const [conf, dropin] = r.frames;
        const lines = conf.split("\n").filter((l) => l && !l.startsWith("#"));
        assert.deepEqual(lines, ["net.core.default_qdisc = fq", "net.ipv4.ip_local_port_range = 1024 65000", "net.ipv4.tcp_congestion_control = bbr", "vm.swappiness = 10"]);
        for (const l of lines) assert.match(l, /^[a-z0-9_.-]+ = [A-Za-z0-9_.:,+ -]+$/);
        assert.deepEqual(dropin.split("\n").filter((l) => l && !l.startsWith("#")), ["[Time]", "NTP=ntp.example.org 10.0.0.1", "FallbackNTP="]);
        // No value of the spec reaches the script unquoted: the hosts block is one quoted word with its tab.
        assert.match(own(r.script), /^hearth_tuning_hosts '10\.0\.0\.2\ta\.lan a\nfd00::2\ta\.lan'$/m);
        assert.match(own(r.script), /^hearth_sysctl_apply net\.core\.default_qdisc fq net\.ipv4\.ip_local_port_range '1024 65000' /m);
    });
});
