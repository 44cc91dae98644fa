// The README argument tables come from the schemas: every README is current, and the generator reads what it must.
import * as assert from "assert";
import { z } from "zod";
import { BEGIN, componentSchemas, END, regenerate, rows, stale, table } from "./argdocs";
import { hostArg, outputArg, secretArg } from "../components/validate";

describe("argument tables generated from the schemas", () => {
    it("every component has a schema, and every README's table matches it (run `npm run docs` when this fails)", () => {
        const dirs = componentSchemas().map((c) => c.dir);
        assert.deepStrictEqual(dirs, ["accounts", "baseline", "dns", "drift", "files", "firewall", "nspawn", "packages", "postgres", "systemd", "tuning", "upgrades", "wireguard", "zfs"]);
        assert.deepStrictEqual(stale(false), []);
    });

    it("every optional argument of every component says its default", () => {
        const missing = componentSchemas().flatMap(({ dir, schemas }) =>
            schemas.flatMap(([, s]) => rows(s).filter((r) => !r.required && r.default === "" && !r.arg.includes(".")).map((r) => `${dir}: ${r.arg}`)),
        );
        assert.deepStrictEqual(missing, []);
    });

    const sample = z.strictObject({
        host: hostArg().describe("The machine."),
        port: z.int().min(1).max(65535).optional().describe("Where it listens. @default 5432"),
        key: secretArg().describe("The secret."),
        uri: outputArg().optional().describe("A later value."),
        peers: z.array(z.strictObject({ name: z.string().describe("A peer's name.") })).describe("Who connects."),
        mode: z.union([z.strictObject({ a: z.literal(true) }), z.strictObject({ b: z.enum(["x", "y"]) })]).optional(),
    });

    it("lists every key, nested keys as a.b and list items as a[].b, with type, required and default", () => {
        const r = rows(sample);
        assert.deepStrictEqual(r.map((x) => x.arg), ["host", "port", "key", "uri", "peers", "peers[].name", "mode", "mode.a", "mode.b"]);
        const port = r.find((x) => x.arg === "port")!;
        assert.deepStrictEqual([port.type, port.required, port.default, port.description], ["integer 1–65535", false, "5432", "Where it listens."]);
        assert.deepStrictEqual(r.filter((x) => x.required).map((x) => x.arg), ["host", "key", "peers", "peers[].name", "mode.a", "mode.b"]);
        assert.deepStrictEqual(["host", "key", "uri", "mode.b"].map((a) => r.find((x) => x.arg === a)!.type), ["Host", "secret Output", "Output", '"x" \\| "y"']);
    });

    it("a changed description makes the README stale, and regenerating replaces only the marked block", () => {
        const readme = `# x\n\nintro\n\n${BEGIN}\nold\n${END}\n\nafter\n`;
        const next = regenerate(readme, [["SampleArgsSchema", sample]]);
        assert.ok(next.startsWith("# x\n\nintro\n\n") && next.endsWith("\n\nafter\n"));
        assert.ok(next.includes(table(sample)));
        assert.strictEqual(regenerate(next, [["SampleArgsSchema", sample]]), next);
        const changed = sample.extend({ port: z.int().optional().describe("Somewhere else.") });
        assert.notStrictEqual(regenerate(next, [["SampleArgsSchema", changed]]), next);
    });
});
