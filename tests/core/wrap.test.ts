// The command line a host runs, and reading the script back from it: one pair, used by Host, the plan and the policies.
import { strict as assert } from "assert";
import fc from "fast-check";
import { unwrapCommand, wrapCommand } from "../../components/core/shell";

describe("wrapCommand / unwrapCommand", () => {
    it("read back exactly what was wrapped, with or without sudo", () => {
        fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 200 }).filter((s) => !s.includes("\0")), fc.boolean(), (script, sudo) => {
            assert.deepEqual(unwrapCommand(wrapCommand(script, sudo)), { script, sudo });
        }));
    });

    it("refuse a line that wrapCommand did not write", () => {
        for (const line of ["bash -c 'x'", "bash --noprofile --norc -c 'a'b", "bash --noprofile --norc -c a;b", "sudo bash --noprofile --norc -c 'x'", "echo hi"]) {
            assert.equal(unwrapCommand(line), undefined, line);
        }
    });
});
