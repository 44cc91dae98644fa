// SystemdService's drift check: the lines each kind of service renders (built from the same plan as its converge), a
// host check script over them that bash and shellcheck accept, and the runtime's hearth_check_* functions of the
// systemd section run in bash with systemctl replaced by a shell function: each reports its drift, and nothing on a
// host as the converge leaves it.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CHECK_LINE, parseCheckOutput, renderHostCheck } from "../../components/core/check";
import { RUNTIME } from "../../components/core/runtime";
import { unquote } from "../../components/core/shell";
import { renderService, resolveServiceArgs } from "../../components/systemd";
import { appliedKey } from "../../components/systemd/script";
import { checkScript } from "../tools";
import { installMocks } from "../mocks";
import { markOf } from "./marks";
import { scenarios, testHost } from "./scenarios";

/** The check lines of scenario `name`, each split into its words. */
function checkOf(name: string): string[][] {
    const host = testHost();
    const s = scenarios(host).find((x) => x.name === name)!;
    const r = renderService(resolveServiceArgs(s.name, { host, ...s.args }), markOf(s.name));
    return r.check.map((l) => l.split(" ").map(unquote));
}
const calls = (lines: string[][], fn: string) => lines.filter((l) => l[0] === fn).map((l) => l.slice(1));

describe("SystemdService drift check lines", () => {
    before(() => installMocks());

    it("a long-running service: enabled and active, its credentials directory, what it runs is what hearth applied", () => {
        const c = checkOf("api");
        assert.deepEqual(calls(c, "hearth_check_unit"), [["api.service", "enabled", "active"]]);
        assert.deepEqual(calls(c, "hearth_check_credentials"), [["/etc/credstore/api.service", "api-token", "db.password"]]);
        const [applied] = calls(c, "hearth_check_unit_applied");
        assert.deepEqual(applied, [appliedKey("/etc/systemd/system/api.service"), "api.service", "3", "/etc/systemd/system/api.service", "/etc/credstore/api.service/api-token", "/etc/credstore/api.service/db.password"]);
    });

    it("a timer job: the timer enabled and active, the service loaded; the timer is what restarts", () => {
        const c = checkOf("backup");
        assert.deepEqual(calls(c, "hearth_check_unit"), [["backup.timer", "enabled", "active"], ["backup.service", "-", "-"]]);
        assert.equal(calls(c, "hearth_check_unit_applied")[0][1], "backup.timer");
    });

    it("a socket-activated service: the socket enabled and active, the service and its proxy only loaded", () => {
        const c = checkOf("scale0");
        assert.deepEqual(calls(c, "hearth_check_unit"), [["scale0-proxy.socket", "enabled", "active"], ["scale0.service", "-", "-"], ["scale0-proxy.service", "-", "-"]]);
        assert.equal(calls(c, "hearth_check_unit_applied")[0][1], "scale0-proxy.socket");
    });

    it("a drop-in over a packaged unit: the drop-in loaded; no credentials directory of its own", () => {
        const c = checkOf("nginx");
        assert.deepEqual(calls(c, "hearth_check_dropin"), [["nginx.service", "/etc/systemd/system/nginx.service.d/50-hearth.conf"]]);
        assert.deepEqual(calls(c, "hearth_check_credentials"), []);
        assert.equal(calls(c, "hearth_check_unit_applied")[0][0], appliedKey("/etc/systemd/system/nginx.service.d/50-hearth.conf"));
    });

    it("a reloadable service with config files and a watched file: only unit files and credentials are in its record's second digest", () => {
        const c = checkOf("app");
        const [applied] = calls(c, "hearth_check_unit_applied");
        assert.equal(applied[1], "app.service");
        assert.equal(applied[2], "1", "the unit file alone restarts it: its config files and the watched file reload it");
        assert.ok(applied.includes("/etc/motd"), "the watched file is part of the digest");
        assert.ok(applied.slice(4).every((p) => p.startsWith("/usr/local/etc/hearth/app.service/") || p === "/etc/motd"));
    });

    it("every line of every scenario is one call of a read-only runtime function, and the host check script passes bash -n and shellcheck", () => {
        const host = testHost();
        const checks = scenarios(host).map((s) => {
            const r = renderService(resolveServiceArgs(s.name, { host, ...s.args }), markOf(s.name));
            for (const l of r.check) assert.match(l, CHECK_LINE);
            assert.ok(r.check.some((l) => l.startsWith("hearth_check_unit_applied ")), `${s.name} checks what it runs`);
            return { resource: `hearth:systemd:Service ${s.name}`, sudo: true, lines: r.check };
        });
        assert.deepEqual(checkScript(renderHostCheck("box", checks)), []);
    });
});

// ---- the runtime functions, with systemctl a shell function over a table of unit states ----------------------------

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-sd-check-"));
const rt = path.join(dir, "runtime.sh");
fs.writeFileSync(rt, RUNTIME);

/**
 * Runs check BODY as a resource's checks, with systemctl answering from UNITS (unit -> its properties; `enabled` is
 * what is-enabled prints, exit 0 for enabled and static) and applied state read from STATE (key -> value). The drift.
 */
