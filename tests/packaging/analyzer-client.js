// Talks to a served policy pack the way the Pulumi engine does (gRPC on loopback): its info, then one Analyze call.
// Usage: node analyzer-client.js SITE_DIR PORT REQUEST_JSON — SITE_DIR's node_modules provide grpc and the protos.
"use strict";
const { createRequire } = require("module");
const path = require("path");

const [siteDir, port, requestJson] = process.argv.slice(2);
const siteRequire = createRequire(path.join(siteDir, "package.json"));
const grpc = siteRequire("@grpc/grpc-js");
const sdk = path.dirname(siteRequire.resolve("@pulumi/pulumi/package.json"));
const services = require(path.join(sdk, "proto/analyzer_grpc_pb.js"));
const messages = require(path.join(sdk, "proto/analyzer_pb.js"));
const { Struct } = require(path.join(path.dirname(siteRequire.resolve("google-protobuf/package.json")), "google/protobuf/struct_pb.js"));
const { Empty } = require(path.join(path.dirname(siteRequire.resolve("google-protobuf/package.json")), "google/protobuf/empty_pb.js"));

const client = new services.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
const call = (method, req) => new Promise((resolve, reject) => client[method](req, (err, res) => (err ? reject(err) : resolve(res))));

async function main() {
    const info = await call("getAnalyzerInfo", new Empty());
    const request = JSON.parse(requestJson);
    const req = new messages.AnalyzeRequest();
    req.setType(request.type);
    req.setName(request.name);
    req.setUrn(request.urn);
    req.setProperties(Struct.fromJavaScript(request.props));
    req.setOptions(new messages.AnalyzerResourceOptions());
    const analyzed = await call("analyze", req);
    const levels = ["advisory", "mandatory", "disabled", "remediate"];
    process.stdout.write(JSON.stringify({
        name: info.getName(),
        version: info.getVersion(),
        policies: info.getPoliciesList().map((p) => ({ name: p.getName(), level: levels[p.getEnforcementlevel()] })),
        diagnostics: analyzed.getDiagnosticsList().map((d) => ({ policy: d.getPolicyname(), level: levels[d.getEnforcementlevel()], message: d.getMessage() })),
    }));
    client.close();
}

main().catch((e) => {
    process.stderr.write(`${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
});
