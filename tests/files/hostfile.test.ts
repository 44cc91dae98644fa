// HostFile under the mock runtime: hostile arguments refused before anything registers, the path rule's trees, what it
// records (never the content), the dependency it offers, and one path per host.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { HostFile, HostFileArgs, MAX_CONTENT_BYTES } from "../../components/files";
import { CONFIG_REFUSED, configPath, configPathProblem } from "../../components/core/rules";
import { ArgumentError } from "../../components/core/errors";
import { FILE_TYPE } from "../../components/tokens";
import { installMocks, isSecret, plainStrings, recorded, resetRecorded, resolve, settle, TEST_HOST_KEY } from "../mocks";

const key = () => pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n");
const host = (name = "nas") => new Host({ name, address: "10.0.0.5", privateKey: key(), hostKey: TEST_HOST_KEY });
const OK = "/etc/radicale/conf.d/hearth.conf";

async function build(args: Partial<HostFileArgs>, name = "conf"): Promise<{ error?: Error; count: number; file?: HostFile }> {
    resetRecorded();
    let error: Error | undefined;
    let file: HostFile | undefined;
    try {
        file = new HostFile(name, { host: host(), path: OK, content: "a = 1\n", ...args } as HostFileArgs);
    } catch (e) {
        error = e as Error;
    }
    await settle();
    return { error, count: recorded.length, file };
}

/** Every refused tree, a path inside it (or the file itself). */
const FILES = ["/etc/default/grub", "/etc/default/zfs", "/etc/default/useradd", "/etc/rc.local", "/etc/anacrontab", "/etc/at.allow", "/etc/at.deny"];
const refusedPaths = CONFIG_REFUSED.map(([t]) => (t.endsWith("*") ? `${t.slice(0, -1)}x/y.conf` : FILES.includes(t) ? t : `${t}/x.conf`));

const hostilePaths: [string, unknown, RegExp][] = [
    ["a relative path", "etc/radicale/x.conf", /normalized absolute path/],
    ["'..'", "/etc/radicale/../ssh/sshd_config", /no '\.\.'/],
    ["'.'", "/etc/radicale/./x.conf", /normalized absolute path/],
    ["'//'", "/etc/radicale//x.conf", /normalized absolute path/],
    ["a trailing '/'", "/etc/radicale/conf.d/", /normalized absolute path/],
    ["NUL", "/etc/radicale/x\0.conf", /normalized absolute path/],
    ["a newline", "/etc/radicale/x\n.conf", /normalized absolute path/],
    ["a space", "/etc/radicale/x .conf", /normalized absolute path/],
    ["a glob", "/etc/radicale/*.conf", /normalized absolute path/],
    ["a shell character", "/etc/radicale/$(id).conf", /normalized absolute path/],
    ["a segment starting with '-'", "/etc/radicale/-rf", /normalized absolute path/],
    ["a lookalike character", "/etc/radicale/x\u2215y.conf", /normalized absolute path/],
    ["a file directly in /etc", "/etc/passwd", /at least one directory below \/etc/],
    ["/etc/shadow", "/etc/shadow", /at least one directory below \/etc/],
    ["/etc/hosts", "/etc/hosts", /at least one directory below \/etc/],
    ["/etc/resolv.conf", "/etc/resolv.conf", /at least one directory below \/etc/],
    ["/etc/sudoers", "/etc/sudoers", /configuration tree/],
    ["a directory below /etc/default", "/etc/default/x/y", /\/etc\/default\/<name>/],
    ["/usr/local/etc itself", "/usr/local/etc", /configuration tree/],
    ["a path outside the configuration trees", "/var/lib/hearth/applied/files/x", /configuration tree/],
    ["hearth's state", "/run/hearth/lock/files.lock", /configuration tree/],
    ["a home directory", "/root/.ssh/authorized_keys", /configuration tree/],
    ["an adopted original's name", "/etc/radicale/config.hearth-orig", /\.hearth-orig/],
    ["a hearth temp name", "/etc/radicale/.hearth.1.abc", /'\.hearth\.'/],
    ["a symlink-looking name", "/etc/radicale/x->y", /normalized absolute path/],
    ["a number", 5, /normalized absolute path/],
    ["a missing path", undefined, /normalized absolute path/],
    ["a path over 1024 characters", `/etc/radicale/${"a".repeat(1020)}`, /at most 1024 characters/],
    // A refused file directly in /etc is outside the trees already; everything else names its tree and reason.
    ...refusedPaths.map((p): [string, unknown, RegExp] => [`${p} (a refused tree)`, p, p.split("/").length === 3 ? /at least one directory below \/etc/ : /which hearth never writes/]),
];

