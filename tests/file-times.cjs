// A mocha reporter: the spec reporter's output, then each spec file's wall time, slowest first, to find where a
// phase's time goes. Serial runs only (under --parallel, events arrive per file after it ran).
//   npx mocha 'tests/**/*.test.ts' --exclude 'tests/host/**' --reporter ./tests/file-times.cjs
const Mocha = require("mocha");

const { EVENT_SUITE_BEGIN, EVENT_SUITE_END, EVENT_RUN_END } = Mocha.Runner.constants;

class FileTimes extends Mocha.reporters.Spec {
    constructor(runner, options) {
        super(runner, options);
        const started = new Map();
        const times = new Map();
        runner.on(EVENT_SUITE_BEGIN, (s) => { if (s.file && s.parent && s.parent.root) started.set(s, Date.now()); });
        runner.on(EVENT_SUITE_END, (s) => {
            const t = started.get(s);
            if (t === undefined) return;
            const f = s.file.startsWith(`${process.cwd()}/`) ? s.file.slice(process.cwd().length + 1) : s.file;
            times.set(f, (times.get(f) || 0) + Date.now() - t);
        });
        runner.once(EVENT_RUN_END, () => {
            const rows = [...times].sort((a, b) => b[1] - a[1]);
            const total = rows.reduce((a, r) => a + r[1], 0);
            console.log(`\nwall time per spec file (sum ${(total / 1000).toFixed(1)} s, load ${require("os").loadavg().map((l) => l.toFixed(2)).join(" ")}):`);
            for (const [f, ms] of rows) console.log(`${(ms / 1000).toFixed(1).padStart(8)} s  ${f}`);
        });
    }
}

module.exports = FileTimes;
