// Zone files: golden, clean under kzonecheck, deterministic serials, and served by a real knotd on loopback that dig queries.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import { txtStrings } from "../../components/dns/render";
import { homeZone, LONG_TXT, RECORDS, zoneFileOf } from "./fixtures";
import { dig, golden, kzonecheck, LocalKnot, rdata } from "./tools";

/** Joins the character-strings of a dig TXT answer back into the value. */
function txtValue(answer: string): string {
    return [...answer.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1].replace(/\\(.)/g, "$1")).join("");
}

describe("DnsZone zone file", () => {
    const zf = zoneFileOf(homeZone());

    it("matches the golden file", () => golden("home.example.org.zone", zf.text));

    it("passes kzonecheck (Knot's own checker, semantic checks included)", () => {
        assert.deepEqual(kzonecheck("home.example.org", zf.text), []);
    });

    it("kzonecheck does catch what the validation would refuse (the check can fail)", () => {
        assert.notDeepEqual(kzonecheck("home.example.org", zf.text.replace("www\t300\tIN\tCNAME", "mail\t300\tIN\tCNAME")), []);
    });

    it("gives the same bytes and serial whatever the record order, and a new serial for any change", () => {
        const shuffled = zoneFileOf(homeZone([...RECORDS!].reverse()));
        assert.equal(shuffled.text, zf.text);
        const changed = zoneFileOf(homeZone([...RECORDS!.slice(1), { name: "@", type: "A", value: "10.0.0.99" }]));
        assert.notEqual(changed.serial, zf.serial);
        assert.ok(zf.serial >= 1 && zf.serial <= 2147483647);
        assert.match(zf.text, new RegExp(`\\tSOA\\tns1\\.home\\.example\\.org\\. hostmaster\\.home\\.example\\.org\\. ${zf.serial} `));
    });

    it("splits long TXT values into 255-byte strings and escapes quotes and backslashes", () => {
        const parts = txtStrings(LONG_TXT);
        assert.ok(parts.length >= 2);
        assert.equal(parts.map((p) => p.replace(/\\(.)/g, "$1")).join(""), LONG_TXT);
        assert.ok(parts.every((p) => p.replace(/\\(.)/g, "$1").length <= 255));
    });

    describe("served by knotd on loopback", function () {
        this.timeout(30000);
        let knot: LocalKnot;
        before(async () => {
            knot = new LocalKnot("home.example.org");
            knot.writeZone(zf.text);
            await knot.start(zf.serial);
        });
        after(() => knot?.stop());

        const q = (name: string, type: string, cls?: string) => dig("127.0.0.1", knot.port, name, type, cls);

        it("answers address, mail, service, CAA and name server records authoritatively", () => {
            const git = q("git.home.example.org", "A");
            assert.equal(git.status, "NOERROR");
            assert.match(git.flags, /\baa\b/);
            assert.deepEqual(rdata(git.answer), ["10.0.0.5"]);
            assert.deepEqual(rdata(q("git.home.example.org", "AAAA").answer), ["fd00::5"]);
            assert.deepEqual(rdata(q("home.example.org", "MX").answer), ["10 mail.home.example.org."]);
            assert.deepEqual(rdata(q("nomail.home.example.org", "MX").answer), ["0 ."]);
            assert.deepEqual(rdata(q("_imaps._tcp.home.example.org", "SRV").answer), ["0 1 993 mail.home.example.org."]);
            assert.deepEqual(rdata(q("home.example.org", "CAA").answer), ['0 issue "letsencrypt.org"', '128 iodef "mailto:security@example.org"']);
            assert.deepEqual(rdata(q("home.example.org", "NS").answer), ["ns.example.net.", "ns1.home.example.org."]);
            assert.deepEqual(rdata(q("www.home.example.org", "A").answer), ["10.0.0.10", "home.example.org."]);
        });

        it("returns a long TXT value intact", () => {
            const ans = q("sel._domainkey.home.example.org", "TXT").answer;
            assert.equal(ans.length, 1);
            assert.equal(txtValue(ans[0]), LONG_TXT);
        });

        it("refers queries below a delegation to the child with glue, without the aa flag", () => {
            const r = q("host.lab.home.example.org", "A");
            assert.equal(r.status, "NOERROR");
            assert.doesNotMatch(r.flags, /\baa\b/);
            assert.deepEqual(r.answer, []);
            assert.deepEqual(rdata(r.authority), ["ns.example.net.", "ns1.lab.home.example.org."]);
            assert.ok(r.additional.some((l) => /^ns1\.lab\.home\.example\.org\. \d+ IN A 10\.0\.1\.2$/.test(l)), r.additional.join("\n"));
        });

        it("refuses recursion, version/identity queries and zone transfers", () => {
            assert.equal(q("example.com", "A").status, "REFUSED");
            assert.equal(q("version.bind", "TXT", "CH").status, "REFUSED");
            assert.equal(q("id.server", "TXT", "CH").status, "REFUSED");
            const axfr = spawnSync("dig", ["@127.0.0.1", "-p", String(knot.port), "+time=2", "+tries=1", "home.example.org", "AXFR"], { encoding: "utf8" });
            assert.match(axfr.stdout, /Transfer failed/);
            assert.doesNotMatch(axfr.stdout, /IN\s+SOA/);
        });

        it("serves a changed zone after zone-reload, whatever the new serial", async () => {
            const next = zoneFileOf(homeZone([...RECORDS!, { name: "new", type: "A", value: "10.0.0.77" }]));
            knot.writeZone(next.text);
            assert.equal(knot.knotc("zone-reload", "home.example.org").status, 0);
            await knot.waitSerial(next.serial);
            assert.deepEqual(rdata(q("new.home.example.org", "A").answer), ["10.0.0.77"]);
        });
    });
});
