/**
 * Loaded first by every test command: each snapshot any test produces is checked against the chain
 * rule's invariants (engine/trace/verify.ts). Worker threads, the CLI and code-server's extension
 * host inherit the variable, so snapshots built there are checked too.
 */
process.env.BPL_VERIFY_SNAPSHOTS = '1';
