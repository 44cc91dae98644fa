// hearth:packages, hearth:files and the services' references by name: hostile values are refused at their key path,
// before any component exists, and a reference names an entry on the service's own host.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { htpasswdLine } from "../../components";
import { checkSiteConfig, parseSiteConfig } from "../../stacks/schema";
import { buildSite } from "../../stacks/site";
import { credentialValue, htpasswdContext } from "../../stacks/build/services";
import { installMocks, isSecret, plainStrings, recorded, resetRecorded, resolve, settle } from "../mocks";
import { Values, webHosts } from "./site-values";

function base(): Values {
    return {
        sshPrivateKey: "placeholder",
        hosts: webHosts(),
        packages: [{ name: "dav", host: "web1", packages: ["radicale"] }],
        files: [{ name: "conf", host: "web1", path: "/etc/radicale/rights", content: "[owner]\n" }],
        datasets: [{ name: "data", host: "web1", dataset: "tank/radicale", mountpoint: "/srv/radicale" }, { name: "other", host: "web2", dataset: "tank/other" }],
        services: [{ name: "radicale", host: "web1", description: "Radicale", execStart: ["/usr/bin/python3", "-m", "radicale"] }],
    };
}

function problems(v: Values, secretKeys = ["sshPrivateKey"]): string[] {
    const r = checkSiteConfig({ values: v, secretKeys: new Set(secretKeys) });
    return r.ok ? [] : r.problems.map((p) => `'${p.path}' ${p.message}`);
}

