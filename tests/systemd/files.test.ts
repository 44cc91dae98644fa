// SystemdService config files, typed ordering, type and execReload: hostile inputs refused before anything registers,
// references on the service's own host only, the hearth-uses line, the reload decision and the listener registry.
import { strict as assert } from "assert";
import { RUNTIME } from "../../components/core/runtime";
import * as pulumi from "@pulumi/pulumi";
import { SystemdService, SystemdServiceArgs, renderService, resolveServiceArgs } from "../../components/systemd";
import { installMocks, recorded, resetRecorded, resolve, settle } from "../mocks";
import { checkScript } from "../tools";
import { dependable, testHost } from "./scenarios";
import { markOf } from "./marks";

/** A script without the runtime it carries: the component's own lines. */
const ownLines = (script: string): string => script.replace(RUNTIME, "");

const ok = { description: "A service", execStart: ["/bin/sleep", "infinity"] };
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- hostile values of any type
const file = (target: any, content: any = "x = 1\n", mode?: any) => ({ files: [{ target: target as string, content: content as string, ...(mode === undefined ? {} : { mode: mode as string }) }] });

describe("SystemdService config files and ordering", () => {
    const host = testHost();
    const other = testHost("other");
    before(() => installMocks());
    beforeEach(() => resetRecorded());

    const cases: [what: string, over: () => Record<string, unknown>, arg: string][] = [
        ["a relative target", () => file("etc/app/config"), "files[0].target"],
        ["'..' in a target", () => file("/etc/app/../shadow"), "files[0].target"],
        ["'//' in a target", () => file("/etc//app/config"), "files[0].target"],
        ["a newline in a target", () => file("/etc/app/config\nExecStart=/bin/sh"), "files[0].target"],
        ["NUL in a target", () => file("/etc/app/con\0fig"), "files[0].target"],
        ["a space in a target", () => file("/etc/app/my config"), "files[0].target"],
        ["a ':' in a target (a second bind)", () => file("/etc/app/config:/etc/shadow"), "files[0].target"],
        ["a one-segment target", () => file("/etc"), "files[0].target"],
        ["a target in /proc", () => file("/proc/sys/kernel/x"), "files[0].target"],
        ["a target in the credential store", () => file("/etc/credstore/web.service/x"), "files[0].target"],
        ["a target over systemd's configuration", () => file("/etc/systemd/system.conf"), "files[0].target"],
        ["a target in hearth's own tree", () => file("/usr/local/etc/hearth/x.service/etc/a"), "files[0].target"],
        ["a trailing slash", () => file("/etc/app/"), "files[0].target"],
        ["huge content", () => file("/etc/app/config", "x".repeat(1024 * 1024 + 1)), "files[0].content"],
        ["NUL in content", () => file("/etc/app/config", "a\0b"), "files[0].content"],
        ["content that is a number", () => file("/etc/app/config", 42), "files[0].content"],
        ["a world-writable mode", () => file("/etc/app/config", "x", "0666"), "files[0].mode"],
        ["a group-writable mode", () => file("/etc/app/config", "x", "0664"), "files[0].mode"],
        ["a setuid mode", () => file("/etc/app/config", "x", "4755"), "files[0].mode"],
        ["a setgid mode", () => file("/etc/app/config", "x", "2644"), "files[0].mode"],
        ["a sticky mode", () => file("/etc/app/config", "x", "1644"), "files[0].mode"],
        ["a mode as a number", () => file("/etc/app/config", "x", 0o644), "files[0].mode"],
        ["a mode as YAML reads an unquoted 0644", () => file("/etc/app/config", "x", 644), "files[0].mode"],
        ["a 3-digit mode", () => file("/etc/app/config", "x", "644"), "files[0].mode"],
        ["a mode with an 8", () => file("/etc/app/config", "x", "0648"), "files[0].mode"],
        ["a negative mode", () => file("/etc/app/config", "x", -1), "files[0].mode"],
        ["an unknown key in a file", () => ({ files: [{ target: "/etc/app/config", content: "x", owner: "www-data" }] }), "files[0].owner"],
        ["two files with one target", () => ({ files: [{ target: "/etc/app/a", content: "1" }, { target: "/etc/app/a", content: "2" }] }), "files[1].target"],
        ["65 files", () => ({ files: Array.from({ length: 65 }, (_, i) => ({ target: `/etc/app/f${i}`, content: "x" })) }), "files"],
        ["files that are not a list", () => ({ files: { target: "/etc/app/config", content: "x" } }), "files"],
        ["a unit name string in requires", () => ({ requires: ["postgresql.service"] }), "requires[0]"],
        ["a plain object in after", () => ({ after: [{ name: "db" }] }), "after[0]"],
        ["a Host in wants", () => ({ wants: [host] }), "wants[0]"],
        ["null in after", () => ({ after: [null] }), "after[0]"],
        ["a reference on another host", () => ({ requires: [dependable(host, "ZfsDataset 'a'", { mounts: ["/srv/a"] }), dependable(other, "ZfsDataset 'b'", { mounts: ["/srv/b"] })] }), "requires[1]"],
        ["a reference whose unit is a shell line", () => ({ after: [dependable(host, "Evil 'x'", { units: ["x.service; rm -rf /"] })] }), "after[0]"],
        ["a reference whose mount has a ':'", () => ({ requires: [dependable(host, "Evil 'x'", { mounts: ["/srv/a:/etc"] })] }), "requires[0]"],
        ["a reference whose file is relative", () => ({ wants: [dependable(host, "Evil 'x'", { files: ["etc/x"] })] }), "wants[0]"],
        ["an unknown type", () => ({ type: "forking" }), "type"],
        ["a notify timer job", () => ({ type: "notify", timer: { onCalendar: "daily" } }), "type"],
        ["a oneshot socket service", () => ({ type: "oneshot", socket: { listenStream: 8081, idleStopSec: 30, targetPort: 8080 } }), "type"],
        ["a oneshot that restarts always", () => ({ type: "oneshot", restart: "always" }), "restart"],
        ["a relative reload program", () => ({ execReload: ["kill", "-HUP"] }), "execReload[0]"],
        ["a newline in a reload argument", () => ({ execReload: ["/bin/kill", "-HUP\nExecStartPre=/bin/sh"] }), "execReload[1]"],
        ["execReload on a timer job", () => ({ execReload: ["/bin/true"], timer: { onCalendar: "daily" } }), "execReload"],
        ["a relative working directory", () => ({ workingDirectory: "srv/app" }), "workingDirectory"],
        ["a working directory in /proc", () => ({ workingDirectory: "/proc/1" }), "workingDirectory"],
        ["a relative environment file", () => ({ environmentFile: "-etc/default/app" }), "environmentFile"],
        ["a specifier in an environment file", () => ({ environmentFile: "/etc/default/%n" }), "environmentFile"],
        ["an environment file from the credential store", () => ({ environmentFile: "/etc/credstore/x/y" }), "environmentFile"],
        ["an environment file the service's own state directory holds", () => ({ environmentFile: "/var/lib/app/env" }), "environmentFile"],
        ["an environment file in /tmp", () => ({ environmentFile: "-/tmp/env" }), "environmentFile"],
        ["an environment file in a home directory", () => ({ environmentFile: "/home/alice/env" }), "environmentFile"],
        ["a reference whose resources are not resources", () => ({ requires: [{ dependency: { label: "Fake 'x'", host, units: [], mounts: [], files: [], resources: ["x"] } }] }), "requires[0]"],
        ["a type on a drop-in", () => ({ dropIn: { unit: "nginx.service" }, execStart: undefined, description: undefined, type: "notify" }), "type"],
        ["execReload on a drop-in", () => ({ dropIn: { unit: "nginx.service" }, execStart: undefined, description: undefined, execReload: ["/bin/true"] }), "execReload"],
        ["files on a drop-in over ssh", () => ({ dropIn: { unit: "ssh.service" }, execStart: undefined, description: undefined, network: "internet", ...file("/etc/ssh/x") }), "files"],
        ["requires on a drop-in over journald", () => ({ dropIn: { unit: "systemd-journald.service" }, execStart: undefined, description: undefined, network: "internet", requires: [dependable(host, "ZfsDataset 'a'", { mounts: ["/srv/a"] })] }), "requires"],
    ];

    for (const [what, over, arg] of cases) {
        it(`refuses ${what}, naming '${arg}', registering nothing`, async () => {
            const args = { host, ...ok, ...over() } as unknown as SystemdServiceArgs;
            assert.throws(
                () => new SystemdService("svc", args),
                (e: unknown) => {
                    assert.ok(e instanceof pulumi.ResourceError, `not a ResourceError: ${e}`);
                    assert.ok(e.message.includes(`The '${arg}' argument`), `message does not name '${arg}': ${e.message}`);
                    assert.match(e.message, /is not allowed: expected .{20,}/);
                    return true;
                },
            );
            await settle();
            assert.deepEqual(recorded.map((r) => `${r.type} ${r.name}`), []);
        });
    }

    it("says which host a reference on another host is on, and what is allowed for a non-component", () => {
        assert.throws(() => new SystemdService("x1", { host, ...ok, requires: [dependable(other, "ZfsDataset 'b'")] } as SystemdServiceArgs), /on this service's own host 'box' \(ZfsDataset 'b' is on 'other'\)/);
        assert.throws(() => new SystemdService("x2", { host, ...ok, after: [{ secretKey: "hunter2" }] } as unknown as SystemdServiceArgs), (e: unknown) => {
            const m = String((e as Error).message);
            assert.match(m, /SystemdService, ZfsDataset, PostgresDb, HostFile or DebianPackages/);
            assert.doesNotMatch(m, /hunter2/);
            return true;
        });
    });

    describe("a file's mode: the shared rule (a quoted 4-digit octal string), in the words of each refusal", () => {
        const refused = (mode: unknown) => {
            try {
                resolveServiceArgs("m", { host, ...ok, ...file("/etc/app/config", "x", mode) } as SystemdServiceArgs);
            } catch (e) {
                return String((e as Error).message);
            }
            assert.fail(`mode ${String(mode)} accepted`);
        };
        it("says to quote the octal string when given a number", () => {
            assert.equal(
                refused(644),
                "The 'files[0].mode' argument 644 is not allowed: expected a file mode as a quoted 4-digit octal string, e.g. \"0644\" or \"0640\" (a number is refused: YAML reads an unquoted 0644 as 644 or as octal depending on the parser, and 0o644 in code is 420; quote the octal string).",
            );
            assert.match(refused(0o100), /'files\[0\]\.mode' argument 64 .*quote the octal string/);
        });
        it("names the refused bits", () => {
            assert.match(refused("4755"), /"4755" is not allowed: expected a mode without setuid, setgid or sticky bits \(the first of the 4 digits is 0\): a service's config file is never a privileged program\.$/);
            assert.match(refused("0664"), /"0664" is not allowed: expected a mode no other user may write \(no 0020 or 0002 bit\): the file is root's and only root changes it\.$/);
        });
        it("hands the renderer the number the string means, 0644 by default; execute bits stay allowed", () => {
            const modes = (files: { target: string; content: string; mode?: string }[]) => resolveServiceArgs("m", { host, ...ok, files }).files.map((f) => f.mode);
            assert.deepEqual(modes([{ target: "/etc/app/a", content: "x" }, { target: "/etc/app/b", content: "x", mode: "0640" }, { target: "/etc/app/c", content: "x", mode: "0755" }, { target: "/etc/app/d", content: "x", mode: "0000" }]), [0o644, 0o640, 0o755, 0]);
        });
    });

    it("binds each file read-only from the service's tree and renders the ordering lines", () => {
        const db = dependable(host, "PostgresDb 'app'", { units: ["postgresql@15-main.service"] });
        const data = dependable(host, "ZfsDataset 'data'", { mounts: ["/srv/data"] });
        const web = dependable(host, "SystemdService 'web'", { units: ["web.service"] });
        const r = resolveServiceArgs("cal", { host, ...ok, ...file("/etc/radicale/config"), requires: [data, db], wants: [web], after: [db] });
        const out = renderService(r, markOf("cal"));
        const lines = out.unitText.split("\n");
        assert.ok(lines.includes("BindReadOnlyPaths=/usr/local/etc/hearth/cal.service/etc/radicale/config:/etc/radicale/config"));
        assert.ok(lines.includes("Requires=postgresql@15-main.service"));
        assert.ok(lines.includes("Wants=web.service"));
        assert.ok(lines.includes("After=postgresql@15-main.service web.service"));
        assert.ok(lines.includes("RequiresMountsFor=/srv/data"));
        assert.deepEqual(checkScript(out.script), []);
        assert.deepEqual(checkScript(out.deleteScript), []);
    });

    it("stops before writing anything when a file's target does not exist on the host (systemd would create it in the host's tree)", () => {
        const out = renderService(resolveServiceArgs("t", { host, ...ok, files: [{ target: "/etc/t/a", content: "1" }, { target: "/etc/t/b", content: "2" }] }), markOf("t"));
        const check = out.script.indexOf("if [ ! -e /etc/t/b ] || [ -d /etc/t/b ]; then hearth_die 66 'files[1].target /etc/t/b is not an existing file on the host");
        assert.ok(check > 0, "no check of files[1].target");
        assert.ok(out.script.indexOf("if [ ! -e /etc/t/a ] || [ -d /etc/t/a ]; then hearth_die 66 'files[0].target /etc/t/a") > 0, "no check of files[0].target");
        assert.ok(check < out.script.indexOf("\nhearth_legacy="), "the check comes after the claims");
        assert.ok(check < out.script.indexOf("\nhearth_install "), "the check comes after the first install");
        // In the service's own lines: the runtime has checks of its own that stop with 66.
        assert.doesNotMatch(ownLines(renderService(resolveServiceArgs("t", { host, ...ok }), markOf("t")).script), /hearth_die 66/);
        assert.doesNotMatch(ownLines(out.deleteScript), /hearth_die 66/);
    });

    it("a tree's removal leaves a tombstone outside it until the directory is gone, and the next converge or delete finishes it", () => {
        const out = renderService(resolveServiceArgs("t", { host, ...ok, ...file("/etc/t/a") }), markOf("t"));
        for (const script of [out.script, out.deleteScript]) {
            const record = script.indexOf(`hearth_record "systemd-trees/$(printf '%s' "$hearth_t" | sha256sum | cut -c1-32)" "$hearth_t $hearth_owner"`);
            const mark = script.indexOf(`  hearth_remove "$hearth_m"\n  hearth_rmdir "$hearth_t"`);
            const finish = script.indexOf("done < <(hearth_applied_keys systemd-trees)");
            assert.ok(record > 0 && record < mark && mark < finish, "tombstone, then the mark and the directory, then the tombstones");
            // Only this resource's tombstones, only below hearth's tree, only an unmarked tree, only empty directories.
            const loop = script.slice(mark, finish);
            assert.match(loop, /if ! hearth_mine "\$\{hearth_v#\* \}"; then continue; fi/);
            assert.match(loop, /\/usr\/local\/etc\/hearth\/\?\*\)/);
            assert.match(loop, /\[ ! -e "\$hearth_t\/\.hearth-owner" \]/);
            assert.doesNotMatch(loop.slice(loop.indexOf("hearth_applied \"$hearth_k\"")), /hearth_remove "\$hearth_f"/);
            assert.match(loop, /hearth_forget "\$hearth_k"\n$/);
        }
        assert.deepEqual(checkScript(out.script), []);
        assert.deepEqual(checkScript(out.deleteScript), []);
    });

    it("a oneshot service stays active after it ran (a converge does not run it again)", () => {
        const r = resolveServiceArgs("once", { host, ...ok, type: "oneshot" });
        assert.match(renderService(r, markOf("once")).unitText, /^Type=oneshot\nExecStart=\/bin\/sleep infinity\nRemainAfterExit=yes$/m);
    });

    it("reloads only with execReload, for a change of config files or watched files, and only while the service runs", () => {
        const body = (script: string) => script.split(RUNTIME).join("");
        const plain = body(renderService(resolveServiceArgs("a", { host, ...ok, ...file("/etc/a/config") }), markOf("a")).script);
        assert.doesNotMatch(plain, /systemctl reload/);
        assert.match(plain, /^hearth_install \/usr\/local\/etc\/hearth\/a\.service\/etc\/a\/config 0644 root root$/m);
        const reload = body(renderService(resolveServiceArgs("a", { host, ...ok, ...file("/etc/a/config"), execReload: ["/bin/kill", "-HUP", "$MAINPID"] }), markOf("a")).script);
        assert.match(reload, /if \[ "\$\{hearth_a#\* \}" = "\$hearth_u" \] && systemctl is-active -q -- a\.service; then\n\s+systemctl reload -- a\.service\n\s+else\n\s+systemctl restart -- a\.service/);
        // The file itself is part of the digest of what the service reads, and is rewritten in place (the running
        // service's bind holds its inode), so a change of it alone reloads.
        assert.match(reload, /hearth_d=\$\(hearth_digest \/etc\/systemd\/system\/a\.service \/usr\/local\/etc\/hearth\/a\.service\/etc\/a\/config\)/);
        assert.match(reload, /^hearth_install_in_place \/usr\/local\/etc\/hearth\/a\.service\/etc\/a\/config 0644 root root$/m);
        assert.match(reload, /hearth_u=\$\(hearth_digest \/etc\/systemd\/system\/a\.service\)/);
        // A credential restarts it (systemd copies credentials only at start).
        const cred = body(renderService(resolveServiceArgs("c", { host, ...ok, credentials: { token: pulumi.secret("t") }, execReload: ["/bin/true"] } as SystemdServiceArgs), markOf("c")).script);
        assert.match(cred, /hearth_u=\$\(hearth_digest \/etc\/systemd\/system\/c\.service \/etc\/credstore\/c\.service\/token\)/);
        // A watched file (a HostFile's) alone reloads it.
        const watched = body(renderService(resolveServiceArgs("w", { host, ...ok, execReload: ["/bin/true"], after: [dependable(host, "HostFile 'f'", { files: ["/etc/w/f"], contentHash: pulumi.output("e".repeat(64)) })] } as SystemdServiceArgs), markOf("w")).script);
        assert.match(watched, /hearth_d=\$\(hearth_digest \/etc\/systemd\/system\/w\.service \/etc\/w\/f\)/);
        assert.match(watched, /hearth_u=\$\(hearth_digest \/etc\/systemd\/system\/w\.service\)/);
    });

    it("a referenced file joins the restart decision, and its content hash the converge command (no line without one)", async () => {
        const bare = new SystemdService("bare", { host, ...ok });
        const hf = dependable(host, "HostFile 'motd'", { files: ["/etc/motd"], contentHash: pulumi.output("b".repeat(64)) });
        const user = new SystemdService("motd-user", { host, ...ok, after: [hf] });
        await settle();
        const create = (n: string) => recorded.find((r) => r.name === `${n}-converge`)!.inputs.create as string;
        assert.doesNotMatch(create("bare"), /hearth-uses/);
        assert.match(create("motd-user"), /# hearth-uses: [0-9a-f]{64}/);
        assert.match(user.resolved.after[0].files.join(" "), /\/etc\/motd/);
        assert.match(renderService(user.resolved, markOf("motd-user")).script, /hearth_digest \/etc\/systemd\/system\/motd-user\.service \/etc\/motd\)/);
        assert.equal(await resolve(bare.unitName), "bare.service");
    });

    it("a changed referenced file's hash changes the hearth-uses line, an unchanged one keeps it", async () => {
        const uses = async (hash: string, name: string) => {
            new SystemdService(name, { host, ...ok, after: [dependable(host, "HostFile 'f'", { files: ["/etc/f"], contentHash: pulumi.output(hash) })] });
            await settle();
            return /# hearth-uses: ([0-9a-f]{64})/.exec(recorded.find((r) => r.name === `${name}-converge`)!.inputs.create as string)![1];
        };
        const first = await uses("c".repeat(64), "n1");
        assert.equal(await uses("c".repeat(64), "n2"), first);
        assert.notEqual(await uses("d".repeat(64), "n3"), first);
    });

    it("an Output file's text goes on stdin and into the hearth-uses line; a secret Output is refused when it resolves", async () => {
        const svc = new SystemdService("outf", { host, ...ok, files: [{ target: "/etc/o/config", content: pulumi.output("k = v\n") }] });
        await settle();
        const conv = recorded.find((r) => r.name === "outf-converge")!;
        assert.match(conv.inputs.stdin as string, /k = v\n/);
        assert.match(conv.inputs.create as string, /# hearth-uses: [0-9a-f]{64}/);
        assert.equal(svc.resolved.files[0].content, undefined);

        const errors: unknown[] = [];
        const onErr = (e: unknown) => errors.push(e);
        process.on("unhandledRejection", onErr);
        try {
            new SystemdService("secf", { host, ...ok, files: [{ target: "/etc/s/config", content: pulumi.secret("password = hunter2\n") }] });
            await settle();
            await settle();
        } finally {
            process.off("unhandledRejection", onErr);
        }
        const conv2 = recorded.find((r) => r.name === "secf-converge");
        assert.equal(conv2, undefined, "the converge command of a service with a secret file is not registered");
        const said = errors.map((e) => String((e as Error)?.message ?? e)).join("\n");
        assert.match(said, /The 'files\[0\]\.content' argument "<secret>" is not allowed: expected a non-secret Output/);
        assert.doesNotMatch(said, /hunter2/);
    });

    it("exposes its unit (its socket when socket-activated) and its command as a dependency", () => {
        const a = new SystemdService("dep-a", { host, ...ok });
        const b = new SystemdService("dep-b", { host, ...ok, socket: { listenStream: 9081, idleStopSec: 30, targetPort: 9080 } });
        assert.deepEqual(a.dependency.units, ["dep-a.service"]);
        assert.deepEqual(b.dependency.units, ["dep-b-proxy.socket"]);
        assert.deepEqual(a.dependency.resources, [a.command]);
        assert.equal(a.dependency.host, host);
        const c = new SystemdService("dep-c", { host, ...ok, requires: [a, b] });
        assert.ok(c.resolved.requires.map((d) => d.label).join(",") === "SystemdService 'dep-a',SystemdService 'dep-b'");
        assert.match(c.resolved.requires[1].units[0], /dep-b-proxy\.socket/);
    });

    it("registers its listeners: two services on one port are refused naming the first; a helper unit name collision too", () => {
        const h = testHost("ports");
        new SystemdService("p1", { host: h, ...ok, network: "local", listenPorts: [5232] });
        assert.throws(() => new SystemdService("p2", { host: h, ...ok, network: "internet", listenPorts: [5232] }), /The 'listenPorts\[0\]' argument 5232 is not allowed: .*tcp\/5232 is already used by unit p1\.service/);
        assert.throws(() => new SystemdService("p3", { host: h, ...ok, socket: { listenStream: 5232, idleStopSec: 5, targetPort: 9999 } }), /The 'socket\.listenStream' argument .*tcp\/5232 is already used by unit p1\.service/);
        new SystemdService("web", { host: h, ...ok, socket: { listenStream: 8081, idleStopSec: 5, targetPort: 8080 } });
        assert.throws(() => new SystemdService("web-proxy", { host: h, ...ok }), /web-proxy\.service is already managed by .*hearth:systemd:Service\/web\b/);
    });
});
