"""Call tracking (issue 12): the use cases behind the /tracking surface.

  fields      custom-field definitions (admin CLI) and Digest credentials
  customers   the tracking view of the one customer model (services.customers)
  sources     sources and their tracking numbers (the existing number sale)
  greetings   voicemail greetings (audio in S3)
  calls       statistics/cdrs and statistics/sources from the CDR pipeline's parts
  pools       session number pools
"""
