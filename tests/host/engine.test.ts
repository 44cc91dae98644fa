// The runner chooses create, update, replace or delete and stores state as the real engine does with @pulumi/command
// 1.2.1, and fails any run that prints a secret: pure checks first, then the same rules on a real host.
import { strict as assert } from "assert";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { frameStdin } from "../../components/shell";
import { SystemdService } from "../../components/systemd";
import { TEST_HOST_KEY } from "../mocks";
import { describeHost, startHost, TestHost } from "./harness";
import {
    findSecret, needsReplace, ProgramRunner, redactSecrets, registeredCommands, RemoteCommandError, RemoteRun,
    SecretInOutputError, SecretInput, stdinFrames,
} from "./runner";

const PEM = [
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
    "QyNTUxOQAAACDrE0NtUz3rQ1HfJvVXnZ0Gl2CwqsZ5pX8vKQx9Rk0nXwAAAJi1qLh0tai4",
    "-----END OPENSSH PRIVATE KEY-----",
    "",
].join("\n");
const TOKEN = "tok-4f1c9a7e2b6d";
const MULTI = "first-line-of-the-secret\nsecond-line-of-the-secret\nshort\n";

describe("the runner's engine rules and secret check (no host)", () => {
    it("reads which inputs were secrets: each frame of a secret stdin, the connection's key, never its address", async () => {
        const cmds = await registeredCommands(() => {
            const connection = { host: "10.231.9.2", user: "root", hostKey: TEST_HOST_KEY, privateKey: pulumi.secret(PEM) };
            new command.remote.Command("framed", { connection, create: "true", stdin: pulumi.secret(frameStdin(["[Unit]\nDescription=x\n", TOKEN])) });
            new command.remote.Command("plain", { connection, create: "true", stdin: frameStdin(["body\n"]), environment: { A: "plain-value-1" } });
        });
        const framed = cmds.find((c) => c.name === "framed")!;
        const plain = cmds.find((c) => c.name === "plain")!;
        assert.deepEqual(framed.secrets.map((s) => [s.label, s.value]), [
            ["connection.privateKey", PEM],
            ["stdin frame 1", "[Unit]\nDescription=x\n"],
            ["stdin frame 2", TOKEN],
        ]);
        assert.deepEqual(plain.secrets.map((s) => s.label), ["connection.privateKey"]);
        assert.equal(findSecret("connected to 10.231.9.2 as root", framed.secrets), undefined, "the address is not a secret");
    });

    it("splits framed stdin by byte length, and refuses what is not framed", () => {
        assert.deepEqual(stdinFrames(frameStdin(["é\n", "", "x"])), ["é\n", "", "x"]);
        assert.equal(stdinFrames("not framed\n"), undefined);
        assert.equal(stdinFrames("5\nabc"), undefined);
    });

    it("finds a whole secret or any line longer than 8 characters of a multi-line one, and not PEM armour or short lines", () => {
        const secrets: SecretInput[] = [
            { input: "stdin", label: "stdin frame 2", value: TOKEN },
            { input: "stdin", label: "stdin frame 3", value: MULTI },
            { input: "connection", label: "connection.privateKey", value: PEM },
        ];
        assert.equal(findSecret(`token=${TOKEN}\n`, secrets)?.label, "stdin frame 2");
        assert.equal(findSecret("x second-line-of-the-secret y", secrets)?.label, "stdin frame 3");
        assert.equal(findSecret("QyNTUxOQAAACDrE0NtUz3rQ1HfJvVXnZ0Gl2CwqsZ5pX8vKQx9Rk0nXwAAAJi1qLh0tai4", secrets)?.label, "connection.privateKey");
        assert.equal(findSecret("-----BEGIN OPENSSH PRIVATE KEY-----\nshort\nhearth: wrote /etc/x\n", secrets), undefined);
        assert.equal(findSecret("", secrets), undefined);
    });

    it("redacts every secret from a RemoteCommandError's message", () => {
        const secrets: SecretInput[] = [{ input: "stdin", label: "stdin frame 1", value: MULTI }, { input: "stdin", label: "stdin frame 2", value: TOKEN }];
        const run: RemoteRun = { resource: "leaky", op: "update", code: 1, stdout: `got ${TOKEN}\n`, stderr: "first-line-of-the-secret\nboom\n", seconds: 0 } as RemoteRun;
        const e = new RemoteCommandError(run, { created: [], updated: [], replaced: [], deleted: [], unchanged: [], runs: [run] }, secrets);
        assert.doesNotMatch(e.message, /tok-4f1c9a7e2b6d|first-line-of-the-secret/);
        assert.match(e.message, /update of leaky exited 1/);
        assert.match(e.message, /got \[secret stdin frame 2\]/);
        assert.match(e.message, /\[secret stdin frame 1\]\nboom/);
        assert.equal(redactSecrets("nothing secret here", secrets), "nothing secret here");
    });

    it("replaces only on triggers and on the resource's replaceOnChanges; a connection change is an update", () => {
        const sdk = { replaceOnChanges: ["triggers[*]"] };
        const olds = { connection: { host: "10.231.9.2", perDialTimeout: 15 }, create: "true", stdin: "a", triggers: ["t1"] };
        assert.equal(needsReplace(sdk, olds, { ...olds, connection: { host: "10.231.9.3", perDialTimeout: 20 } }), false);
        assert.equal(needsReplace(sdk, olds, { ...olds, create: "false", stdin: "b" }), false);
        assert.equal(needsReplace(sdk, olds, { ...olds, triggers: ["t2"] }), true);
        assert.equal(needsReplace({ replaceOnChanges: ["triggers[*]", "stdin"] }, olds, { ...olds, stdin: "b" }), true);
        assert.equal(needsReplace({ replaceOnChanges: ["*"] }, olds, { ...olds, create: "false" }), true);
        assert.equal(needsReplace({ replaceOnChanges: ["*"] }, olds, { ...olds }), false);
    });

    it("takes triggers[*] from the SDK's own options", async () => {
        const [cmd] = await registeredCommands(() => {
            new command.remote.Command("t", { connection: { host: "10.231.9.2", hostKey: TEST_HOST_KEY, privateKey: pulumi.secret(PEM) }, create: "true" });
        });
        assert.deepEqual(cmd.replaceOnChanges, ["triggers[*]"]);
    });
});

