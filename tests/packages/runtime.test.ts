// The hearth_apt_* primitives of the runtime, run in bash with apt, dpkg and systemctl replaced by shell functions
// that print what the real tools print (functions win over the PATH the runtime sets): which units a package ships
// (SysV scripts and \x2d escapes too), the state keys of any unit name, exact package names, what apt would remove
// or change, what counts as in use, and the protected units (one list, the same in TypeScript and in bash).
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RUNTIME } from "../../components/core/runtime";
import { isProtectedUnit, PROTECTED_UNIT_ERE } from "../../components/packages/protected";
import { isLifelineUnit } from "../../components/systemd/model";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-apt-rt-"));
const rt = path.join(dir, "runtime.sh");
fs.writeFileSync(rt, RUNTIME);

/** Runs BODY after the runtime (and STUBS, shell functions standing in for the host's tools); stdout, stderr, status. */
function bash(body: string, stubs = ""): { out: string; err: string; code: number | null } {
    const r = spawnSync("bash", ["--noprofile", "--norc", "-c", `source ${rt}\n${stubs}\n${body}`], { encoding: "utf8" });
    return { out: r.stdout, err: r.stderr, code: r.status };
}
const ok = (body: string, stubs = "") => {
    const r = bash(body, stubs);
    assert.equal(r.code, 0, `${r.out}${r.err}`);
    return r.out;
};
/** A stub printing TEXT whatever it is asked. */
const stub = (name: string, text: string) => `${name}() { cat <<'HEARTH_STUB_EOF'\n${text}\nHEARTH_STUB_EOF\n}`;

