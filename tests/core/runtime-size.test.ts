// Every hearth command carries the runtime, and a host's sshd hands the command to the login shell as ONE argument,
// which Linux caps at MAX_ARG_STRLEN (128 KiB). So scripts carry runtime.sh without its comment lines; these specs
// prove that bash defines exactly the same functions and variables from both texts, and that every command the
// built-in sites register fits, with room left.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MAX_COMMAND_BYTES } from "../../components/host";
import { RUNTIME, RUNTIME_SOURCE, withoutComments } from "../../components/core/runtime";
import { wrapCommand } from "../../components/core/shell";

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

    it("has no comment line outside a here-document but its shellcheck directives, and is far below the limit", () => {
        const stray = RUNTIME.split("\n").filter((l) => /^\s*#/.test(l) && !/^\s*# shellcheck /.test(l));
        // Lines starting with # may only be here-document bodies; the runtime has none today.
        assert.deepStrictEqual(stray, []);
        assert.ok(RUNTIME.length < RUNTIME_SOURCE.length * 0.8, `${RUNTIME.length} of ${RUNTIME_SOURCE.length}`);
        // Room for a component's own script: at least 32 KiB.
        assert.ok(Buffer.byteLength(wrapCommand(RUNTIME, true)) < MAX_COMMAND_BYTES - 32 * 1024, `runtime alone: ${Buffer.byteLength(wrapCommand(RUNTIME, true))} bytes`);
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
