// Types for the part of js-yaml (a dependency of @pulumi/pulumi) the offline plan uses to read Pulumi.<stack>.yaml.
declare module "js-yaml" {
    export const JSON_SCHEMA: unknown;
    export function load(text: string, opts?: { filename?: string; schema?: unknown }): unknown;
}
