// A HostFile and a service's config file bound read-only at one path on one host: the bind hides the HostFile from the
// service, so the second one declared is refused, both ways round. Two services binding one target do not meet (each
// has its own mount namespace), nor a HostFile and a bind on different hosts.
import { strict as assert } from "assert";
import { Host } from "../../components/host";
import { HostFile } from "../../components/files";
import { SystemdService } from "../../components/systemd";
import { fakeHost, refused } from "../attempt";
import { installMocks, recorded, resetRecorded, settle } from "../mocks";

const host = (name = "nas") => fakeHost(name, "10.0.0.5");
const PATH = "/etc/radicale/config";
const radicale = (h: Host, name = "radicale") =>
    new SystemdService(name, { host: h, description: "Radicale", execStart: ["/usr/bin/radicale"], files: [{ target: "/etc/radicale/users", content: "u\n" }, { target: PATH, content: "svc\n" }] });

describe("HostFile claims: a path a service binds a config file over", () => {
    before(() => installMocks());
    beforeEach(() => resetRecorded());

    it("refuses a service binding a config file over a HostFile's path, naming files[i].target", async () => {
        const h = host();
        new HostFile("conf", { host: h, path: PATH, content: "x\n" });
        await refused(
            () => radicale(h),
            `The 'files[1].target' argument "${PATH}" is not allowed: expected a path no other resource on this host writes a file at ` +
                `(file ${PATH} is managed by hearth/test/hearth:files:File/conf): the service's read-only bind would hide it from the service; keep one of the two.`,
        );
    });

    it("refuses a HostFile at a path a service binds a config file over, naming path", async () => {
        const h = host();
        radicale(h);
        await refused(
            () => new HostFile("conf", { host: h, path: PATH, content: "x\n" }),
            `The 'path' argument "${PATH}" is not allowed: expected a path no service on this host binds a config file over ` +
                `(${PATH} is bound read-only by hearth/test/hearth:systemd:Service/radicale, which would hide this file from that service): keep one of the two.`,
        );
    });

    it("two services binding one target, and a HostFile there on another host, build", async () => {
        const h = host();
        radicale(h, "one");
        radicale(h, "two");
        new HostFile("conf", { host: host("other"), path: PATH, content: "x\n" });
        new HostFile("next", { host: h, path: "/etc/radicale/rights", content: "x\n" });
        await settle();
        assert.deepEqual(recorded.filter((r) => r.type === "hearth:systemd:Service").map((r) => r.name).sort(), ["one", "two"]);
        assert.deepEqual(recorded.filter((r) => r.type === "hearth:files:File").map((r) => r.name).sort(), ["conf", "next"]);
    });
});
