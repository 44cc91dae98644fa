// Constructing resources in specs that expect a refusal (or none): a Host to build them on, the error a constructor
// throws, and the check that a refused resource registered nothing. Call these under installMocks().
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Host, HostFacts } from "../components/host";
import { recorded, resetRecorded, settle, TEST_HOST_KEY } from "./mocks";

/** A private key for Hosts in specs, as a Pulumi secret (the mocks never use it). */
export const fakeKey = (): pulumi.Output<string> => pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n");

/** A fresh Host (a fresh claim and listener registry) pinned to TEST_HOST_KEY. */
export function fakeHost(name: string, address: string, facts?: HostFacts): Host {
    return new Host({ name, address, privateKey: fakeKey(), hostKey: TEST_HOST_KEY, ...(facts ? { facts } : {}) });
}

/** What `fn` throws, or undefined when it returns. */
export function attempt(fn: () => unknown): Error | undefined {
    try {
        fn();
        return undefined;
    } catch (e) {
        return e as Error;
    }
}

/** `attempt` for one component: `(name, args) =>` what its constructor throws, or undefined when it is accepted. */
export function attempter<A>(component: new (name: string, args: A) => unknown): (name: string, args: A) => Error | undefined {
    return (name, args) => attempt(() => new component(name, args));
}

/** `fn` in a fresh recording: what it threw, and how many resources registered once queued registrations settled. */
export async function attemptRecorded(fn: () => unknown): Promise<{ error?: Error; count: number }> {
    resetRecorded();
    const error = attempt(fn);
    await settle();
    return { error, count: recorded.length };
}

/** Asserts `fn` is refused with a ResourceError saying exactly `message`, and registers nothing. */
export async function refused(fn: () => unknown, message: string): Promise<void> {
    await settle();
    const before = recorded.length;
    assert.throws(fn, (e: unknown) => {
        assert.ok(e instanceof pulumi.ResourceError, `not a ResourceError: ${e}`);
        assert.equal(e.message, message);
        return true;
    });
    await settle();
    assert.equal(recorded.length, before, "the refused resource registered something");
}