describeHost("the runner against a real host: engine steps and stored state", function () {
    this.timeout(600_000);
    let h: TestHost;

    before(async () => { h = await startHost({ name: "engine" }); });
    after(async () => { await h?.stop(); });

    const raw = (name: string, args: Omit<command.remote.CommandArgs, "connection">, opts: pulumi.CustomResourceOptions = {}, connection: command.types.input.remote.ConnectionArgs = h.host.connection) =>
        new command.remote.Command(name, { connection, addPreviousOutputInEnv: false, ...args }, opts);

    it("a connection change is an in-place update (the delete then carries the new connection); ignoreChanges keeps the old one", async () => {
        const runner = new ProgramRunner();
        const log = "/root/engine-conn.log";
        await h.exec(`rm -f ${log}`);
        const version = (perDialTimeout: number) => () => {
            const connection = { ...h.host.connection, perDialTimeout };
            raw("pinned", { create: `echo pinned >> ${log}` }, { ignoreChanges: ["connection"] }, connection);
            raw("follows", { create: `echo create >> ${log}`, update: `echo update >> ${log}`, delete: `echo delete >> ${log}` }, {}, connection);
        };
        await runner.up(version(15));
        const r = await runner.up(version(20));
        assert.deepEqual([r.unchanged, r.updated, r.replaced, r.runs.map((x) => `${x.op} ${x.resource}`)], [["pinned"], ["follows"], [], ["update follows"]]);
        assert.equal(runner.storedInputs("follows")!.connection.perDialTimeout, 20);
        assert.equal(runner.storedInputs("pinned")!.connection.perDialTimeout, 15);
        await runner.destroy();
        assert.equal((await h.exec(`cat ${log}`)).stdout, "pinned\ncreate\nupdate\ndelete\n");
    });

    it("replaces on a triggers change and on an input in replaceOnChanges: new create first, old delete last", async () => {
        const runner = new ProgramRunner();
        const log = "/root/engine-replace.log";
        await h.exec(`rm -f ${log}`);
        const version = (stdin: string, trigger: string) => () => {
            raw("byopt", { create: `read -r x; echo "create-byopt $x" >> ${log}`, delete: `read -r x; echo "delete-byopt $x" >> ${log}`, stdin }, { replaceOnChanges: ["stdin"] });
            raw("bytrigger", { create: `echo create-bytrigger >> ${log}`, update: `echo update-bytrigger >> ${log}`, delete: `echo delete-bytrigger >> ${log}`, triggers: [trigger] });
        };
        await runner.up(version("v1\n", "t1"));
        const r = await runner.up(version("v2\n", "t2"));
        assert.deepEqual([r.replaced, r.updated, r.deleted], [["byopt", "bytrigger"], [], []]);
        const lines = (await h.exec(`cat ${log}`)).stdout.trim().split("\n");
        assert.deepEqual(lines, ["create-byopt v1", "create-bytrigger", "create-byopt v2", "create-bytrigger", "delete-bytrigger", "delete-byopt v1"]);
        await runner.destroy();
    });

    it("a failed create stores nothing: the next up creates again (and so does a failed replacement's create)", async () => {
        const runner = new ProgramRunner();
        const flag = "/root/engine-fail-once";
        await h.exec(`touch ${flag}`);
        const program = (stdin: string) => () => {
            raw("flaky", { create: `if [ -e ${flag} ]; then echo "first try fails" >&2; exit 3; fi; echo ok`, update: "echo updated", delete: "true", stdin }, { replaceOnChanges: ["stdin"] });
        };
        await assert.rejects(runner.up(program("a\n")), (e: unknown) => e instanceof RemoteCommandError && e.run.op === "create" && e.run.code === 3);
        assert.deepEqual(runner.resources, []);
        assert.equal(runner.storedInputs("flaky"), undefined);
        await h.exec(`rm -f ${flag}`);
        const retry = await runner.up(program("a\n"));
        assert.deepEqual([retry.created, retry.updated, retry.runs.map((x) => x.op)], [["flaky"], [], ["create"]]);

        // A replacement whose new create fails leaves the old resource in the state as it was, not pending delete.
        await h.exec(`touch ${flag}`);
        await assert.rejects(runner.up(program("b\n")), (e: unknown) => e instanceof RemoteCommandError && e.run.op === "create");
        assert.equal(runner.storedInputs("flaky")!.stdin, "a\n");
        await h.exec(`rm -f ${flag}`);
        const again = await runner.up(program("b\n"));
        assert.deepEqual([again.replaced, again.runs.map((x) => x.op)], [["flaky"], ["create", "delete"]]);
        await runner.destroy();
    });

    it("a failed update keeps the previous inputs: reverting the program runs nothing and the host stays half-applied", async () => {
        const runner = new ProgramRunner();
        const secret = `engine-credential-${Date.now().toString(36)}`;
        const service = (execStart: string[], description: string) => () => {
            new SystemdService("ticker", {
                host: h.host,
                description,
                execStart,
                credentials: { token: pulumi.secret(secret) },
            });
        };
        const good = ["/usr/bin/sleep", "infinity"];
        const v1 = service(good, "Sleeps (v1)");
        const v2 = service(["/usr/bin/hearth-no-such-binary"], "Sleeps (v2)");
        const unitFile = async () => (await h.exec("cat /etc/systemd/system/ticker.service")).stdout;

        await runner.up(v1);
        assert.equal((await h.exec("systemctl is-active ticker.service")).stdout.trim(), "active");
        const converge = runner.resources.find((c) => c.name === "ticker-converge")!;
        // The secret check is armed for a normal component: its credential is a secret stdin frame, and the run passed.
        assert.ok(converge.secrets.some((s) => s.value === secret), "the credential is known as a secret");
        const v1Inputs = runner.storedInputs("ticker-converge")!;

        // v2 cannot start (Type=exec: the missing binary fails `systemctl restart`), after its unit file landed.
        await assert.rejects(runner.up(v2), (e: unknown) => e instanceof RemoteCommandError && e.run.resource === "ticker-converge" && e.run.op === "update");
        assert.match(await unitFile(), /hearth-no-such-binary/);
        assert.deepEqual(runner.storedInputs("ticker-converge"), v1Inputs, "the state keeps the inputs of the last successful update");

        // Reverting the program to v1: no diff against the stored state, so nothing runs and v2's unit stays.
        const reverted = await runner.up(v1);
        assert.deepEqual([reverted.runs.length, reverted.updated, reverted.unchanged.includes("ticker-converge")], [0, [], true]);
        assert.match(await unitFile(), /hearth-no-such-binary/);
        assert.notEqual((await h.exec("systemctl is-active ticker.service")).stdout.trim(), "active");

        // The way out: change the program forward (any change to the converge's inputs runs it again).
        const forward = await runner.up(service(good, "Sleeps (v3)"));
        assert.deepEqual(forward.updated, ["ticker-converge"]);
        assert.doesNotMatch(await unitFile(), /hearth-no-such-binary/);
        assert.equal((await h.exec("systemctl is-active ticker.service")).stdout.trim(), "active");
        await runner.destroy();
    });

    it("a run that prints a secret, or one line of a multi-line one, fails the up naming the resource, never the value", async () => {
        const body = "plain body line\n";
        const leaky = (script: string) => () => { raw("leaky", { create: script, stdin: pulumi.secret(frameStdin([body, TOKEN, MULTI])) }); };
        const expectLeak = async (script: string, stream: "stdout" | "stderr", label: string) => {
            const runner = new ProgramRunner();
            await assert.rejects(runner.up(leaky(script)), (e: unknown) => {
                assert.ok(e instanceof SecretInOutputError, `expected SecretInOutputError, got ${e}`);
                assert.equal(e.stream, stream);
                assert.match(e.message, new RegExp(`^create of leaky printed a secret on ${stream}: ${label} \\(a Pulumi secret\\)`));
                assert.doesNotMatch(e.message, /tok-4f1c9a7e2b6d|line-of-the-secret/);
                return true;
            });
        };
        // The whole stdin echoed back; a secret frame read and printed; one line of a multi-line secret on stderr.
        await expectLeak("cat", "stdout", "stdin frame \\d");
        await expectLeak(`IFS= read -r -N ${frameStdin([body]).length} skip; read -r n; IFS= read -r -N "$n" s; printf 'got %s\\n' "$s"`, "stdout", "stdin frame 2");
        await expectLeak(`cat >/dev/null; echo "oops second-line-of-the-secret" >&2`, "stderr", "stdin frame 3");
        // A failing run that leaks is reported as a leak too, its output redacted.
        await expectLeak(`cat >/dev/null; echo ${TOKEN}; exit 4`, "stdout", "stdin frame 2");

        // The same inputs with a script that prints only plain things pass.
        const clean = await new ProgramRunner().up(leaky(`cat >/dev/null; echo "hearth: read every frame"; echo short >&2`));
        assert.deepEqual(clean.created, ["leaky"]);
    });
});
