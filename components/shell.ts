// The shell helpers live in the core (components/core/shell.ts); this path stays for the renderers and specs that
// import it.
export * from "./core/shell";
