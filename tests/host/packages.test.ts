// DebianPackages on a real host with no way out: Radicale (a packaged daemon) and hello (no daemon) from a local apt
// repository built on the build machine. Installed only when missing, pinned and held, the packaged unit masked before
// dpkg could start it (or kept, and still not started during the install), nothing run again on a re-run, holds
// released and packages kept on delete, and every kill point of the converge finished by the next run.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { DebianPackages, DebianPackagesArgs } from "../../components/packages";
import { APT_REPO_MOUNT } from "./aptrepo";
import { describeHost, startHost, TestHost } from "./harness";
import { CrashRun, crashPoints, mustExec } from "./crash";
import { registeredCommands } from "./runner";

describeHost("DebianPackages on a host with a local apt repository", function () {
    this.timeout(1_800_000);
    let h: TestHost;
    let radicale: string;
    const sh = (cmd: string): Promise<string> => mustExec(h, cmd);

    /** The converge and delete commands DebianPackages `apps` registers for `args`. */
    async function commands(args: Omit<DebianPackagesArgs, "host">): Promise<{ converge: CrashRun; del: CrashRun }> {
        const cmds = await registeredCommands(() => {
            const host = new Host({ name: h.name, address: h.address, privateKey: pulumi.secret(h.privateKey), hostKey: h.hostKey });
            new DebianPackages("apps", { host, ...args });
        });
        const converge = cmds.find((c) => c.name === "apps-packages")!.inputs;
        const life = cmds.find((c) => c.name === "apps-packages-lifecycle")!.inputs;
        return { converge: { command: converge.create as string }, del: { command: life.delete as string } };
    }
    const run = async (r: CrashRun) => {
        const out = await h.exec(r.command);
        assert.equal(out.code, 0, `${out.stdout}${out.stderr}`);
        return out.stdout;
    };

    // Every package the repository serves goes (purged), with holds, radicale.service's masks, hearth's apt state,
    // apt's lists and downloads: the host as it booted, but the users a postinst made.
    const wipe = () => sh([
        "set -e",
        `pk=$(awk '/^Package:/ { print $2 }' ${APT_REPO_MOUNT}/Packages)`,
        "apt-mark unhold $pk >/dev/null 2>&1 || true",
        "gone=''",
        "for p in $pk; do if dpkg-query -W -f='${db:Status-Abbrev}' $p 2>/dev/null | grep -q '^[a-z][^n]'; then gone=\"$gone $p\"; fi; done",
        "if [ -n \"$gone\" ]; then DEBIAN_FRONTEND=noninteractive dpkg --purge $gone >/dev/null; fi",
        "rm -f /etc/systemd/system/radicale.service /run/systemd/system/radicale.service",
        "systemctl daemon-reload",
        "rm -rf /var/lib/hearth/applied/apt /var/lib/apt/lists/* /var/cache/apt/archives/*.deb",
    ].join("\n"));

    /** dpkg's view of the served packages, holds, radicale.service's masks and start time, hearth's apt state. */
    const fingerprint = async () => (await sh([
        `for p in $(awk '/^Package:/ { print $2 }' ${APT_REPO_MOUNT}/Packages | sort -u); do`,
        "  printf '%s %s\\n' \"$p\" \"$(dpkg-query -W -f='${db:Status-Abbrev} ${Version}' $p 2>/dev/null || echo absent)\"",
        "done",
        "echo holds: $(apt-mark showhold)",
        "u=radicale.service",
        "echo \"$u: $(systemctl is-enabled $u 2>&1 || true) etc=$(readlink /etc/systemd/system/$u || true) run=$(readlink /run/systemd/system/$u || true) $(systemctl show -p ActiveEnterTimestamp $u)\"",
        "if [ -d /var/lib/hearth/applied/apt ]; then find /var/lib/hearth/applied/apt -type f | sort | while read -r f; do echo \"$f $(cat $f)\"; done; fi",
        "if [ -n \"$(dpkg --audit)\" ]; then echo dpkg-audit-not-clean; fi",
    ].join("\n"))).split("\n");

    const pinned = (): Omit<DebianPackagesArgs, "host"> => ({ packages: [{ name: "radicale", version: radicale, hold: true }, "hello"] });
    const kept = (): Omit<DebianPackagesArgs, "host"> => ({ packages: ["radicale", "hello"], keepUnits: ["radicale.service"] });

    before(async () => {
        h = await startHost({ name: "apt", aptPackages: ["radicale", "hello"] });
        const index = await sh(`cat ${APT_REPO_MOUNT}/Packages`);
        radicale = /Package: radicale\n(?:.*\n)*?Version: (\S+)/.exec(index)![1];
        // The host's only apt source is the local repository: the image's mirror is gone.
        assert.deepEqual((await sh("cat /etc/apt/sources.list.d/* /etc/apt/sources.list 2>/dev/null || true")).trim(), `deb [trusted=yes] file:${APT_REPO_MOUNT} ./`);
    });
    after(async () => { await h?.stop(); });

    it("installs radicale pinned and held from the local repository, with radicale.service masked before dpkg could start it", async () => {
        await wipe();
        assert.notEqual((await h.exec("dpkg -s radicale")).code, 0, "radicale is not there before");
        assert.notEqual((await h.exec("dpkg -s hello")).code, 0, "hello is not there before");
        const c = await commands(pinned());
        const out = await run(c.converge);
        assert.match(out, new RegExp(`^hearth: package radicale=${radicale.replace(/[.+]/g, "\\$&")}$`, "m"));
        assert.match(out, /^hearth: package hello=\S+$/m);
        assert.match(out, /^hearth: mask radicale\.service$/m);
        await sh("dpkg -s radicale hello >/dev/null");
        assert.match(await sh("cat /var/log/apt/history.log"), /^Install: .*\bradicale:[a-z0-9]+ \(/m, "apt's history shows the install");
        assert.match(await sh("apt-cache policy radicale"), new RegExp(`\\*\\*\\* ${radicale.replace(/[.+]/g, "\\$&")} \\d+\\n\\s+\\d+ file:${APT_REPO_MOUNT} \\./ Packages`), "installed from the local repository");
        assert.equal((await sh("apt-mark showhold")).trim(), "radicale");
        assert.equal((await h.exec("systemctl is-enabled radicale.service")).stdout.trim(), "masked");
        assert.equal((await sh("systemctl show -p ActiveEnterTimestamp radicale.service")).trim(), "ActiveEnterTimestamp=", "never started");
        assert.equal((await h.exec("ss -Hltn 'sport = :5232' | grep -c LISTEN")).stdout.trim(), "0", "nothing listens on Radicale's port");
        assert.deepEqual(await sh("cat /var/lib/hearth/applied/apt/mask/radicale.service /var/lib/hearth/applied/apt/hold/radicale"), "hearth/test/hearth:apt:Packages/apps\n".repeat(2));

        // Re-run: nothing to do, and the script says so.
        const again = await run(c.converge);
        assert.match(again, /^hearth: packages unchanged$/m);
        assert.doesNotMatch(again, /installed|masked |held /);

        // Delete: the packages stay, the hold hearth set goes, the mask stays and the delete says so.
        const del = await run(c.del);
        assert.match(del, /kept installed: radicale hello/);
        assert.match(del, /released the hold on radicale/);
        assert.match(del, /left masked: radicale\.service/);
        await sh("dpkg -s radicale hello >/dev/null");
        assert.equal((await sh("apt-mark showhold")).trim(), "");
        assert.equal((await h.exec("systemctl is-enabled radicale.service")).stdout.trim(), "masked");
    });

    it("a unit now kept is unmasked (the mask was hearth's); a hold no longer asked for is released", async () => {
        await wipe();
        await run((await commands(pinned())).converge);
        const out = await run((await commands(kept())).converge);
        assert.match(out, /unmasked radicale\.service/);
        assert.match(out, /released the hold on radicale/);
        assert.notEqual((await h.exec("systemctl is-enabled radicale.service")).stdout.trim(), "masked");
        assert.equal((await sh("apt-mark showhold")).trim(), "");
        assert.doesNotMatch(out, /^hearth: mask /m);
        assert.match(await run((await commands(kept())).converge), /^hearth: packages unchanged$/m);
    });

    it("a kept unit does not start during the install either (masked for the install window, lifted after)", async () => {
        await wipe();
        const out = await run((await commands(kept())).converge);
        assert.match(out, /^hearth: installed radicale hello$/m);
        assert.equal((await sh("systemctl show -p ActiveEnterTimestamp radicale.service")).trim(), "ActiveEnterTimestamp=", "never started");
        assert.equal((await h.exec("test -L /run/systemd/system/radicale.service")).code, 1, "the runtime mask is lifted");
        assert.notEqual((await h.exec("systemctl is-enabled radicale.service")).stdout.trim(), "masked");
        assert.equal((await h.exec("ls /var/lib/hearth/applied/apt/runtime-mask 2>/dev/null | wc -l")).stdout.trim(), "0");
    });

    it("a mask that is not hearth's is left as it is and never recorded", async () => {
        await wipe();
        await sh("systemctl mask radicale.service >/dev/null 2>&1");
        const out = await run((await commands(kept())).converge);
        assert.doesNotMatch(out, /unmasked/);
        assert.equal((await h.exec("systemctl is-enabled radicale.service")).stdout.trim(), "masked", "the admin's mask stays");
        assert.equal((await h.exec("test -e /var/lib/hearth/applied/apt/mask/radicale.service")).code, 1);
    });

    for (const [name, args] of [["pinned, held, unit masked", pinned], ["unit kept (runtime mask for the install)", kept]] as const) {
        it(`crash points of a fresh install, ${name}: every kill point finishes on the re-run`, async () => {
            const c = await commands(args());
            const report = await crashPoints(h, { name, reset: async () => { await wipe(); }, run: c.converge, fingerprint });
            assert.ok(report.points >= 5, `at least five kill points, got ${report.points}`);
            process.stderr.write(`crash points (${name}): ${report.points} in ${report.seconds.toFixed(1)} s\n`);
        });
    }
});
