// Deterministic addressing: the IPv6 ULA plan and the IPv4 allocator (pure functions, no resources).
export { parseIPv6, formatIPv6, parseIPv6Cidr, formatIPv6Cidr, ipv6Mask, IPv6Cidr } from "./ipv6";
export { ulaPrefix, ulaInterfaceId, ulaSubnetIds, ulaSubnet, ulaAddress, ulaPlan, UlaPlan } from "./ula";
export {
    parseIPv4, formatIPv4, parseIPv4Cidr, formatIPv4Cidr, ipv4Overlaps, ipv4Contains, allocateIpv4, ipv4HostAddress,
    PRIVATE_IPV4_RANGES, Ipv4Cidr, Ipv4Request, Ipv4AllocateArgs,
} from "./ipv4";
