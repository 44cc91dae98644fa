// Secret-looking material and command unwrapping: the detectors the policies share.
import { strict as assert } from "assert";
import { findSecrets } from "../../../policies/lib/secrets";
import { rewriteInstalledFiles, unwrapCommand } from "../../../policies/lib/commands";
import { shq, Script, frameStdin, parseScriptFiles } from "../../../components/core/shell";

describe("shared detectors", () => {
    describe("findSecrets", () => {
        const cases: [string, string][] = [
            ["-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n-----END OPENSSH PRIVATE KEY-----", "private key block"],
            ["-----BEGIN RSA PRIVATE KEY-----", "private key block"],
            ["-----BEGIN PGP PRIVATE KEY BLOCK-----", "private key block"],
            ["export DB_PASSWORD=hunter22", "'DB_PASSWORD=' assignment"],
            ["PGPASSWORD='s3cret' psql -h db", "'PGPASSWORD=' assignment"],
            ['curl -H x API_KEY="abcdef123456"', "'API_KEY=' assignment"],
            ["mysql --password=hunter22 -u root", "--password option"],
            ["psql postgres://app:hunter22@db.lan:5432/app", "connection URI with a password"],
            ["[Interface]\nPrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n", "WireGuard PrivateKey"],
            ["ALTER ROLE app PASSWORD 'hunter22'", "SQL PASSWORD literal"],
            ["password: hunter22", "'password=' assignment"],
            ["[Service]\nSetCredential=db:hunter22\n", "SetCredential= value"],
            ["AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ", "age secret key"],
            // Only sudoers' tag form is exempt: an assignment to a PASSWD name is still one.
            ["PASSWD=hunter22 ./run", "'PASSWD=' assignment"],
            ["NOPASSWD = hunter22", "'NOPASSWD=' assignment"],
        ];
        for (const [text, kind] of cases) {
            it(`finds a ${kind} in ${JSON.stringify(text.slice(0, 30))}`, () => {
                const f = findSecrets(text);
                assert.ok(f.some((x) => x.kind === kind), JSON.stringify(f));
                for (const x of f) assert.ok(!x.excerpt.includes("hunter22") && !x.excerpt.includes("s3cret") && !x.excerpt.includes("abcdef123456"), "excerpts are redacted");
            });
        }
        const clean = [
            'DB_PASSWORD="$(cat "$CREDENTIALS_DIRECTORY/db")"',
            "PASSWORD=$pw",
            "password_encryption = 'scram-sha-256'",
            "psql postgres://app@db.lan/app",
            "hearth_frame \"$secret_0\"",
            "ALTER ROLE app PASSWORD :'pw'",
            "TOKEN=",
            "LoadCredential=db:/etc/credstore/web.service/db",
            "https://example.org/path",
            "ops ALL=(ALL:ALL) NOPASSWD: ALL",
            "%admin ALL = (root) PASSWD: /usr/bin/apt",
        ];
        for (const text of clean) it(`leaves ${JSON.stringify(text)} alone`, () => assert.deepEqual(findSecrets(text), []));
        it("leaves hearth's script prelude alone", () => assert.deepEqual(findSecrets(new Script("x").render()), []));
    });

    describe("command unwrapping", () => {
        const hostile = ["plain", "it's", "a b\nc", "'\"'\"'", "$(id) `x` \\ \"q\""];
        const bash = (script: string) => `bash --noprofile --norc -c ${shq(script)}`;
        for (const s of hostile) it(`round-trips ${JSON.stringify(s)} through shq`, () => assert.equal(unwrapCommand(bash(s)), s));
        it("undoes Host.wrap with and without sudo", () => {
            const script = "echo 'hi there'\nhearth_install /etc/x 0644 root root";
            assert.equal(unwrapCommand(bash(script)), script);
            assert.equal(unwrapCommand(`sudo -n -- ${bash(script)}`), script);
            assert.equal(unwrapCommand("systemctl restart x"), "systemctl restart x");
        });
        it("leaves a command line that shq did not write as it is", () => {
            for (const line of [`bash --noprofile --norc -c "echo hi"`, `bash --noprofile --norc -c 'a' 'b'`, `bash --noprofile --norc -c 'it'\''s'`]) assert.equal(unwrapCommand(line), line);
        });
        it("rewrites installed files, multi-byte bodies included, carrying secret frames over", () => {
            const s = new Script("x").install({ path: "/etc/a", content: "é\n", mode: 0o644 }).secretToFile("secret_0", "/run/s").install({ path: "/etc/b", content: "", mode: 0o644 }).render();
            const stdin = rewriteInstalledFiles({ connection: { host: "h" }, create: bash(s), stdin: frameStdin(["é\n", "pw", ""]) }, (f) => (f.path === "/etc/b" ? "ü" : f.content));
            assert.equal(stdin, frameStdin(["é\n", "pw", "ü"]));
            assert.deepEqual(parseScriptFiles(s, stdin!).map((f) => f.content), ["é\n", "ü"]);
            assert.equal(rewriteInstalledFiles({ connection: { host: "h" }, create: bash(s), stdin: "3\nab" }, (f) => f.content), undefined, "a short frame");
        });
    });
});
