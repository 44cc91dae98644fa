// The test host image cache: a host's extra packages are a layer over the cached base, never a new base image.
import { strict as assert } from "assert";
import * as path from "path";
import { describeHost, ensureHostTree, startHost } from "./harness";
import { cacheDir, layerPath } from "./image";

describe("test host image layers: cache keys", () => {
    const base = path.join(cacheDir(), "bookworm-0123456789abcdef.d");
    it("a layer is keyed by its package set (in any order) and by every layer below it", () => {
        const one = layerPath([base], ["hello", "memcached"]);
        assert.equal(layerPath([base], ["memcached", "hello"]), one);
        assert.notEqual(layerPath([base], ["hello"]), one);
        assert.notEqual(layerPath([one, base], ["hello", "memcached"]), one);
        assert.notEqual(layerPath([path.join(cacheDir(), "bookworm-fedcba9876543210.d")], ["hello", "memcached"]), one);
        assert.equal(path.dirname(one), cacheDir());
    });
});

describeHost("test host image layers: a host with an extra package", function () {
    this.timeout(600_000);

    it("boots from the same base as every host, plus one small layer that has the package installed", async () => {
        const plain = await ensureHostTree();
        const layered = await ensureHostTree(["hello"]);
        assert.deepEqual(layered.lowers.slice(1), plain.lowers, "the extra package's layer sits on the very tree a plain host uses");
        assert.equal(layered.lowers.length, plain.lowers.length + 1);
        const h = await startHost({ name: "layered", packages: ["hello"] });
        try {
            assert.deepEqual(await h.exec("hello"), { code: 0, stdout: "Hello, world!\n", stderr: "" });
            assert.equal((await h.exec("dpkg-query -W -f '${Status}' hello")).stdout, "install ok installed");
            // The build's policy-rc.d and apt lists stay out of the layer.
            assert.equal((await h.exec("test ! -e /usr/sbin/policy-rc.d && ls /var/lib/apt/lists | grep -vx 'lock\\|partial' | wc -l")).stdout, "0\n");
        } finally {
            await h.stop();
        }
    });
});
