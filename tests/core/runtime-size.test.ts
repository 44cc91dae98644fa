// Every hearth command carries a runtime, and a host's sshd hands the command to the login shell as ONE argument,
// which Linux caps at MAX_ARG_STRLEN (128 KiB). So scripts carry runtime.sh without its comment lines, and a command
// only the functions it reaches (core/shell.ts withReachableRuntime; tests/core/runtime-closure.test.ts). These specs
// prove that bash defines exactly the same functions and variables from both texts, and that every command the
// built-in sites register fits, with room left.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MAX_COMMAND_BYTES } from "../../components/host";
import { RUNTIME, RUNTIME_SOURCE, runtimeFor, withoutComments } from "../../components/core/runtime";
import { shq, wrapCommand } from "../../components/core/shell";
import { renderHostFile } from "../../components/files/render";
import { FILE_MARK, FILE_SCENARIOS } from "../files/scenarios";
import { siteScripts } from "./site-scripts";

/** What bash holds after sourcing TEXT: every function as bash prints it, and the runtime's variables. */
function definitions(text: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-rt-"));
    try {
        const f = path.join(dir, "runtime.sh");
        fs.writeFileSync(f, text);
        // The runtime sets traps and `cd /`: sourced in a child bash that prints and exits; stdin closed.
        const r = spawnSync("bash", ["--noprofile", "--norc", "-c", `source ${JSON.stringify(f)} && declare -f && declare -p | grep -E '^declare -[^ ]* (hearth_|LC_ALL=|PATH=)'; trap - EXIT`], {
            encoding: "utf8",
            input: "",
            env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
        });
        assert.strictEqual(r.status, 0, r.stderr);
        return r.stdout;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("the runtime scripts carry", function () {
    this.timeout(60_000);

    it("defines in bash exactly what runtime.sh defines (functions as bash prints them, and the runtime's variables)", () => {
        const want = definitions(RUNTIME_SOURCE);
        assert.ok(/^hearth_daemon_reload \(\)/m.test(want), "bash printed no runtime function: the comparison would be empty");
        assert.strictEqual(definitions(RUNTIME), want);
    });

    it("has no comment line outside a here-document but its shellcheck directives", () => {
        const stray = RUNTIME.split("\n").filter((l) => /^\s*#/.test(l) && !/^\s*# shellcheck /.test(l));
        // Lines starting with # may only be here-document bodies; the runtime has none today.
        assert.deepStrictEqual(stray, []);
        assert.ok(RUNTIME.length < RUNTIME_SOURCE.length * 0.8, `${RUNTIME.length} of ${RUNTIME_SOURCE.length}`);
    });

    it("every command of the three sites and of the HostFile scenarios is at most half the limit; what every command carries is under 4 KiB", () => {
        const sizes = siteScripts().map((s) => [Buffer.byteLength(wrapCommand(s.script, true)), s.name] as const);
        for (const [name, spec] of Object.entries(FILE_SCENARIOS)) {
            const r = renderHostFile(spec, { ...FILE_MARK, adopt: spec.adopt });
            sizes.push([Buffer.byteLength(wrapCommand(r.script, true)), `HostFile ${name}`], [Buffer.byteLength(wrapCommand(r.deleteScript, true)), `HostFile ${name} (delete)`]);
        }
        sizes.sort((a, b) => b[0] - a[0]);
        const least = Buffer.byteLength(runtimeFor(""));
        const whole = Buffer.byteLength(shq(RUNTIME));
        console.log(`      ${sizes.length} commands: largest ${sizes[0][0]} bytes (${sizes[0][1]}), median ${sizes[sizes.length >> 1][0]}; the whole runtime quoted: ${whole}; the least runtime: ${least}; limit ${MAX_COMMAND_BYTES}`);
        assert.ok(sizes.length > 50, `${sizes.length} commands`);
        assert.ok(sizes[0][0] <= MAX_COMMAND_BYTES / 2, `${sizes[0][1]}: ${sizes[0][0]} bytes`);
        assert.ok(least < 4096, `the runtime every command carries: ${least} bytes`);
        // The sizes are of cut runtimes: a command carrying the whole runtime would be larger than all of it.
        assert.ok(sizes[0][0] < whole, `${sizes[0][1]}: ${sizes[0][0]} bytes, the whole runtime ${whole}`);
    });

    it("keeps here-document bodies (quoted, unquoted, <<- with tabs) and shellcheck directives, drops other comment lines", () => {
        const dropped = ["  # dropped", "  # dropped after a here-string"];
        const lines = [
            "f() {",
            dropped[0],
            "  cat <<'EOF'",
            "# kept: quoted here-document",
            "EOF",
            "  cat <<-SQL",
            "\t# kept: <<- body",
            "\tSQL",
            "  # shellcheck disable=SC2034",
            "  x=1 # an end-of-line comment stays",
            "  read -r y <<<\"$x\"",
            dropped[1],
            "}",
        ];
        assert.deepStrictEqual(withoutComments(lines.join("\n")).split("\n"), lines.filter((l) => !dropped.includes(l)));
    });
});
