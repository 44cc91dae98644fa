// hearth-wireguard-no-private-key: WireGuard private keys never appear in inputs.
import { strict as assert } from "assert";
import { WIREGUARD_TYPE } from "../../../components/tokens";
import { wireguardNoPrivateKey as policy } from "../../../policies/wireguard/no-private-key";
import { commandArgs, resourceArgs, violations } from "../fixtures";
import { assertMetadata } from "../metadata";

const KEY = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=";
const link = (extra: Record<string, unknown> = {}) =>
    resourceArgs(WIREGUARD_TYPE, { interfaceName: "wg-site", network: "fd00:1::/64", sides: [{ name: "a", role: "hub", publicKey: "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=" }], ...extra });

describe("hearth-wireguard-no-private-key", () => {
    it("has its metadata", () => assertMetadata(policy, "hearth-wireguard-no-private-key", "mandatory"));

    it("passes public keys and a key generated on the host", async () => {
        assert.deepEqual(await violations(policy, link()), []);
        const gen = commandArgs({ lines: ["umask 077; [ -s /etc/wireguard/wg-site.key ] || wg genkey > /etc/wireguard/wg-site.key", "wg pubkey < /etc/wireguard/wg-site.key"] });
        assert.deepEqual(await violations(policy, gen), []);
    });

    it("flags a private key argument on the link", async () => {
        assert.deepEqual(await violations(policy, link({ sides: [{ name: "a", privateKey: KEY }] })), ["'sides[0].privateKey' carries a private key; WireGuard private keys must stay on their host."]);
    });

    it("flags a config with PrivateKey in a command's stdin", async () => {
        const conf = { path: "/etc/wireguard/wg0.conf", content: `[Interface]\nPrivateKey = ${KEY}\nListenPort = 51820\n`, mode: 0o600 };
        assert.deepEqual(await violations(policy, commandArgs({ files: [conf] })), ["'stdin' contains a literal WireGuard private key."]);
    });

    it("flags a key set from the command line", async () => {
        const v = await violations(policy, commandArgs({ lines: [`wg set wg0 private-key <(echo ${KEY})`] }));
        assert.deepEqual(v, ["'create' contains a literal WireGuard private key.", "'update' contains a literal WireGuard private key."]);
    });

    it("does not mistake the SSH connection key for WireGuard material", async () => {
        const args = commandArgs({});
        args.props.connection.privateKey = `PrivateKey = ${KEY}`;
        assert.deepEqual(await violations(policy, args), []);
    });
});
