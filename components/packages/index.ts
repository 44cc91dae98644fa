// DebianPackages: Debian packages installed (pinned and held where asked) with every packaged daemon masked unless kept.
export {
    DebianPackagesArgs,
    DebianPackagesArgsSchema,
    DebianPackageSpec,
    debianPackagesShape,
    checkDebianPackages,
    packageSpecSchema,
    packageEntry,
    PACKAGE_NAME,
    PACKAGE_NAME_ALLOWED,
    PACKAGE_VERSION,
    PACKAGE_VERSION_ALLOWED,
    MASKABLE_UNIT,
    UNIT_ALLOWED,
} from "./schema";
