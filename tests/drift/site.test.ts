// A site host's `driftTimer`: a HostDriftTimer created after everything else the site declares, covering every converge
// on that host (and none of another host's); a bad schedule is refused at its key path before anything registers.
import { strict as assert } from "assert";
import { DRIFT_TIMER_TYPE } from "../../components/tokens";
import { installMocks, recorded, settle } from "../mocks";
import { buildProblems, refusedProblems, Values, webHosts } from "../stacks/site-values";

function site(driftTimer: unknown): Values {
    const [web1, web2] = webHosts();
    return {
        sshPrivateKey: "fake-secret-value",
        hosts: [{ ...web1, driftTimer }, web2],
        files: [
            { name: "conf", host: "web1", path: "/etc/app/app.conf", content: "a = 1\n", createParents: true },
            { name: "other", host: "web2", path: "/etc/app/app.conf", content: "b = 2\n", createParents: true },
        ],
        services: [{ name: "web", host: "web1", description: "The web app", execStart: ["/usr/bin/python3", "-m", "http.server"] }],
    };
}

describe("site hosts' driftTimer", () => {
    before(() => installMocks());

    it("creates the timer last, over every converge of its host and no other host's", async () => {
        assert.deepEqual(buildProblems(site({ onCalendar: "Mon..Fri 06:00", randomizedDelaySec: 900 })), []);
        await settle();
        const timers = recorded.filter((r) => r.type === DRIFT_TIMER_TYPE);
        assert.deepEqual(timers.map((t) => [t.name, t.inputs.host, t.inputs.onCalendar, t.inputs.randomizedDelaySec]), [["web1-drift", "web1", "Mon..Fri 06:00", 900]]);
        assert.deepEqual(timers[0].inputs.covers, ["conf-file", "web-converge"]);
        // Every converge of web1 the site declares is covered (the timer came after them), web2's is not.
        const web1 = recorded.filter((r) => r.type === "command:remote:Command" && r.inputs.create && r.inputs.connection?.host === "192.0.2.10" && !r.name.startsWith("web1-drift"));
        assert.deepEqual(web1.map((r) => r.name).sort(), ["conf-file", "web-converge"]);
    });

    it("creates none without driftTimer, and a daily one for driftTimer: {}", async () => {
        assert.deepEqual(buildProblems(site(undefined)), []);
        await settle();
        assert.equal(recorded.filter((r) => r.type === DRIFT_TIMER_TYPE).length, 0);
        assert.deepEqual(buildProblems(site({})), []);
        await settle();
        assert.deepEqual(recorded.filter((r) => r.type === DRIFT_TIMER_TYPE).map((t) => t.inputs.onCalendar), ["daily"]);
    });

    const bad: [string, unknown, RegExp][] = [
        ["a calendar with a newline", { onCalendar: "daily\nExecStartPre=/bin/sh" }, /'hearth:hosts\[0\]\.driftTimer\.onCalendar'.*systemd calendar expression/],
        ["a delay out of range", { randomizedDelaySec: 10_000_000 }, /'hearth:hosts\[0\]\.driftTimer\.randomizedDelaySec'.*integer from 0 to 604800/],
        ["an unknown key", { every: "daily" }, /'hearth:hosts\[0\]\.driftTimer\.every'.*onCalendar, randomizedDelaySec/],
        ["a string", "daily", /'hearth:hosts\[0\]\.driftTimer'.*a drift timer schedule/],
    ];
    for (const [what, value, message] of bad) {
        it(`refuses ${what} at its key path, registering nothing`, async () => {
            const problems = await refusedProblems(site(value));
            assert.equal(problems.length, 1, problems.join("\n"));
            assert.match(problems[0], message);
        });
    }
});
