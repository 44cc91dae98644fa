// Every hearth policy, in one list: the pack entry registers these, and tests import them from here.
import { systemdRootNeedsReason } from "./systemd/root-needs-reason";
import { systemdLooseningNeedsReason } from "./systemd/loosening-needs-reason";
import { systemdNamedPrivilegesOnly } from "./systemd/named-privileges-only";
import { systemdExposureBudget } from "./systemd/exposure-budget";
import { systemdNoNewPrivileges } from "./systemd/no-new-privileges";
import { nspawnPrivateUsers } from "./nspawn/private-users";
import { nspawnNoHostNetwork } from "./nspawn/no-host-network";
import { nspawnCapabilitiesNeedReason } from "./nspawn/capabilities-need-reason";
import { commandHostKeyPinned } from "./command/host-key-pinned";
import { commandNoSecrets } from "./command/no-secrets";
import { statefulRetainOnDelete } from "./stateful/retain-on-delete";
import { postgresScramOnly } from "./postgres/scram-only";
import { postgresNoSuperuser } from "./postgres/no-superuser";
import { dnsNoPrivateInPublic } from "./dns/no-private-in-public";
import { dnsNoWildcard } from "./dns/no-wildcard";
import { wireguardNoPrivateKey } from "./wireguard/no-private-key";

export {
    systemdRootNeedsReason, systemdLooseningNeedsReason, systemdNamedPrivilegesOnly, systemdExposureBudget, systemdNoNewPrivileges,
    nspawnPrivateUsers, nspawnNoHostNetwork, nspawnCapabilitiesNeedReason, commandHostKeyPinned, commandNoSecrets,
    statefulRetainOnDelete, postgresScramOnly, postgresNoSuperuser, dnsNoPrivateInPublic, dnsNoWildcard, wireguardNoPrivateKey,
};

export const policies = [
    systemdRootNeedsReason,
    systemdLooseningNeedsReason,
    systemdNamedPrivilegesOnly,
    systemdExposureBudget,
    systemdNoNewPrivileges,
    nspawnPrivateUsers,
    nspawnNoHostNetwork,
    nspawnCapabilitiesNeedReason,
    commandHostKeyPinned,
    commandNoSecrets,
    statefulRetainOnDelete,
    postgresScramOnly,
    postgresNoSuperuser,
    dnsNoPrivateInPublic,
    dnsNoWildcard,
    wireguardNoPrivateKey,
];
