"""The outside world that is not AWS storage (webhooks, the media server), each
behind a small interface with its local stand-in named as one."""