const cases: [string, (v: Values) => void, RegExp][] = [
    ["a package name with a shell word", (v) => (v.packages[0].packages = ["radicale; id"]), /^'hearth:packages\[0\]\.packages\[0\]' is "radicale; id": expected a Debian package name/],
    ["an uppercase package name", (v) => (v.packages[0].packages = ["Radicale"]), /^'hearth:packages\[0\]\.packages\[0\]' is "Radicale": expected a Debian package name/],
    ["a package with an architecture", (v) => (v.packages[0].packages = ["radicale:amd64"]), /^'hearth:packages\[0\]\.packages\[0\]' is "radicale:amd64"/],
    ["a version with a space", (v) => (v.packages[0].packages = [{ name: "radicale", version: "3.1 -1" }]), /^'hearth:packages\[0\]\.packages\[0\]\.version' is "3\.1 -1": expected a Debian version/],
    ["a version with a shell expansion", (v) => (v.packages[0].packages = [{ name: "radicale", version: "$(id)" }]), /^'hearth:packages\[0\]\.packages\[0\]\.version' is "\$\(id\)"/],
    ["a package listed twice", (v) => (v.packages[0].packages = ["radicale", { name: "radicale", hold: true }]), /^'hearth:packages\[0\]\.packages\[1\]' is "radicale": expected a package not listed before/],
    ["a hold that is not a boolean", (v) => (v.packages[0].packages = [{ name: "radicale", hold: "yes" }]), /^'hearth:packages\[0\]\.packages\[0\]\.hold' is "yes"/],
    ["a kept unit with a path", (v) => (v.packages[0].keepUnits = ["../x.service"]), /^'hearth:packages\[0\]\.keepUnits\[0\]' is "\.\.\/x\.service": expected a systemd unit name/],
    ["a kept unit that is a mount", (v) => (v.packages[0].keepUnits = ["srv.mount"]), /^'hearth:packages\[0\]\.keepUnits\[0\]' is "srv\.mount"/],
    ["removeOnDelete without a reason", (v) => (v.packages[0].removeOnDelete = {}), /^'hearth:packages\[0\]\.removeOnDelete\.reason' is missing/],
    ["an unknown packages key", (v) => (v.packages[0].version = "1"), /^'hearth:packages\[0\]\.version' is not a known key/],
    ["packages on an unknown host", (v) => (v.packages[0].host = "web9"), /^'hearth:packages\[0\]\.host' is "web9": expected the name of an entry in hearth:hosts or hearth:containers/],
    ["two packages entries with one name", (v) => v.packages.push({ name: "dav", host: "web2", packages: ["curl"] }), /^'hearth:packages\[1\]\.name' is "dav": expected a packages entry name not used before/],
    ["a file under /etc/systemd", (v) => (v.files[0].path = "/etc/systemd/system/x.service"), /^'hearth:files\[0\]\.path' is "\/etc\/systemd\/system\/x\.service"/],
    ["a file path with ..", (v) => (v.files[0].path = "/etc/radicale/../sudoers"), /^'hearth:files\[0\]\.path' is "\/etc\/radicale\/\.\.\/sudoers"/],
    ["a relative file path", (v) => (v.files[0].path = "etc/radicale/x"), /^'hearth:files\[0\]\.path' is "etc\/radicale\/x"/],
    ["a setuid mode", (v) => (v.files[0].mode = "4755"), /^'hearth:files\[0\]\.mode' is "4755": expected a mode without setuid/],
    ["a world-writable mode", (v) => (v.files[0].mode = "0666"), /^'hearth:files\[0\]\.mode' is "0666": expected a mode no other user may write/],
    // One mode rule for HostFile and a service's files: a quoted 4-digit octal string; YAML's unquoted 0644 is a number.
    ["a numeric mode", (v) => (v.files[0].mode = 420), /^'hearth:files\[0\]\.mode' is 420: expected a file mode as a quoted 4-digit octal string, e\.g\. "0644" or "0640" \(a number is refused: .*quote the octal string\)$/],
    ["a mode as YAML reads an unquoted 0644", (v) => (v.files[0].mode = 644), /^'hearth:files\[0\]\.mode' is 644: expected a file mode as a quoted 4-digit octal string/],
    ["a 3-digit mode", (v) => (v.files[0].mode = "644"), /^'hearth:files\[0\]\.mode' is "644": expected a file mode as a quoted 4-digit octal string/],
    ["an executable mode", (v) => (v.files[0].mode = "0744"), /^'hearth:files\[0\]\.mode' is "0744": expected a mode with no execute bit \(no 0100, 0010 or 0001\): a configuration file is never a program$/],
    ["a service file mode as a number", (v) => (v.services[0].files = [{ target: "/etc/radicale/config", content: "x", mode: 420 }]), /^'hearth:services\[0\]\.files\[0\]\.mode' is 420: expected a file mode as a quoted 4-digit octal string.*quote the octal string\)$/],
    ["a service file mode as YAML reads an unquoted 0100", (v) => (v.services[0].files = [{ target: "/etc/radicale/config", content: "x", mode: 100 }]), /^'hearth:services\[0\]\.files\[0\]\.mode' is 100: expected a file mode as a quoted 4-digit octal string/],
    ["a group-writable service file mode", (v) => (v.services[0].files = [{ target: "/etc/radicale/config", content: "x", mode: "0664" }]), /^'hearth:services\[0\]\.files\[0\]\.mode' is "0664": expected a mode no other user may write \(no 0020 or 0002 bit\)/],
    ["an owner with a shell word", (v) => (v.files[0].owner = "root;id"), /^'hearth:files\[0\]\.owner' is "root;id"/],
    ["content with a NUL", (v) => (v.files[0].content = "a\0b"), /^'hearth:files\[0\]\.content' is .*expected text/],
    ["both content and secretContent", (v) => (v.files[0].secretContent = "confKey"), /^'hearth:files\[0\]\.content' is "\[owner\]\\n": expected exactly one of content/],
    ["neither content nor secretContent", (v) => delete v.files[0].content, /^'hearth:files\[0\]\.content' is missing: expected exactly one of content/],
    ["a secret file readable by others", (v) => ((v.files[0] = { name: "conf", host: "web1", path: "/etc/radicale/users", secretContent: "usersKey", mode: "0644" }), (v.usersKey = "x")), /^'hearth:files\[0\]\.mode' is "0644": expected a mode that gives other users nothing \(the last digit is 0, e.g. "0600" or "0640"\): secret is true$/],
    ["a secretContent that is not a key name", (v) => ((v.files[0] = { name: "conf", host: "web1", path: "/etc/radicale/users", secretContent: "alice:$apr1$x" })), /^'hearth:files\[0\]\.secretContent' is "\(hidden: it may be a secret\)": expected the name of a secret config key/],
    ["the file's own secret flag", (v) => (v.files[0].secret = true), /^'hearth:files\[0\]\.secret' is not a known key/],
    ["a reference with two kinds", (v) => (v.services[0].after = [{ dataset: "data", file: "conf" }]), /^'hearth:services\[0\]\.after\[0\]' is .*expected a reference by name/],
    ["a reference of an unknown kind", (v) => (v.services[0].requires = [{ unit: "x.service" }]), /^'hearth:services\[0\]\.requires\[0\]/],
    ["a reference by a plain string", (v) => (v.services[0].wants = ["data"]), /^'hearth:services\[0\]\.wants\[0\]' is "data": expected a reference by name/],
    ["a reference name with a shell word", (v) => (v.services[0].after = [{ dataset: "data;id" }]), /^'hearth:services\[0\]\.after\[0\]\.dataset' is "data;id": expected a lowercase DNS label/],
    ["a reference to nothing", (v) => (v.services[0].requires = [{ dataset: "nope" }]), /^'hearth:services\[0\]\.requires\[0\]\.dataset' is "nope": expected the name of an entry of hearth:datasets on host 'web1' \("data"\)$/],
    ["a reference to another host", (v) => (v.services[0].requires = [{ dataset: "other" }]), /^'hearth:services\[0\]\.requires\[0\]\.dataset' is "other": expected the name of an entry of hearth:datasets on host 'web1' \("data"\) \('other' is on host 'web2'\)$/],
    ["a reference to itself", (v) => (v.services[0].after = [{ service: "radicale" }]), /^'hearth:services\[0\]\.after\[0\]\.service' is "radicale": expected the name of an entry of hearth:services on host 'web1' \(none there\) \(not the service itself\)$/],
    ["a file reference where there is none", (v) => (v.services[0].after = [{ file: "conf2" }]), /^'hearth:services\[0\]\.after\[0\]\.file' is "conf2": expected the name of an entry of hearth:files on host 'web1' \("conf"\)$/],
    ["a packages reference on another host", (v) => ((v.packages[0].host = "web2"), (v.services[0].after = [{ packages: "dav" }])), /^'hearth:services\[0\]\.after\[0\]\.packages' is "dav": expected the name of an entry of hearth:packages on host 'web1' \(none there\) \('dav' is on host 'web2'\)$/],
    ["more than 64 references", (v) => (v.services[0].after = Array.from({ length: 65 }, () => ({ dataset: "data" }))), /^'hearth:services\[0\]\.after' is .*expected an array of at most 64 references/],
    [
        "services naming each other in a cycle",
        (v) => {
            v.services[0].after = [{ service: "b" }];
            v.services.push({ name: "b", host: "web1", description: "B", execStart: ["/usr/bin/true"], wants: [{ service: "radicale" }] });
        },
        /^'hearth:services\[1\]\.wants\[0\]\.service' is "radicale": expected a service that does not depend on service 'b' in turn \(service 'radicale' -> service 'b' -> service 'radicale' is a cycle\)$/,
    ],
    ...htpasswdCases(),
    ...dependsOnCases(),
];

