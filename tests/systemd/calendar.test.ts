// OnCalendar= and ListenStream= validation, held against the real systemd-analyze on a corpus and on random input.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import fc from "fast-check";
import { isCalendarExpression, parseListenStream } from "../../components/systemd/check";

function systemdAccepts(expr: string): boolean {
    return spawnSync("systemd-analyze", ["calendar", expr], { encoding: "utf8" }).status === 0;
}

const GOOD = [
    "daily", "Daily", "hourly", "minutely", "weekly", "monthly", "yearly", "annually", "quarterly", "semiannually", "weekly UTC",
    "Mon..Fri 09:00", "Mon,Wed *-*-* 12:00:00", "*-*-01 03:00", "*:0/15", "2024-01-01", "*-02~03", "Sat *-1..7 4:00", "12:00 UTC",
    "12:00 Europe/Berlin", "Monday 10:00", "mon 10:00", "TUE", "tuesday", "*-*-* *:*:*", "00:00:30.5", "1..5:00", "0/2:00",
    "2024-*-* 00:00", "@1700000000", "10:00,22:00", "Mon..Wed,Fri 10:00", "*-*-1/2", "24-01-01", "*:*", "Mon UTC",
    "*-1..12/3-1 0:0", "*~07", "*-*~07/1", "Fri *-*~7/1", "1970-01-01", "2199-01-01", "*-*-* 00:00 America/Argentina/Buenos_Aires",
    "12:00 Etc/GMT+5", "00:00:00.123456", "0:0", "*-*-* 03:30:00", "2024-02-30",
];
const BAD = [
    "", " daily", "daily ", "daily; rm -rf /", "now", "today", "*-13-01", "25:00", "00:60", "*/2:00", "*-*-*/2", "Sun..Mon 1:00",
    "UTC", "Mon Tue", "1:2:3:4", "* *:*", "0", "1", "*", "-1", "Mon,,Tue", "mo", "*-*-0", "1969-01-01", "2200-01-01", "9999-01-01",
    "Mon\n10:00", "%H:00", "$(reboot)", "12:00 Mars/Olympus", "daily\0",
];

describe("OnCalendar= validation", () => {
    it("accepts the good corpus, and systemd-analyze calendar agrees", () => {
        for (const e of GOOD) {
            assert.ok(isCalendarExpression(e), `hearth refused ${JSON.stringify(e)}`);
            assert.ok(systemdAccepts(e), `systemd refused ${JSON.stringify(e)}`);
        }
    });

    it("refuses the bad corpus, which systemd-analyze calendar refuses too", () => {
        for (const e of BAD) {
            // systemd-analyze cannot even receive a NUL in argv.
            const passable = !e.includes("\0");
            assert.ok(!isCalendarExpression(e), `hearth accepted ${JSON.stringify(e)}`);
            if (passable) assert.ok(!systemdAccepts(e), `systemd accepted ${JSON.stringify(e)}`);
        }
    });

    it("never accepts what systemd refuses (random calendar-like strings)", () => {
        const token = fc.constantFrom("Mon", "fri", "Sun..Mon", "Mon..Fri", "*", "*-*-*", "2024-01-01", "*-13-01", "12:00", "25:00", "*:0/15", "00:00:61", "~", "UTC", "Europe/Berlin", "daily", "1..5", "/", ",", "..", "-", ":", "0", "99", "*/2");
        const expr = fc.array(token, { minLength: 1, maxLength: 4 }).chain((parts) => fc.constantFrom(parts.join(" "), parts.join("")));
        let accepted = 0;
        for (const e of fc.sample(expr, { numRuns: 300, seed: 20261122 })) {
            if (!isCalendarExpression(e)) continue;
            accepted++;
            assert.ok(systemdAccepts(e), `hearth accepted ${JSON.stringify(e)} but systemd refuses it`);
        }
        assert.ok(accepted > 20, `only ${accepted} random expressions were accepted: the property says little`);
    });
});

describe("ListenStream= validation", () => {
    it("parses ports, IPv4, bracketed IPv6 and unix paths", () => {
        assert.deepEqual(parseListenStream(8080), { kind: "port", port: 8080 });
        assert.deepEqual(parseListenStream("127.0.0.1:80"), { kind: "inet", address: "127.0.0.1", port: 80 });
        assert.deepEqual(parseListenStream("[::1]:443"), { kind: "inet", address: "[::1]", port: 443 });
        assert.deepEqual(parseListenStream("/run/app/app.sock"), { kind: "unix", path: "/run/app/app.sock" });
    });

    it("refuses what is not one of them", () => {
        for (const v of [0, 65536, 1.5, "80", "localhost:80", "1.2.3.4", "1.2.3.4:0", "01.2.3.4:80", "1.2.3.4:080", "[::1]", "::1:80", "[zz::1]:80", "run/app.sock", "/run/a b.sock", `/${"x".repeat(107)}`, "@abstract", "/run/../etc/x"]) {
            assert.equal(parseListenStream(v), undefined, JSON.stringify(v));
        }
    });
});
