"""Where call tracking (issue 12) is stored, one module per capability as in
services/tracking/: sources (sources, the numbers they hold, pending sales),
customers (the drop guarded by the count of active sources), pools (session
pools and their hand-outs), greetings (greetings and their audio), fields
(custom-field definitions), calls (tracked calls, from the CDR parts) and
digest (Digest users, used nonce counts); keys builds every key of them."""
