// Secret-looking material, addresses and command unwrapping: the detectors the policies share.
import { strict as assert } from "assert";
import { findSecrets } from "../../../policies/lib/secrets";
import { nonPublicRange, isIpAddress } from "../../../policies/lib/addresses";
import { unquoteWord, unwrapCommand, splitFrames } from "../../../policies/lib/commands";
import { shq, Script, frameStdin } from "../../../components/shell";

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
        ];
        for (const text of clean) it(`leaves ${JSON.stringify(text)} alone`, () => assert.deepEqual(findSecrets(text), []));
        it("leaves hearth's script prelude alone", () => assert.deepEqual(findSecrets(new Script("x").render()), []));
    });

    describe("nonPublicRange", () => {
        const priv = ["10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "127.0.0.1", "169.254.1.1", "fd00::1", "fc12:3456::9", "fe80::1", "::1", "::ffff:192.168.0.1", "fd12:3456:789a::10.0.0.1"];
        const pub = ["8.8.8.8", "172.32.0.1", "172.15.255.255", "100.128.0.1", "2001:db8::1", "2a01:4f8::1", "::ffff:8.8.8.8", "1.1.1.1"];
        for (const a of priv) it(`${a} is not public`, () => assert.ok(nonPublicRange(a)));
        for (const a of pub) it(`${a} is public`, () => assert.equal(nonPublicRange(a), undefined));
        it("recognizes addresses", () => {
            assert.ok(isIpAddress("::") && isIpAddress("1.2.3.4") && isIpAddress("2001:db8::1"));
            assert.ok(!isIpAddress("1.2.3.256") && !isIpAddress("example.org") && !isIpAddress("1::2::3") && !isIpAddress("1:2:3:4:5:6:7:8:9"));
        });
    });

    describe("command unwrapping", () => {
        const hostile = ["plain", "it's", "a b\nc", "'\"'\"'", "$(id) `x` \\ \"q\""];
        for (const s of hostile) it(`round-trips ${JSON.stringify(s)} through shq`, () => assert.equal(unquoteWord(shq(s)), s));
        it("undoes Host.wrap with and without sudo", () => {
            const script = "echo 'hi there'\nhearth_install /etc/x 0644 root root";
            assert.equal(unwrapCommand(`bash --noprofile --norc -c ${shq(script)}`), script);
            assert.equal(unwrapCommand(`sudo -n -- bash --noprofile --norc -c ${shq(script)}`), script);
            assert.equal(unwrapCommand("systemctl restart x"), "systemctl restart x");
        });
        it("splits framed stdin, multi-byte bodies included", () => {
            assert.deepEqual(splitFrames(frameStdin(["é\n", "", "x"])), ["é\n", "", "x"]);
            assert.equal(splitFrames("3\nab"), undefined);
            assert.equal(splitFrames("x\n"), undefined);
        });
    });
});
