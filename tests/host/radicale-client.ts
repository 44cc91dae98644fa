// A CalDAV client on a test host for the Radicale specs: the event it writes, its HTTP requests to Radicale on the
// host's address, the wait for Radicale's port, and the unit's exposure against the policy budget.
import { strict as assert } from "assert";
import { mustExec } from "./crash";
import { TestHost } from "./harness";

/** The exposure budget of every hearth unit (policies/systemd/exposure-budget.ts, `npm run plan --budget`): 1.5. */
export const EXPOSURE_BUDGET = 1.5;

/** An event in the form Radicale stores and serves it (vobject's property order, CRLF line ends). */
export function calendarEvent(prodId: string, uid: string, summary: string): string {
    return [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        `PRODID:${prodId}`,
        "BEGIN:VEVENT",
        `UID:${uid}`,
        "DTSTART:20240601T090000Z",
        "DTEND:20240601T100000Z",
        "DTSTAMP:20240101T000000Z",
        `SUMMARY:${summary}`,
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ].join("\r\n");
}

export interface DavOptions {
    /** Another password than the user's. */
    password?: string;
    /** A calendar body to send. */
    body?: string;
}

/**
 * HTTP requests from a client on the host to Radicale on the host's address (port 5232) as `user`; the credentials go
 * over stdin. `host` is read at each request (the spec boots its host in before()).
 */
export function davClient(host: () => TestHost, user: string, password: string) {
    return async (method: string, at: string, opts: DavOptions = {}): Promise<{ status: number; body: string }> => {
        const h = host();
        if (opts.body !== undefined) {
            const w = await h.exec("cat > /root/dav-body", { stdin: opts.body });
            assert.equal(w.code, 0, w.stderr);
        }
        const args = [
            "curl -sS --max-time 20 -K -", `-X ${method}`,
            ...(opts.body !== undefined ? ["-H 'Content-Type: text/calendar; charset=utf-8'", "--data-binary @/root/dav-body"] : []),
            "-w '\\n%{http_code}'", `'http://${h.address}:5232${at}'`,
        ];
        const r = await h.exec(args.join(" "), { stdin: `user = "${user}:${opts.password ?? password}"\n` });
        assert.equal(r.code, 0, `curl ${method} ${at}: ${r.stderr}`);
        const nl = r.stdout.lastIndexOf("\n");
        return { status: Number(r.stdout.slice(nl + 1)), body: r.stdout.slice(0, nl) };
    };
}

/**
 * Seconds until Radicale accepts connections on its port. Radicale has no sd_notify support, so the unit is
 * Type=exec: systemd calls it active once the program runs, a moment before it listens. A client retries.
 */
export async function radicaleListening(h: TestHost): Promise<number> {
    const started = Date.now();
    for (;;) {
        if ((await mustExec(h, "ss -Hltn 'sport = :5232' | wc -l")).trim() !== "0") return (Date.now() - started) / 1000;
        if (Date.now() - started > 20_000) throw new Error(`radicale.service does not listen on 5232 after 20 s:\n${await mustExec(h, "journalctl -q -o cat -u radicale.service | tail -20")}`);
        await new Promise((r) => setTimeout(r, 100));
    }
}

/** radicale.service's overall exposure on the host (systemd-analyze security), asserted within EXPOSURE_BUDGET. */
export async function radicaleExposure(h: TestHost): Promise<string> {
    const security = await mustExec(h, "systemd-analyze security --no-pager radicale.service 2>&1");
    const m = /Overall exposure level for radicale\.service: (\d+\.\d+)/.exec(security);
    assert.ok(m, security);
    assert.ok(Number(m[1]) <= EXPOSURE_BUDGET, `exposure ${m[1]} is over the budget ${EXPOSURE_BUDGET}:\n${security}`);
    return m[1];
}

/**
 * The client's proof: a calendar made at `calendar`, an event put at `eventPath` in it, the event read back byte for
 * byte, and a wrong password refused.
 */
export async function calendarRoundTrip(dav: ReturnType<typeof davClient>, calendar: string, eventPath: string, event: string, password: string): Promise<void> {
    assert.equal((await dav("MKCALENDAR", calendar)).status, 201);
    assert.equal((await dav("PUT", eventPath, { body: event })).status, 201);
    const got = await dav("GET", eventPath);
    assert.equal(got.status, 200);
    assert.equal(got.body, event, "the event comes back byte-identical");
    assert.equal((await dav("GET", eventPath, { password: `${password}x` })).status, 401, "a wrong password is refused");
}