function check(body: string, units: Record<string, Record<string, string>>, state: Record<string, string> = {}): string[] {
    const table = Object.entries(units).flatMap(([u, props]) => Object.entries(props).map(([k, v]) => `${u}|${k}|${v}`)).join("\n");
    const stubs = [
        `hearth_units_table=$(cat <<'HEARTH_TABLE_EOF'\n${table}\nHEARTH_TABLE_EOF\n)`,
        'hearth_unit_prop() { printf "%s\\n" "$hearth_units_table" | awk -F"|" -v u="$1" -v k="$2" \'$1 == u && $2 == k { print $3 }\'; }',
        "systemctl() {",
        '  local q=0 v',
        '  case $1 in',
        '    is-enabled) shift; [ "$1" = -q ] && { q=1; shift; }; [ "$1" = -- ] && shift; v=$(hearth_unit_prop "$1" enabled); [ "$q" = 1 ] || [ -z "$v" ] || echo "$v"; case $v in enabled | static) return 0 ;; *) return 1 ;; esac ;;',
        '    is-active) shift; [ "$1" = -q ] && { q=1; shift; }; [ "$1" = -- ] && shift; v=$(hearth_unit_prop "$1" ActiveState); [ "$q" = 1 ] || echo "${v:-inactive}"; [ "$v" = active ] ;;',
        // `show -p X --value -- UNIT` prints one value; `show -p A,B -- UNIT` prints A=... lines (UnitFileState: the
        // is-enabled word).
        '    show) if [ "$4" = --value ]; then hearth_unit_prop "$6" "$3"; else for v in ${3//,/ }; do printf "%s=%s\\n" "$v" "$(hearth_unit_prop "$5" "$([ "$v" = UnitFileState ] && echo enabled || echo "$v")")"; done; fi ;;',
        '    *) echo "systemctl $1 must not run in a check" >&2; return 99 ;;',
        "  esac",
        "}",
        ...Object.entries(state).map(([k, v]) => `hearth_state_${k.replace(/[^A-Za-z0-9]/g, "_")}=${JSON.stringify(v)}`),
        'hearth_applied() { local n=hearth_state_${1//[^A-Za-z0-9]/_}; printf "%s" "${!n:-}"; }',
    ].join("\n");
    const script = `source ${rt}\n${stubs}\nhearth_check_begin r\n${body}\n`;
    const r = spawnSync("bash", ["--noprofile", "--norc", "-c", script], { encoding: "utf8" });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    return parseCheckOutput(r.stdout)[0].drift.map((d) => `${d.what}: ${d.desired} -> ${d.found}`);
}

const healthy = { enabled: "enabled", LoadState: "loaded", NeedDaemonReload: "no", ActiveState: "active" };

