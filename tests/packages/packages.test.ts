// DebianPackages: hostile arguments refused before anything registers, what it records and registers, its outputs,
// and the rendered scripts (bash -n, shellcheck, what they may and may not do).
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../components/host";
import { DebianPackages, DebianPackagesArgs, renderPackages, reportedMasks, reportedPackages, resolvePackagesArgs } from "../../components/packages";
import { ArgumentError } from "../../components/core/errors";
import { RUNTIME } from "../../components/core/runtime";
import { OwnerMark } from "../../components/core/owner";
import { installMocks, recorded, resetRecorded, resolve, setCommandStdout, settle, TEST_HOST_KEY } from "../mocks";
import { checkScript } from "../tools";
import { attemptRecorded } from "../attempt";

const key = () => pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n");
const host = () => new Host({ name: "nas", address: "10.0.0.5", privateKey: key(), hostKey: TEST_HOST_KEY });
const MARK: OwnerMark = { id: "hearth/test/hearth:apt:Packages/apps", aliases: [], adopt: false };
const own = (script: string) => script.slice(script.indexOf(RUNTIME) + RUNTIME.length);

/** Hostile or impossible arguments: the argument named, the value shown, what is allowed said. */
const hostile: [string, Partial<DebianPackagesArgs>, RegExp][] = [
    ["an uppercase name", { packages: ["Radicale"] }, /'packages\[0\]' argument "Radicale".*Debian package name/],
    ["a name with a semicolon", { packages: ["curl;reboot"] }, /'packages\[0\]' argument "curl;reboot"/],
    ["a name with a space", { packages: ["curl wget"] }, /'packages\[0\]' argument "curl wget"/],
    ["an option as a name", { packages: ["-oAPT::Get::Assume-Yes=1"] }, /'packages\[0\]' argument "-oAPT::Get::Assume-Yes=1"/],
    ["an architecture qualifier", { packages: ["curl:amd64"] }, /'packages\[0\]' argument "curl:amd64"/],
    ["a version pin in the name", { packages: ["curl=7.88.1-10"] }, /'packages\[0\]' argument "curl=7.88.1-10"/],
    ["a one-letter name", { packages: ["a"] }, /'packages\[0\]' argument "a"/],
    ["a name with a newline", { packages: ["curl\nreboot"] }, /'packages\[0\]' argument "curl\\nreboot"/],
    ["shell substitution", { packages: ["$(reboot)"] }, /'packages\[0\]' argument "\$\(reboot\)"/],
    ["a hostile name in a mapping", { packages: [{ name: "x`id`" }] }, /'packages\[0\]\.name' argument "x`id`"/],
    ["a version with a space", { packages: [{ name: "curl", version: "7.88 -o x" }] }, /'packages\[0\]\.version' argument "7\.88 -o x".*Debian version/],
    ["a version with a semicolon", { packages: [{ name: "curl", version: "1;reboot" }] }, /'packages\[0\]\.version' argument "1;reboot"/],
    ["a version starting with a letter", { packages: [{ name: "curl", version: "v1.0" }] }, /'packages\[0\]\.version' argument "v1\.0"/],
    ["a version ending in '-'", { packages: [{ name: "curl", version: "1.0-" }] }, /'packages\[0\]\.version' argument "1\.0-"/],
    ["a version with a non-numeric epoch", { packages: [{ name: "curl", version: "a:1.0" }] }, /'packages\[0\]\.version' argument "a:1\.0"/],
    ["a version with a colon outside the epoch", { packages: [{ name: "curl", version: "1:2:3" }] }, /'packages\[0\]\.version' argument "1:2:3"/],
    ["a version with a quote", { packages: [{ name: "curl", version: "1.0'" }] }, /'packages\[0\]\.version'/],
    ["an empty version", { packages: [{ name: "curl", version: "" }] }, /'packages\[0\]\.version' argument ""/],
    ["a number as a version", { packages: [{ name: "curl", version: 7 as unknown as string }] }, /'packages\[0\]\.version' argument 7/],
    ["hold as a string", { packages: [{ name: "curl", hold: "yes" as unknown as boolean }] }, /'packages\[0\]\.hold' argument "yes".*true or false/],
    ["an unknown key in a package", { packages: [{ name: "curl", pin: "1.0" } as never] }, /'packages\[0\]\.pin'.*name, version, hold/],
    ["a package listed twice", { packages: ["curl", { name: "curl", hold: true }] }, /'packages\[1\]' argument "curl".*listed twice/],
    ["no packages", { packages: [] }, /'packages' argument \[\].*at least 1/],
    ["a number as a package", { packages: [42 as unknown as string] }, /'packages\[0\]' argument 42.*or a mapping/],
    ["a unit path", { keepUnits: ["../../etc/shadow.service"] }, /'keepUnits\[0\]' argument "\.\.\/\.\.\/etc\/shadow\.service".*systemd unit name/],
    ["a unit of another kind", { keepUnits: ["radicale.mount"] }, /'keepUnits\[0\]' argument "radicale\.mount"/],
    ["a unit without a suffix", { keepUnits: ["radicale"] }, /'keepUnits\[0\]' argument "radicale"/],
    ["a dash-led unit", { keepUnits: ["-x.service"] }, /'keepUnits\[0\]' argument "-x\.service"/],
    ["a unit with a space", { keepUnits: ["a b.service"] }, /'keepUnits\[0\]' argument "a b\.service"/],
    ["a unit with shell in it", { keepUnits: ["$(id).service"] }, /'keepUnits\[0\]'/],
    ["a unit with an escape", { keepUnits: ["a\\x2db.service"] }, /'keepUnits\[0\]'/],
    ["a unit listed twice", { keepUnits: ["radicale.service", "radicale.service"] }, /'keepUnits\[1\]' argument "radicale\.service".*listed twice/],
    ["removeOnDelete without a reason", { removeOnDelete: {} as never }, /'removeOnDelete\.reason'/],
    ["removeOnDelete as true", { removeOnDelete: true as never }, /'removeOnDelete' argument true/],
    ["a reason with a newline", { removeOnDelete: { reason: "scratch host\nrm -rf /" } }, /'removeOnDelete\.reason'/],
    ["an unknown argument", { upgrade: true } as never, /'upgrade'.*one of the keys of DebianPackagesArgs/],
    ["no host", { host: undefined } as never, /'host'.*a hearth Host/],
];

