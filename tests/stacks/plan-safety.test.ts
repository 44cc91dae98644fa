// The plan with secrets and with broken sites: no secret reaches its output, and a bad config stops it before anything is written.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { placeholderSecret } from "../../stacks/plan-runtime";
import { PlanRun, readPlan, runPlan, siteDir, tmpDir, walk } from "./plan-run";

const SECRET_SITE = `config:
  hearth:sshPrivateKey:
    secure: v1:AAAAfakeciphertext
  hearth:apiToken:
    secure: v1:BBBBfakeciphertext
  hearth:hosts:
    - name: app1
      address: 192.0.2.20
      user: deploy
      hostKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBMY4iXCEbVxMIRsQEyneFrlFR4/Gkmv4mMZLffxY3vv app1
  hearth:services:
    - name: api
      host: app1
      description: API that reads a token
      execStart: [/usr/bin/python3, -m, http.server, "8000"]
      network: local
      listenPorts: [8000]
      credentials:
        token: apiToken
`;

const BAD_SITE = SECRET_SITE.replace('listenPorts: [8000]', "listenPorts: [8000]\n      memoryMaxMiB: 0");
/** A secret set inside a section (`pulumi config set --secret --path 'hearth:services[0].environment.FOO'`). */
const NESTED_SECRET_SITE = SECRET_SITE.replace("      listenPorts: [8000]\n", "      listenPorts: [8000]\n      environment:\n        FOO:\n          secure: v1:CCCCfakeciphertext\n");
/** Ten levels of aliases: a few hundred bytes that expand to billions of nodes. */
const ALIAS_SITE = SECRET_SITE.replace("  hearth:services:\n", "  hearth:bomb:\n    - &a0 [x, x, x, x, x, x, x, x, x, x]\n" + Array.from({ length: 9 }, (_, i) => `    - &a${i + 1} [*a${i}, *a${i}, *a${i}, *a${i}, *a${i}, *a${i}, *a${i}, *a${i}, *a${i}, *a${i}]\n`).join("") + "  hearth:services:\n");
const PROTO_SITE = SECRET_SITE.replace("      listenPorts: [8000]\n", "      listenPorts: [8000]\n      __proto__:\n        runAsRoot: { reason: smuggled past the schema }\n");
const TWICE_SITE = SECRET_SITE.replace("  hearth:apiToken:\n", "  sshPrivateKey: plain-duplicate\n  hearth:apiToken:\n");
const CASE_SITE = SECRET_SITE.replace("  hearth:services:\n", "  Hearth:hosts: []\n  hearth:services:\n");
const PLAIN_KEY_SITE = SECRET_SITE.replace("  hearth:sshPrivateKey:\n    secure: v1:AAAAfakeciphertext\n", "  hearth:sshPrivateKey: not-a-secret-at-all\n");