describe("hearth_apt_* primitives", () => {
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    describe("state keys of unit names", () => {
        const units = ["radicale.service", "_x.service", "foo\\x2dbar.service", "getty@.service", "a_b.socket", "-.service", ":x.timer", "x+y.path", "\\x2dlead.service"];
        for (const u of units) {
            it(`${JSON.stringify(u)}: a valid key that reads back as the unit`, () => {
                const out = ok(`k=$(hearth_apt_key ${shq(u)}); hearth_key "apt/mask/$k"; printf '%s\\n' "$k"; hearth_apt_unit_of "apt/mask/$k"`).split("\n");
                assert.equal(out[1], u, `key ${out[0]}`);
            });
        }
        it("a plain unit name is its own key (records of earlier runs stay valid); distinct names get distinct keys", () => {
            assert.equal(ok("hearth_apt_key radicale.service").trim(), "radicale.service");
            const keys = ok(units.map((u) => `hearth_apt_key ${shq(u)}`).join("\n")).trim().split("\n");
            assert.equal(new Set(keys).size, units.length);
        });
        it("the key rule refuses a leading '_' and a backslash as they are (what the encoding is for)", () => {
            assert.equal(bash("hearth_key apt/mask/_x.service").code, 70);
            assert.equal(bash("hearth_key 'apt/mask/a\\x2db.service'").code, 70);
        });
    });

    describe("the units a package ships", () => {
        const files = [
            "/.", "/etc", "/etc/init.d", "/etc/init.d/memcached", "/etc/init.d/olddaemon", "/etc/init.d/boot.sh", "/etc/init.d/README",
            "/lib/systemd/system/memcached.service", "/lib/systemd/system/memcached@.service", "/usr/lib/systemd/system/foo\\x2dbar.service",
            "/lib/systemd/system/x.target", "/lib/systemd/system/y.mount", "/usr/share/doc/memcached/x.service", "/lib/systemd/system/z.timer",
        ].join("\n");
        it("from the installed file list: native units, \\x2d escapes kept, SysV scripts without a native unit as <name>.service", () => {
            const out = ok("hearth_apt_units_installed memcached", stub("dpkg-query", files));
            assert.deepEqual(out.trim().split("\n"), ["boot.service", "foo\\x2dbar.service", "memcached.service", "memcached@.service", "olddaemon.service", "z.timer"]);
        });
        it("from a .deb listing (tar doubles a backslash)", () => {
            const listing = [
                "drwxr-xr-x root/root         0 2023-01-01 00:00 ./",
                "-rwxr-xr-x root/root      1234 2023-01-01 00:00 ./etc/init.d/sysvonly",
                "-rw-r--r-- root/root       300 2023-01-01 00:00 ./lib/systemd/system/a\\\\x2db.service",
                "lrwxrwxrwx root/root         0 2023-01-01 00:00 ./lib/systemd/system/alias.service -> a\\\\x2db.service",
                "-rw-r--r-- root/root       300 2023-01-01 00:00 ./usr/lib/systemd/system/c.socket",
            ].join("\n");
            const out = ok("hearth_apt_units_deb /nonexistent.deb", stub("dpkg-deb", listing));
            assert.deepEqual(out.trim().split("\n"), ["a\\x2db.service", "alias.service", "c.socket", "sysvonly.service"]);
        });
    });

    describe("exact package names", () => {
        const one = "memcached:\n  Installed: (none)\n  Candidate: 1.6.18-1\n  Version table:\n     1.6.18-1 500\n        500 file:/srv/hearth-apt ./ Packages\n     1.6.9-1 500\n        500 file:/srv/hearth-apt ./ Packages";
        const many = "libc6:\n  Installed: 2.36-9\n  Candidate: 2.36-9\n  Version table:\n *** 2.36-9 500\nlibcap2:\n  Installed: 1:2.66-4\n  Candidate: 1:2.66-4";
        it("the candidate of a package apt knows by exactly that name; the versions of its table", () => {
            assert.equal(ok("hearth_apt_candidate memcached", stub("apt-cache", one)).trim(), "1.6.18-1");
            assert.equal(bash("hearth_apt_has_version memcached 1.6.9-1", stub("apt-cache", one)).code, 0);
            assert.equal(bash("hearth_apt_has_version memcached 1.6.9", stub("apt-cache", one)).code, 1);
        });
        it("nothing for a name apt reads as a pattern (it matched other packages), or another package's name", () => {
            assert.equal(ok("hearth_apt_candidate 'lib.+'", stub("apt-cache", many)), "");
            assert.equal(ok("hearth_apt_candidate memcache", stub("apt-cache", one)), "");
            assert.equal(bash("hearth_apt_has_version 'lib.+' 2.36-9", stub("apt-cache", many)).code, 1);
            assert.equal(ok("hearth_apt_candidate nothere", stub("apt-cache", "N: Unable to locate package nothere")), "");
        });
    });

    describe("what apt would do besides", () => {
        it("refuses a remove that takes a package not declared along, naming it, before removing anything", () => {
            const sim = "Remv radicale [3.1.8-2]\nRemv radicale-plugin:amd64 [1.0]\nRemv python3-radicale [3.1.8-2]";
            const r = bash("hearth_apt_check_remove radicale python3-radicale; echo still-here", stub("apt-get", sim));
            assert.equal(r.code, 65);
            assert.match(r.err, /would also remove radicale-plugin, which this resource does not declare: refused \(nothing was removed/);
            assert.doesNotMatch(r.out, /still-here/);
            assert.match(ok("hearth_apt_check_remove radicale python3-radicale; echo fine", stub("apt-get", "Remv radicale [3.1.8-2]\nRemv python3-radicale [3]")), /fine/);
        });
        it("refuses an install that would remove a package, or change a held package not declared", () => {
            const removes = "Inst foo (1.0 local [amd64])\nRemv bar [2.0]";
            let r = bash("hearth_apt_check_install foo -- foo=1.0", stub("apt-get", removes) + "\n" + stub("apt-mark", ""));
            assert.equal(r.code, 65);
            assert.match(r.err, /installing foo=1\.0 would remove bar: refused/);
            const moves = "Inst libx [1.0] (2.0 local [amd64])\nInst foo [0.9] (1.0 local [amd64])\nConf libx (2.0 local [amd64])";
            r = bash("hearth_apt_check_install foo -- foo=1.0", stub("apt-get", moves) + "\n" + stub("apt-mark", "libx\nfoo"));
            assert.equal(r.code, 65);
            assert.match(r.err, /would change held packages libx, which this resource does not declare/);
            // The declared held package changing to its pin, and unheld packages upgraded along: allowed.
            ok("hearth_apt_check_install foo libx -- foo=1.0", stub("apt-get", moves) + "\n" + stub("apt-mark", "libx\nfoo"));
            ok("hearth_apt_check_install foo -- foo=1.0", stub("apt-get", moves) + "\n" + stub("apt-mark", "foo"));
        });
    });

    describe("units in use on the host", () => {
        const systemctl = (enabled: string, active: string, instances = "") =>
            `systemctl() { case $1 in is-enabled) echo ${enabled} ;; is-active) echo ${active} ;; list-units) printf '%s' ${shq(instances)} ;; esac; }`;
        it("enabled, an alias, indirect: in use; disabled or static and inactive: not", () => {
            assert.equal(ok("hearth_apt_in_use ssh.service", systemctl("enabled", "inactive")).trim(), "enabled");
            assert.equal(ok("hearth_apt_in_use sshd.service", systemctl("alias", "inactive")).trim(), "alias");
            assert.equal(ok("hearth_apt_in_use x.service", systemctl("disabled", "inactive")), "");
            assert.equal(ok("hearth_apt_in_use x.service", systemctl("static", "inactive")), "");
            assert.equal(ok("hearth_apt_in_use x.service", systemctl("not-found", "inactive")), "");
        });
        it("active (a disabled daemon someone started), or an active instance of a template", () => {
            assert.equal(ok("hearth_apt_in_use x.service", systemctl("disabled", "active")).trim(), "active");
            assert.equal(ok("hearth_apt_in_use x@.service", systemctl("disabled", "inactive", "x@a.service loaded active running X\n")).trim(), "active (an instance)");
        });
    });

    describe("protected units", () => {
        const protectedUnits = [
            "ssh.service", "ssh.socket", "ssh@.service", "sshd.service", "systemd-journald.service", "systemd-journald.socket", "systemd-logind.service",
            "systemd-networkd.service", "systemd-resolved.service", "systemd-machined.service", "systemd-nspawn@.service", "systemd-tmpfiles-clean.timer",
            "dbus.service", "dbus.socket", "dbus-broker.service", "getty@.service", "serial-getty@.service", "console-getty.service", "user@.service",
            "postgresql.service", "postgresql@.service", "pgbouncer.service", "zfs-import-cache.service", "zfs-mount.service", "zfs-zed.service",
            "zfs-fuse.service", "wg-quick@.service", "networking.service",
        ];
        const free = ["memcached.service", "radicale.service", "apache2.service", "nginx.service", "cron.service", "sshguard.service", "xsystemd-x.service", "pgbouncer-exporter.service", "postfix.service"];
        it("the host's lifelines, the units other hearth components run: protected; a packaged daemon: not", () => {
            for (const u of protectedUnits) assert.ok(isProtectedUnit(u), u);
            for (const u of free) assert.ok(!isProtectedUnit(u), u);
        });
        it("every unit SystemdService counts as a lifeline is protected", () => {
            for (const u of [...protectedUnits, ...free, "systemd-journald@x.service", "systemd-journald-audit.socket", "sshd@x.service"]) {
                if (isLifelineUnit(u)) assert.ok(isProtectedUnit(u), u);
            }
        });
        it("bash reads the expression as TypeScript does", () => {
            const all = [...protectedUnits, ...free];
            const out = ok(`hearth_apt_protect=${shq(PROTECTED_UNIT_ERE)}\nfor u in ${all.map(shq).join(" ")}; do if hearth_apt_protected "$u"; then echo "$u"; fi; done`);
            assert.deepEqual(out.trim().split("\n"), protectedUnits);
        });
    });
});

function shq(s: string): string {
    return `'${s.replace(/'/g, "'\\''")}'`;
}
