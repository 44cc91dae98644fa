// The nspawn policies: private users, no host network, capabilities only with a reason; on container props and .nspawn files.
import { strict as assert } from "assert";
import { CONTAINER_TYPE } from "../../../components/tokens";
import { nspawnPrivateUsers } from "../../../policies/nspawn/private-users";
import { nspawnNoHostNetwork } from "../../../policies/nspawn/no-host-network";
import { nspawnCapabilitiesNeedReason } from "../../../policies/nspawn/capabilities-need-reason";
import { commandArgs, resourceArgs, violations } from "../fixtures";
import { assertMetadata } from "../metadata";

const nspawnFile = (content: string) => commandArgs({ files: [{ path: "/etc/systemd/nspawn/web.nspawn", content, mode: 0o644 }] });
const GOOD = "[Exec]\nPrivateUsers=pick\n\n[Network]\nVirtualEthernet=yes\n";
const container = (props: Record<string, unknown>) => resourceArgs(CONTAINER_TYPE, { machine: "web", ...props });

describe("nspawn policies", () => {
    describe("hearth-nspawn-private-users", () => {
        const policy = nspawnPrivateUsers;
        it("has its metadata", () => assertMetadata(policy, "hearth-nspawn-private-users", "mandatory"));
        it("passes the default and an explicit pick", async () => {
            assert.deepEqual(await violations(policy, container({})), []);
            assert.deepEqual(await violations(policy, nspawnFile(GOOD)), []);
        });
        it("flags a container with private users off", async () => {
            assert.match((await violations(policy, container({ privateUsers: false }))).join(), /turns private users off/);
        });
        it("flags a .nspawn file with PrivateUsers=no", async () => {
            assert.deepEqual(await violations(policy, nspawnFile("[Exec]\nPrivateUsers=no\n")), ["/etc/systemd/nspawn/web.nspawn sets PrivateUsers=no: root in machine 'web' would be root on the host."]);
        });
    });

    describe("hearth-nspawn-no-host-network", () => {
        const policy = nspawnNoHostNetwork;
        it("has its metadata", () => assertMetadata(policy, "hearth-nspawn-no-host-network", "mandatory"));
        it("passes veth, zones and bridges", async () => {
            for (const net of [GOOD, "[Network]\nZone=home\n", "[Network]\nVirtualEthernet=no\nPrivate=yes\n", "[Network]\nPrivate=no\nBridge=br0\n"]) {
                assert.deepEqual(await violations(policy, nspawnFile(net)), [], net);
            }
            assert.deepEqual(await violations(policy, container({ network: { mode: "veth" } })), []);
        });
        it("flags a container on the host network", async () => {
            for (const props of [{ network: "host" }, { hostNetwork: true }, { privateNetwork: false }, { network: { mode: "host" } }]) {
                assert.match((await violations(policy, container(props))).join(), /shares the host's network namespace/, JSON.stringify(props));
            }
        });
        it("flags a .nspawn file that turns private networking off", async () => {
            assert.match((await violations(policy, nspawnFile("[Network]\nVirtualEthernet=no\n"))).join(), /gives machine 'web' the host's network/);
            assert.match((await violations(policy, nspawnFile("[Network]\nPrivate=no\n"))).join(), /Private=no/);
        });
    });

    describe("hearth-nspawn-capabilities-need-reason", () => {
        const policy = nspawnCapabilitiesNeedReason;
        it("has its metadata", () => assertMetadata(policy, "hearth-nspawn-capabilities-need-reason", "mandatory"));
        it("passes no capabilities and explained ones", async () => {
            assert.deepEqual(await violations(policy, container({})), []);
            assert.deepEqual(await violations(policy, container({ capabilities: { add: ["CAP_NET_ADMIN"], reason: "runs its own WireGuard interface" } })), []);
            assert.deepEqual(await violations(policy, container({ loosen: { capabilities: { caps: ["CAP_NET_ADMIN"], reason: "runs its own WireGuard interface" } } })), []);
        });
        it("reads NspawnContainer's per-capability reasons", async () => {
            assert.deepEqual(await violations(policy, container({ capabilities: [{ name: "CAP_NET_ADMIN", reason: "runs its own WireGuard interface" }] })), []);
            assert.deepEqual(await violations(policy, container({ capabilities: [{ name: "CAP_NET_ADMIN", reason: "runs its own WireGuard interface" }, { name: "CAP_SYS_ADMIN", reason: "tbd" }] })), [
                "The container adds capabilities [\"CAP_SYS_ADMIN\"] ('capabilities[1]') without a recorded reason: the reason must be a one-line reason of 8 to 200 printable ASCII characters that says why.",
            ]);
        });

        it("flags a bare capability list", async () => {
            assert.deepEqual(await violations(policy, container({ capabilities: ["CAP_SYS_ADMIN"] })), [
                "The container adds capabilities [\"CAP_SYS_ADMIN\"] ('capabilities') without a recorded reason: the reason must be a one-line reason of 8 to 200 printable ASCII characters that says why.",
            ]);
        });
        it("flags capabilities with a placeholder reason", async () => {
            assert.equal((await violations(policy, container({ loosen: { capabilities: { caps: ["CAP_NET_ADMIN"], reason: "todo" } } }))).length, 1);
        });
    });
});
