// hearth-wireguard-no-private-key: WireGuard private keys never appear in a command, judged on a real WireguardLink's
// key and interface commands; failing cases edit them as a changed renderer would.
import { strict as assert } from "assert";
import { WireguardLink } from "../../../components/wireguard";
import { wireguardNoPrivateKey as policy } from "../../../policies/wireguard/no-private-key";
import { installMocks } from "../../mocks";
import { declare, editInstalled, editScript, fixtureHost, violations } from "../fixtures";
import { assertMetadata } from "../metadata";

const KEY = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=";

/** A real site-to-site link between rack and cabin. */
async function link() {
    return declare(() => new WireguardLink("sites", {
        interfaceName: "wg-sites",
        hub: { host: fixtureHost({ name: "rack" }), endpoint: "10.231.1.2:51820", subnets: ["10.10.0.0/16"] },
        peers: [{ host: fixtureHost({ name: "cabin" }) }],
        presharedKey: true,
    }));
}

describe("hearth-wireguard-no-private-key", () => {
    before(() => installMocks());

    it("has its metadata", () => assertMetadata(policy, "hearth-wireguard-no-private-key", "mandatory"));

    it("passes every command of a real link: keys generated on the hosts, only public halves exchanged", async () => {
        const d = await link();
        const commands = d.resources.filter((r) => r.type === "command:remote:Command");
        assert.ok(commands.some((c) => c.name === "sites-rack-key") && commands.some((c) => c.name === "sites-cabin-interface"), commands.map((c) => c.name).join());
        for (const c of commands) assert.deepEqual(await violations(policy, d.args(c.name)), [], c.name);
    });

    it("flags a config with PrivateKey in a command's stdin", async () => {
        const d = await link();
        const edited = editInstalled(d.args("sites-rack-interface"), /\.conf$/, (conf) => conf.replace("[Interface]\n", `[Interface]\nPrivateKey = ${KEY}\n`));
        assert.deepEqual(await violations(policy, edited), ["'stdin' contains a literal WireGuard private key."]);
    });

    it("flags a key set from the command line", async () => {
        const d = await link();
        const edited = editScript(d.args("sites-rack-interface"), (s) => `${s}\nwg set wg-sites private-key <(echo ${KEY})`);
        assert.deepEqual(await violations(policy, edited), ["'create' contains a literal WireGuard private key.", "'update' contains a literal WireGuard private key."]);
    });

    it("does not mistake the SSH connection key for WireGuard material", async () => {
        const args = (await link()).args("sites-rack-key");
        args.props.connection.privateKey = `PrivateKey = ${KEY}`;
        assert.deepEqual(await violations(policy, args), []);
    });
});