function dependsOnCases(): [string, (v: Values) => void, RegExp][] {
    return [
        ["a dependsOn naming nothing", (v) => (v.services[0].dependsOn = [{ dataset: "nope" }]), /^'hearth:services\[0\]\.dependsOn\[0\]\.dataset' is "nope": expected the name of an entry of hearth:datasets \("data", "other"\)$/],
        ["a dependsOn on a section with no entries", (v) => (v.files[0].dependsOn = [{ database: "db" }]), /^'hearth:files\[0\]\.dependsOn\[0\]\.database' is "db": expected the name of an entry of hearth:databases \(none defined\)$/],
        ["a dataset depending on itself", (v) => (v.datasets[0].dependsOn = [{ dataset: "data" }]), /^'hearth:datasets\[0\]\.dependsOn\[0\]\.dataset' is "data": expected the name of an entry of hearth:datasets \("other"\) \(not the entry itself\)$/],
        ["a dependsOn of an unknown kind", (v) => (v.packages[0].dependsOn = [{ container: "build" }]), /^'hearth:packages\[0\]\.dependsOn\[0\]' is .*expected a reference by name/],
        ["a dependsOn by a plain string", (v) => (v.datasets[0].dependsOn = ["conf"]), /^'hearth:datasets\[0\]\.dependsOn\[0\]' is "conf": expected a reference by name/],
        ["a dependsOn with two kinds", (v) => (v.files[0].dependsOn = [{ dataset: "data", packages: "dav" }]), /^'hearth:files\[0\]\.dependsOn\[0\]' is .*expected a reference by name/],
        ["a dependsOn name with a shell word", (v) => (v.services[0].dependsOn = [{ file: "conf$(id)" }]), /^'hearth:services\[0\]\.dependsOn\[0\]\.file' is "conf\$\(id\)": expected a lowercase DNS label/],
        ["more than 64 dependsOn", (v) => (v.packages[0].dependsOn = Array.from({ length: 65 }, () => ({ file: "conf" }))), /^'hearth:packages\[0\]\.dependsOn' is .*expected an array of at most 64 references/],
        ["dependsOn that is not a list", (v) => (v.datasets[0].dependsOn = { service: "radicale" }), /^'hearth:datasets\[0\]\.dependsOn' is .*expected an array of at most 64 references/],
        [
            "a dataset depending on the service that requires it",
            (v) => ((v.services[0].requires = [{ dataset: "data" }]), (v.datasets[0].dependsOn = [{ service: "radicale" }])),
            /^'hearth:(datasets\[0\]\.dependsOn\[0\]\.service' is "radicale": expected a service that does not depend on dataset 'data'|services\[0\]\.requires\[0\]\.dataset' is "data": expected a dataset that does not depend on service 'radicale') in turn \((dataset 'data' -> service 'radicale' -> dataset 'data'|service 'radicale' -> dataset 'data' -> service 'radicale') is a cycle\)$/,
        ],
        [
            "a cycle through three sections",
            (v) => ((v.files[0].dependsOn = [{ packages: "dav" }]), (v.packages[0].dependsOn = [{ dataset: "other" }]), (v.datasets[1].dependsOn = [{ file: "conf" }])),
            /^'hearth:\w+\[\d\]\.dependsOn\[0\]\.\w+' is "\w+": expected a (file|packages entry|dataset) that does not depend on .* in turn \(.* -> .* -> .* -> .* is a cycle\)$/,
        ],
    ];
}

