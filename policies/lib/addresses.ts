// Whether an IP address is private, local or otherwise not meant to be published in public DNS.

function ipv4(s: string): number[] | undefined {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
    if (!m) return undefined;
    const o = m.slice(1).map(Number);
    return o.every((x) => x <= 255) ? o : undefined;
}

/** Expands an IPv6 address to 8 groups, or undefined if it is not one. */
function ipv6(s: string): number[] | undefined {
    const addr = s.replace(/%.*$/, "").toLowerCase();
    if (!/^[0-9a-f:.]+$/.test(addr) || !addr.includes(":")) return undefined;
    let tail: number[] = [];
    let head = addr;
    const v4 = /:(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
    if (v4) {
        const o = ipv4(v4[1]);
        if (!o) return undefined;
        tail = [(o[0] << 8) | o[1], (o[2] << 8) | o[3]];
        head = addr.slice(0, -v4[1].length) + (addr.endsWith("::" + v4[1]) ? "" : "0");
        if (head.endsWith(":0")) head = head.slice(0, -2);
    }
    const parts = head.split("::");
    if (parts.length > 2) return undefined;
    const parse = (p: string) => (p === "" ? [] : p.split(":").map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)));
    const left = parse(parts[0]);
    const right = parts.length === 2 ? parse(parts[1]) : [];
    const fill = 8 - tail.length - left.length - right.length;
    if ((parts.length === 1 && fill !== 0) || fill < 0) return undefined;
    const groups = [...left, ...Array(parts.length === 2 ? fill : 0).fill(0), ...right, ...tail];
    return groups.length === 8 && groups.every((g) => Number.isInteger(g)) ? groups : undefined;
}

/** The named range an address falls in when it must not appear in public DNS, else undefined. */
export function nonPublicRange(address: string): string | undefined {
    const a = address.trim();
    const o = ipv4(a);
    if (o) {
        if (o[0] === 10) return "10.0.0.0/8 (private)";
        if (o[0] === 172 && o[1] >= 16 && o[1] <= 31) return "172.16.0.0/12 (private)";
        if (o[0] === 192 && o[1] === 168) return "192.168.0.0/16 (private)";
        if (o[0] === 100 && o[1] >= 64 && o[1] <= 127) return "100.64.0.0/10 (carrier-grade NAT)";
        if (o[0] === 127) return "127.0.0.0/8 (loopback)";
        if (o[0] === 169 && o[1] === 254) return "169.254.0.0/16 (link-local)";
        if (o[0] === 0) return "0.0.0.0/8 (this network)";
        return undefined;
    }
    const g = ipv6(a);
    if (g) {
        if (g.every((x, i) => (i < 7 ? x === 0 : x <= 1))) return "::/127 (loopback or unspecified)";
        if ((g[0] & 0xfe00) === 0xfc00) return "fc00::/7 (unique local)";
        if ((g[0] & 0xffc0) === 0xfe80) return "fe80::/10 (link-local)";
        if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
            return nonPublicRange(`${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`);
        }
    }
    return undefined;
}

export function isIpAddress(s: string): boolean {
    return ipv4(s.trim()) !== undefined || ipv6(s.trim()) !== undefined;
}
