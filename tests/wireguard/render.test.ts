// WireGuard renderer: golden files, shellcheck on every script, and the real wg reading each rendered config.
import { strict as assert } from "assert";
import { WG_PUBLIC_KEY } from "../../components/core/protocols";
import {
    WgInterface, renderConfig, renderConverge, renderDeleteScript, renderKeyDeleteScript, renderKeyLoader, renderKeyScript, renderRestartStamp,
} from "../../components/wireguard/render";
import { parseScriptFiles, frameStdin } from "../../components/shell";
import { OwnerMark } from "../../components/core/owner";
import { checkScript } from "../tools";
import { canProbeWireguard, golden, openProbe, Probe } from "./wg";

const KEYS = {
    rack: "O5GfCEkFYsneugKRKKIb5wkmNyh+VAImxMDbXB1AI0s=",
    cabin: "yFBApxHlqZV2r32SzjVII0ZXAOQcZvyVlFFRbaifYWw=",
    vps: "Ll+A+0iQlADroMLeMfY7y08yZkioBvsHEEKzBy2UUB0=",
};

const MARK: OwnerMark = { id: "hearth/dev/hearth:wireguard:Link/sites", aliases: [], adopt: false };

function hub(keys = KEYS): WgInterface {
    return {
        mark: MARK,
        link: "sites",
        side: "rack",
        interfaceName: "wg-sites",
        addresses: ["fd6b:17a4:4a6c:0:d1f3:be6f:5a2c:a1e7/64"],
        listenPort: 51820,
        mtu: 1420,
        keyVersion: 0,
        peers: [
            { name: "cabin", publicKey: keys.cabin, endpoint: "cabin.example.org:51820", allowedIps: ["fd6b:17a4:4a6c::1/128", "10.20.0.0/24"], keepaliveSec: 25, presharedKey: true },
            { name: "vps", publicKey: keys.vps, endpoint: "[2001:db8::7]:51821", allowedIps: ["fd6b:17a4:4a6c::2/128"], keepaliveSec: undefined, presharedKey: true },
        ],
    };
}

function spoke(): WgInterface {
    return {
        mark: MARK, link: "sites", side: "cabin", interfaceName: "wg-sites", addresses: ["fd6b:17a4:4a6c::1/64", "10.99.0.2/30"], listenPort: 51820, mtu: 1380, keyVersion: 3,
        peers: [{ name: "rack", publicKey: KEYS.rack, endpoint: "203.0.113.9:51820", allowedIps: ["fd6b:17a4:4a6c:0:d1f3:be6f:5a2c:a1e7/128", "10.10.0.0/16", "fd6b:17a4:4a6c::2/128"], keepaliveSec: 25, presharedKey: false }],
    };
}