/** The service's htpasswd credential: `{ htpasswd: [{ user, password: <secret config key> }] }`. */
function htpasswd(users: unknown): (v: Values) => void {
    return (v) => {
        v.services[0].credentials = { htpasswd: { htpasswd: users } };
        v.alicePassword = "s3cret-alice";
    };
}

function htpasswdCases(): [string, (v: Values) => void, RegExp][] {
    // Every value under `credentials` is hidden in an error (it is a secret-looking name): a user name too.
    const at = String.raw`'hearth:services\[0\]\.credentials\.htpasswd`;
    const hidden = String.raw`is "\(hidden: it may be a secret\)": expected `;
    const re = (s: string) => new RegExp(`^${at}${s}`);
    const user = String.raw`\.htpasswd\[0\]\.user' ${hidden}1 to 64 letters, digits and \. _ @ \+ - \(no ':', '#', spaces or control characters\)$`;
    return [
        ["an htpasswd user with a ':'", htpasswd([{ user: "alice:x", password: "alicePassword" }]), re(user)],
        ["an htpasswd user with a newline", htpasswd([{ user: "alice\nbob", password: "alicePassword" }]), re(user)],
        ["an htpasswd user that is a comment", htpasswd([{ user: "#alice", password: "alicePassword" }]), re(user)],
        ["an empty htpasswd user", htpasswd([{ user: "", password: "alicePassword" }]), re(user)],
        ["an htpasswd user of 65 characters", htpasswd([{ user: "a".repeat(65), password: "alicePassword" }]), re(user)],
        ["no htpasswd users", htpasswd([]), re(String.raw`\.htpasswd' ${hidden}an array of 1 to 100 \{ user, password \}`)],
        ["101 htpasswd users", htpasswd(Array.from({ length: 101 }, (_, i) => ({ user: `u${i}`, password: "alicePassword" }))), re(String.raw`\.htpasswd' ${hidden}an array of 1 to 100`)],
        ["one htpasswd user twice", htpasswd([{ user: "alice", password: "alicePassword" }, { user: "alice", password: "alicePassword" }]), re(String.raw`\.htpasswd\[1\]\.user' ${hidden}a user not listed before \(htpasswd\[0\] has it\)$`)],
        ["an htpasswd user without a password", htpasswd([{ user: "alice" }]), re(String.raw`\.htpasswd\[0\]\.password' is missing: expected the name of a secret config key`)],
        // A pasted line or password in place of the key name is never shown.
        ["a pasted htpasswd line as the password", htpasswd([{ user: "alice", password: "alice:$apr1$abcdefgh$0123456789abcdefghijkl" }]), re(String.raw`\.htpasswd\[0\]\.password' ${hidden}the name of a secret config key`)],
        ["a password key that is not set", htpasswd([{ user: "alice", password: "bobPassword" }]), /^'hearth:services\[0\]\.credentials\.htpasswd\.htpasswd\[0\]\.password' names a secret config key that is not set \(the name given there is not repeated/],
        ["an unknown key in an htpasswd user", htpasswd([{ user: "alice", password: "alicePassword", hash: "md5" }]), re(String.raw`\.htpasswd\[0\]\.hash' is not a known key`)],
        ["an unknown key beside htpasswd", (v) => ((v.services[0].credentials = { htpasswd: { htpasswd: [{ user: "alice", password: "alicePassword" }], bcrypt: true } }), (v.alicePassword = "x")), re(String.raw`\.bcrypt' is not a known key`)],
        ["a credential that is a number", (v) => (v.services[0].credentials = { htpasswd: 5 }), re(String.raw`' ${hidden}the name of a secret config key, or \{ htpasswd: \[\{ user, password: <secret config key> \}\] \}$`)],
        ["a credential that is a list", (v) => (v.services[0].credentials = { htpasswd: ["alicePassword"] }), re(String.raw`' ${hidden}the name of a secret config key, or \{ htpasswd`)],
    ];
}

describe("hearth:packages, hearth:files and references by name", () => {
    it("the base config is valid", () => assert.deepEqual(problems(base()), []));

    for (const [what, edit, expected] of cases) {
        it(`refuses ${what} at its key path`, () => {
            const v = base();
            edit(v);
            const found = problems(v, ["sshPrivateKey", "usersKey", "confKey", "alicePassword"]);
            assert.ok(found.some((f) => expected.test(f)), found.join("\n") || "the config accepted it");
        });
    }

    it("a unit a service declares may not also be listed in keepUnits (it is kept without it)", async () => {
        installMocks("hearth", "apps");
        const v = base();
        v.packages[0].keepUnits = ["radicale.service"];
        resetRecorded();
        assert.throws(
            () => buildSite(parseSiteConfig({ values: v, secretKeys: new Set(["sshPrivateKey"]) }), { secret: () => pulumi.secret("s") }),
            (e: Error) => e.message.includes(`'hearth:packages[0].keepUnits[0]' is "radicale.service": expected a unit no service of host 'web1' declares (a service declares radicale.service, so it is kept without being listed)`),
        );
        await settle();
        assert.deepEqual(recorded, []);
    });

    it("builds references into ordering and keeps the declared packaged unit", async () => {
        installMocks("hearth", "apps");
        const v = base();
        v.services[0].requires = [{ dataset: "data" }, { packages: "dav" }];
        v.services[0].after = [{ file: "conf" }];
        resetRecorded();
        buildSite(parseSiteConfig({ values: v, secretKeys: new Set(["sshPrivateKey"]) }), { secret: () => pulumi.secret("s") });
        await settle();
        const pkgs = recorded.find((r) => r.type === "hearth:apt:Packages")!;
        assert.deepEqual(pkgs.inputs.keepUnits, ["radicale.service"]);
        const svc = recorded.find((r) => r.type === "hearth:systemd:Service" && r.name === "radicale")!;
        assert.match(svc.inputs.unitText, /^RequiresMountsFor=\/srv\/radicale$/m);
        assert.ok(recorded.some((r) => r.type === "hearth:files:File" && r.name === "conf"));
    });

    it("takes a quoted octal mode for a HostFile and a service's file alike", () => {
        const v = base();
        v.files[0].mode = "0640";
        v.services[0].files = [{ target: "/etc/radicale/config", content: "x", mode: "0640" }];
        assert.deepEqual(problems(v), []);
    });

    it("never repeats a secret pasted where the name of its secret config key belongs", () => {
        const v = base();
        v.files.push({ name: "fs", host: "web1", path: "/etc/radicale/secret.conf", secretContent: "SEKRITfilecontent-Zq9" });
        v.services[0].credentials = { token: "ghp_SEKRITabcdefghijklmnopqrstuvwxyz0123", htpasswd: { htpasswd: [{ user: "family", password: "SEKRIThunter2" }] } };
        const found = problems(v);
        const notSet = "names a secret config key that is not set (the name given there is not repeated: it may be the secret itself, pasted in the name's place): expected the name of a key set with `pulumi config set --secret hearth:<name>` (it prompts for the value)";
        assert.deepEqual(found, [
            `'hearth:files[1].secretContent' ${notSet}`,
            `'hearth:services[0].credentials.htpasswd.htpasswd[0].password' ${notSet}`,
            `'hearth:services[0].credentials.token' ${notSet}`,
        ]);
        assert.ok(!found.some((f) => f.includes("SEKRIT")), found.join("\n"));
    });

    it("names the key with the config's namespace in the command that sets it", () => {
        const v = base();
        v.services[0].credentials = { token: "apiToken" };
        v.apiToken = "plain";
        const r = checkSiteConfig({ values: v, secretKeys: new Set(["sshPrivateKey"]) }, "acme");
        assert.deepEqual(r.ok ? [] : r.problems, [{ path: "acme:apiToken", message: "is set in plain text (value not shown): expected a secret, set with `pulumi config set --secret acme:apiToken` (it prompts for the value)" }]);
    });

    it("an htpasswd password set in plain text is an error that does not show it", () => {
        const v = base();
        htpasswd([{ user: "alice", password: "alicePassword" }])(v);
        const found = problems(v, ["sshPrivateKey"]);
        assert.ok(found.includes("'hearth:alicePassword' is set in plain text (value not shown): expected a secret, set with `pulumi config set --secret hearth:alicePassword` (it prompts for the value)"), found.join("\n"));
        assert.ok(!found.some((f) => f.includes("s3cret-alice")), found.join("\n"));
    });

    it("dependsOn may name an entry on another host, and a dataset may wait for a packages entry", () => {
        const v = base();
        v.services[0].dependsOn = [{ dataset: "other" }];
        v.datasets[0].dependsOn = [{ packages: "dav" }, { file: "conf" }];
        assert.deepEqual(problems(v), []);
    });

    it("dependsOn creates what it names first, and every remote command of the entry depends on it", async () => {
        await installMocks("hearth", "apps");
        const v = base();
        // Declared in the reverse of the section order: the dataset waits for the service, the service for the file.
        v.datasets[0].dependsOn = [{ service: "radicale" }];
        v.services[0].dependsOn = [{ file: "conf" }, { dataset: "other" }];
        const site = parseSiteConfig({ values: v, secretKeys: new Set(["sshPrivateKey"]) });
        const deps = new Map<string, string[]>();
        const order: string[] = [];
        resetRecorded();
        await pulumi.runtime.runInPulumiStack(async () => {
            pulumi.runtime.registerStackTransformation((a) => {
                order.push(`${a.type} ${a.name}`);
                const on = a.opts.dependsOn;
                deps.set(`${a.type} ${a.name}`, (Array.isArray(on) ? on : on ? [on] : []).map((r: any) => `${r.__pulumiType} ${r.__name}`).sort());
                return undefined;
            });
            buildSite(site, { secret: () => pulumi.secret("s") });
            return undefined;
        });
        await settle();
        const at = (what: string) => order.indexOf(what);
        assert.ok(at("hearth:files:File conf") < at("hearth:systemd:Service radicale"), order.join("\n"));
        assert.ok(at("hearth:zfs:Dataset other") < at("hearth:systemd:Service radicale"), order.join("\n"));
        assert.ok(at("hearth:systemd:Service radicale") < at("hearth:zfs:Dataset data"), order.join("\n"));
        const service = ["hearth:files:File conf", "hearth:zfs:Dataset other"];
        assert.deepEqual([...new Set(deps.get("hearth:systemd:Service radicale"))], service);
        const commands = ["radicale-converge", "radicale-converge-lifecycle"];
        for (const c of commands) assert.deepEqual(deps.get(`command:remote:Command ${c}`)!.filter((d) => !d.startsWith("command:")).filter((d, i, all) => all.indexOf(d) === i), service, c);
        for (const c of ["data-dataset", "data-dataset-lifecycle"]) assert.ok(deps.get(`command:remote:Command ${c}`)!.includes("hearth:systemd:Service radicale"), `${c} waits for the service`);
        // Without dependsOn, nothing is added: the other dataset's commands depend on nothing of the site.
        assert.deepEqual(deps.get("command:remote:Command other-dataset")!.filter((d) => d.startsWith("hearth:")), []);
    });

    describe("an htpasswd credential built from secret passwords", () => {
        const passwords: Record<string, string> = { alicePassword: "correct horse battery staple", bobPassword: "Tr0ub4dor&3-bob" };
        const secretOf = (over: Record<string, string> = {}) => (key: string) => pulumi.secret({ ...passwords, ...over }[key]);
        const site = () => {
            const v = base();
            v.services[0].credentials = { htpasswd: { htpasswd: [{ user: "alice", password: "alicePassword" }, { user: "bob@example.org", password: "bobPassword" }] } };
            Object.assign(v, { alicePassword: "x", bobPassword: "x" });
            return parseSiteConfig({ values: v, secretKeys: new Set(["sshPrivateKey", "alicePassword", "bobPassword"]) });
        };
        async function build(over: Record<string, string> = {}) {
            await installMocks("hearth", "apps");
            resetRecorded();
            buildSite(site(), { secret: secretOf(over) });
            await settle();
            const converge = recorded.find((r) => r.type === "command:remote:Command" && r.name === "radicale-converge")!;
            return { converge, all: [...recorded] };
        }

        it("is one stable $apr1$ line per user, a secret, identical on every build", async () => {
            const c = credentialValue({ htpasswd: [{ user: "alice", password: "alicePassword" }, { user: "bob@example.org", password: "bobPassword" }] }, secretOf(), htpasswdContext("radicale", "htpasswd"));
            assert.equal(await isSecret(c), true);
            const file = await resolve(c);
            const context = `${pulumi.getProject()}/${pulumi.getStack()}/radicale/htpasswd`;
            assert.equal(file, `${htpasswdLine("alice", passwords.alicePassword, context)}\n${htpasswdLine("bob@example.org", passwords.bobPassword, context)}\n`);
            // Salted with the site and service: the same password gives another line elsewhere.
            assert.notEqual(file.split("\n")[0], htpasswdLine("alice", passwords.alicePassword));
            assert.match(file, /^alice:\$apr1\$[./0-9A-Za-z]{8}\$[./0-9A-Za-z]{22}\nbob@example\.org:\$apr1\$/);
            const first = await build();
            const again = await build();
            assert.equal(again.converge.inputs.create, first.converge.inputs.create, "an unchanged password changes nothing");
            assert.equal(again.converge.inputs.stdin, first.converge.inputs.stdin);
            assert.ok(first.converge.inputs.stdin.includes(file), "the file travels as a stdin frame");
            const changed = await build({ bobPassword: "a new password for bob" });
            assert.notEqual(changed.converge.inputs.stdin, first.converge.inputs.stdin, "a changed password is a change of the component (its secret stdin)");
        });

        it("neither a password nor a line is in any recorded input in clear, nor in the service's recorded props", async () => {
            const { converge, all } = await build();
            assert.equal(isSecretValueOf(converge.rawInputs.stdin), true, "the stdin carrying the credential is secret");
            const file = await resolve(credentialValue({ htpasswd: [{ user: "alice", password: "alicePassword" }, { user: "bob@example.org", password: "bobPassword" }] }, secretOf(), htpasswdContext("radicale", "htpasswd")));
            const lines = file.trim().split("\n");
            const hashes = lines.map((l) => l.slice(l.indexOf(":") + 1));
            for (const r of all) {
                const clear = plainStrings(r.rawInputs).join("\n");
                for (const needle of [...Object.values(passwords), ...hashes]) assert.ok(!clear.includes(needle), `${r.type} ${r.name} shows a secret in clear`);
            }
            const svc = all.find((r) => r.type === "hearth:systemd:Service" && r.name === "radicale")!;
            const props = JSON.stringify(svc.inputs);
            for (const needle of [...Object.values(passwords), ...hashes, "$apr1$"]) assert.ok(!props.includes(needle), `the recorded props show ${needle.slice(0, 6)}…`);
        });

        it("a password a line cannot hold is refused naming its key, never showing it", async () => {
            const c = credentialValue({ htpasswd: [{ user: "alice", password: "alicePassword" }] }, secretOf({ alicePassword: "two\nlines" }), "ctx");
            const e: Error = await (c as any).promise().then(() => new Error("accepted"), (err: Error) => err);
            assert.equal(e.message, "the secret config key 'alicePassword' (htpasswd user 'alice') holds a value that is not allowed (not shown): expected a password of 1 to 4096 characters without NUL, CR or LF");
        });
    });
});

function isSecretValueOf(v: unknown): boolean {
    return plainStrings(v).length === 0 && v !== undefined;
}
