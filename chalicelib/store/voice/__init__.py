"""Where the voice platform (issue 13) is stored, one module per capability as
in services/voice/: children (an account's hooks, devices, calls and trunks as
generic entities, and the account's flow version), calls (a call's state,
history and control writes), deliveries (the hooks' delivery log and the
(call, hook) leases), oauth (refresh tokens, their families, and the local
stages' signing keys) and accounts (the platform voice route, a customer's
voice fields); keys builds every key of them."""
