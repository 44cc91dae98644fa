#!/usr/bin/env node
// pulumi-hearth: the site tools that ship with the library, e.g. `npx pulumi-hearth plan --stack home` in a site repository.
"use strict";

const USAGE = `usage: pulumi-hearth <command> [options]
commands:
  plan [--stack NAME] [--dir DIR] [--out DIR] [--policy-config FILE] [--no-policies] [--budget N]
         the offline plan of a site: what lands on each host, checked by the hearth policy pack
         (pulumi-hearth plan --help for every option)
  check [--stack NAME] [--dir DIR] [--identity FILE] [--host NAME]... [--json]
         the drift check of a site: every host over SSH against what the site declares and what was applied
         (read-only; exit 0 match, 1 drift, 2 a host cannot be checked)`;

const [command, ...args] = process.argv.slice(2);
if (command === "plan") {
    require("../dist/stacks/plan").cli(args);
} else if (command === "check") {
    require("../dist/stacks/check").cli(args);
} else if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    console.log(USAGE);
} else {
    console.error(`pulumi-hearth: unknown command ${JSON.stringify(command)}\n${USAGE}`);
    process.exit(2);
}
