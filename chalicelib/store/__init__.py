"""DynamoDB, S3 and SQS access: the only package that imports boto3."""
