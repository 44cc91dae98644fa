// Filled in by the files component (see components/refs.ts for the dependency it offers).
export {};
