// Hand-written service units from wide open to locked down, used to cross-check the exposure scorer against systemd-analyze.

const head = "[Unit]\nDescription=fixture\n\n[Service]\nExecStart=/usr/bin/sleep infinity\n";

/** The hardening a hearth service gets when nothing is loosened. */
export const LOCKED_DOWN = [
    "DynamicUser=yes", "CapabilityBoundingSet=", "AmbientCapabilities=", "NoNewPrivileges=yes", "PrivateDevices=yes",
    "PrivateTmp=yes", "PrivateUsers=yes", "PrivateMounts=yes", "PrivateNetwork=yes", "ProtectSystem=strict", "ProtectHome=yes",
    "ProtectKernelTunables=yes", "ProtectKernelModules=yes", "ProtectKernelLogs=yes", "ProtectControlGroups=yes",
    "ProtectClock=yes", "ProtectHostname=yes", "ProtectProc=invisible", "ProcSubset=pid", "RestrictNamespaces=yes",
    "RestrictRealtime=yes", "RestrictSUIDSGID=yes", "LockPersonality=yes", "MemoryDenyWriteExecute=yes", "RemoveIPC=yes",
    "RestrictAddressFamilies=none", "SystemCallArchitectures=native", "SystemCallFilter=@system-service",
    "SystemCallFilter=~@privileged @resources", "SystemCallErrorNumber=EPERM", "IPAddressDeny=any", "UMask=0077",
    "DevicePolicy=closed", "KeyringMode=private",
];

function unit(lines: string[], unitSection: string[] = []): string {
    const u = unitSection.length ? head.replace("[Service]", `${unitSection.join("\n")}\n\n[Service]`) : head;
    return u + lines.join("\n") + "\n";
}

function without(keys: string[], extra: string[] = []): string[] {
    return [...LOCKED_DOWN.filter((l) => !keys.some((k) => l.startsWith(k + "="))), ...extra];
}

/** name → unit text. Names end in .service because systemd-analyze needs a unit name. */
export const UNIT_FIXTURES: Record<string, string> = {
    "bare.service": unit([]),
    "root-explicit.service": unit(["User=root", "SupplementaryGroups=adm"]),
    "nobody.service": unit(["User=nobody", "Group=nogroup"]),
    "static-user.service": unit(["User=app", "SupplementaryGroups=adm video", "RemoveIPC=yes", "UMask=0027"]),
    "dynamic.service": unit(["DynamicUser=yes"]),
    "locked.service": unit(LOCKED_DOWN),
    "locked-net.service": unit(without(["PrivateNetwork", "RestrictAddressFamilies", "IPAddressDeny"], [
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "IPAddressDeny=any", "IPAddressAllow=localhost 10.0.0.0/8",
    ])),
    "locked-localhost.service": unit(without(["PrivateNetwork", "IPAddressDeny"], ["IPAddressDeny=any", "IPAddressAllow=127.0.0.1"])),
    "locked-bind.service": unit(without(["CapabilityBoundingSet", "AmbientCapabilities", "PrivateUsers", "PrivateNetwork"], [
        "CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "AmbientCapabilities=CAP_NET_BIND_SERVICE",
    ])),
    "locked-root.service": unit(without(["DynamicUser", "PrivateUsers"], ["User=root"])),
    "locked-no-filter.service": unit(without(["SystemCallFilter", "SystemCallErrorNumber", "SystemCallArchitectures"])),
    "deny-filter.service": unit(["User=app", "SystemCallFilter=~@mount @debug @reboot @swap", "SystemCallFilter=~@module @raw-io @clock"]),
    "deny-privileged.service": unit(["User=app", "SystemCallFilter=~@privileged @resources @obsolete @cpu-emulation @debug @mount"]),
    "allow-with-remove.service": unit(["User=app", "SystemCallFilter=@system-service @mount", "SystemCallFilter=~@mount"]),
    "allow-single-calls.service": unit(["User=app", "SystemCallFilter=read write openat close setuid:EPERM"]),
    "deny-then-readd.service": unit(["User=app", "SystemCallFilter=~@privileged", "SystemCallFilter=@clock"]),
    "filter-reset.service": unit(["User=app", "SystemCallFilter=@system-service", "SystemCallFilter=", "SystemCallFilter=~@swap"]),
    "caps-deny.service": unit(["User=app", "CapabilityBoundingSet=~CAP_SYS_ADMIN CAP_SYS_PTRACE", "CapabilityBoundingSet=~CAP_NET_ADMIN"]),
    "caps-merge.service": unit(["User=app", "CapabilityBoundingSet=CAP_CHOWN", "CapabilityBoundingSet=CAP_KILL CAP_SYS_BOOT", "AmbientCapabilities=CAP_KILL"]),
    "ns-mixed.service": unit(["User=app", "RestrictNamespaces=net ipc", "RestrictNamespaces=~net"]),
    "ns-deny.service": unit(["User=app", "RestrictNamespaces=~user mnt"]),
    "af-deny.service": unit(["User=app", "RestrictAddressFamilies=~AF_PACKET AF_NETLINK AF_BLUETOOTH"]),
    "af-deny-inet6.service": unit(["User=app", "RestrictAddressFamilies=~AF_INET6"]),
    "af-allow-remove.service": unit(["User=app", "RestrictAddressFamilies=AF_UNIX AF_INET AF_NETLINK", "RestrictAddressFamilies=~AF_NETLINK"]),
    "af-reset.service": unit(["User=app", "RestrictAddressFamilies=AF_UNIX", "RestrictAddressFamilies=", "RestrictAddressFamilies=~AF_PACKET"]),
    "protect-partial.service": unit(["User=app", "ProtectSystem=full", "ProtectHome=read-only", "ProtectProc=noaccess", "UMask=0002"]),
    "protect-yes.service": unit(["User=app", "ProtectSystem=yes", "ProtectHome=tmpfs", "UMask=0020", "KeyringMode=shared"]),
    "early-boot.service": unit(["User=app", "ProtectSystem=strict", "PrivateTmp=yes"], ["DefaultDependencies=no"]),
    "devices-clock.service": unit(["User=app", "PrivateDevices=yes", "ProtectClock=yes"]),
    "devices-allow-auto.service": unit(["User=app", "DeviceAllow=/dev/null rw", "ProtectClock=yes"]),
    "devices-strict.service": unit(["User=app", "DevicePolicy=strict", "DeviceAllow=/dev/fuse rw"]),
    "delegate-notify.service": unit(["User=app", "Type=notify", "NotifyAccess=all", "Delegate=cpu memory", "RootDirectory=/srv/root"]),
    "ip-deny-v4-only.service": unit(["User=app", "IPAddressDeny=0.0.0.0/0", "IPAddressAllow=127.0.0.1"]),
    "ip-link-local.service": unit(["User=app", "IPAddressDeny=0.0.0.0/0 ::/0", "IPAddressAllow=link-local"]),
    "arch-multi.service": unit(["User=app", "SystemCallArchitectures=native x86"]),
    "continued.service": unit(["User=app", "CapabilityBoundingSet=CAP_CHOWN \\", "# a comment inside the continuation", "  CAP_KILL", "PrivateTmp=true"]),
};
