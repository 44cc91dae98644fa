// The nspawn policies, judged on what a real NspawnContainer records: its props (capabilities with reasons) and the
// .nspawn file its converge command installs (private users, private network). Failing cases edit that file as a
// changed renderer would write it.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import type { ResourceValidationArgs } from "@pulumi/policy";
import { NspawnContainer, NspawnContainerArgs } from "../../../components/nspawn";
import { nspawnPrivateUsers } from "../../../policies/nspawn/private-users";
import { nspawnNoHostNetwork } from "../../../policies/nspawn/no-host-network";
import { nspawnCapabilitiesNeedReason } from "../../../policies/nspawn/capabilities-need-reason";
import { installMocks } from "../../mocks";
import { declare, editInstalled, fixtureHost, violations } from "../fixtures";
import { assertMetadata } from "../metadata";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA+qnnike2m5POlPYFnbDLTNtnYYVDkPmTOStlmpVbyN ops@example";
const NSPAWN = "/etc/systemd/nspawn/web.nspawn";

/** A real container named web on a bridge (or a macvlan): its recorded props and its converge command. */
async function container(over: Partial<NspawnContainerArgs> = {}): Promise<{ props: ResourceValidationArgs; command: ResourceValidationArgs }> {
    const d = await declare(() => new NspawnContainer("web", {
        host: fixtureHost(),
        rootfs: { copyFrom: "/var/lib/machines/.base" },
        network: { bridge: "br-ct" },
        addresses: ["10.231.40.2/24"],
        ssh: { authorizedKey: KEY, privateKey: pulumi.secret("k") },
        ...over,
    }));
    return { props: d.args("web"), command: d.args("web-container") };
}

/** The container's converge command with its .nspawn file's [section] replaced by `lines`. */
async function withSection(section: string, lines: string, over: Partial<NspawnContainerArgs> = {}): Promise<ResourceValidationArgs> {
    const { command } = await container(over);
    return editInstalled(command, NSPAWN, (text) => {
        const re = new RegExp(`\\[${section}\\]\\n(?:[^\\[].*\\n?)*`);
        assert.match(text, re, `the rendered .nspawn file has a [${section}] section`);
        return text.replace(re, `[${section}]\n${lines}\n`);
    });
}

describe("nspawn policies", () => {
    before(() => installMocks());

    describe("hearth-nspawn-private-users", () => {
        const policy = nspawnPrivateUsers;
        it("has its metadata", () => assertMetadata(policy, "hearth-nspawn-private-users", "mandatory"));
        it("passes the container's own .nspawn file (PrivateUsers=pick)", async () => {
            const { props, command } = await container();
            assert.deepEqual(await violations(policy, command), []);
            assert.deepEqual(await violations(policy, props), []);
        });
        it("flags a .nspawn file with PrivateUsers=no", async () => {
            const { command } = await container();
            const edited = editInstalled(command, NSPAWN, (t) => t.replace(/^PrivateUsers=pick$/m, "PrivateUsers=no"));
            assert.deepEqual(await violations(policy, edited), [`${NSPAWN} sets PrivateUsers=no: root in machine 'web' would be root on the host.`]);
        });
    });

    describe("hearth-nspawn-no-host-network", () => {
        const policy = nspawnNoHostNetwork;
        it("has its metadata", () => assertMetadata(policy, "hearth-nspawn-no-host-network", "mandatory"));
        it("passes the container's own bridge and macvlan networks", async () => {
            assert.deepEqual(await violations(policy, (await container()).command), []);
            assert.deepEqual(await violations(policy, (await container({ network: { macvlan: "eth0" } })).command), []);
        });
        it("passes zones, bridges and a private namespace without a veth", async () => {
            for (const net of ["Zone=home", "VirtualEthernet=no\nPrivate=yes", "Private=no\nBridge=br0"]) {
                assert.deepEqual(await violations(policy, withSection("Network", net)), [], net);
            }
        });
        it("flags a .nspawn file that turns private networking off", async () => {
            assert.match((await violations(policy, withSection("Network", "VirtualEthernet=no"))).join(), /gives machine 'web' the host's network \(Private=unset, VirtualEthernet=no\)/);
            assert.match((await violations(policy, withSection("Network", "Private=no"))).join(), /Private=no/);
        });
    });

    describe("hearth-nspawn-capabilities-need-reason", () => {
        const policy = nspawnCapabilitiesNeedReason;
        it("has its metadata", () => assertMetadata(policy, "hearth-nspawn-capabilities-need-reason", "mandatory"));
        it("passes no capabilities and explained ones", async () => {
            assert.deepEqual(await violations(policy, (await container()).props), []);
            assert.deepEqual(await violations(policy, (await container({ capabilities: [{ name: "CAP_NET_ADMIN", reason: "runs its own WireGuard interface" }] })).props), []);
        });
        it("flags each capability whose reason the component accepts but says nothing", async () => {
            const { props } = await container({ capabilities: [{ name: "CAP_NET_ADMIN", reason: "runs its own WireGuard interface" }, { name: "CAP_SYS_ADMIN", reason: "tbd tbd tbd" }] });
            assert.deepEqual(await violations(policy, props), [
                "The container adds capability CAP_SYS_ADMIN ('capabilities[1]') without a recorded reason: 'capabilities[1].reason' must be a one-line reason of 8 to 200 printable ASCII characters that says why (got \"tbd tbd tbd\").",
            ]);
        });
    });
});
