"""Names the voice rules share."""
import re


ROLE_VOICE_CHANNEL = "VoiceChannel"
HANGUP = "HANGUP"
EXTENSION = re.compile(r"^[0-9]{2,8}$")  # a flow device's extension, also a call target