const build = (args: DebianPackagesArgs, name = "apps") => attemptRecorded(() => new DebianPackages(name, args));

describe("DebianPackages", () => {
    before(() => installMocks());
    afterEach(() => setCommandStdout());

    describe("refuses hostile or impossible arguments before registering anything", () => {
        for (const [what, over, re] of hostile) {
            it(`refuses ${what}`, async () => {
                const { error, count } = await build({ host: host(), packages: ["radicale"], ...over } as DebianPackagesArgs);
                assert.ok(error instanceof pulumi.ResourceError, `a ResourceError, got ${error}`);
                assert.match(error.message, re);
                assert.match(error.message, /expected /);
                assert.equal(count, 0, "no resource registered");
            });
        }
        it("the resolver throws an ArgumentError naming the path under a base", () => {
            assert.throws(
                () => resolvePackagesArgs({ host: host(), packages: [{ name: "curl", version: "1 2" }] }, ["apps", "pkgs"]),
                (e: unknown) => e instanceof ArgumentError && e.arg === "apps.pkgs.packages[0].version" && e.value === "1 2" && /Debian version/.test(e.allowed),
            );
        });
    });

    it("accepts Debian names and versions as policy allows them (epochs, +, ~, dots)", () => {
        const r = resolvePackagesArgs({
            host: host(),
            packages: ["g++", "libc6", "python3.11", { name: "tzdata", version: "2024a-0+deb12u1", hold: true }, { name: "openssh-server", version: "1:9.2p1-2+deb12u3" }, { name: "foo", version: "1.0~rc1" }, { name: "bar", hold: true }],
            keepUnits: ["radicale.service", "getty@.service", "systemd-tmpfiles-clean.timer"],
        });
        assert.deepEqual(r.spec.packages.map((p) => [p.name, p.version ?? "", p.hold]), [
            ["g++", "", false], ["libc6", "", false], ["python3.11", "", false], ["tzdata", "2024a-0+deb12u1", true], ["openssh-server", "1:9.2p1-2+deb12u3", false], ["foo", "1.0~rc1", false], ["bar", "", true],
        ]);
        assert.deepEqual(r.spec.keepUnits, ["radicale.service", "getty@.service", "systemd-tmpfiles-clean.timer"]);
        // A name systemd allows that starts with '_' (its state key is encoded on the host, see tests/packages/runtime.test.ts).
        assert.deepEqual(resolvePackagesArgs({ host: host(), packages: ["foo"], keepUnits: ["_x.service", "a_b@.socket"] }).spec.keepUnits, ["_x.service", "a_b@.socket"]);
        assert.equal(r.spec.removeOnDelete, undefined);
    });

    it("records host, packages (name, version, hold), keepUnits and removeOnDelete; registers one converge and one delete command", async () => {
        const { error } = await build({ host: host(), packages: ["radicale", { name: "curl", version: "7.88.1-10+deb12u5", hold: true }], keepUnits: ["radicale.service"], removeOnDelete: { reason: "a scratch host with nothing else on it" } });
        assert.equal(error, undefined);
        const comp = recorded.find((r) => r.type === "hearth:apt:Packages")!;
        assert.deepEqual(comp.inputs, {
            host: "nas",
            packages: [{ name: "radicale", hold: false }, { name: "curl", version: "7.88.1-10+deb12u5", hold: true }],
            keepUnits: ["radicale.service"],
            removeOnDelete: { reason: "a scratch host with nothing else on it" },
        });
        const cmds = recorded.filter((r) => r.type === "command:remote:Command").map((r) => r.name).sort();
        assert.deepEqual(cmds, ["apps-packages", "apps-packages-lifecycle"]);
        const converge = recorded.find((r) => r.name === "apps-packages")!;
        assert.match(converge.inputs.create, /^(sudo -n -- )?bash --noprofile --norc -c /);
        assert.match(converge.inputs.create, /# hearth-content: [0-9a-f]{64}/);
        assert.equal(converge.inputs.triggers, undefined, "no triggers (a change is an in-place update)");
    });

    it("reads installed versions and masks from the script's stdout; exposes a dependency on the converge command", async () => {
        setCommandStdout((name) => (name === "apps-packages" ? "hearth: installed radicale\nhearth: package radicale=3.1.8-1\nhearth: package curl=7.88.1-10+deb12u5\nhearth: mask radicale.service\n" : ""));
        resetRecorded();
        const p = new DebianPackages("apps", { host: host(), packages: ["radicale", "curl"] });
        assert.deepEqual(await resolve(p.packages), { radicale: "3.1.8-1", curl: "7.88.1-10+deb12u5" });
        assert.deepEqual(await resolve(p.masked), ["radicale.service"]);
        assert.equal(p.dependency.label, "DebianPackages 'apps'");
        assert.deepEqual([p.dependency.units, p.dependency.mounts, p.dependency.files], [[], [], []]);
        assert.deepEqual(p.dependency.resources, [p.command]);
    });

    it("refuses a package a second DebianPackages on the same host declares, and a unit both keep", async () => {
        resetRecorded();
        const h = host();
        new DebianPackages("one", { host: h, packages: ["radicale"], keepUnits: ["radicale.service"] });
        assert.throws(() => new DebianPackages("two", { host: h, packages: ["curl", "radicale"] }), /'packages\[1\]' argument "radicale".*apt package radicale is already managed by .*Packages\/one/);
        assert.throws(() => new DebianPackages("three", { host: h, packages: ["wget"], keepUnits: ["radicale.service"] }), /'keepUnits\[0\]' argument "radicale\.service".*Packages\/one/);
        // Another host is another registry.
        new DebianPackages("four", { host: host(), packages: ["radicale"] });
        await settle();
    });
});

describe("DebianPackages render", () => {
    const spec = (over: Partial<Parameters<typeof renderPackages>[0]> = {}) => ({ packages: [{ name: "radicale", hold: false }, { name: "curl", version: "7.88.1-10+deb12u5", hold: true }], keepUnits: ["radicale.service"], ...over });
    const cases = {
        plain: spec(),
        remove: spec({ removeOnDelete: { reason: "a scratch host" } }),
        nokeep: spec({ keepUnits: [] }),
    };
    for (const [name, s] of Object.entries(cases)) {
        const r = renderPackages(s, MARK);
        it(`${name}: passes bash -n and shellcheck`, () => {
            assert.deepEqual(checkScript(r.script), []);
            assert.deepEqual(checkScript(r.deleteScript), []);
        });
        it(`${name}: the mark and the apt lock first; apt as policy says (no recommends, confold, noninteractive, pins)`, () => {
            const body = own(r.script).split("\n").filter((l) => l !== "");
            assert.deepEqual(body.slice(0, 4), [`hearth_owner=${MARK.id}`, "hearth_aliases=()", "hearth_adopt=0", "hearth_lock apt"]);
            assert.match(r.script, /^export DEBIAN_FRONTEND=noninteractive$/m);
            assert.match(r.script, /--no-install-recommends/);
            assert.match(r.script, /Dpkg::Options::=--force-confold/);
            assert.match(r.script, /install --download-only/);
            assert.match(r.script, /^apt_versions=\('-' 7\.88\.1-10\+deb12u5\)$/m);
            assert.match(r.script, /^apt_holds=\(curl\)$/m);
        });
        it(`${name}: masks before it installs; never upgrades, never writes policy-rc.d, never purges`, () => {
            const script = own(r.script);
            const download = script.indexOf("install --download-only");
            const mask = script.indexOf('hearth_apt_settle "$u" install', download);
            const install = script.indexOf('apt-get "${apt_opts[@]}" install --', download + 1);
            assert.ok(download > 0 && mask > download && install > mask, "download, then mask, then install");
            // The component's own lines (the runtime's upgrades section speaks of upgrades; this script runs none).
            for (const text of [own(r.script), own(r.deleteScript)]) {
                assert.doesNotMatch(text, /policy-rc\.d/);
                assert.doesNotMatch(text, /\b(upgrade|dist-upgrade|full-upgrade|purge|autoremove)\b/);
            }
        });
        it(`${name}: the delete releases holds and lifts runtime masks; removes packages only on opt-in; leaves masks, forgets their records`, () => {
            const del = own(r.deleteScript);
            assert.match(del, /^hearth_apt_lift_runtime$/m);
            assert.match(del, /^hearth_apt_release_holds$/m);
            assert.match(del, /^hearth_apt_forget_masks$/m);
            assert.doesNotMatch(del, /systemctl unmask -- /);
            if (s.removeOnDelete) {
                // apt's simulation first: nothing goes when apt would take an undeclared package along.
                const check = del.indexOf('hearth_apt_check_remove "${apt_gone[@]}"');
                const remove = del.indexOf('apt-get -y -q "${apt_lock[@]}" remove -- "${apt_gone[@]}"');
                assert.ok(check > 0 && remove > check, "simulated, then removed");
            } else {
                assert.doesNotMatch(del, /apt-get .*remove|check_remove/);
                assert.match(del, /kept installed: radicale curl/);
            }
        });
        it(`${name}: installs exact names at exact versions, never removes, checks apt's plan first; keeps the protected units`, () => {
            const script = own(r.script);
            assert.match(script, /--no-remove/);
            assert.match(script, /^hearth_apt_protect='\^\(sshd\?\|/m);
            // Every install argument is name=version, resolved from exactly that name (no bare name reaches apt).
            assert.match(script, /hearth_apt_candidate "\$n"/);
            assert.match(script, /apt_todo\+=\("\$n=\$v"\)/);
            assert.doesNotMatch(script, /apt_todo\+=\("\$n"\)/);
            const check = script.indexOf('hearth_apt_check_install "${apt_names[@]}" -- "${apt_todo[@]}"');
            assert.ok(check > 0 && check < script.indexOf("install --download-only"), "apt's plan checked before anything is fetched");
            // Units dropped from keepUnits whose SystemdService file is still there: pending, not a failure.
            assert.match(script, /pending\) apt_pending\+=/);
            assert.match(script, /^hearth_apt_drop_pending "\$\{apt_pending\[@\]\}"$/m);
        });
    }
    it("the content hash follows every argument", () => {
        const hashes = new Set([cases.plain, cases.remove, cases.nokeep, spec({ packages: [{ name: "radicale", hold: true }] })].map((s) => renderPackages(s, MARK).hash));
        assert.equal(hashes.size, 4);
        assert.equal(renderPackages(spec(), MARK).hash, renderPackages(spec(), MARK).hash);
    });
    it("parses only well-formed report lines", () => {
        assert.deepEqual(reportedPackages("hearth: package radicale=3.1.8-1\nhearth: package Bad=1\nnoise\n"), { radicale: "3.1.8-1" });
        assert.deepEqual(reportedMasks("hearth: mask b.service\nhearth: mask a.socket\nhearth: masked c.service (x)\n"), ["a.socket", "b.service"]);
        assert.deepEqual(reportedPackages(undefined), {});
    });
});
