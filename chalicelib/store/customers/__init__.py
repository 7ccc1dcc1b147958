"""Where customers are stored: the customer record and its scoped listings (accounts), attachment uploads and storage usage (attachments)."""
