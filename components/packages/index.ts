// Filled in by the packages component (see components/refs.ts for the dependency it offers).
export {};
