// SCRAM-SHA-256 verifiers computed locally, so the cleartext password never reaches the host, its logs or pgbouncer.
import { createHash, createHmac, pbkdf2Sync } from "crypto";

/** PostgreSQL's default (and RFC 7677's minimum) iteration count. */
export const SCRAM_ITERATIONS = 4096;

/**
 * The verifier PostgreSQL stores in pg_authid.rolpassword: `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`
 * (RFC 5802 §3, RFC 7677). `ALTER ROLE … PASSWORD '<verifier>'` stores it as is.
 *
 * The salt is derived from the password and the role (HMAC), so the same password always gives the same verifier:
 * an unchanged password then leaves the converge command's stdin unchanged and `up` runs nothing. The salt still
 * differs per role and per password, which is what a salt is for; with a random password it reveals nothing.
 */
export function scramVerifier(password: string, role: string, iterations = SCRAM_ITERATIONS): string {
    // SASLprep maps printable ASCII to itself; anything else would need the full profile, so it is refused.
    if (!/^[\x21-\x7e]{8,1024}$/.test(password)) {
        throw new Error("SCRAM verifiers are computed for passwords of 8 to 1024 printable ASCII characters only");
    }
    const salt = createHmac("sha256", password).update(`hearth scram salt:${role}`).digest().subarray(0, 16);
    const salted = pbkdf2Sync(password, salt, iterations, 32, "sha256");
    const clientKey = createHmac("sha256", salted).update("Client Key").digest();
    const storedKey = createHash("sha256").update(clientKey).digest();
    const serverKey = createHmac("sha256", salted).update("Server Key").digest();
    return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}