let n = 0;

/** The error an Output fails with ("resolved" when it resolves instead). */
function failure(o: pulumi.Output<unknown>): Promise<unknown> {
    return (o as unknown as { promise(): Promise<unknown> }).promise().then(() => "resolved", (e: unknown) => e);
}

describe("HostFile", () => {
    before(() => installMocks());

    describe("the configuration-path rule (core/rules.ts)", () => {
        it("accepts a package's tree, /etc/default/<name> and /usr/local/etc", () => {
            for (const p of [OK, "/etc/default/radicale", "/usr/local/etc/app.conf", "/usr/local/etc/app/conf.d/a.conf", "/etc/radicale/users"]) {
                assert.equal(configPathProblem(p), undefined, p);
                assert.equal(configPath("path", p), p);
            }
        });
        it("names the refused tree and the reason", () => {
            assert.throws(() => configPath("path", "/etc/ssh/sshd_config.d/x.conf"), (e: unknown) => e instanceof ArgumentError && /outside \/etc\/ssh, which hearth never writes: sshd's config/.test(e.allowed));
            assert.match(configPathProblem("/etc/postgresql/15/main/pg_hba.conf")!, /PostgresDb owns them/);
            assert.match(configPathProblem("/etc/systemd/nspawn/web.nspawn")!, /\/etc\/systemd/);
            assert.match(configPathProblem("/usr/local/etc/hearth/web/app.conf")!, /SystemdService's files/);
        });
        it("refuses a tree by its whole segment, not by a prefix of another name (except the '*' families)", () => {
            assert.equal(configPathProblem("/etc/sshguard/sshguard.conf"), undefined);
            assert.equal(configPathProblem("/etc/rclone/rclone.conf"), undefined);
            assert.equal(configPathProblem("/etc/pgbouncerx/a.ini"), undefined);
            assert.match(configPathProblem("/etc/sudoers.d/x")!, /\/etc\/sudo\*/);
            assert.match(configPathProblem("/etc/cron.daily/x")!, /\/etc\/cron\*/);
            assert.match(configPathProblem("/etc/ld.so.conf.d/x.conf")!, /dynamic loader/);
        });
    });

    describe("refuses every path another component writes and every tree whose files run code as root", () => {
        // Every file PostgresDb writes below /etc/pgbouncer (components/postgres/render.ts), and the ones its package ships.
        const owned: [string, RegExp][] = [
            ["/etc/pgbouncer/pgbouncer.ini", /PostgresDb/],
            ["/etc/pgbouncer/hearth-userlist.txt", /PostgresDb/],
            ["/etc/pgbouncer/hearth-databases.ini", /PostgresDb/],
            ["/etc/pgbouncer/userlist.txt", /PostgresDb/],
            ["/etc/hearth/pgbouncer/users.d/app.txt", /hearth's own/],
            ["/etc/hearth/dns/example.org/knot.conf", /hearth's own/],
            ["/etc/wireguard/.hearth/wg0.conf", /WireguardLink/],
            ["/etc/systemd/nspawn/web.nspawn", /NspawnContainer/],
            ["/etc/default/zfs", /ZFS/],
        ];
        const code: string[] = [
            "/etc/alternatives/awk",
            "/etc/perl/strict.pm",
            "/etc/python3.11/sitecustomize.py",
            "/etc/python3/sitecustomize.py",
            "/etc/python2.7/sitecustomize.py",
            "/etc/bash_completion.d/x",
            "/etc/dhcp/dhclient-exit-hooks.d/x",
            "/etc/dhcp/dhclient.conf",
            "/etc/X11/Xsession.d/99x",
            "/etc/xdg/autostart/x.desktop",
            "/etc/letsencrypt/renewal-hooks/deploy/x",
            "/etc/letsencrypt/renewal/example.org.conf",
            "/etc/needrestart/conf.d/x.conf",
            "/etc/rsyslog.d/x.conf",
            "/etc/acpi/events/x",
            "/etc/mdadm/mdadm.conf",
            "/etc/dracut.conf.d/x.conf",
            "/etc/depmod.d/x.conf",
            "/etc/skel/.bashrc",
            "/etc/environment.d/x.conf",
            "/etc/default/useradd",
            "/etc/ppp/ip-up.d/x",
            "/etc/resolvconf/update.d/x",
        ];
        for (const [p, re] of owned) {
            it(`refuses ${p}, naming the component`, () => {
                const why = configPathProblem(p);
                assert.ok(why !== undefined, `${p} accepted`);
                assert.match(why, /which hearth never writes/);
                assert.match(why, re);
            });
        }
        for (const p of code) {
            it(`refuses ${p} (code run as root, or files copied to every user)`, () => {
                const why = configPathProblem(p);
                assert.ok(why !== undefined, `${p} accepted`);
                assert.match(why, /which hearth never writes: /);
            });
        }
    });

    describe("refuses hostile paths before registering anything", () => {
        for (const [what, path, re] of hostilePaths) {
            it(`refuses ${what}`, async () => {
                const { error, count } = await build({ path: path as string });
                assert.ok(error instanceof pulumi.ResourceError, `a ResourceError, got ${error}`);
                assert.match(error.message, /'path' argument/);
                assert.match(error.message, re);
                assert.equal(count, 0, "no resource registered");
            });
        }
    });

    const hostile: [string, Partial<HostFileArgs>, RegExp][] = [
        ["a setuid mode", { mode: "4755" }, /'mode' argument "4755" .*setuid/],
        ["a setgid mode", { mode: "2644" }, /'mode' argument "2644" .*setgid/],
        ["a sticky mode", { mode: "1644" }, /'mode' argument "1644" .*sticky/],
        ["a world-writable mode", { mode: "0666" }, /'mode' argument "0666" .*no other user may write/],
        ["a 3-digit mode", { mode: "644" }, /'mode' argument "644" .*quoted 4-digit octal string/],
        ["an executable mode", { mode: "0755" }, /'mode' argument "0755" .*no execute bit/],
        ["an owner-executable mode", { mode: "0744" }, /'mode' argument "0744" .*no execute bit/],
        ["a group-executable mode", { mode: "0654" }, /'mode' argument "0654" .*no execute bit/],
        ["an other-executable mode", { mode: "0641" }, /'mode' argument "0641" .*no execute bit/],
        ["a group-writable mode", { mode: "0664" }, /'mode' argument "0664" .*no other user may write/],
        ["a group-writable secret", { content: pulumi.secret("x"), secret: true, mode: "0660" }, /'mode' argument "0660" .*no other user may write/],
        ["a world-writable secret", { content: pulumi.secret("x"), secret: true, mode: "0602" }, /'mode' argument "0602" .*no other user may write/],
        ["a decimal mode", { mode: "0648" }, /'mode' argument "0648" .*octal/],
        ["a numeric mode", { mode: 420 as unknown as string }, /'mode' argument 420 .*quoted 4-digit octal string.*a number is refused.*quote the octal string/],
        ["a numeric mode as YAML reads 0644", { mode: 644 as unknown as string }, /'mode' argument 644 .*quoted 4-digit octal string/],
        ["a 1-digit mode", { mode: "0" }, /'mode' argument "0" .*quoted 4-digit octal string/],
        ["a mode with a sign", { mode: "+644" }, /'mode' argument "\+644"/],
        ["a mode with an 0o prefix", { mode: "0o644" }, /'mode' argument "0o644"/],
        ["a symbolic mode", { mode: "u=rw" }, /'mode' argument "u=rw"/],
        ["a 5-digit mode", { mode: "00644" }, /'mode' argument "00644"/],
        ["an owner with a colon", { owner: "www:data" }, /'owner' argument "www:data" .*POSIX user name/],
        ["an owner uid", { owner: "0" }, /'owner' argument "0"/],
        ["an owner with a shell character", { owner: "a;b" }, /'owner' argument/],
        ["an owner starting with '-'", { owner: "-r" }, /'owner' argument "-r"/],
        ["an owner over 32 characters", { owner: "a".repeat(33) }, /'owner' argument/],
        ["an uppercase group", { group: "Wheel" }, /'group' argument "Wheel" .*POSIX group name/],
        ["an empty group", { group: "" }, /'group' argument ""/],
        ["content over 1 MiB", { content: "x".repeat(MAX_CONTENT_BYTES + 1) }, /'content' argument .*at most 1048576 bytes/],
        ["content over 1 MiB in UTF-8 bytes", { content: "é".repeat(MAX_CONTENT_BYTES / 2 + 1) }, /'content' argument .*at most 1048576 bytes/],
        ["content with NUL", { content: "a\0b" }, /'content' argument .*without NUL/],
        ["content with an unpaired surrogate", { content: "a\ud800b" }, /'content' argument .*unpaired surrogates/],
        ["a number as content", { content: 5 as unknown as string }, /'content' argument 5/],
        ["a plain string with secret: true", { content: "hunter2", secret: true }, /'content' argument "<a plain string>" .*Pulumi secret/],
        ["a world-readable secret", { content: pulumi.secret("x"), secret: true, mode: "0644" }, /'mode' argument "0644" .*gives other users nothing.*secret is true/],
        ["a world-executable secret", { content: pulumi.secret("x"), secret: true, mode: "0641" }, /'mode' argument "0641" .*no execute bit/],
        ["a world-readable secret with a 3-digit mode", { content: pulumi.secret("x"), secret: true, mode: "604" }, /'mode' argument "604" .*quoted 4-digit octal string/],
        ["a world-readable secret (0604)", { content: pulumi.secret("x"), secret: true, mode: "0604" }, /'mode' argument "0604" .*gives other users nothing/],
        ["an unknown argument", { contents: "x" } as Partial<HostFileArgs>, /'contents' argument .*one of the keys of HostFileArgs/],
        ["a non-boolean adopt", { adopt: "yes" as unknown as boolean }, /'adopt' argument "yes" .*true or false/],
        ["a non-boolean createParents", { createParents: 1 as unknown as boolean }, /'createParents' argument 1/],
        ["no host", { host: undefined }, /'host' argument/],
    ];
    describe("refuses hostile modes, owners and contents before registering anything", () => {
        for (const [what, over, re] of hostile) {
            it(`refuses ${what}`, async () => {
                const { error, count } = await build(over);
                assert.ok(error instanceof pulumi.ResourceError, `a ResourceError, got ${error}`);
                assert.match(error.message, re);
                assert.doesNotMatch(error.message, /hunter2/, "a secret is never shown");
                assert.equal(count, 0, "no resource registered");
            });
        }
        it("accepts 4-digit modes, group-readable secrets and exactly 1 MiB of content", async () => {
            for (const mode of ["0400", "0440", "0444", "0600", "0640", "0644"]) assert.equal((await build({ mode })).error, undefined, mode);
            assert.equal((await build({ content: pulumi.secret("x"), secret: true, mode: "0640", group: "radicale" })).error, undefined);
            assert.equal((await build({ content: "x".repeat(MAX_CONTENT_BYTES) })).error, undefined);
        });
    });

    describe("what it registers", () => {
        it("records the path, mode and owner and the content's hash, never the content", async () => {
            const { file } = await build({ content: "listen = 127.0.0.1\n", owner: "radicale", mode: "0640" });
            const comp = recorded.find((r) => r.type === FILE_TYPE)!;
            assert.equal(comp.inputs.path, OK);
            assert.equal(comp.inputs.mode, "0640");
            assert.equal(comp.inputs.owner, "radicale");
            assert.equal(comp.inputs.group, "root");
            assert.match(comp.inputs.contentHash, /^[0-9a-f]{64}$/);
            assert.equal(await resolve(file!.contentHash), comp.inputs.contentHash);
            assert.ok(!JSON.stringify(comp.inputs).includes("listen = 127.0.0.1"), "no content in props");
            const cmd = recorded.find((r) => r.name === "conf-file")!;
            assert.match(cmd.inputs.create, /hearth_install \/etc\/radicale\/conf\.d\/hearth\.conf 0640 radicale root/);
            assert.ok(!cmd.inputs.create.includes("listen = 127.0.0.1"), "the content travels on stdin, not in the script");
            assert.equal(cmd.inputs.stdin, "19\nlisten = 127.0.0.1\n");
            assert.ok(recorded.find((r) => r.name === "conf-file-lifecycle")!.inputs.delete.includes("hearth_file_release_mine"));
        });
        it("a secret content is never in plain state or props: only its hash, itself secret", async () => {
            const { file } = await build({ path: "/etc/radicale/users", content: pulumi.secret("alice:$apr1$x$hunter2hash\n"), secret: true, group: "radicale", mode: "0640" });
            for (const r of recorded) {
                assert.ok(!plainStrings(r.rawInputs).some((s) => s.includes("hunter2hash")), `${r.name} shows the secret`);
            }
            const comp = recorded.find((r) => r.type === FILE_TYPE)!;
            assert.equal(plainStrings({ h: comp.rawInputs.contentHash }).length, 0, "the hash is secret");
            assert.ok(await isSecret(file!.contentHash));
            assert.ok(await isSecret(file!.dependency.contentHash!));
            assert.equal(await isSecret(file!.path), false);
            assert.match(recorded.find((r) => r.name === "conf-file")!.inputs.create, /^hearth_install_secret \/etc\/radicale\/users 0640 root radicale$/m);
        });
        it("defaults a secret's mode to 0600", async () => {
            await build({ content: pulumi.secret("x"), secret: true });
            assert.match(recorded.find((r) => r.name === "conf-file")!.inputs.create, /^hearth_install_secret \S+ 0600 root root$/m);
        });
        it("makes the content secret whatever it was when secret: true", async () => {
            const { file } = await build({ content: pulumi.output("plain-but-private"), secret: true });
            assert.ok(await isSecret(file!.contentHash));
            assert.ok(!plainStrings(recorded.find((r) => r.name === "conf-file")!.rawInputs).some((s) => s.includes("plain-but-private")));
        });
        it("offers a ServiceDependency: the path, the content's hash and its converge command", async () => {
            const { file } = await build({});
            const d = file!.dependency;
            assert.equal(d.label, "HostFile 'conf'");
            assert.deepEqual(d.files, [OK]);
            assert.deepEqual([...d.units, ...d.mounts], []);
            assert.equal(d.resources[0], file!.command);
            assert.equal(await resolve(d.contentHash!), require("crypto").createHash("sha256").update("a = 1\n").digest("hex"));
        });
        it("an unchanged content gives the same script and stdin (nothing runs on a re-run)", async () => {
            await build({});
            const a = recorded.find((r) => r.name === "conf-file")!.inputs;
            await build({});
            const b = recorded.find((r) => r.name === "conf-file")!.inputs;
            assert.equal(a.create, b.create);
            assert.equal(a.stdin, b.stdin);
        });
    });

    describe("checks an Output content when it resolves", () => {
        it("fails on content over 1 MiB, naming the argument", async () => {
            resetRecorded();
            const f = new HostFile("big", { host: host("big"), path: OK, content: pulumi.output("x".repeat(MAX_CONTENT_BYTES + 1)) });
            const error = await failure(f.contentHash);
            assert.match(String(error), /'content' argument .*at most 1048576 bytes/);
        });
        it("fails on a secret content without secret: true", async () => {
            resetRecorded();
            const f = new HostFile("sec", { host: host("other"), path: OK, content: pulumi.secret("hunter2") });
            const error = await failure(f.contentHash);
            assert.match(String(error), /'secret' argument false .*true when the content is a Pulumi secret/);
            assert.doesNotMatch(String(error), /hunter2/);
        });
    });

    describe("never shows a secret content in an error, and a promise of a secret is a secret", () => {
        const bad: [string, string, RegExp][] = [
            ["a NUL", "hunter2-SECRET\0tail", /without NUL/],
            ["an unpaired surrogate", "hunter2-SECRET\ud800", /unpaired surrogates/],
            ["over 1 MiB", "hunter2-SECRET" + "x".repeat(MAX_CONTENT_BYTES), /at most 1048576 bytes/],
        ];
        for (const [what, c, re] of bad) {
            for (const secret of [true, false]) {
                it(`a secret content with ${what} (secret: ${secret}) fails naming the argument, showing '<secret>'`, async () => {
                    resetRecorded();
                    const f = new HostFile(`s${n++}`, { host: host(`s${n}`), path: "/etc/radicale/users", content: pulumi.secret(c), secret });
                    const error = String(await failure(f.contentHash));
                    assert.match(error, secret ? /'content' argument "<secret>" is not allowed/ : /'(content|secret)' argument/);
                    if (secret) assert.match(error, re);
                    assert.doesNotMatch(error, /hunter2/);
                });
            }
        }
        it("a plain Output content under secret: true that fails the rule is not shown either", async () => {
            resetRecorded();
            const f = new HostFile("sp", { host: host("sp"), path: "/etc/radicale/users", content: pulumi.output("hunter2-PLAIN\0"), secret: true });
            const error = String(await failure(f.contentHash));
            assert.match(error, /'content' argument "<secret>" is not allowed: expected .*without NUL/);
            assert.doesNotMatch(error, /hunter2/);
        });
        it("a promise of a secret Output without secret: true fails like the Output itself", async () => {
            resetRecorded();
            const f = new HostFile("pr", { host: host("pr"), path: "/etc/radicale/users", content: Promise.resolve(pulumi.secret("hunter2-PROMISED")) as unknown as pulumi.Output<string> });
            const error = String(await failure(f.contentHash));
            assert.match(error, /'secret' argument false .*true when the content is a Pulumi secret/);
            assert.doesNotMatch(error, /hunter2/);

        });
        it("a promise of a secret Output with secret: true is written as a secret", async () => {
            resetRecorded();
            const f = new HostFile("ps", { host: host("ps"), path: "/etc/radicale/users", content: Promise.resolve(pulumi.secret("hunter2-PROMISED")) as unknown as pulumi.Output<string>, secret: true });
            await settle();
            assert.ok(await isSecret(f.contentHash));
            assert.match(recorded.find((r) => r.name === "ps-file")!.inputs.create, /^hearth_install_secret \S+ 0600 root root$/m);
            for (const r of recorded) assert.ok(!plainStrings(r.rawInputs).some((s) => s.includes("hunter2")), `${r.name} shows the secret`);
        });
        it("a promise of a plain string is checked and written as a plain file", async () => {
            resetRecorded();
            const f = new HostFile("pp", { host: host("pp"), path: OK, content: Promise.resolve("a = 1\n") });
            assert.equal(await resolve(f.contentHash), require("crypto").createHash("sha256").update("a = 1\n").digest("hex"));
            const g = new HostFile("pq", { host: host("pq"), path: OK, content: Promise.resolve("a\0") });
            assert.match(String(await failure(g.contentHash)), /'content' argument "a\\u0000" is not allowed/);
        });
    });

    describe("one path per host", () => {
        it("refuses a second HostFile with the same path on one host, naming the first", async () => {
            resetRecorded();
            const h = host();
            new HostFile("a", { host: h, path: OK, content: "x" });
            assert.throws(() => new HostFile("b", { host: h, path: OK, content: "y" }), /'path' argument "\/etc\/radicale\/conf\.d\/hearth\.conf".*hearth:files:File\/a/);
        });
        it("accepts the same path on two hosts", async () => {
            resetRecorded();
            new HostFile("a", { host: host("one"), path: OK, content: "x" });
            new HostFile("b", { host: host("two"), path: OK, content: "y" });
            await settle();
            assert.equal(recorded.filter((r) => r.type === FILE_TYPE).length, 2);
        });
    });
});
