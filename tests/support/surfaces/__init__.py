"""Each surface as its clients drive it: one client per surface, in process or over HTTP."""
