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
/** The host's architecture, whatever machine runs the specs. */
const AMD64 = "dpkg() { if [ \"$1\" = --print-architecture ]; then echo amd64; else command dpkg \"$@\"; fi; }";

/**
 * Applied state in a scratch directory (the real functions write /var/lib/hearth/applied), keys checked as the runtime
 * checks them; each test gets a fresh one. The keys, sorted with their values, read back by `state()`.
 */
let stateDir = "";
const stateStubs = () => [
    `S=${stateDir}`,
    'hearth_applied() { hearth_key "$1"; if [ -f "$S/$1" ]; then cat -- "$S/$1"; fi; }',
    'hearth_record() { hearth_key "$1"; if [ "$(hearth_applied "$1")" = "$2" ]; then return 0; fi; mkdir -p -- "$(dirname -- "$S/$1")"; printf \'%s\\n\' "$2" >"$S/$1"; hearth_step; }',
    'hearth_forget() { hearth_key "$1"; rm -f -- "$S/$1"; }',
    'hearth_applied_keys() { local f; for f in "$S/$1"/*; do if [ -f "$f" ]; then printf \'%s\\n\' "$1/${f##*/}"; fi; done; }',
].join("\n");
const state = (): string[] => {
    const out: string[] = [];
    const walk = (d: string, rel: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
            const r = rel ? `${rel}/${e.name}` : e.name;
            if (e.isDirectory()) walk(path.join(d, e.name), r);
            else out.push(`${r}=${fs.readFileSync(path.join(d, e.name), "utf8").trim()}`);
        }
    };
    walk(stateDir, "");
    return out;
};
const A = "p/s/hearth:apt:Packages/A";
const B = "p/s/hearth:apt:Packages/B";

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
            const r = bash("hearth_apt_check_remove radicale python3-radicale; echo still-here", stub("apt-get", sim) + "\n" + AMD64);
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

    describe("a foreign architecture's package (apt and apt-mark print it as name:arch)", () => {
        it("a held libfoo:i386 that the install would change: refused, even when libfoo (the host's own) is declared", () => {
            const sim = "Inst libfoo:i386 [1.0] (2.0 local [i386])\nInst foo [0.9] (1.0 local [amd64])";
            const r = bash("hearth_apt_check_install foo libfoo -- foo=1.0", [stub("apt-get", sim), stub("apt-mark", "libfoo:i386"), AMD64].join("\n"));
            assert.equal(r.code, 65, r.out + r.err);
            assert.match(r.err, /would change held packages libfoo:i386, which this resource does not declare/);
        });
        it("the host's own architecture written out (libx:amd64) is the plain name: declared, allowed; undeclared, refused", () => {
            const sim = "Inst libx:amd64 [1.0] (2.0 local [amd64])";
            ok("hearth_apt_check_install libx -- libx=2.0", [stub("apt-get", sim), stub("apt-mark", "libx"), AMD64].join("\n"));
            const r = bash("hearth_apt_check_install foo -- foo=1.0", [stub("apt-get", sim), stub("apt-mark", "libx"), AMD64].join("\n"));
            assert.equal(r.code, 65);
            assert.match(r.err, /would change held packages libx,/);
        });
        it("a remove taking libfoo:i386 along with libfoo: refused, naming libfoo:i386", () => {
            const r = bash("hearth_apt_check_remove libfoo", stub("apt-get", "Remv libfoo [1.0]\nRemv libfoo:i386 [1.0]") + "\n" + AMD64);
            assert.equal(r.code, 65);
            assert.match(r.err, /would also remove libfoo:i386, which this resource does not declare/);
        });
    });

    describe("decisions over applied state (records in a scratch directory; systemctl and apt-mark stubbed)", () => {
        let n = 0;
        beforeEach(() => {
            stateDir = path.join(dir, `state-${++n}`);
            fs.mkdirSync(stateDir);
            fs.mkdirSync(`${stateDir}.m`);
            fs.writeFileSync(`${stateDir}.holds`, "");
        });
        /**
         * systemctl over a table of units: is-enabled (default static), is-active (default inactive), show -p
         * TriggeredBy; mask/unmask as files under $S.m (hearth_apt_masked reads them); every call logged to $S.log.
         */
        const systemd = (enabled: Record<string, string> = {}, active: Record<string, string> = {}, triggeredBy: Record<string, string> = {}) => {
            const table = (m: Record<string, string>, dflt: string) =>
                `case $v in ${Object.entries(m).map(([u, x]) => `${shq(u)}) echo ${shq(x)} ;; `).join("")}*) ${dflt} ;; esac`;
            return [
                stateStubs(),
                "M=$S.m",
                "systemctl() {",
                '  local v=${*: -1}',
                '  echo "systemctl $*" >>"$S.log"',
                "  case $1 in",
                `    is-enabled) ${table(enabled, "echo static")} ;;`,
                `    is-active) ${table(active, "echo inactive")} ;;`,
                `    show) ${table(triggeredBy, ":")} ;;`,
                '    mask) if [ "$2" != --runtime ]; then : >"$M/$v"; fi ;;',
                '    unmask) rm -f -- "$M/$v" ;;',
                "  esac",
                "}",
                'hearth_apt_masked() { [ -e "$M/$1" ]; }',
                'apt-mark() { case $1 in showhold) cat "$S.holds" ;; hold) echo "${*: -1}" >>"$S.holds" ;; unhold) grep -vxF -- "${*: -1}" "$S.holds" >"$S.holds.n" || true; mv "$S.holds.n" "$S.holds" ;; esac; }',
            ].join("\n");
        };
        const masked = (u: string) => fs.existsSync(path.join(`${stateDir}.m`, u));
        const holds = () => fs.readFileSync(`${stateDir}.holds`, "utf8").trim();
        const calls = () => (fs.existsSync(`${stateDir}.log`) ? fs.readFileSync(`${stateDir}.log`, "utf8") : "");

        describe("a unit started by a unit in use (a timer's or socket's service)", () => {
            const timerOn = { "hearthtest-rotate.timer": "enabled" };
            it("a static service whose timer is enabled: in use, triggered by the timer (TriggeredBy, or the timer of its name)", () => {
                const sd = systemd(timerOn, { "hearthtest-rotate.timer": "active" }, { "hearthtest-rotate.service": "hearthtest-rotate.timer" });
                assert.equal(ok("hearth_apt_in_use hearthtest-rotate.service", sd).trim(), "triggered by hearthtest-rotate.timer, which is enabled");
                // systemd has not loaded it (nothing in TriggeredBy): the timer of its own name still counts.
                assert.equal(ok("hearth_apt_in_use hearthtest-rotate.service", systemd(timerOn)).trim(), "triggered by hearthtest-rotate.timer, which is enabled");
            });
            it("a service a path unit of another name triggers (TriggeredBy), and a template whose socket is enabled (Accept=yes)", () => {
                const sd = systemd({ "hearthtest-watch.path": "enabled", "hearthtest-conn.socket": "enabled" }, {}, { "hearthtest-run.service": "hearthtest-watch.path hearthtest-other.timer" });
                assert.equal(ok("hearth_apt_in_use hearthtest-run.service", sd).trim(), "triggered by hearthtest-watch.path, which is enabled");
                assert.equal(ok("hearth_apt_in_use hearthtest-conn@.service", sd).trim(), "triggered by hearthtest-conn.socket, which is enabled");
            });
            it("a static service whose timer is disabled and inactive: not in use", () => {
                const sd = systemd({ "hearthtest-rotate.timer": "disabled" }, {}, { "hearthtest-rotate.service": "hearthtest-rotate.timer" });
                assert.equal(ok("hearth_apt_in_use hearthtest-rotate.service", sd), "");
            });
            it("settled: the timer and its service both left alone, nothing masked or recorded, the advice names the timer", () => {
                const sd = systemd(timerOn, { "hearthtest-rotate.timer": "active" }, { "hearthtest-rotate.service": "hearthtest-rotate.timer" });
                const out = ok([
                    "hearth_owner=" + A,
                    "for u in hearthtest-rotate.service hearthtest-rotate.timer; do hearth_apt_settle \"$u\" installed; echo \"$u -> $hearth_apt_verdict\"; done",
                ].join("\n"), sd);
                assert.match(out, /^hearthtest-rotate\.service -> left$/m);
                assert.match(out, /^hearthtest-rotate\.timer -> left$/m);
                assert.match(out, /^hearth: left hearthtest-rotate\.service alone: it is triggered by hearthtest-rotate\.timer, which is enabled on this host .*systemctl disable --now hearthtest-rotate\.timer and the next run masks it\)$/m);
                assert.equal(masked("hearthtest-rotate.service"), false);
                assert.doesNotMatch(calls(), /systemctl mask/);
                assert.deepEqual(state(), []);
            });
            it("the same package on a host where nothing triggers it: the service and the timer masked", () => {
                const out = ok(`hearth_owner=${A}\nfor u in hearthtest-rotate.service hearthtest-rotate.timer; do hearth_apt_settle "$u" installed; echo "$u -> $hearth_apt_verdict"; done`, systemd());
                assert.match(out, /^hearthtest-rotate\.service -> masked$/m);
                assert.match(out, /^hearthtest-rotate\.timer -> masked$/m);
                assert.ok(masked("hearthtest-rotate.service") && masked("hearthtest-rotate.timer"));
            });
        });

        describe("a package moved from resource A to resource B in one update (B converges first, A's delete last)", () => {
            const conv = (owner: string, declared: string[], held: string[]) =>
                [`hearth_owner=${owner}`, `hearth_apt_declare ${declared.join(" ")}`, ...held.map((p) => `hearth_apt_hold ${p}`), `hearth_apt_release_holds ${held.join(" ")}`].join("\n");
            const del = (owner: string, pkgs: string[]) =>
                [`hearth_owner=${owner}`, "hearth_apt_lift_runtime", "hearth_apt_release_holds", ...pkgs.map((p) => `echo "declarer of ${p}: $(hearth_apt_declarer ${p})"`), "hearth_apt_forget_masks", "hearth_apt_forget_declared"].join("\n");
            it("held: B takes over the package's record and its hold; A's delete leaves the hold, and names B as the package's declarer", () => {
                const sd = systemd();
                ok(conv(A, ["foo", "bar"], ["foo"]), sd);
                assert.equal(holds(), "foo");
                const b = ok(conv(B, ["foo"], ["foo"]), sd);
                assert.match(b, new RegExp(`^hearth: taking over package foo from ${A} \\(this resource declares it now\\)$`, "m"));
                assert.match(b, new RegExp(`^hearth: taking over the hold on foo from ${A} `, "m"));
                const d = ok(del(A, ["foo", "bar"]), sd);
                assert.doesNotMatch(d, /released the hold on foo/);
                assert.match(d, new RegExp(`^declarer of foo: ${B}$`, "m"), "the delete's removeOnDelete skips foo");
                assert.match(d, /^declarer of bar: $/m, "bar is still A's to remove");
                assert.equal(holds(), "foo", "B's hold stays");
                assert.deepEqual(state(), [`apt/declared/foo=${B}`, `apt/hold/foo=${B}`]);
            });
            it("B declares it without a hold: B takes the hold over and releases it (the newest declaration wins)", () => {
                const sd = systemd();
                ok(conv(A, ["foo"], ["foo"]), sd);
                assert.match(ok(conv(B, ["foo"], []), sd), /^hearth: released the hold on foo$/m);
                assert.equal(holds(), "");
                ok(del(A, ["foo"]), sd);
                assert.deepEqual(state(), [`apt/declared/foo=${B}`]);
            });
            it("B's run killed after it recorded the package but before it took the hold over: A's delete still leaves the hold", () => {
                const sd = systemd();
                ok(conv(A, ["foo"], ["foo"]), sd);
                ok(`hearth_owner=${B}\nhearth_record apt/declared/foo "$hearth_owner"`, sd);
                assert.match(ok(del(A, ["foo"]), sd), new RegExp(`^hearth: left the hold on foo: ${B} declares it now$`, "m"));
                assert.equal(holds(), "foo");
                // B's next run takes the record over.
                ok(conv(B, ["foo"], ["foo"]), sd);
                assert.deepEqual(state(), [`apt/declared/foo=${B}`, `apt/hold/foo=${B}`]);
            });
            it("a mask A set on the package's unit: B takes it over (masked, or lifted when B keeps the unit); A's delete leaves it be", () => {
                const sd = systemd();
                ok(`hearth_owner=${A}\nhearth_apt_settle hearthtest-foo.service installed`, sd);
                assert.deepEqual(state(), [`apt/mask/hearthtest-foo.service=${A}`]);
                const b = ok(`hearth_owner=${B}\nhearth_apt_settle hearthtest-foo.service installed; echo "verdict $hearth_apt_verdict"; hearth_apt_say_masks mask`, sd);
                assert.match(b, /^verdict masked$/m);
                assert.match(b, /^hearth: mask hearthtest-foo\.service$/m);
                assert.doesNotMatch(ok(del(A, []), sd), /left masked/);
                assert.deepEqual(state(), [`apt/mask/hearthtest-foo.service=${B}`]);
                // Kept by the next resource it moves to: taken over, then lifted (it was hearth's).
                const c = ok(`hearth_owner=${A}\nhearth_apt_keep=(hearthtest-foo.service)\nhearth_apt_settle hearthtest-foo.service installed; hearth_apt_unmask_others -- hearthtest-foo.service`, sd);
                assert.match(c, /^hearth: unmasked hearthtest-foo\.service$/m);
                assert.equal(masked("hearthtest-foo.service"), false);
                assert.deepEqual(state(), []);
            });
        });

        describe("masks no longer wanted: lifted only when the unit is kept now", () => {
            const settle = (u: string, keep: string[] = []) => `hearth_owner=${A}\nhearth_apt_keep=(${keep.join(" ")})\nhearth_apt_settle ${u} installed; echo "verdict $hearth_apt_verdict"`;
            it("an admin's mask is adopted as adopted: reported as masked, never lifted when its package is dropped (the record goes, said so)", () => {
                const sd = systemd();
                fs.writeFileSync(path.join(`${stateDir}.m`, "hearthtest-foo.service"), "");
                const one = ok(`${settle("hearthtest-foo.service")}\nhearth_apt_unmask_others hearthtest-foo.service --\nhearth_apt_say_masks mask`, sd);
                assert.match(one, /^hearth: adopted the mask of hearthtest-foo\.service \(it was masked before: kept masked, never lifted by this resource\)$/m);
                assert.match(one, /^hearth: mask hearthtest-foo\.service$/m);
                assert.deepEqual(state(), [`apt/mask-adopted/hearthtest-foo.service=${A}`]);
                // Its package dropped from `packages`: nothing settles the unit; the mask stays.
                const two = ok(`hearth_owner=${A}\nhearth_apt_unmask_others --`, sd);
                assert.match(two, /^hearth: left masked: hearthtest-foo\.service \(masked before this resource adopted it; systemctl unmask hearthtest-foo\.service/m);
                assert.equal(masked("hearthtest-foo.service"), true, "the admin's mask stays");
                assert.doesNotMatch(calls(), /unmask/);
                assert.deepEqual(state(), []);
            });
            it("an adopted mask on a unit now in keepUnits: refused (the admin's to lift), the mask left", () => {
                const sd = systemd();
                fs.writeFileSync(path.join(`${stateDir}.m`, "hearthtest-foo.service"), "");
                ok(settle("hearthtest-foo.service"), sd);
                const r = bash(settle("hearthtest-foo.service", ["hearthtest-foo.service"]), sd);
                assert.equal(r.code, 65);
                assert.match(r.err, /unit hearthtest-foo\.service is in keepUnits but masked, not by this resource/);
                assert.equal(masked("hearthtest-foo.service"), true);
            });
            it("hearth's own mask, its package dropped: left masked and said so; now kept: lifted", () => {
                const sd = systemd();
                ok(settle("hearthtest-foo.service"), sd);
                assert.deepEqual(state(), [`apt/mask/hearthtest-foo.service=${A}`]);
                const dropped = ok(`hearth_owner=${A}\nhearth_apt_unmask_others --`, sd);
                assert.match(dropped, /^hearth: left masked: hearthtest-foo\.service \(its package is no longer declared by this resource; systemctl unmask hearthtest-foo\.service/m);
                assert.equal(masked("hearthtest-foo.service"), true);
                assert.deepEqual(state(), []);
                // Declared again: the unrecorded mask adopted; an own mask (after a manual unmask) lifted once kept.
                fs.rmSync(path.join(`${stateDir}.m`, "hearthtest-foo.service"));
                ok(settle("hearthtest-foo.service"), sd);
                assert.deepEqual(state(), [`apt/mask/hearthtest-foo.service=${A}`]);
                const kept = ok(`${settle("hearthtest-foo.service", ["hearthtest-foo.service"])}\nhearth_apt_unmask_others -- hearthtest-foo.service`, sd);
                assert.match(kept, /^hearth: unmasked hearthtest-foo\.service$/m);
                assert.equal(masked("hearthtest-foo.service"), false);
            });
            it("an adopted mask someone lifted: the record goes, and the unit is masked afresh as hearth's", () => {
                const sd = systemd();
                fs.writeFileSync(path.join(`${stateDir}.m`, "hearthtest-foo.service"), "");
                ok(settle("hearthtest-foo.service"), sd);
                fs.rmSync(path.join(`${stateDir}.m`, "hearthtest-foo.service"));
                assert.match(ok(settle("hearthtest-foo.service"), sd), /^hearth: masked hearthtest-foo\.service/m);
                assert.deepEqual(state(), [`apt/mask/hearthtest-foo.service=${A}`]);
            });
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
            // rsyslog's unit Requires= syslog.socket; software RAID and LVM upkeep (timers and sockets included).
            "syslog.socket", "mdadm-last-resort@.timer", "mdadm-last-resort@.service", "mdmonitor.service", "mdmonitor-oneshot.timer", "mdmon@.service",
            "mdcheck_start.timer", "mdcheck_continue.service", "lvm2-monitor.service", "lvm2-lvmpolld.socket", "lvm2-lvmpolld.service",
            "dm-event.socket", "blk-availability.service",
        ];
        const free = [
            "memcached.service", "radicale.service", "apache2.service", "nginx.service", "cron.service", "sshguard.service", "xsystemd-x.service",
            "pgbouncer-exporter.service", "postfix.service", "rsyslog.service", "logrotate.service", "syslog-ng.service", "xmdadm.service",
        ];
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
