// HostAccounts on a real host (one booted host for every case): converged as root, the deploy account logs in with its
// key over real SSH and runs `sudo -n true`, a human user logs in; a removed user's key no longer logs in (also from its
// ~/.ssh); the bootstrap switch to the deploy account and a key rotation without a failed login; a change that locks the
// deploy login out is rolled back by the guard and the confirm says so (in the same up); a confirm confirms only its own
// change; a second HostAccounts (another program) is refused and its delete touches nothing; system accounts are never
// taken over; groups hearth added are taken away again; planted links are never followed; crash points.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { HostAccounts, HostAccountsArgs } from "../../components/accounts";
import { describeHost, startHost, TestHost } from "./harness";
import { CrashRun, crashPoints, fileFacts, mustExec } from "./crash";
import { checkHost, driftLines } from "./drift";
import { ProgramRunner, registeredCommands } from "./runner";
import { generateKey, KeyPair, runClientKey, runSsh, sshTempDir } from "./ssh";

describeHost("HostAccounts on a real host", function () {
    this.timeout(900_000);
    let h: TestHost;
    let client: KeyPair;
    let next: KeyPair;
    let alice: KeyPair;
    let bob: KeyPair;
    const runner = new ProgramRunner();
    const sh = (cmd: string): Promise<string> => mustExec(h, cmd);
    before(async () => {
        h = await startHost({ name: "accounts" });
        client = runClientKey();
        next = generateKey(sshTempDir(), "deploy-next", "deploy-next");
        alice = generateKey(sshTempDir(), "alice", "alice");
        bob = generateKey(sshTempDir(), "bob", "bob");
    });
    after(async () => {
        await h?.stop();
    });

    /** A login as `user` with `key`, running `cmd` (a fresh connection each time). */
    const login = (user: string, key: KeyPair, cmd: string) => runSsh({ ...h.ssh, user, privateKeyPath: key.privateKeyPath }, cmd, { timeoutMs: 60_000 });
    const hostAs = (user: string, key: KeyPair) => new Host({ name: h.name, address: h.address, user, privateKey: pulumi.secret(key.privateKey), hostKey: h.hostKey });
    const program = (host: Host, args: Omit<HostAccountsArgs, "host">) => () => {
        new HostAccounts("acc", { host, ...args });
    };
    const base = (users: HostAccountsArgs["users"], deployKeys = [client.publicKey]): Omit<HostAccountsArgs, "host"> => ({
        deploy: { user: "hearthd", keys: deployKeys },
        users,
        confirmWithinSec: 12,
    });
    const aliceUser = () => ({ name: "alice", keys: [alice.publicKey], sudo: { reason: "alice administers this host" } });
    const bobUser = () => ({ name: "bob", keys: [bob.publicKey] });

    it("converged as root: the deploy account logs in with its key and runs sudo -n; a human user logs in; a re-run runs nothing; the check finds no drift", async () => {
        const first = await runner.up(program(h.host, base([aliceUser(), bobUser()])));
        assert.deepEqual(first.created.sort(), ["acc-accounts", "acc-accounts-lifecycle", "acc-confirm"]);
        // The confirm took the guard in its main shell (a step in a subshell would have died half-way, silently).
        const confirmed = first.runs.find((r) => r.resource === "acc-confirm")!;
        assert.match(confirmed.stdout, /the deploy login works over a fresh connection: change confirmed/, confirmed.stdout + confirmed.stderr);
        const d = await login("hearthd", client, "id -un; sudo -n true && echo sudo-ok");
        assert.equal(d.code, 0, d.stderr);
        assert.equal(d.stdout, "hearthd\nsudo-ok\n");
        const a = await login("alice", alice, "id -un; sudo -n true && echo sudo-ok");
        assert.equal(a.stdout, "alice\nsudo-ok\n", a.stderr);
        const b = await login("bob", bob, "id -un; sudo -n true 2>/dev/null || echo no-sudo");
        assert.equal(b.stdout, "bob\nno-sudo\n", b.stderr);
        // The keys files are root's; the drop-in is in effect for everyone but root.
        assert.equal(await sh("stat -c '%a %U %G' /etc/ssh/hearth /etc/ssh/hearth/authorized_keys /etc/ssh/hearth/authorized_keys/alice /etc/sudoers.d/hearth-hearthd"), "755 root root\n755 root root\n644 root root\n440 root root\n");
        assert.match(await sh("sshd -T -C user=bob,host=x,addr=127.0.0.1 | grep -i '^authorizedkeysfile'"), /\/etc\/ssh\/hearth\/authorized_keys\/%u/);
        assert.equal((await runner.up(program(h.host, base([aliceUser(), bobUser()])))).runs.length, 0);
        assert.deepEqual(driftLines(await checkHost(h, runner.resources)), []);
        // A key file edited by hand is drift.
        await sh("echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl x' >> /etc/ssh/hearth/authorized_keys/bob");
        assert.ok(driftLines(await checkHost(h, runner.resources)).some((l) => l.includes("/etc/ssh/hearth/authorized_keys/bob content")));
        await runner.rerunCreate();
        assert.deepEqual(driftLines(await checkHost(h, runner.resources)), []);
    });

    it("a removed user's key no longer logs in, even from its own ~/.ssh; the account is locked, its home kept", async () => {
        await sh("install -d -o bob -g bob -m 0700 /home/bob/.ssh && install -o bob -g bob -m 0600 /dev/null /home/bob/.ssh/authorized_keys && echo " + JSON.stringify(bob.publicKey) + " > /home/bob/.ssh/authorized_keys && echo data > /home/bob/notes");
        // alice's own ~/.ssh holds bob's key: not read either.
        await sh("install -d -o alice -g alice -m 0700 /home/alice/.ssh && echo " + JSON.stringify(bob.publicKey) + " > /home/alice/.ssh/authorized_keys && chown alice: /home/alice/.ssh/authorized_keys");
        assert.notEqual((await login("alice", bob, "true")).code, 0, "a key in ~/.ssh does not log in");
        const r = await runner.up(program(h.host, base([aliceUser()])));
        assert.match(r.runs.map((x) => x.stdout).join(""), /locked the account bob/);
        const b = await login("bob", bob, "true");
        assert.equal(b.code, 255, `bob logged in: ${b.stdout}${b.stderr}`);
        assert.equal(await sh("test ! -e /etc/ssh/hearth/authorized_keys/bob && cat /home/bob/notes && getent shadow bob | cut -d: -f8"), "data\n1\n");
        assert.equal((await login("alice", alice, "id -un")).stdout, "alice\n");
    });

    it("bootstrap: the Host switches to the deploy account; a key rotation (add new, switch, drop old) never fails a login", async () => {
        const users = [aliceUser()];
        // The switch: a connection change, an in-place update run as the deploy account through sudo.
        const sw = await runner.up(program(hostAs("hearthd", client), base(users)));
        // The confirm dialled as the deploy account with this key already: unchanged.
        assert.deepEqual(sw.updated.sort(), ["acc-accounts", "acc-accounts-lifecycle"]);
        await runner.up(program(hostAs("hearthd", client), base(users, [client.publicKey, next.publicKey])));
        assert.equal((await login("hearthd", next, "sudo -n true && echo ok")).stdout, "ok\n");
        await runner.up(program(hostAs("hearthd", next), base(users, [client.publicKey, next.publicKey])));
        await runner.up(program(hostAs("hearthd", next), base(users, [next.publicKey])));
        assert.notEqual((await login("hearthd", client, "true")).code, 0, "the old key no longer logs in");
        assert.equal((await login("hearthd", next, "sudo -n true && echo ok")).stdout, "ok\n");
        assert.equal(await sh("cat /run/hearth/guard/accounts/pending 2>/dev/null || echo none"), "none\n");
    });

    it("a change that would lock the deploy login out (its keys leave out the Host's key) fails before anything runs", async () => {
        const users = [aliceUser()];
        const before = await sh("sha256sum /etc/ssh/hearth/authorized_keys/hearthd");
        const locking = program(hostAs("hearthd", next), base(users, [client.publicKey]));
        await assert.rejects(runner.up(locking), (e: Error) => /the keys declared for hearthd, the account host .* logs in as, do not include the public half of the Host's private key/.test(e.message));
        assert.equal(await sh("sha256sum /etc/ssh/hearth/authorized_keys/hearthd"), before, "nothing changed on the host");
        assert.equal((await login("hearthd", next, "sudo -n true && echo ok")).stdout, "ok\n");
        await runner.up(program(hostAs("hearthd", next), base(users, [next.publicKey])));
    });

    /** The converge, confirm and delete commands of a declaration, run as root over the harness (not the runner). */
    const commandsOf = async (args: Omit<HostAccountsArgs, "host">, name = "acc") => {
        const all = await registeredCommands(() => {
            new HostAccounts(name, { host: h.host, ...args });
        });
        const conv = all.find((c) => c.name === `${name}-accounts`)!.inputs;
        return {
            converge: () => h.exec(conv.create as string, { stdin: conv.stdin as string }),
            confirm: () => h.exec(all.find((c) => c.name === `${name}-confirm`)!.inputs.create as string),
            remove: () => h.exec(all.find((c) => c.name === `${name}-accounts-lifecycle`)!.inputs.delete as string),
        };
    };

    it("a confirm of an earlier declaration run after a later converge confirms nothing: the later change is still rolled back", async () => {
        const users = [aliceUser()];
        const v1 = await commandsOf(base(users, [next.publicKey]));
        const v2 = await commandsOf(base(users, [client.publicKey]));
        const c2 = await v2.converge();
        assert.equal(c2.code, 0, c2.stdout + c2.stderr);
        assert.notEqual((await login("hearthd", next, "true")).code, 0, "v2 leaves the Host's key out");
        // v1's confirm, as over a connection opened before v2 went live.
        const c1 = await v1.confirm();
        assert.equal(c1.code, 75, c1.stdout + c1.stderr);
        assert.match(c1.stderr + c1.stdout, /not this one .*another up ran the converge since/);
        assert.match(await sh("cat /run/hearth/guard/accounts/pending"), /^[0-9a-f]+ /, "v2's change still waits for its confirm");
        await new Promise((r) => setTimeout(r, 15_000));
        assert.equal((await login("hearthd", next, "sudo -n true && echo ok")).stdout, "ok\n", "v2 was rolled back");
        // v1 again: made live and confirmed.
        assert.equal((await v1.converge()).code, 0);
        const again = await v1.confirm();
        assert.equal(again.code, 0, again.stdout + again.stderr);
        assert.equal(await sh("test ! -e /run/hearth/guard/accounts/pending && test ! -e /run/hearth/guard/accounts/fired && echo none"), "none\n");
    });

    it("a second HostAccounts (another program or stack) is refused even after the drop-in is gone, and its delete touches nothing", async () => {
        const other = await commandsOf(base([{ name: "mallory", keys: [bob.publicKey], sudo: { reason: "mallory takes the host over" } }], [bob.publicKey]), "other");
        await sh("rm /etc/ssh/sshd_config.d/00-hearth-accounts.conf");
        const before = await fileFacts(h, ["/etc/ssh/hearth/authorized_keys/alice", "/etc/ssh/hearth/authorized_keys/hearthd", "/etc/sudoers.d/hearth-alice"]);
        const r = await other.converge();
        assert.equal(r.code, 65, r.stdout + r.stderr);
        assert.match(r.stdout + r.stderr, /the accounts and SSH keys of this host \(HostAccounts\) is owned by another resource \(.*hearth:host:Accounts\/acc\)/);
        const d = await other.remove();
        assert.equal(d.code, 0, d.stdout + d.stderr);
        assert.match(d.stdout + d.stderr, /are .*hearth:host:Accounts\/acc's, not .*\/other's: left as they are/);
        assert.deepEqual(await fileFacts(h, ["/etc/ssh/hearth/authorized_keys/alice", "/etc/ssh/hearth/authorized_keys/hearthd", "/etc/sudoers.d/hearth-alice"]), before);
        assert.equal(await sh("getent passwd mallory || echo none; getent shadow alice | cut -d: -f8"), "none\n\n");
        await runner.rerunCreate();
        assert.equal((await login("alice", alice, "id -un")).stdout, "alice\n");
        assert.deepEqual(driftLines(await checkHost(h, runner.resources)), []);
    });

    it("never takes over a system or service account; groups hearth added are taken away once undeclared, others never; an undeclared sudo member is drift", async () => {
        await sh("useradd --system --shell /usr/sbin/nologin svcapp && useradd --create-home --shell /usr/sbin/nologin svcweb && useradd --create-home --shell /bin/bash -G audio dave");
        const facts = () => sh("getent passwd svcapp svcweb | cut -d: -f1,7; ls /etc/sudoers.d; cat /var/lib/hearth/applied/accounts/users");
        const seen = await facts();
        const asDeploy = await (await commandsOf({ ...base([aliceUser()]), deploy: { user: "svcapp", keys: [next.publicKey] } })).converge();
        assert.equal(asDeploy.code, 65, asDeploy.stdout + asDeploy.stderr);
        assert.match(asDeploy.stderr, /svcapp exists as a system account \(UID \d+, below the host's UID_MIN 1000\) that hearth did not create.*keys and passwordless sudo/);
        const asUser = await (await commandsOf(base([aliceUser(), { name: "svcweb", keys: [bob.publicKey] }], [next.publicKey]))).converge();
        assert.equal(asUser.code, 65, asUser.stdout + asUser.stderr);
        assert.match(asUser.stderr, /svcweb exists with the shell \/usr\/sbin\/nologin .*never takes it over/);
        assert.equal(await facts(), seen, "nothing changed");
        // dave was in audio before hearth: declared with users and audio, then with neither.
        const dave = (groups: string[]) => program(hostAs("hearthd", next), base([aliceUser(), { name: "dave", keys: [bob.publicKey], groups }], [next.publicKey]));
        await runner.up(dave(["users", "audio"]));
        assert.equal(await sh("id -nG dave"), "dave audio users\n");
        const r = await runner.up(dave([]));
        assert.match(r.runs.map((x) => x.stdout).join(""), /took dave out of the group users/);
        assert.equal(await sh("id -nG dave"), "dave audio\n");
        await sh("usermod -aG sudo dave");
        assert.ok(driftLines(await checkHost(h, runner.resources)).some((l) => /group sudo.*dave is a member \(not declared with sudo\)/.test(l)));
        await sh("gpasswd -d dave sudo >/dev/null");
        // Declared again with users, then dropped from the declaration: locked and out of users, still in audio.
        await runner.up(dave(["users"]));
        await runner.up(program(hostAs("hearthd", next), base([aliceUser()], [next.publicKey])));
        assert.equal(await sh("id -nG dave; getent shadow dave | cut -d: -f8"), "dave audio\n1\n");
        assert.deepEqual(driftLines(await checkHost(h, runner.resources)), []);
    });

    it("never follows a planted link: a keys file pointing at /etc/shadow is replaced, a user's ~/.ssh link is never read", async () => {
        const shadow = await fileFacts(h, ["/etc/shadow"]);
        await sh("ln -sfn /etc/shadow /etc/ssh/hearth/authorized_keys/alice && ln -sfn /etc/shadow /etc/ssh/hearth/authorized_keys/mallory");
        await sh("rm -rf /home/alice/.ssh && ln -sfn /etc /home/alice/.ssh");
        await runner.rerunCreate();
        assert.deepEqual(await fileFacts(h, ["/etc/shadow"]), shadow);
        assert.equal(await sh("test ! -L /etc/ssh/hearth/authorized_keys/alice && test ! -e /etc/ssh/hearth/authorized_keys/mallory && echo ok"), "ok\n");
        assert.equal((await login("alice", alice, "id -un")).stdout, "alice\n");
    });

    it("crash points over the converge: every kill and re-run ends as a clean run", async () => {
        const root = h.host;
        const v1 = base([aliceUser()], [client.publicKey]);
        const v2 = { ...base([aliceUser(), { name: "carol", keys: [bob.publicKey], groups: ["users"] }], [client.publicKey, next.publicKey]), confirmWithinSec: 600 };
        const cmds = async (args: Omit<HostAccountsArgs, "host">) => {
            const all = await registeredCommands(program(root, args));
            const conv = all.find((c) => c.name === "acc-accounts")!.inputs;
            const conf = all.find((c) => c.name === "acc-confirm")!.inputs;
            return { converge: { command: conv.create as string, stdin: conv.stdin as string } as CrashRun, confirm: { command: conf.create as string } as CrashRun };
        };
        const c1 = await cmds(v1);
        const c2 = await cmds(v2);
        const ok = async (r: CrashRun) => {
            const res = await h.exec(r.command, { stdin: r.stdin });
            assert.equal(res.code, 0, `${res.stdout}${res.stderr}`);
        };
        const report = await crashPoints(h, {
            name: "HostAccounts converge",
            maxPoints: 80,
            reset: async () => {
                await sh("userdel -r carol 2>/dev/null || true");
                await ok(c1.converge);
                await ok(c1.confirm);
            },
            run: c2.converge,
            fingerprint: async () => [
                ...(await fileFacts(h, ["/etc/ssh/sshd_config.d/00-hearth-accounts.conf", "/etc/sudoers.d/hearth-alice", "/etc/sudoers.d/hearth-hearthd", "/run/hearth/guard/accounts/pending", "/run/hearth/guard/accounts/fired"].map((p) => p), {
                    trees: ["/etc/ssh/hearth", "/var/lib/hearth/applied/accounts", "/var/lib/hearth/accounts"],
                    random: ["/run/hearth/guard/accounts/pending"],
                })),
                await sh("getent passwd carol | cut -d: -f1,6,7; id -nG carol; getent shadow carol | cut -d: -f8"),
            ],
        });
        process.stderr.write(`accounts crash points: ${report.points} in ${report.seconds.toFixed(0)} s\n`);
        assert.ok(report.points > 5);
        await ok(c2.confirm);
    });
});