describe("offline plan safety", function () {
    this.timeout(120000);
    let dir: string;
    let out: string;
    let good: PlanRun;
    let bad: PlanRun;
    let plainKey: PlanRun;
    let unknown: PlanRun;
    let refused: Record<string, PlanRun>;

    before(async () => {
        dir = siteDir({ secret: SECRET_SITE, bad: BAD_SITE, plain: PLAIN_KEY_SITE, nested: NESTED_SECRET_SITE, alias: ALIAS_SITE, proto: PROTO_SITE, twice: TWICE_SITE, cased: CASE_SITE });
        out = tmpDir("plan-out");
        [good, bad, plainKey, unknown] = await Promise.all([
            runPlan(["--stack", "secret", "--dir", dir, "--out", out]),
            runPlan(["--stack", "bad", "--dir", dir, "--out", out]),
            runPlan(["--stack", "plain", "--dir", dir, "--out", out]),
            runPlan(["--stack", "nope", "--dir", dir, "--out", out]),
        ]);
        const names = ["nested", "alias", "proto", "twice", "cased"];
        const runs = await Promise.all(names.map((n) => runPlan(["--stack", n, "--dir", dir, "--out", out])));
        refused = Object.fromEntries(names.map((n, i) => [n, runs[i]]));
    });
    after(() => [dir, out].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    it("plans a site whose secrets only the CLI could decrypt", () => {
        assert.equal(good.code, 0, good.stderr);
        const cmd = readPlan(out, "secret").hosts[0].commands[0];
        assert.equal(cmd.name, "api-converge");
        assert.equal(cmd.secretFrames, 1, "the credential travels as a secret stdin frame");
        assert.match(good.stdout, /~ api-converge {2}content [0-9a-f]{12}, .*via sudo, 1 secret\(s\) over stdin$/m);
    });

    it("writes no secret value, not even the placeholder, into any file, script or the printed plan", () => {
        const secrets = [placeholderSecret("hearth:apiToken"), placeholderSecret("hearth:sshPrivateKey")];
        const files = walk(path.join(out, "secret"));
        assert.ok(files.includes("app1/etc/systemd/system/api.service"));
        assert.ok(!files.some((f) => f.includes("credstore")), "the credential file is the host's, not the plan's");
        // It lands all the same: the printed plan and the manifest list it, its content withheld.
        assert.match(good.stdout, /^ {8}\/etc\/credstore\/api\.service\/token {2}0600 root:root {2}content withheld \(secret\)$/m);
        assert.match(fs.readFileSync(path.join(out, "secret/app1/_files.tsv"), "utf8"), /^\/etc\/credstore\/api\.service\/token\t0600\troot:root\t\(secret: withheld\)\tapi-converge$/m);
        for (const f of files) {
            const text = fs.readFileSync(path.join(out, "secret", f), "utf8");
            for (const s of secrets) assert.ok(!text.includes(s), `${f} holds a secret`);
        }
        for (const s of secrets) assert.ok(!good.stdout.includes(s) && !good.stderr.includes(s), "printed a secret");
        assert.match(fs.readFileSync(path.join(out, "secret/app1/etc/systemd/system/api.service"), "utf8"), /^LoadCredential=token:\/etc\/credstore\/api\.service\/token$/m);
    });

    it("stops on a bad config with the key path, before writing anything", () => {
        assert.equal(bad.code, 1);
        assert.equal(bad.stderr.trim(), "error: The site config has 1 error:\n  'hearth:services[0].memoryMaxMiB' is 0: expected an integer from 1 to 16777216");
        assert.ok(!fs.existsSync(path.join(out, "bad")));
    });

    it("refuses an SSH key kept in plain text in the stack file", () => {
        assert.equal(plainKey.code, 1);
        assert.match(plainKey.stderr, /'hearth:sshPrivateKey' is set in plain text \(value not shown\): expected a secret/);
        assert.ok(!plainKey.stderr.includes("not-a-secret-at-all"));
        assert.ok(!fs.existsSync(path.join(out, "plain")));
    });

    it("refuses a secret set inside a section, naming the section, before writing anything", () => {
        const r = refused.nested;
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /'hearth:services' holds a secret value: expected plain values only/);
        assert.ok(!fs.existsSync(path.join(out, "nested")));
    });

    it("refuses YAML aliases (a few lines that expand to gigabytes), __proto__ keys, a key set twice and a miscased namespace", () => {
        const expect: Record<string, RegExp> = {
            alias: /repeats another node \(a YAML alias\); anchors and aliases are not allowed/,
            proto: /config\.hearth:services\[0\]\.__proto__ is not an allowed key/,
            twice: /config key 'hearth:sshPrivateKey' is set twice/,
            cased: /config key 'Hearth:hosts' has the namespace 'Hearth': expected 'hearth'/,
        };
        for (const [name, re] of Object.entries(expect)) {
            const r = refused[name];
            assert.equal(r.code, 1, `${name}: ${r.stdout}${r.stderr}`);
            assert.match(r.stderr, re, name);
            assert.ok(!fs.existsSync(path.join(out, name)), `${name}: nothing is written`);
        }
    });

    it("names the stacks it knows when asked for one it does not", () => {
        assert.equal(unknown.code, 1);
        assert.match(unknown.stderr, /^error: no stack 'nope': .*Pulumi\.nope\.yaml does not exist \(stacks here: [a-z, ]*\bplain, [a-z, ]*secret[a-z, ]*\)$/m);
    });
});
