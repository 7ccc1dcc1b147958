"""The voice platform's use cases (seed 004): OAuth grants (oauth), accounts,
addresses and DDIs (accounts), SIP trunks (trunks), hooks and the delivery of
call events to them (hooks, events), flow devices (devices), voice calls and
their control (calls, control). Every function takes the caller's Principal
(or, for grants and workers, what identifies the tenant) as keyword arguments."""
