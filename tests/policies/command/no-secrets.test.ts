// hearth-command-no-secrets: nothing secret-looking in create/update/delete text.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { SystemdService } from "../../../components/systemd";
import { commandNoSecrets as policy } from "../../../policies/command/no-secrets";
import { installMocks } from "../../mocks";
import { commandArgs, declare, fixtureHost, unitFile, violations } from "../fixtures";
import { assertMetadata } from "../metadata";

describe("hearth-command-no-secrets", () => {
    before(() => installMocks());

    it("has its metadata", () => assertMetadata(policy, "hearth-command-no-secrets", "mandatory"));

    it("passes a real service whose credentials travel as secret stdin frames", async () => {
        const d = await declare(() => new SystemdService("api", {
            host: fixtureHost(), description: "api", execStart: ["/usr/bin/api"],
            credentials: { "api-token": pulumi.secret("PASSWORD=hunter22-very-secret"), "db.password": pulumi.secret("postgres://app:hunter22@db/app") },
        }));
        const converge = d.args("api-converge");
        assert.match(converge.props.stdin, /hunter22/, "the secrets are in the command's stdin");
        assert.deepEqual(await violations(policy, converge), []);
        assert.deepEqual(await violations(policy, d.args("api-converge-lifecycle")), []);
    });

    it("passes secrets that travel over stdin", async () => {
        const args = commandArgs({ files: [unitFile("a.service", "[Service]\nLoadCredential=db:/etc/credstore/a/db\n")], secrets: ["PASSWORD=hunter22"], lines: ['DB_PASSWORD="$(cat "$secret_0")"'] });
        assert.deepEqual(await violations(policy, args), []);
    });

    it("flags a private key block in create and update", async () => {
        const v = await violations(policy, commandArgs({ lines: ["cat > /root/.ssh/id_ed25519 <<'EOF'", "-----BEGIN OPENSSH PRIVATE KEY-----", "EOF"] }));
        assert.deepEqual(v, [
            "The 'create' command text contains a private key block (-----BEGIN OPENSSH PRIVATE KEY-----); secrets must travel over stdin as Pulumi secrets, never in command text.",
            "The 'update' command text contains a private key block (-----BEGIN OPENSSH PRIVATE KEY-----); secrets must travel over stdin as Pulumi secrets, never in command text.",
        ]);
    });

    it("flags a PASSWORD= assignment", async () => {
        const v = await violations(policy, commandArgs({ lines: ["PGPASSWORD=hunter22 psql -c 'select 1'"] }));
        assert.match(v[0], /contains a 'PGPASSWORD=' assignment \(PGPASSWORD=hu…\(8 chars\)\)/);
        assert.ok(!v.join().includes("hunter22"), "the message does not repeat the secret");
    });

    it("flags a connection URI with a password, in the delete text too", async () => {
        const v = await violations(policy, commandArgs({ deleteLines: ["psql postgresql://admin:hunter22@127.0.0.1/app -c 'drop table t'"] }));
        assert.deepEqual(v.map((m) => m.split(" ")[1]), ["'delete'"]);
        assert.match(v[0], /connection URI with a password/);
    });

    it("flags a secret in a file the command installs, but not in its secret frames", async () => {
        const unit = unitFile("a.service", "[Service]\nEnvironment=DB_PASSWORD=hunter22\n");
        assert.deepEqual(await violations(policy, commandArgs({ files: [unit], secrets: ["DB_PASSWORD=other"] })), [
            "/etc/systemd/system/a.service (installed by this command) contains a 'DB_PASSWORD=' assignment (DB_PASSWORD=hu…(8 chars)); put the secret in a credential (LoadCredential=), not in the file.",
        ]);
    });

    it("flags a password option under sudo", async () => {
        assert.match((await violations(policy, commandArgs({ sudo: true, lines: ["mysqladmin --password=hunter22 ping"] }))).join(), /--password option/);
    });
});
