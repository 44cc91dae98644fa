// Builds syscalls.json (systemd's syscall groups and the names libseccomp cannot resolve on x86-64) from the real tools.
//
// Run: npx tsx policies/systemd/syscalls.gen.ts > policies/systemd/syscalls.json
// The exposure scorer needs both halves: systemd expands groups when it parses SystemCallFilter=, and it silently drops
// names the local libseccomp does not know, so a group "contains" only the names that resolve.
import { spawnSync } from "child_process";

export interface SyscallTable {
    /** Where the table was read from (systemd version line). */
    readonly source: string;
    /** Each group's direct members: syscall names and "@group" references, as `systemd-analyze syscall-filter` lists them. */
    readonly groups: Record<string, string[]>;
    /** Names listed in some group that libseccomp does not resolve on x86-64; systemd ignores them. */
    readonly unresolved: string[];
}

export function parseSyscallFilterListing(text: string): Record<string, string[]> {
    const groups: Record<string, string[]> = {};
    let current: string[] | undefined;
    for (const line of text.split("\n")) {
        if (/^@[a-z-]+$/.test(line)) {
            current = groups[line] = [];
        } else if (/^ {4}[@a-z0-9_-]+$/.test(line) && current) {
            current.push(line.trim());
        } else if (!line.startsWith("    ")) {
            current = undefined;
        }
    }
    return groups;
}

const RESOLVER = `
import ctypes, sys
lib = ctypes.CDLL("libseccomp.so.2")
f = lib.seccomp_syscall_resolve_name_arch
f.argtypes = [ctypes.c_uint32, ctypes.c_char_p]
f.restype = ctypes.c_int
AUDIT_ARCH_X86_64 = 0xC000003E
for name in sys.stdin.read().split():
    if f(AUDIT_ARCH_X86_64, name.encode()) < 0:
        print(name)
`;

export function generateSyscallTable(): SyscallTable {
    const listing = spawnSync("systemd-analyze", ["syscall-filter", "--no-pager"], { encoding: "utf8" });
    if (listing.status !== 0) throw new Error(`systemd-analyze syscall-filter failed: ${listing.stderr}`);
    const version = spawnSync("systemd-analyze", ["--version"], { encoding: "utf8" }).stdout.split("\n")[0];
    const groups = parseSyscallFilterListing(listing.stdout);
    const names = [...new Set(Object.values(groups).flat().filter((n) => !n.startsWith("@")))].sort();
    const py = spawnSync("python3", ["-c", RESOLVER], { input: names.join("\n"), encoding: "utf8" });
    if (py.status !== 0) throw new Error(`libseccomp lookup failed: ${py.stderr}`);
    const unresolved = py.stdout.split("\n").filter(Boolean).sort();
    return { source: version, groups, unresolved };
}

if (require.main === module) {
    process.stdout.write(JSON.stringify(generateSyscallTable(), null, 1) + "\n");
}