describe("wireguard/render", () => {
    it("renders the hub config, key loader and restart stamp (golden), with no key material but public keys", () => {
        const conf = renderConfig(hub());
        golden("hub.conf", conf);
        golden("hub.hearth-keys", renderKeyLoader(hub()));
        golden("hub.restart", renderRestartStamp(hub()));
        golden("spoke.conf", renderConfig(spoke()));
        assert.doesNotMatch(conf, /PrivateKey|PresharedKey/);
        assert.match(conf, /^PostUp = \/etc\/wireguard\/wg-sites\.hearth-keys %i$/m);
    });

    it("renders the key, converge and delete scripts (golden), and they pass bash -n and shellcheck", () => {
        const scripts: Record<string, string> = {
            "key.sh": renderKeyScript("wg-sites", 3, MARK, "sites", "rack").render(),
            "key-delete.sh": renderKeyDeleteScript("wg-sites", MARK, "sites", "rack").render(),
            "converge-hub.sh": renderConverge(hub()).script,
            "converge-spoke.sh": renderConverge(spoke()).script,
            "delete-hub.sh": renderDeleteScript(hub()).render(),
            "loader.sh": renderKeyLoader(hub()),
        };
        for (const [name, text] of Object.entries(scripts)) {
            if (name !== "loader.sh") golden(name, text);
            assert.deepEqual(checkScript(text), [], name);
        }
    });

    it("keeps the converge script text independent of peer keys and endpoints (they travel on stdin)", () => {
        const other = hub({ rack: KEYS.vps, cabin: KEYS.rack, vps: KEYS.cabin });
        const moved: WgInterface = { ...other, peers: other.peers.map((p) => ({ ...p, endpoint: "elsewhere.example:9" })) };
        assert.equal(renderConverge(moved).script, renderConverge(hub()).script);
        assert.notEqual(renderConverge(moved).files[0].content, renderConverge(hub()).files[0].content);
    });

    it("reads its files back in stdin order, with preshared keys as secret frames that are never returned", () => {
        const r = renderConverge(hub());
        assert.deepEqual(r.pskPeers, ["cabin", "vps"]);
        const stdin = frameStdin([...r.files.map((f) => f.content), "PSK-ONE", "PSK-TWO"]);
        const files = parseScriptFiles(r.script, stdin);
        assert.deepEqual(files.map((f) => [f.path, f.mode.toString(8)]), [
            ["/etc/wireguard/.hearth/wg-sites.conf", "600"],
            ["/etc/wireguard/.hearth/wg-sites.hearth-keys", "700"],
            ["/etc/wireguard/.hearth/wg-sites.restart", "600"],
        ]);
        assert.ok(!files.some((f) => f.content.includes("PSK-")));
    });

    it("changes the restart stamp for routes and addresses, not for keys or endpoints", () => {
        const base = renderRestartStamp(hub());
        assert.equal(renderRestartStamp({ ...hub(), peers: hub().peers.map((p) => ({ ...p, publicKey: KEYS.rack, endpoint: "x.example:1" })) }), base);
        assert.notEqual(renderRestartStamp({ ...hub(), mtu: 1400 }), base);
        assert.notEqual(renderRestartStamp({ ...hub(), peers: [hub().peers[0]] }), base);
    });

    it("parses only a well-formed public key line", () => {
        assert.equal(WG_PUBLIC_KEY.parse(`hearth: generated\nhearth-wg-public-key: ${KEYS.rack}\n`), KEYS.rack);
        assert.equal(WG_PUBLIC_KEY.parse("hearth-wg-public-key: short="), undefined);
        // 43rd character not allowed for a 32-byte key: its low bits would be non-zero.
        assert.equal(WG_PUBLIC_KEY.parse(`hearth-wg-public-key: ${KEYS.rack.slice(0, 42)}B=`), undefined);
        assert.equal(WG_PUBLIC_KEY.parse(""), undefined);
    });

    it("refuses a config value that would break the file", () => {
        assert.throws(() => renderConfig({ ...hub(), peers: [{ ...hub().peers[0], endpoint: "a#b:1" }] }), /without '#'/);
        assert.throws(() => renderConfig({ ...hub(), side: "a\nb" }), /one line/);
    });

    describe("the real wg reads the rendered configs", function () {
        let probe: Probe | undefined;
        const why = canProbeWireguard();
        before(async function () {
            if (why) {
                // The probe is the proof; say loudly why it could not run rather than pass silently.
                if (process.env.CI === "true") throw new Error(`cannot probe WireGuard: ${why}`);
                this.skip();
            }
            probe = await openProbe();
        });
        after(async () => probe?.close());

        for (const [what, make] of [["hub", hub], ["spoke", spoke]] as const) {
            it(`${what}: wg setconf accepts it and shows every peer as rendered`, () => {
                const i = make();
                const r = probe!.setconf(renderConfig(i));
                assert.equal(r.status, 0, r.out);
                for (const p of i.peers) {
                    const section = r.shown.split("[Peer]").find((s) => s.includes(`PublicKey = ${p.publicKey}`));
                    assert.ok(section, `peer ${p.name} missing from wg showconf:\n${r.shown}`);
                    for (const a of p.allowedIps) assert.ok(section!.includes(a), `${a} not in AllowedIPs of ${p.name}`);
                    if (p.endpoint && !/^[a-z]/i.test(p.endpoint)) assert.ok(section!.includes(`Endpoint = ${p.endpoint}`), `endpoint of ${p.name}`);
                    if (p.keepaliveSec) assert.match(section!, new RegExp(`PersistentKeepalive = ${p.keepaliveSec}`));
                }
            });
        }

        it("rejects a config with a damaged key, as the converge script's probe would", () => {
            const bad = renderConfig(hub()).replace(KEYS.cabin, KEYS.cabin.slice(0, 40) + "!!!=");
            const r = probe!.setconf(bad);
            assert.notEqual(r.status, 0);
            assert.match(r.out, /Key is not the correct length or format|parsing error/i);
        });
    });
});