describe("SystemdService drift check functions", () => {
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("hearth_check_unit: nothing on a unit as converged; disabled, stopped, stale, masked and unloaded units each reported", () => {
        assert.deepEqual(check("hearth_check_unit web.service enabled active", { "web.service": healthy }), []);
        assert.deepEqual(check("hearth_check_unit web.service disabled inactive", { "web.service": { ...healthy, enabled: "disabled", ActiveState: "failed" } }), []);
        assert.deepEqual(check("hearth_check_unit web.service enabled active", { "web.service": { ...healthy, enabled: "disabled", ActiveState: "inactive", NeedDaemonReload: "yes" } }), [
            "unit web.service enabled: enabled -> disabled",
            "unit web.service NeedDaemonReload: no -> yes",
            "unit web.service active: active -> inactive",
        ]);
        assert.deepEqual(check("hearth_check_unit web.service disabled inactive", { "web.service": healthy }), ["unit web.service enabled: disabled -> enabled", "unit web.service active: inactive -> active"]);
        assert.deepEqual(check("hearth_check_unit web.service enabled active", { "web.service": { ...healthy, enabled: "masked" } }), ["unit web.service: not masked -> masked"]);
        assert.deepEqual(check("hearth_check_unit web.service - -", { "web.service": { ...healthy, LoadState: "not-found", enabled: "" } }), ["unit web.service loaded: loaded -> not-found"]);
        // A static unit (no [Install]) counts as enabled, as the converge reads it.
        assert.deepEqual(check("hearth_check_unit web.service enabled active", { "web.service": { ...healthy, enabled: "static" } }), []);
    });

    it("hearth_check_dropin: the drop-in loaded and fresh; nothing while the packaged unit is not installed", () => {
        const d = "/etc/systemd/system/nginx.service.d/hearth.conf";
        assert.deepEqual(check(`hearth_check_dropin nginx.service ${d}`, { "nginx.service": { ...healthy, DropInPaths: `/usr/lib/x.conf ${d}` } }), []);
        assert.deepEqual(check(`hearth_check_dropin nginx.service ${d}`, { "nginx.service": { ...healthy, DropInPaths: "", NeedDaemonReload: "yes" } }), [
            `unit nginx.service drop-in ${d}: loaded -> not loaded (no daemon-reload since it was written)`,
            "unit nginx.service NeedDaemonReload: no -> yes",
        ]);
        assert.deepEqual(check(`hearth_check_dropin nginx.service ${d}`, { "nginx.service": { LoadState: "not-found" } }), []);
    });

    it("hearth_check_unit: a unit overridden by hand (a copy under /run, a drop-in in /etc or /run, set-property) is reported; hearth's own drop-in and packages' are not", () => {
        const own = "/etc/systemd/system/web.service.d/50-hearth.conf";
        const props = (frag: string, dropins: string) => ({ "web.service": { ...healthy, FragmentPath: frag, DropInPaths: dropins } });
        assert.deepEqual(check(`hearth_check_unit web.service enabled active ${own}`, props("/etc/systemd/system/web.service", `/usr/lib/systemd/system/service.d/10-timeout-abort.conf ${own}`)), []);
        assert.deepEqual(check(`hearth_check_unit web.service enabled active ${own}`, props("/run/systemd/system/web.service", "/etc/systemd/system/web.service.d/zz-hand.conf /run/systemd/system/web.service.d/override.conf /etc/systemd/system.control/web.service.d/50-MemoryMax.conf")), [
            "unit web.service file: hearth's -> /run/systemd/system/web.service overrides it",
            "unit web.service drop-in /etc/systemd/system/web.service.d/zz-hand.conf: absent -> present (not hearth's)",
            "unit web.service drop-in /run/systemd/system/web.service.d/override.conf: absent -> present (not hearth's)",
            "unit web.service drop-in /etc/systemd/system.control/web.service.d/50-MemoryMax.conf: absent -> present (not hearth's)",
        ]);
    });

    it("hearth_check_unit_applied: the recorded digest, the reloadable record, files changed since", () => {
        const f = path.join(dir, "unit.service");
        const c = path.join(dir, "conf");
        fs.writeFileSync(f, "[Service]\n");
        fs.writeFileSync(c, "a = 1\n");
        const digest = (...paths: string[]) => spawnSync("bash", ["--noprofile", "--norc", "-c", `source ${rt}\nhearth_digest "$@"`, "-", ...paths], { encoding: "utf8" }).stdout.trim();
        const all = digest(f, c);
        const unit = digest(f);
        const key = "systemd/unit.service";
        // The files are in a temp directory below /tmp, which others can change: reported, and no digest taken.
        assert.deepEqual(check(`hearth_check_unit_applied ${key} unit.service 2 ${f} ${c}`, { "unit.service": healthy }, { [key]: all }), [
            `${f}: below directories only root can change -> /tmp is a link, not a directory, or others can change it`,
        ]);
        // The rest as if that directory were root's (hearth_check_root_path has its own specs).
        const run = (units: Record<string, Record<string, string>>, rec: string, n = 2) => check(`hearth_check_root_path() { :; }\nhearth_check_unit_applied ${key} unit.service ${n} ${f} ${c}`, units, rec ? { [key]: rec } : {});
        assert.deepEqual(run({ "unit.service": healthy }, all), []);
        assert.deepEqual(run({ "unit.service": healthy }, `${all} ${unit}`, 1), [], "a reloadable service's record");
        assert.deepEqual(run({ "unit.service": healthy }, ""), ["unit unit.service applied content: recorded by its converge -> none recorded"]);
        assert.deepEqual(run({ "unit.service": healthy }, "0".repeat(64)), ["unit unit.service applied content: as hearth last applied it -> its files changed since"]);
        // The record of a reloadable service: its unit files' digest too.
        assert.deepEqual(run({ "unit.service": healthy }, `${all} ${"0".repeat(64)}`, 1), ["unit unit.service applied content: as hearth last applied it -> its files changed since"]);
        assert.deepEqual(check(`hearth_check_root_path() { :; }\nhearth_check_unit_applied ${key} - 2 ${f} ${c}`, {}, {}), ["unit unit.service applied content: recorded by its converge -> none recorded"]);
    });

    it("hearth_check_credentials: extra files reported, a directory of another mode reported, an absent directory without credentials is fine", () => {
        const cred = path.join(dir, "credstore");
        fs.mkdirSync(cred, { mode: 0o700 });
        fs.chmodSync(cred, 0o700);
        fs.writeFileSync(path.join(cred, "token"), "x", { mode: 0o600 });
        const owner = spawnSync("stat", ["-c", "%U %G", cred], { encoding: "utf8" }).stdout.trim();
        const mode = owner === "root root" ? [] : [`${cred} mode: 0700 root:root -> 0700 ${owner}`];
        assert.deepEqual(check(`hearth_check_credentials ${cred} token`, {}), mode);
        fs.writeFileSync(path.join(cred, "stale"), "x");
        fs.chmodSync(cred, 0o755);
        assert.deepEqual(check(`hearth_check_credentials ${cred} token`, {}), [`${cred} mode: 0700 root:root -> 0755 ${owner}`, `credential ${cred}/stale: absent -> present (not declared)`]);
        assert.deepEqual(check(`hearth_check_credentials ${path.join(dir, "none")}`, {}), []);
        assert.deepEqual(check(`hearth_check_credentials ${path.join(dir, "none")} token`, {}), [`${path.join(dir, "none")}: present -> absent`]);
    });
});
