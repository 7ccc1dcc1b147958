"""What a test reads back and judges: answers against OpenAPI, log lines, EMF documents, secrets in clear."""
