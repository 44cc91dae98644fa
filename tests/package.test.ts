// The package is importable from another project as `hearth`: built JS, .d.ts and the `exports` map.
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const root = path.resolve(__dirname, "..");

describe("package", function () {
    this.timeout(180000);
    let consumer: string;
    before(() => {
        // `npm run build`: the compiler, then the bash runtime beside the JS that loads it.
        execFileSync("npm", ["run", "-s", "build"], { cwd: root, stdio: "pipe" });
        consumer = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-consumer-"));
        fs.mkdirSync(path.join(consumer, "node_modules"));
        fs.symlinkSync(root, path.join(consumer, "node_modules", "hearth"));
    });
    after(() => fs.rmSync(consumer, { recursive: true, force: true }));

    it("resolves `hearth` through the exports map to the built entry", () => {
        const out = execFileSync(process.execPath, ["-e", "const h = require('hearth'); process.stdout.write(JSON.stringify([require.resolve('hearth'), typeof h.Host, h.SERVICE_TYPE]))"], { cwd: consumer, encoding: "utf8" });
        const [resolved, hostType, token] = JSON.parse(out);
        assert.equal(resolved, path.join(root, "dist/components/index.js"));
        assert.equal(hostType, "function");
        assert.equal(token, "hearth:systemd:Service");
    });

    it("ships the bash runtime beside the built code, byte for byte", () => {
        assert.equal(fs.readFileSync(path.join(root, "dist/components/core/runtime.sh"), "utf8"), fs.readFileSync(path.join(root, "components/core/runtime.sh"), "utf8"));
        const built = path.join(root, "dist/components/core/runtime.js");
        const out = execFileSync(process.execPath, ["-e", `process.stdout.write(String(require(${JSON.stringify(built)}).RUNTIME.length))`], { cwd: consumer, encoding: "utf8" });
        assert.ok(Number(out) > 1000);
    });

    it("type-checks a consumer program against the shipped .d.ts", () => {
        fs.writeFileSync(path.join(consumer, "main.ts"), [
            'import { Host, SERVICE_TYPE, shq } from "hearth";',
            "const t: string = SERVICE_TYPE;",
            "const q: string = shq(t);",
            "export const x: [typeof Host, string] = [Host, q];",
            "",
        ].join("\n"));
        fs.writeFileSync(path.join(consumer, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, skipLibCheck: true, module: "node16", moduleResolution: "node16", types: [] }, files: ["main.ts"] }));
        execFileSync(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", consumer], { stdio: "pipe" });
    });
});
